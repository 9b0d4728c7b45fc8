//! Catalogue operations, retention and deletion.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use lookout_model::{InputEvent, RetentionDays};
use lookout_storage::{ErrorKind, GroupOptions, Scan, StorageError, Store};

use crate::common::{all_of_stream, group, small_config, stream};

const DAY: i64 = 86_400_000;

fn ev(ts: i64, m: &str) -> InputEvent {
    InputEvent {
        timestamp: ts,
        message: m.into(),
    }
}

#[test]
fn groups_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    let tags = BTreeMap::from([("team".to_owned(), "core".to_owned())]);
    let opts = GroupOptions {
        kms_key_id: Some("arn:aws:kms:k".into()),
        tags: tags.clone(),
        ..Default::default()
    };
    let g = store.create_group(&group("b/group"), opts, 42).unwrap();
    assert_eq!(
        (g.creation_time, g.class.as_str(), g.tags.clone()),
        (42, "STANDARD", tags)
    );
    store
        .create_group(&group("a/group"), Default::default(), 1)
        .unwrap();
    store
        .create_group(&group("c"), Default::default(), 1)
        .unwrap();
    let err = store
        .create_group(&group("c"), Default::default(), 1)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let names: Vec<String> = store
        .list_groups(None, None, 50)
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["a/group", "b/group", "c"]);
    let page: Vec<String> = store
        .list_groups(None, Some("a/group"), 1)
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(page, ["b/group"]);
    let pre: Vec<String> = store
        .list_groups(Some("b/"), None, 50)
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(pre, ["b/group"]);

    store.create_stream("c", &stream("s2"), 5).unwrap();
    store.create_stream("c", &stream("s1"), 5).unwrap();
    assert_eq!(
        store
            .create_stream("c", &stream("s1"), 5)
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );
    assert!(matches!(
        store.create_stream("nope", &stream("s1"), 5),
        Err(StorageError::GroupNotFound)
    ));
    assert!(matches!(
        store.append("c", "s9", vec![ev(1, "x")]),
        Err(StorageError::StreamNotFound)
    ));
    assert!(matches!(
        store.append("c", "s1", vec![]),
        Err(StorageError::Invalid(_))
    ));
    let names: Vec<String> = store
        .list_streams("c", None, None, 50)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["s1", "s2"]);

    store
        .append("c", "s1", vec![ev(10, "abc"), ev(12, "de")])
        .unwrap();
    let s = store.stream("c", "s1").unwrap();
    assert_eq!(
        (s.first_event, s.last_event, s.stored_bytes),
        (Some(10), Some(12), 5)
    );
    assert!(s.last_ingestion.is_some());
    assert_eq!(store.group("c").unwrap().stored_bytes, 5);

    store.set_tags("c", &BTreeMap::new()).unwrap();
    store
        .set_retention("c", Some(RetentionDays::new(7).unwrap()))
        .unwrap();
    assert_eq!(store.group("c").unwrap().retention_days, Some(7));
    store.set_retention("c", None).unwrap();
    assert_eq!(store.group("c").unwrap().retention_days, None);
    assert!(matches!(
        store.set_retention("zz", None),
        Err(StorageError::GroupNotFound)
    ));
}

