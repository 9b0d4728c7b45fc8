//! One tester for every read path: the same data and the same expected answers, with the
//! events in the memtable only, in segments only, mixed, after compaction and after reopen.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use lookout_model::{InputEvent, StoredEvent};
use lookout_storage::{Direction, GroupRead, Predicate, Scan, Store, StreamRead, StreamSelector};

use crate::common::{group, small_config, stream};

const G: &str = "/aws/lambda/harness";
const STREAMS: [&str; 4] = ["app/1", "app/2", "web/1", "other"];

/// The expected model: every event with its stream, in (timestamp, seq) order.
#[derive(Default, Clone)]
struct Model {
    events: Vec<(String, StoredEvent)>,
}

impl Model {
    fn stream(&self, s: &str) -> Vec<StoredEvent> {
        self.events
            .iter()
            .filter(|(n, _)| n == s)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

fn message(i: usize) -> String {
    match i % 4 {
        0 => format!(
            r#"{{"level":"{}","requestId":"req-{:04}","duration":{},"service":"svc{}"}}"#,
            if i.is_multiple_of(7) { "ERROR" } else { "INFO" },
            i / 3,
            i % 50,
            i % 3
        ),
        1 => format!(
            "START RequestId: 0000aaaa-{:04x}-4bbb-8ccc-{:012x} Version: $LATEST",
            i, i
        ),
        2 => format!(
            "plain text line {i} with ERROR maybe={}",
            i.is_multiple_of(5)
        ),
        _ => format!(
            "Traceback (most recent call last):\n  File \"x.py\", line {i}\nValueError: bad {i}"
        ),
    }
}

/// Ingests `batches` batches of the deterministic workload starting at batch `from`.
fn ingest(store: &Store, model: &mut Model, from: usize, batches: usize) {
    for b in from..from + batches {
        let s = STREAMS[b % STREAMS.len()];
        let n = 1 + b % 9;
        // Timestamps overlap between batches and repeat within one, and a batch's events
        // arrive out of order: the store must order by (timestamp, arrival).
        let mut events: Vec<InputEvent> = (0..n)
            .map(|i| InputEvent {
                timestamp: 1_000 + (b as i64 * 3) + ((n - i) as i64 % 4),
                message: message(b * 10 + i),
            })
            .collect();
        events.rotate_left(1);
        let ack = store.append(G, s, events.clone()).unwrap();
        assert_eq!(ack.count, n);
        events.sort_by_key(|e| e.timestamp);
        for (i, e) in events.into_iter().enumerate() {
            let ev = StoredEvent {
                timestamp: e.timestamp,
                ingestion_time: ack.ingestion_time,
                seq: ack.first_seq + i as u64,
                message: e.message,
            };
            model.events.push((s.to_owned(), ev));
        }
    }
    model.events.sort_by_key(|(_, e)| e.key());
}

fn read(store: &Store, s: &str, r: StreamRead) -> Vec<StoredEvent> {
    store.read_stream(G, s, &r).unwrap()
}

fn stream_read(direction: Direction, limit: usize) -> StreamRead {
    StreamRead {
        start: None,
        end: None,
        after: None,
        before: None,
        direction,
        limit,
    }
}

/// Every read path against the model.
fn check(store: &Store, model: &Model, label: &str) {
    for s in STREAMS {
        let expect = model.stream(s);
        assert_eq!(
            read(store, s, stream_read(Direction::Forward, usize::MAX)),
            expect,
            "{label}: all of {s}"
        );
        // Forward paging with the last key as the next position.
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let page = read(
                store,
                s,
                StreamRead {
                    after,
                    ..stream_read(Direction::Forward, 5)
                },
            );
            if page.is_empty() {
                break;
            }
            after = page.last().map(StoredEvent::key);
            got.extend(page);
        }
        assert_eq!(got, expect, "{label}: forward pages of {s}");
        // Backward paging from the end with the first key as the next position.
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let page = read(
                store,
                s,
                StreamRead {
                    before,
                    ..stream_read(Direction::Backward, 4)
                },
            );
            if page.is_empty() {
                break;
            }
            before = page.first().map(StoredEvent::key);
            pages.push(page);
        }
        let back: Vec<StoredEvent> = pages.into_iter().rev().flatten().collect();
        assert_eq!(back, expect, "{label}: backward pages of {s}");
        // The newest 3 events (GetLogEvents without token, startFromHead=false).
        let tail = read(store, s, stream_read(Direction::Backward, 3));
        assert_eq!(
            tail,
            expect[expect.len().saturating_sub(3)..],
            "{label}: tail of {s}"
        );
        // Time window: start inclusive, end exclusive.
        let (lo, hi) = (1_030, 1_090);
        let window = read(
            store,
            s,
            StreamRead {
                start: Some(lo),
                end: Some(hi),
                ..stream_read(Direction::Forward, usize::MAX)
            },
        );
        let exp: Vec<_> = expect
            .iter()
            .filter(|e| e.timestamp >= lo && e.timestamp < hi)
            .cloned()
            .collect();
        assert_eq!(window, exp, "{label}: window of {s}");
    }

