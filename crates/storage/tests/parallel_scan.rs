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