#[test]
fn retention_hides_then_drops_expired_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    store
        .create_group(&group("r"), Default::default(), 0)
        .unwrap();
    store.create_stream("r", &stream("s"), 0).unwrap();
    let now = lookout_storage_now();
    // Aligned to a whole second so that `old` and `old + 1` share one 50 ms window (one
    // segment), whatever the clock says.
    let old = (now - 10 * DAY) / 1000 * 1000;
    store
        .append("r", "s", vec![ev(old, "old one"), ev(old + 1, "old two")])
        .unwrap();
    store.flush().unwrap();
    store
        .append("r", "s", vec![ev(now - 1000, "recent")])
        .unwrap();
    store
        .append("r", "s", vec![ev(old + 5, "old in memtable")])
        .unwrap();
    assert_eq!(all_of_stream(&store, "r", "s").len(), 4);

    store
        .set_retention("r", Some(RetentionDays::new(7).unwrap()))
        .unwrap();
    let msgs: Vec<String> = all_of_stream(&store, "r", "s")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(msgs, ["recent"], "reads hide expired events at once");
    let mut n = 0;
    store
        .scan("r", &Scan::all(), &mut |b| {
            n += b.len();
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(n, 1);

    assert_eq!(store.enforce_retention(now).unwrap(), 1);
    assert_eq!(store.collect_garbage(true).unwrap(), 1);
    let objects = std::fs::read_dir(dir.path().join("objects/segments"))
        .unwrap()
        .count();
    assert_eq!(objects, 0, "the expired segment object is gone");
    store.flush().unwrap();
    // The expired event still in the memtable is not written to a segment.
    store.set_retention("r", None).unwrap();
    let msgs: Vec<String> = all_of_stream(&store, "r", "s")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(msgs, ["recent"]);
}

fn lookout_storage_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn deleting_streams_and_groups_removes_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    {
        let store = Store::open(cfg.clone()).unwrap();
        store
            .create_group(&group("d"), Default::default(), 0)
            .unwrap();
        for s in ["keep", "drop"] {
            store.create_stream("d", &stream(s), 0).unwrap();
            store
                .append("d", s, vec![ev(1, &format!("{s} flushed"))])
                .unwrap();
        }
        store.flush().unwrap();
        for s in ["keep", "drop"] {
            store
                .append("d", s, vec![ev(2, &format!("{s} in memory"))])
                .unwrap();
        }
        store.delete_stream("d", "drop").unwrap();
        assert!(matches!(
            store.stream("d", "drop"),
            Err(StorageError::StreamNotFound)
        ));
        // Re-created under the same name, the stream starts empty.
        store.create_stream("d", &stream("drop"), 0).unwrap();
        assert!(all_of_stream(&store, "d", "drop").is_empty());
        let mut n = 0;
        store
            .scan("d", &Scan::all(), &mut |b| {
                n += b.len();
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(n, 2);
        store.append("d", "keep", vec![ev(3, "third")]).unwrap();
        store.flush().unwrap();
        assert!(store.compact().unwrap() >= 2);
        assert_eq!(all_of_stream(&store, "d", "keep").len(), 3);
    }
    let store = Store::open(cfg).unwrap();
    assert!(all_of_stream(&store, "d", "drop").is_empty());
    assert_eq!(all_of_stream(&store, "d", "keep").len(), 3);
    store.delete_group("d").unwrap();
    store.collect_garbage(true).unwrap();
    assert!(matches!(store.group("d"), Err(StorageError::GroupNotFound)));
    store
        .create_group(&group("d"), Default::default(), 0)
        .unwrap();
    store.create_stream("d", &stream("keep"), 0).unwrap();
    assert!(all_of_stream(&store, "d", "keep").is_empty());
    let objects = std::fs::read_dir(dir.path().join("objects/segments"))
        .unwrap()
        .count();
    assert_eq!(objects, 0);
}

#[test]
fn streams_created_after_a_group_read_are_visible_to_the_next() {
    use lookout_storage::{GroupRead, StreamSelector};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    store
        .create_group(&group("n"), Default::default(), 0)
        .unwrap();
    store.create_stream("n", &stream("a"), 0).unwrap();
    store.append("n", "a", vec![ev(1, "in a")]).unwrap();
    let read = GroupRead {
        streams: StreamSelector::All,
        start: None,
        end: None,
        after: None,
        limit: 100,
    };
    assert_eq!(
        store
            .read_group("n", &read, &|_| true)
            .unwrap()
            .events
            .len(),
        1
    );
    store.create_stream("n", &stream("b"), 0).unwrap();
    store.append("n", "b", vec![ev(2, "in b")]).unwrap();
    let page = store.read_group("n", &read, &|_| true).unwrap();
    let names: Vec<&str> = page.events.iter().map(|e| &*e.stream).collect();
    assert_eq!(names, ["a", "b"]);
    store.delete_stream("n", "a").unwrap();
    assert_eq!(
        store
            .read_group("n", &read, &|_| true)
            .unwrap()
            .events
            .len(),
        1
    );
}

#[test]
fn settled_flush_keeps_the_newest_windows_and_recovery_replays_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    // Windows stay back only in indexed flushes, whatever this machine's speed.
    cfg.index_rate = u64::MAX;
    let window = cfg.window_ms;
    let mut expected: Vec<(i64, String)> = Vec::new();
    let mut append = |store: &Store, from: i64, to: i64| {
        let events: Vec<InputEvent> = (from..to)
            .map(|ts| ev(ts, &format!("event {ts}")))
            .collect();
        expected.extend(events.iter().map(|e| (e.timestamp, e.message.clone())));
        store.append("k", "s", events).unwrap();
    };
    let segment_ends = |store: &Store| -> Vec<i64> {
        let g = store.group("k").unwrap();
        let segs = store
            .metastore()
            .segments(g.id, i64::MIN, i64::MAX)
            .unwrap();
        segs.iter().map(|s| s.max_ts).collect()
    };
    {
        let store = Store::open(cfg.clone()).unwrap();
        store
            .create_group(&group("k"), Default::default(), 0)
            .unwrap();
        store.create_stream("k", &stream("s"), 0).unwrap();
        append(&store, 0, 6 * window);
        let before = store.stream("k", "s").unwrap();
        store.flush_settled().unwrap();
        // The two newest windows stay in memory; the older ones are segments.
        let ends = segment_ends(&store);
        assert_eq!(ends.len(), 4);
        assert!(ends.iter().all(|&t| t < 4 * window), "{ends:?}");
        let after = store.stream("k", "s").unwrap();
        assert_eq!(
            (after.first_event, after.last_event, after.stored_bytes),
            (before.first_event, before.last_event, before.stored_bytes)
        );
        append(&store, 6 * window, 7 * window);
        store.flush_settled().unwrap();
        assert!(segment_ends(&store).iter().all(|&t| t < 5 * window));
    }
    // Reopen: the carried windows come back from the carry file, the rest from the WAL.
    let store = Store::open(cfg.clone()).unwrap();
    let report = store.recovery_report().clone();
    assert_eq!(report.carried_events as i64, 2 * window, "{report:?}");
    assert_eq!(report.events_replayed, report.carried_events);
    let got: Vec<(i64, String)> = all_of_stream(&store, "k", "s")
        .into_iter()
        .map(|e| (e.timestamp, e.message))
        .collect();
    assert_eq!(got, expected);
    // Only the newest window stays back when the two would leave nothing to flush.
    store.flush_settled().unwrap();
    assert_eq!(segment_ends(&store).len(), 6);
    store.flush().unwrap();
    assert_eq!(segment_ends(&store).len(), 7);
    drop(store);
    let store = Store::open(cfg).unwrap();
    assert_eq!(store.recovery_report().events_replayed, 0);
    let got: Vec<(i64, String)> = all_of_stream(&store, "k", "s")
        .into_iter()
        .map(|e| (e.timestamp, e.message))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        store.stream("k", "s").unwrap().stored_bytes,
        expected.iter().map(|e| e.1.len() as u64).sum::<u64>()
    );
}

