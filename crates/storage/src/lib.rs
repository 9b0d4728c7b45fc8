//! Lookout's storage engine.
//!
//! A [`Store`] keeps log groups and log streams in a [`Metastore`] (SQLite by default) and
//! their events in three tiers: a write-ahead log (group-committed: one fsync serves every
//! writer waiting at that moment, and [`Store::append`] returns only after it), an in-memory
//! tail that reads always see, and immutable segments per group and time window, written
//! through `object_store`. Segments hold blocks of several streams' rows (a stream column
//! as runs) with timestamp, ingestion-time, sequence and zstd message columns, one column
//! per flattened JSON field, per-minute event counts, and bloom filters per segment and
//! block over message tokens and field values, all indexed by one contiguous
//! region. Recovery replays the WAL after the last published checkpoint exactly once.
//! While appends arrive faster than [`StoreConfig::index_rate`], background flushes write
//! *unindexed* segments instead (one per group: keys, messages and histograms only, at a
//! fraction of the CPU), which compaction rebuilds indexed once ingest calms down.
//!
//! Reads:
//! - [`Store::read_stream`]: one stream from a position, forward or backward (GetLogEvents).
//! - [`Store::read_group`]: a group's streams interleaved by time with a message predicate
//!   (FilterLogEvents).
//! - [`Store::scan`]: pushdown of time range, stream set, token, substring and field-value
//!   predicates, skipping blocks before decompressing (Insights).
//! - [`Store::count_by_bin`]: events per time bin, from block histograms where possible.
//!
//! Every method blocks; from async code call it inside `tokio::task::spawn_blocking`.
//! Reads never return events older than the group's retention; a background thread
//! flushes, compacts and drops expired segments.
//!
//! ```
//! use lookout_model::{InputEvent, LogGroupName, LogStreamName};
//! use lookout_storage::{Direction, Store, StoreConfig, StreamRead};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(StoreConfig::new(dir.path()))?;
//! let group = LogGroupName::new("/aws/lambda/checkout")?;
//! store.create_group(&group, Default::default(), 0)?;
//! store.create_stream(group.as_str(), &LogStreamName::new("s1")?, 0)?;
//! let events = vec![InputEvent { timestamp: 1_000, message: "hello".into() }];
//! store.append(group.as_str(), "s1", events)?;
//! let read = StreamRead {
//!     start: None, end: None, after: None, before: None,
//!     direction: Direction::Forward, limit: 100,
//! };
//! let got = store.read_stream(group.as_str(), "s1", &read)?;
//! assert_eq!(got[0].message, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bloom;
mod codec;
mod config;
mod error;
mod fields;
mod memtable;
mod metastore;
mod objects;
mod read;
mod segment;
mod store;
mod wal;

pub use bloom::tokens;
pub use config::StoreConfig;
pub use error::{ErrorKind, StorageError};
pub use metastore::{
    GroupRecord, Metastore, NewGroup, Publish, SegmentRecord, SqliteMetastore, StreamRecord,
    StreamStats,
};
pub use read::{
    Direction, GroupEvent, GroupPage, GroupRead, Key, Predicate, Scan, ScanBatch, ScanStats,
    StreamRead, StreamSelector,
};
#[doc(hidden)]
pub use segment::{BenchSegments, SizeReport, fuzz_segment};
pub use segment::{FieldColumn, verify_segment};
pub use store::{AppendAck, AppendTarget, GroupOptions, RecoveryReport, Store, WriteStats};
#[doc(hidden)]
pub use wal::fuzz_wal_payload;
pub use wal::{WalBatchView, decode_wal};
