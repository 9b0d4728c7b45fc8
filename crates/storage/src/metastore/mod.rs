//! The catalogue of groups, streams and segments, behind a small trait so an embedded
//! SQLite store and a shared PostgreSQL one are interchangeable.

mod sqlite;

use std::collections::BTreeMap;

pub use sqlite::SqliteMetastore;

use crate::error::StorageError;

/// A log group as the metastore records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// Internal id; never reused, so a re-created group never sees old data.
    pub id: u64,
    /// The group's name.
    pub name: String,
    /// Creation time in milliseconds since the epoch.
    pub creation_time: i64,
    /// Retention in days, when a policy is set.
    pub retention_days: Option<u16>,
    /// KMS key id given at creation, stored and echoed.
    pub kms_key_id: Option<String>,
    /// The group's tags.
    pub tags: BTreeMap<String, String>,
    /// Bytes of messages flushed to segments and not yet expired.
    pub stored_bytes: u64,
    /// Log group class (`STANDARD`, `INFREQUENT_ACCESS`, `DELIVERY`).
    pub class: String,
    /// Whether deletion protection is on.
    pub deletion_protection: bool,
}

/// A log stream as the metastore records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// Internal id; never reused.
    pub id: u64,
    /// Owning group's id.
    pub group_id: u64,
    /// The stream's name.
    pub name: String,
    /// Creation time in milliseconds since the epoch.
    pub creation_time: i64,
    /// Oldest event timestamp flushed, if any.
    pub first_event: Option<i64>,
    /// Newest event timestamp flushed, if any.
    pub last_event: Option<i64>,
    /// Latest ingestion time flushed, if any.
    pub last_ingestion: Option<i64>,
    /// Bytes of messages flushed.
    pub stored_bytes: u64,
}

/// A published segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecord {
    /// Catalogue id, assigned at publication.
    pub id: u64,
    /// Object store key.
    pub key: String,
    /// Owning group.
    pub group_id: u64,
    /// Oldest event timestamp inside.
    pub min_ts: i64,
    /// Newest event timestamp inside.
    pub max_ts: i64,
    /// Number of events.
    pub events: u64,
    /// Raw message bytes of the events.
    pub raw_bytes: u64,
    /// Object size in bytes.
    pub size: u64,
    /// Offset of the index region.
    pub index_offset: u64,
    /// Length of the index region.
    pub index_len: u64,
}

/// Statistics to merge into a stream at publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    /// Stream id.
    pub stream_id: u64,
    /// Oldest event timestamp added.
    pub first_event: i64,
    /// Newest event timestamp added.
    pub last_event: i64,
    /// Latest ingestion time added.
    pub last_ingestion: i64,
    /// Message bytes added.
    pub bytes: u64,
}

/// One atomic catalogue change: segments appear and disappear together with the stats and
/// the WAL checkpoint, so a crash leaves either the old or the new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publish {
    /// Segments to add (their `id` is ignored and assigned).
    pub add: Vec<SegmentRecord>,
    /// Segment ids to remove.
    pub remove: Vec<u64>,
    /// Stream statistics to merge.
    pub stats: Vec<StreamStats>,
    /// New WAL checkpoint: every sequence up to it is in segments.
    pub checkpoint: Option<u64>,
    /// Bytes to subtract from groups' stored bytes (expired or compacted away).
    pub shrink: Vec<(u64, u64)>,
}

/// Group attributes given at creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGroup {
    /// The validated name.
    pub name: String,
    /// Creation time.
    pub creation_time: i64,
    /// KMS key id to store.
    pub kms_key_id: Option<String>,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
    /// Log group class; empty means `STANDARD`.
    pub class: String,
    /// Deletion protection.
    pub deletion_protection: bool,
}

/// The metastore seam. Implementations must make each method atomic.
pub trait Metastore: Send + Sync + std::fmt::Debug {
    /// Creates a group; fails with `GroupExists` when the name is taken.
    fn create_group(&self, group: &NewGroup) -> Result<GroupRecord, StorageError>;
    /// Looks a group up by name.
    fn group(&self, name: &str) -> Result<Option<GroupRecord>, StorageError>;
    /// Looks a group up by id.
    fn group_by_id(&self, id: u64) -> Result<Option<GroupRecord>, StorageError>;
    /// Groups in byte order of name, after `after`, with an optional name prefix.
    fn list_groups(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<GroupRecord>, StorageError>;
    /// Deletes a group with its streams and catalogue entries; returns the group and the
    /// keys of its segments so the caller can delete the objects.
    fn delete_group(&self, name: &str) -> Result<(GroupRecord, Vec<String>), StorageError>;
    /// Sets or clears the retention policy.
    fn set_retention(&self, name: &str, days: Option<u16>) -> Result<(), StorageError>;
    /// Replaces a group's tags.
    fn set_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), StorageError>;
    /// Creates a stream; fails with `StreamExists` when the name is taken in the group.
    fn create_stream(
        &self,
        group_id: u64,
        name: &str,
        creation_time: i64,
    ) -> Result<StreamRecord, StorageError>;
    /// Looks a stream up by name.
    fn stream(&self, group_id: u64, name: &str) -> Result<Option<StreamRecord>, StorageError>;
    /// Streams of a group in byte order of name, after `after`, with an optional prefix.
    fn list_streams(
        &self,
        group_id: u64,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamRecord>, StorageError>;
    /// Deletes a stream.
    fn delete_stream(&self, group_id: u64, name: &str) -> Result<StreamRecord, StorageError>;
    /// Segments of a group overlapping `[min_ts, max_ts]`.
    fn segments(
        &self,
        group_id: u64,
        min_ts: i64,
        max_ts: i64,
    ) -> Result<Vec<SegmentRecord>, StorageError>;
    /// Every published segment key (for orphan cleanup).
    fn all_segment_keys(&self) -> Result<Vec<String>, StorageError>;
    /// Segments whose newest event is older than their group's retention at `now_ms`.
    fn expired_segments(&self, now_ms: i64) -> Result<Vec<SegmentRecord>, StorageError>;
    /// Applies a publication atomically. Segments of a group deleted meanwhile (a flush or
    /// compaction racing `delete_group`) are not added; their objects are orphans that the
    /// next open removes.
    fn publish(&self, p: &Publish) -> Result<(), StorageError>;
    /// The WAL checkpoint: the highest sequence number stored in segments.
    fn checkpoint(&self) -> Result<u64, StorageError>;
}
