//! Logs Insights queries end to end on arbitrary input: compile (parse and bind) must not
//! panic and must place its errors inside the text; an accepted query must explain itself and
//! run to an answer or an error over the conformance corpus, loaded once into a store whose
//! events sit partly in segments and partly in the memtable.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookout_model::{InputEvent, LogGroupName, LogStreamName};
use lookout_query::{Request, compile, resolve_source};
use lookout_storage::{Store, StoreConfig};

const EVENTS: &str = include_str!("../../tests/conformance/data/insights/events.jsonl");

struct Fixture {
    store: Store,
    groups: Vec<String>,
    // Kept so the directory lives as long as the store.
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(StoreConfig::new(dir.path())).expect("store opens");
        let mut groups: Vec<String> = Vec::new();
        let lines: Vec<serde_json::Value> = EVENTS
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        // The first half goes to segments, the second stays in the memtable.
        let half = lines.len() / 2;
        for (part, chunk) in [&lines[..half], &lines[half..]].into_iter().enumerate() {
            let mut streams: BTreeMap<(String, String), Vec<InputEvent>> = BTreeMap::new();
            for e in chunk {
                let group = e["logGroup"].as_str().unwrap_or_default().to_owned();
                let stream = format!("{}-{part}", e["logStream"].as_str().unwrap_or_default());
                streams.entry((group, stream)).or_default().push(InputEvent {
                    timestamp: e["timestamp"].as_i64().unwrap_or_default(),
                    message: e["message"].as_str().unwrap_or_default().to_owned(),
                });
            }
            for ((group, stream), mut events) in streams {
                if !groups.contains(&group) {
                    let name = LogGroupName::new(group.clone()).expect("corpus group name");
                    store.create_group(&name, Default::default(), 0).expect("group");
                    groups.push(group.clone());
                }
                let s = LogStreamName::new(stream.clone()).expect("corpus stream name");
                store.create_stream(&group, &s, 0).expect("stream");
                events.sort_by_key(|e| e.timestamp);
                store.append(&group, &stream, events).expect("append");
            }
            if part == 0 {
                store.flush().expect("flush");
            }
        }
        Fixture { store, groups, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let q = match compile(text) {
        Ok(q) => q,
        Err(e) => {
            if let Some(ce) = e.compile_error(text) {
                assert!(ce.start_char_offset <= ce.end_char_offset, "{e:?}");
                assert!(ce.end_char_offset <= text.chars().count(), "{e:?}");
            }
            return;
        }
    };
    let _ = q.explain();
    let f = fixture();
    let groups = match q.source() {
        Some(source) => match resolve_source(&f.store, source, 0) {
            Ok(selection) => selection.0,
            Err(_) => return,
        },
        None => f.groups.clone(),
    };
    let req = Request {
        groups,
        start_ms: 0,
        end_ms: i64::MAX / 2,
        limit: None,
        account: "123456789012".into(),
        now_secs: 1_700_000_000,
    };
    if let Ok(out) = q.run(&f.store, &req, &|| false) {
        assert!(out.rows.len() <= lookout_query::DEFAULT_ROWS, "{} rows", out.rows.len());
    }
});