#[test]
fn segments_replaced_during_a_read_stay_readable_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    store
        .create_group(&group("c"), GroupOptions::default(), 0)
        .unwrap();
    store.create_stream("c", &stream("s"), 0).unwrap();
    // Four small segments in one 50 ms window, each of several blocks: compaction
    // merges them.
    for seg in 0..4i64 {
        let events = (0..20)
            .map(|i| ev(seg * 10 + i / 2, &format!("seg {seg} event {i}")))
            .collect();
        store.append("c", "s", events).unwrap();
        store.flush().unwrap();
    }
    let mut seen = 0;
    let mut replaced = 0;
    store
        .scan("c", &Scan::all(), &mut |b| {
            if replaced == 0 {
                // The read has listed the four segments; replace and collect them now,
                // with no grace period, before it reads the rest of their blocks.
                replaced = store.compact().unwrap();
                store.collect_garbage(true).unwrap();
            }
            seen += b.len();
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(replaced, 4);
    assert_eq!(seen, 80, "every event of the replaced segments was read");
    assert_eq!(store.problems(), Vec::<String>::new());
    // The read is over: the replaced objects go now.
    assert_eq!(store.collect_garbage(true).unwrap(), 4);
    assert_eq!(all_of_stream(&store, "c", "s").len(), 80);
}

#[test]
fn append_targets_follow_deletes_recreations_and_retention_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_config(dir.path())).unwrap();
    store
        .create_group(&group("t"), GroupOptions::default(), 0)
        .unwrap();
    store.create_stream("t", &stream("s"), 0).unwrap();
    let first = store.target("t", "s").unwrap();
    assert_eq!(first.retention_days, None);
    assert_eq!(store.target("t", "s").unwrap(), first, "cached");
    assert!(matches!(
        store.target("t", "nope"),
        Err(StorageError::StreamNotFound)
    ));
    assert!(matches!(
        store.target("nope", "s"),
        Err(StorageError::GroupNotFound)
    ));

    store
        .set_retention("t", Some(RetentionDays::new(7).unwrap()))
        .unwrap();
    assert_eq!(store.target("t", "s").unwrap().retention_days, Some(7));

    store.delete_stream("t", "s").unwrap();
    assert!(matches!(
        store.target("t", "s"),
        Err(StorageError::StreamNotFound)
    ));
    store.create_stream("t", &stream("s"), 0).unwrap();
    let recreated = store.target("t", "s").unwrap();
    assert_ne!(recreated.stream_id, first.stream_id);

    store.delete_group("t").unwrap();
    assert!(matches!(
        store.target("t", "s"),
        Err(StorageError::GroupNotFound)
    ));
    store
        .create_group(&group("t"), GroupOptions::default(), 0)
        .unwrap();
    store.create_stream("t", &stream("s"), 0).unwrap();
    let again = store.target("t", "s").unwrap();
    assert_ne!(again.group_id, first.group_id);
    assert_eq!(again.retention_days, None);
    // Appends by name land in the new group, and only there.
    store.append("t", "s", vec![ev(1, "new")]).unwrap();
    let msgs: Vec<String> = all_of_stream(&store, "t", "s")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(msgs, ["new"]);
}