    // Interleaved group reads, paged, with a message predicate and stream selections.
    let selections = [
        (StreamSelector::All, STREAMS.to_vec()),
        (
            StreamSelector::Prefix("app/".into()),
            vec!["app/1", "app/2"],
        ),
        (
            StreamSelector::Names(vec!["web/1".into(), "other".into(), "nope".into()]),
            vec!["web/1", "other"],
        ),
    ];
    for (sel, names) in &selections {
        for (pat, pred) in [("", None), ("ERROR", Some("ERROR"))] {
            let expect: Vec<(String, StoredEvent)> = model
                .events
                .iter()
                .filter(|(n, e)| {
                    names.contains(&n.as_str()) && pred.is_none_or(|p| e.message.contains(p))
                })
                .filter(|(_, e)| e.timestamp >= 1_010 && e.timestamp <= 1_500)
                .cloned()
                .collect();
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let r = GroupRead {
                    streams: sel.clone(),
                    start: Some(1_010),
                    end: Some(1_501),
                    after,
                    limit: 7,
                };
                let page = store.read_group(G, &r, &|m: &str| m.contains(pat)).unwrap();
                assert!(page.events.len() <= 7);
                after = page.events.last().map(|e| e.event.key());
                got.extend(
                    page.events
                        .into_iter()
                        .map(|e| (e.stream.to_string(), e.event)),
                );
                if !page.more {
                    break;
                }
            }
            assert_eq!(got, expect, "{label}: group read {sel:?} {pat:?}");
        }
    }

    // Counts per time bin, from block histograms where a block lies inside the range and
    // the bin is whole minutes, else from scanned timestamps.
    // (streams, their names, start, end, bin width)
    type BinCase<'a> = (StreamSelector, &'a [&'a str], Option<i64>, Option<i64>, i64);
    let bins: [BinCase<'_>; 4] = [
        (StreamSelector::All, &STREAMS, None, None, 60_000),
        (
            StreamSelector::All,
            &STREAMS,
            Some(1_030),
            Some(1_090),
            60_000,
        ),
        (StreamSelector::All, &STREAMS, None, None, 7),
        (
            StreamSelector::Prefix("app/".into()),
            &["app/1", "app/2"],
            None,
            None,
            120_000,
        ),
    ];
    for (sel, names, start, end, width) in bins {
        let scan = Scan {
            streams: sel.clone(),
            start,
            end,
            ..Scan::all()
        };
        let mut expect: std::collections::BTreeMap<i64, u64> = Default::default();
        for (n, e) in &model.events {
            let t = e.timestamp;
            if names.contains(&n.as_str())
                && start.is_none_or(|s| t >= s)
                && end.is_none_or(|x| t < x)
            {
                *expect.entry(t.div_euclid(width) * width).or_default() += 1;
            }
        }
        let got = store.count_by_bin(G, &scan, width).unwrap();
        let expect: Vec<(i64, u64)> = expect.into_iter().collect();
        assert_eq!(
            got, expect,
            "{label}: count_by_bin {sel:?} {start:?} {width}"
        );
    }

    // Scans with pushdown: exact answers whatever the pruning did.
    let req = "req-0010";
    let uuid_part = format!("0000aaaa-{:04x}-4bbb", 51 * 10 + 1);
    // Ends inside the id's last group: blooms prune by that group's first 8 bytes, which
    // must not lose the messages where it continues.
    let cut_tail = format!("8ccc-{}", &format!("{:012x}", 50 * 10 + 1)[..9]);
    assert!(
        model
            .events
            .iter()
            .any(|(_, e)| e.message.contains(&cut_tail)),
        "the workload has the event the cut needle finds"
    );
    type Expect = Box<dyn Fn(&str) -> bool>;
    let scans: Vec<(Vec<Predicate>, Expect)> = vec![
        (vec![], Box::new(|_| true)),
        (
            vec![Predicate::FieldEquals {
                path: "level".into(),
                value: "ERROR".into(),
            }],
            Box::new(|m| m.contains(r#""level":"ERROR""#)),
        ),
        (
            vec![Predicate::FieldEquals {
                path: "requestId".into(),
                value: req.into(),
            }],
            Box::new(move |m| m.contains(&format!(r#""requestId":"{req}""#))),
        ),
        (
            vec![Predicate::FieldEquals {
                path: "duration".into(),
                value: "7".into(),
            }],
            Box::new(|m| m.contains(r#""duration":7,"#)),
        ),
        (
            vec![Predicate::Token("ValueError".into())],
            Box::new(|m| m.contains("ValueError")),
        ),
        (vec![Predicate::Token("Value".into())], Box::new(|_| false)),
        (
            vec![Predicate::Contains(uuid_part.clone())],
            Box::new(move |m| m.contains(&uuid_part)),
        ),
        (
            vec![Predicate::Contains(cut_tail.clone())],
            Box::new(move |m| m.contains(&cut_tail)),
        ),
        (
            vec![
                Predicate::Contains("ERROR".into()),
                Predicate::Token("plain".into()),
            ],
            Box::new(|m| m.contains("ERROR") && m.starts_with("plain")),
        ),
    ];
    for (preds, f) in &scans {
        let scan = Scan {
            streams: StreamSelector::All,
            start: Some(1_000),
            end: Some(1_600),
            predicates: preds.clone(),
            fields: vec!["level".into(), "service".into()],
            messages: true,
            ingestion_times: true,
            keys: true,
        };
        let mut got: Vec<Found> = Vec::new();
        let stats = store
            .scan(G, &scan, &mut |b| {
                let msgs = b.messages.as_ref().unwrap();
                for (i, msg) in msgs.iter().enumerate() {
                    got.push((
                        b.stream.to_string(),
                        b.seqs[i],
                        b.timestamps[i],
                        b.ingestion_times[i],
                        msg.clone(),
                        b.fields[0].get(i).map(str::to_owned),
                        b.fields[1].get(i).map(str::to_owned),
                    ));
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        got.sort_by_key(|r| r.1);
        let expect: Vec<_> = model
            .events
            .iter()
            .filter(|(_, e)| e.timestamp >= 1_000 && e.timestamp < 1_600 && f(&e.message))
            .map(|(s, e)| {
                let (level, service) = level_and_service(&e.message);
                (
                    s.clone(),
                    e.seq,
                    e.timestamp,
                    e.ingestion_time,
                    e.message.clone(),
                    level,
                    service,
                )
            })
            .collect::<Vec<_>>();
        let mut expect = expect;
        expect.sort_by_key(|r| r.1);
        assert_eq!(got.len(), expect.len(), "{label}: scan {preds:?} count");
        assert_eq!(got, expect, "{label}: scan {preds:?}");
        assert_eq!(stats.corrupt, 0);
        // Without keys: the same rows' fields, over blocks inside the bounds (read without
        // key columns) and blocks reaching past them (keys read to bound rows).
        for (start, end) in [(Some(1_000), Some(1_600)), (None, None)] {
            let scan = Scan {
                start,
                end,
                predicates: preds.clone(),
                fields: vec!["level".into(), "service".into()],
                keys: false,
                ..Scan::all()
            };
            let mut got: Vec<(String, Option<String>, Option<String>)> = Vec::new();
            store
                .scan(G, &scan, &mut |b| {
                    assert!(b.timestamps.is_empty() && b.seqs.is_empty());
                    assert_eq!(b.fields[0].codes.len(), b.len());
                    for i in 0..b.len() {
                        got.push((
                            b.stream.to_string(),
                            b.fields[0].get(i).map(str::to_owned),
                            b.fields[1].get(i).map(str::to_owned),
                        ));
                    }
                    ControlFlow::Continue(())
                })
                .unwrap();
            got.sort();
            let mut expect: Vec<_> = model
                .events
                .iter()
                .filter(|(_, e)| {
                    start.is_none_or(|t| e.timestamp >= t)
                        && end.is_none_or(|t| e.timestamp < t)
                        && f(&e.message)
                })
                .map(|(s, e)| {
                    let (level, service) = level_and_service(&e.message);
                    (s.clone(), level, service)
                })
                .collect();
            expect.sort();
            assert_eq!(
                got, expect,
                "{label}: scan {preds:?} without keys, {start:?}"
            );
        }
    }
}

/// One scanned row: stream, seq, timestamp, ingestion time, message, level, service.
type Found = (
    String,
    u64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
);

fn expect_pruning(store: &Store) {
    // With everything in segments, a needle must skip most blocks.
    let scan = Scan {
        predicates: vec![
            Predicate::Token("ValueError".into()),
            Predicate::Token("403".into()),
        ],
        ..Scan::all()
    };
    let stats = store
        .scan(G, &scan, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    assert!(stats.blocks > 20, "{stats:?}");
    assert!(
        stats.decoded * 4 < stats.blocks,
        "needle decoded too much: {stats:?}"
    );
    assert_eq!(stats.events, 1, "{stats:?}");
}

fn setup(store: &Store) {
    store
        .create_group(&group(G), Default::default(), 0)
        .unwrap();
    for s in STREAMS {
        store.create_stream(G, &stream(s), 0).unwrap();
    }
}

#[test]
fn every_read_path_gives_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let mut model = Model::default();
    {
        let store = Store::open(cfg.clone()).unwrap();
        setup(&store);
        ingest(&store, &mut model, 0, 120);
        check(&store, &model, "memtable only");
        store.flush().unwrap();
        check(&store, &model, "segments only");
        expect_pruning(&store);
        ingest(&store, &mut model, 120, 60);
        check(&store, &model, "mixed");
        store.flush().unwrap();
        ingest(&store, &mut model, 180, 40);
        store.flush().unwrap();
        let replaced = store.compact().unwrap();
        assert!(replaced > 0);
        store.collect_garbage(true).unwrap();
        check(&store, &model, "after compaction");
        ingest(&store, &mut model, 220, 30);
        check(&store, &model, "compacted plus memtable");
    }
    let store = Store::open(cfg.clone()).unwrap();
    assert_eq!(store.recovery_report().batches_replayed, 30);
    assert!(store.recovery_report().problems.is_empty());
    check(&store, &model, "after reopen with wal replay");
    store.flush().unwrap();
    drop(store);
    let store = Store::open(cfg).unwrap();
    assert_eq!(store.recovery_report().batches_replayed, 0);
    check(&store, &model, "after reopen from segments");
    let info = store.stream(G, "app/1").unwrap();
    let evs = model.stream("app/1");
    assert_eq!(info.first_event, evs.iter().map(|e| e.timestamp).min());
    assert_eq!(info.last_event, evs.iter().map(|e| e.timestamp).max());
    let bytes: u64 = model
        .events
        .iter()
        .map(|(_, e)| e.message.len() as u64)
        .sum();
    assert_eq!(store.group(G).unwrap().stored_bytes, bytes);
}

/// Segments a flush under load writes unindexed (no field columns, no blooms) answer every
/// read like indexed ones, alone, beside the memtable, after a reopen, and once
/// compaction has rebuilt them indexed (when needles skip blocks again).
#[test]
fn unindexed_segments_give_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    // Ingest never counts as calm: every settled flush is unindexed.
    cfg.index_rate = 0;
    let mut model = Model::default();
    {
        let store = Store::open(cfg.clone()).unwrap();
        setup(&store);
        ingest(&store, &mut model, 0, 120);
        store.flush_settled().unwrap();
        assert_eq!(store.write_stats().unindexed_flushes, 1);
        check(&store, &model, "unindexed segments");
        ingest(&store, &mut model, 120, 60);
        store.flush_settled().unwrap();
        check(&store, &model, "unindexed segments and memtable");
    }
    let store = Store::open(cfg).unwrap();
    check(&store, &model, "unindexed segments after reopen");
    store.flush().unwrap();
    let replaced = store.compact().unwrap();
    assert!(replaced > 0);
    assert!(store.write_stats().indexed_segments > 0);
    store.collect_garbage(true).unwrap();
    check(&store, &model, "unindexed segments rebuilt");
    expect_pruning(&store);
}

#[test]
fn empty_stream_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    setup(&store);
    assert!(read(&store, "app/1", stream_read(Direction::Forward, 10)).is_empty());
    assert!(read(&store, "app/1", stream_read(Direction::Backward, 10)).is_empty());
    let page = store
        .read_group(
            G,
            &GroupRead {
                streams: StreamSelector::All,
                start: None,
                end: None,
                after: None,
                limit: 10,
            },
            &|_| true,
        )
        .unwrap();
    assert!(page.events.is_empty() && !page.more);
    let mut model = Model::default();
    ingest(&store, &mut model, 0, 8);
    let seqs: BTreeSet<u64> = model.events.iter().map(|(_, e)| e.seq).collect();
    assert_eq!(
        seqs.len(),
        model.events.len(),
        "sequence numbers are unique"
    );
    assert!(read(&store, "app/1", stream_read(Direction::Forward, 0)).is_empty());
}

/// The expected answer's `level` and `service` of a message: string values of a JSON object
/// message, `None` otherwise.
fn level_and_service(message: &str) -> (Option<String>, Option<String>) {
    let v: Option<serde_json::Value> = serde_json::from_str(message).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(|x| x.as_str())
            .map(str::to_owned)
    };
    (field("level"), field("service"))
}
