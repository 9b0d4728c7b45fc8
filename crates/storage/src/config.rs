use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::metastore::Metastore;

/// How a [`Store`](crate::Store) is laid out and when it flushes, compacts and expires.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Data directory: `wal/`, `meta.db` and (by default) `objects/` live here.
    pub dir: PathBuf,
    /// Segment object store; `None` means a local directory `dir/objects` with fsync.
    pub object_store: Option<Arc<dyn object_store::ObjectStore>>,
    /// Metastore; `None` means SQLite at `dir/meta.db`.
    pub metastore: Option<Arc<dyn Metastore>>,
    /// Flush the memtable once it holds this many bytes. An indexed background flush keeps
    /// the newest one or two windows in memory when they hold at most this much (and at most
    /// `hot_bytes`) and leave a quarter of it to flush; appends slow down once the memtable
    /// grows past one and a half times this while a flush runs, and wait at twice it.
    pub flush_bytes: usize,
    /// Most bytes a background flush keeps in memory (see `flush_bytes`). Kept rows are
    /// re-logged, compressed, by every flush until they go out, so with a large memtable
    /// this bounds that work; a window's part this large already makes a full segment.
    pub hot_bytes: usize,
    /// Flush a non-empty memtable once it is this old.
    pub flush_age: Duration,
    /// Width of a segment's time window in milliseconds.
    pub window_ms: i64,
    /// Most events in one block.
    pub block_events: usize,
    /// Most message bytes in one block.
    pub block_bytes: usize,
    /// A time window of a group with at least this many segments is compacted: by
    /// [`Store::compact`](crate::Store::compact) all of them; by the background thread
    /// only a size tier (each next-larger segment at most twice the smaller ones together),
    /// so large segments are not rewritten for every small one that joins their window.
    pub compact_min_segments: usize,
    /// Segments above this size are left alone by compaction.
    pub compact_max_bytes: u64,
    /// Message bytes per second of appends above which ingest counts as busy: a background
    /// flush then writes unindexed segments (messages and keys only, a fraction of an
    /// indexed segment's CPU), and the background thread indexes them (rebuilds them as
    /// full segments) only once appends arrive slower than this again. Reads see every
    /// event either way; queries over unindexed segments read their messages instead of
    /// skipping blocks by field values and blooms. `u64::MAX` always indexes at once; `0`
    /// never counts ingest as calm (every background flush is unindexed, and only the bound
    /// below or [`Store::compact`](crate::Store::compact) indexes).
    pub index_rate: u64,
    /// Message bytes in unindexed segments beyond which the background thread indexes them
    /// even while ingest is busy, bounding how much of the store queries cannot prune.
    pub unindexed_max_bytes: u64,
    /// Replaced segment objects are deleted after this grace period, so reads that listed
    /// them just before the replacement still find them.
    pub delete_grace: Duration,
    /// Run flush, compaction and retention on a background thread, at a lower CPU priority
    /// (nice 10 on Linux) than appends and reads.
    pub background: bool,
    /// Interval of the background retention sweep.
    pub retention_interval: Duration,
}

impl StoreConfig {
    /// Defaults for a data directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            object_store: None,
            metastore: None,
            flush_bytes: 64 << 20,
            hot_bytes: 64 << 20,
            flush_age: Duration::from_secs(60),
            window_ms: 3_600_000,
            block_events: 8192,
            block_bytes: 2 << 20,
            compact_min_segments: 4,
            compact_max_bytes: 256 << 20,
            index_rate: 16 << 20,
            unindexed_max_bytes: 4 << 30,
            delete_grace: Duration::from_secs(30),
            background: true,
            retention_interval: Duration::from_secs(60),
        }
    }
}
