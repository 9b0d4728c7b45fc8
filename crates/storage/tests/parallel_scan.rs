//! Scans large enough to be decoded on several threads: every row once, gates applied, and
//! a sink that stops the scan is not called again.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use lookout_model::InputEvent;
use lookout_storage::{Predicate, Scan, Store};

use crate::common::{group, small_config, stream};

/// A store of 3 streams × 300 JSON events over 20 windows: 20 segments of 7-event blocks,
/// far more blocks than a scan decodes on one thread.
fn many_blocks(dir: &std::path::Path) -> Store {
    let store = Store::open(small_config(dir)).unwrap();
    store
        .create_group(&group("p"), Default::default(), 0)
        .unwrap();
    for s in 0..3 {
        let name = format!("s{s}");
        store.create_stream("p", &stream(&name), 0).unwrap();
        let evs = (0..300)
            .map(|i| InputEvent {
                timestamp: i64::from(i) * 1000 / 300,
                message: format!(
                    r#"{{"level":"{}","n":{}}}"#,
                    if i % 7 == 3 { "ERROR" } else { "INFO" },
                    s * 1000 + i
                ),
            })
            .collect();
        store.append("p", &name, evs).unwrap();
    }
    store.flush().unwrap();
    store
}

#[test]
fn parallel_scan_returns_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = many_blocks(dir.path());
    let mut seen = Vec::new();
    let stats = store
        .scan(
            "p",
            &Scan {
                messages: true,
                ..Scan::all()
            },
            &mut |b| {
                let msgs = b.messages.as_ref().unwrap();
                for (i, m) in msgs.iter().enumerate() {
                    seen.push((b.stream.to_string(), b.seqs[i], m.clone()));
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert!(stats.decoded >= 64, "{stats:?}");
    assert_eq!(seen.len(), 900);
    let distinct: BTreeSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), 900, "a row came twice");

    let mut errors = BTreeSet::new();
    store
        .scan(
            "p",
            &Scan {
                predicates: vec![Predicate::FieldEquals {
                    path: "level".into(),
                    value: "ERROR".into(),
                }],
                fields: vec!["n".into()],
                keys: false,
                ..Scan::all()
            },
            &mut |b| {
                for i in 0..b.len() {
                    errors.insert(b.fields[0].get(i).unwrap().parse::<i32>().unwrap());
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    let expected: BTreeSet<i32> = (0..3)
        .flat_map(|s| (0..300).filter(|i| i % 7 == 3).map(move |i| s * 1000 + i))
        .collect();
    assert_eq!(errors, expected);
}

#[test]
fn parallel_scan_stops_when_the_sink_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = many_blocks(dir.path());
    let mut calls = 0;
    let mut first = 0;
    let stats = store
        .scan("p", &Scan::all(), &mut |b| {
            calls += 1;
            first = b.len();
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(calls, 1);
    assert_eq!(stats.events, first as u64);
}

/// Substring predicates over messages whose timestamps the segments store as stamps: a
/// needle that cannot touch a stamp is searched for in the stored bytes, the others in the
/// expanded text; both must give exactly the messages containing the needle.
#[test]
fn substrings_match_stamped_messages_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    store
        .create_group(&group("l"), Default::default(), 0)
        .unwrap();
    store.create_stream("l", &stream("s"), 0).unwrap();
    // 2026-11-01T02:01:08.486Z plus whole seconds.
    let base = 1_793_498_468_486_i64;
    let events: Vec<InputEvent> = (0..600)
        .map(|i| {
            let k = i % 10;
            let secs = 8 + k;
            let message = match i % 3 {
                0 => format!(
                    "2026-11-01T02:01:{secs:02}.486Z\treq-{i}\tINFO\tREPORT RequestId: in text {i}\n"
                ),
                1 => format!("REPORT RequestId: req-{i}\tDuration: {i}.5 ms"),
                _ => format!(
                    "START RequestId: req-{i} Version: $LATEST at 2026-11-01 02:01:{secs:02},486"
                ),
            };
            InputEvent {
                timestamp: base + i64::from(k) * 1000,
                message,
            }
        })
        .collect();
    let all: Vec<String> = events.iter().map(|e| e.message.clone()).collect();
    let mut sorted = events;
    sorted.sort_by_key(|e| e.timestamp);
    store.append("l", "s", sorted).unwrap();
    store.flush().unwrap();
    for needle in [
        "REPORT RequestId: ",
        "INFO\tREPORT",
        "486Z\treq-3",
        "02:01:09",
        "Version: $LATEST at 2026",
        ",486",
        "no such text",
    ] {
        let mut got = Vec::new();
        store
            .scan(
                "l",
                &Scan {
                    messages: true,
                    predicates: vec![Predicate::Contains(needle.into())],
                    ..Scan::all()
                },
                &mut |b| {
                    got.extend(b.messages.iter().flatten().cloned());
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        got.sort();
        let mut want: Vec<String> = all.iter().filter(|m| m.contains(needle)).cloned().collect();
        want.sort();
        assert_eq!(got.len(), want.len(), "{needle:?}");
        assert_eq!(got, want, "{needle:?}");
    }
}
