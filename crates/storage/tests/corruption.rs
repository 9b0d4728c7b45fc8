//! Corrupt and truncated files are reported and skipped; the rest stays readable.

use std::ops::ControlFlow;

use lookout_model::InputEvent;
use lookout_storage::{Scan, Store, StoreConfig};

use crate::common::{all_of_stream, group, small_config, stream};

fn ev(ts: i64, m: String) -> InputEvent {
    InputEvent {
        timestamp: ts,
        message: m,
    }
}

fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("objects/segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// A store with group `g`, stream `s` and one flushed segment per window: 10 events in
/// each 50 ms window of `0..windows`.
fn flushed_windows(cfg: &StoreConfig, g: &str, windows: i64) -> Store {
    let store = Store::open(cfg.clone()).unwrap();
    store
        .create_group(&group(g), Default::default(), 0)
        .unwrap();
    store.create_stream(g, &stream("s"), 0).unwrap();
    for w in 0..windows {
        let evs = (0..10)
            .map(|i| ev(w * 50 + i, format!("w{w} e{i}")))
            .collect();
        store.append(g, "s", evs).unwrap();
    }
    store.flush().unwrap();
    store
}

#[test]
fn corrupt_segment_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    cfg.block_events = 100;
    drop(flushed_windows(&cfg, "c", 3));
    let files = segment_files(dir.path());
    assert_eq!(files.len(), 3);
    // Damage the data of one segment and the index of another.
    let mut a = std::fs::read(&files[0]).unwrap();
    a[10] ^= 0xff;
    std::fs::write(&files[0], a).unwrap();
    let mut b = std::fs::read(&files[1]).unwrap();
    let n = b.len();
    b[n - 30] ^= 0xff;
    std::fs::write(&files[1], b).unwrap();

    let store = Store::open(cfg).unwrap();
    let got = all_of_stream(&store, "c", "s");
    assert_eq!(got.len(), 10, "exactly one intact segment remains readable");
    let mut stats = None;
    let s = store
        .scan(
            "c",
            &Scan {
                messages: true,
                ..Scan::all()
            },
            &mut |_| ControlFlow::Continue(()),
        )
        .unwrap();
    stats.replace(s);
    assert!(stats.unwrap().corrupt >= 2);
    assert!(store.problems().len() >= 2, "{:?}", store.problems());
}

#[test]
fn truncated_segment_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let store = flushed_windows(&cfg, "t", 2);
    // Read once, so the store holds both files open and their indexes decoded.
    assert_eq!(all_of_stream(&store, "t", "s").len(), 20);
    let files = segment_files(dir.path());
    assert_eq!(files.len(), 2);
    let bytes = std::fs::read(&files[1]).unwrap();
    // Only the header is left, so every block's range runs past the end.
    std::fs::write(&files[1], &bytes[..8]).unwrap();

    // Cut short under the open store (reads run into the end of the file), then after a
    // reopen (the index range lies past the end).
    let check = |store: &Store| {
        let got = all_of_stream(store, "t", "s");
        assert_eq!(got.len(), 10, "the intact segment stays readable");
        let stats = store
            .scan("t", &Scan::all(), &mut |_| ControlFlow::Continue(()))
            .unwrap();
        assert_eq!(stats.events, 10);
        assert!(stats.corrupt >= 1);
        assert!(
            store.problems().iter().any(|p| p.contains("truncated")),
            "{:?}",
            store.problems()
        );
    };
    check(&store);
    drop(store);
    check(&Store::open(cfg).unwrap());
}

#[test]
fn catalogue_range_past_the_file_is_reported_not_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    drop(flushed_windows(&cfg, "r", 1));
    // A damaged catalogue row claiming a petabyte-long index.
    let db = rusqlite::Connection::open(dir.path().join("meta.db")).unwrap();
    let changed = db
        .execute("UPDATE segments SET index_len = ?1", [1_i64 << 50])
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);

    let store = Store::open(cfg).unwrap();
    assert!(all_of_stream(&store, "r", "s").is_empty());
    let stats = store
        .scan("r", &Scan::all(), &mut |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(stats.corrupt, 1);
    assert!(
        store.problems().iter().any(|p| p.contains("truncated")),
        "{:?}",
        store.problems()
    );
}

#[test]
fn truncated_or_garbled_wal_tail_keeps_the_prefix() {
    for damage in ["truncate", "garble", "garbage-file"] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = small_config(dir.path());
        {
            let store = Store::open(cfg.clone()).unwrap();
            store
                .create_group(&group("w"), Default::default(), 0)
                .unwrap();
            store.create_stream("w", &stream("s"), 0).unwrap();
            for i in 0..5 {
                store
                    .append("w", "s", vec![ev(i, format!("batch {i}"))])
                    .unwrap();
            }
        }
        let wal_dir = dir.path().join("wal");
        let mut files: Vec<_> = std::fs::read_dir(&wal_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let last = files.last().unwrap().clone();
        let mut bytes = std::fs::read(&last).unwrap();
        match damage {
            "truncate" => bytes.truncate(bytes.len() - 3),
            "garble" => {
                let n = bytes.len();
                bytes[n - 2] ^= 0x40;
            }
            _ => {
                std::fs::write(wal_dir.join("0000000000000000.wal"), b"not a wal at all").unwrap();
            }
        }
        std::fs::write(&last, bytes).unwrap();
        let store = Store::open(cfg).unwrap();
        let report = store.recovery_report().clone();
        assert_eq!(report.problems.len(), 1, "{damage}: {report:?}");
        let expect = if damage == "garbage-file" { 5 } else { 4 };
        assert_eq!(all_of_stream(&store, "w", "s").len(), expect, "{damage}");
        // New appends after recovery are durable in a fresh file.
        store.append("w", "s", vec![ev(9, "after".into())]).unwrap();
        drop(store);
        let store = Store::open(small_config(dir.path())).unwrap();
        assert_eq!(
            all_of_stream(&store, "w", "s").len(),
            expect + 1,
            "{damage}"
        );
    }
}
