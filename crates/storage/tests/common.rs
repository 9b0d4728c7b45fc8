use std::path::Path;
use std::time::Duration;

use lookout_model::{LogGroupName, LogStreamName};
use lookout_storage::{Direction, Store, StoreConfig, StreamRead};

/// A config without background work, small blocks and narrow windows, so a few hundred
/// events span many blocks and segments.
pub fn small_config(dir: &Path) -> StoreConfig {
    let mut cfg = StoreConfig::new(dir);
    cfg.background = false;
    cfg.block_events = 7;
    cfg.window_ms = 50;
    cfg.compact_min_segments = 2;
    cfg.delete_grace = Duration::ZERO;
    cfg
}

pub fn group(name: &str) -> LogGroupName {
    LogGroupName::new(name).unwrap()
}

pub fn stream(name: &str) -> LogStreamName {
    LogStreamName::new(name).unwrap()
}

pub fn all_of_stream(store: &Store, g: &str, s: &str) -> Vec<lookout_model::StoredEvent> {
    let r = StreamRead {
        start: None,
        end: None,
        after: None,
        before: None,
        direction: Direction::Forward,
        limit: usize::MAX,
    };
    store.read_stream(g, s, &r).unwrap()
}
