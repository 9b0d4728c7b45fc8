//! The engine: WAL group commit, memtables, flush to segments, recovery, retention and
//! compaction, plus the catalogue operations.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lookout_model::{InputEvent, LogGroupName, LogStreamName, RetentionDays};
use parking_lot::{Condvar, Mutex, RwLock};

use crate::config::StoreConfig;
use crate::error::StorageError;
use crate::memtable::{Memtable, Row, StreamDelta, delta_of, hot_index, row_bytes};
use crate::metastore::{
    GroupRecord, Metastore, NewGroup, Publish, SegmentRecord, SqliteMetastore, StreamRecord,
    StreamStats,
};
use crate::objects::{Objects, SEGMENT_PREFIX};
use crate::segment::{self, BlockLimits, SegmentIndex};
use crate::wal::{self, WalBatch, WalWriter};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What the store confirms for an appended batch: it is durable and visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendAck {
    /// Sequence number of the batch's first event (in timestamp order).
    pub first_seq: u64,
    /// Number of events stored.
    pub count: usize,
    /// Ingestion time given to every event of the batch.
    pub ingestion_time: i64,
}

/// What the write path has done since the store opened: group commits, flushes, and how
/// long appends were held back because flushing fell behind. Load tests read it to tell a
/// slow request's cause (fsync, a flush, backpressure) from the outside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Group commits: one WAL write and fsync each, shared by the batches queued meanwhile.
    pub commits: u64,
    /// Time spent writing and fsyncing those commits.
    pub commit_time: Duration,
    /// Flushes of the memtable to segments.
    pub flushes: u64,
    /// Time those flushes took in all.
    pub flush_time: Duration,
    /// The longest flush.
    pub longest_flush: Duration,
    /// Message and row bytes flushes kept in memory and re-logged in carry files.
    pub carried_bytes: u64,
    /// Appends delayed by backpressure.
    pub held_appends: u64,
    /// Their delays in all.
    pub held_time: Duration,
    /// The longest delay of one append.
    pub longest_hold: Duration,
    /// Flushes that wrote unindexed segments because appends were arriving faster than
    /// [`StoreConfig::index_rate`].
    pub unindexed_flushes: u64,
    /// Unindexed segments compaction has since rebuilt indexed.
    pub indexed_segments: u64,
}

/// The atomics behind [`WriteStats`], in nanoseconds.
#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    commit_ns: AtomicU64,
    flushes: AtomicU64,
    flush_ns: AtomicU64,
    flush_max_ns: AtomicU64,
    carried_bytes: AtomicU64,
    held: AtomicU64,
    held_ns: AtomicU64,
    held_max_ns: AtomicU64,
    unindexed_flushes: AtomicU64,
    indexed_segments: AtomicU64,
    /// Message bytes appended since the store opened.
    appended: AtomicU64,
}

impl Counters {
    fn add(count: &AtomicU64, total: &AtomicU64, max: Option<&AtomicU64>, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        count.fetch_add(1, Relaxed);
        total.fetch_add(ns, Relaxed);
        if let Some(m) = max {
            m.fetch_max(ns, Relaxed);
        }
    }

    fn snapshot(&self) -> WriteStats {
        let d = |a: &AtomicU64| Duration::from_nanos(a.load(Relaxed));
        WriteStats {
            commits: self.commits.load(Relaxed),
            commit_time: d(&self.commit_ns),
            flushes: self.flushes.load(Relaxed),
            flush_time: d(&self.flush_ns),
            longest_flush: d(&self.flush_max_ns),
            carried_bytes: self.carried_bytes.load(Relaxed),
            held_appends: self.held.load(Relaxed),
            held_time: d(&self.held_ns),
            longest_hold: d(&self.held_max_ns),
            unindexed_flushes: self.unindexed_flushes.load(Relaxed),
            indexed_segments: self.indexed_segments.load(Relaxed),
        }
    }
}

/// Options for creating a log group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupOptions {
    /// KMS key id to store and echo.
    pub kms_key_id: Option<String>,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
    /// Log group class; empty means `STANDARD`.
    pub class: String,
    /// Deletion protection.
    pub deletion_protection: bool,
}

/// What recovery found when the store was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// WAL files read.
    pub wal_files: usize,
    /// Batches replayed into the memtable (newer than the checkpoint).
    pub batches_replayed: usize,
    /// Events replayed.
    pub events_replayed: usize,
    /// Of those, events a flush had kept in memory, replayed from its carry file.
    pub carried_events: usize,
    /// Torn tails and corruption found, one message each; the rest was recovered.
    pub problems: Vec<String>,
    /// Segment objects not in the catalogue (from an interrupted flush), deleted.
    pub orphans_removed: usize,
}

enum Cmd {
    Append {
        group_id: u64,
        stream_id: u64,
        /// Sorted by timestamp, arrival order kept for ties.
        events: Vec<(i64, String)>,
        packed: wal::PackedEvents,
        reply: SyncSender<Result<AppendAck, StorageError>>,
    },
    Rotate {
        reply: SyncSender<Result<Rotated, StorageError>>,
    },
}

pub(crate) struct Inner {
    pub(crate) cfg: StoreConfig,
    pub(crate) meta: Arc<dyn Metastore>,
    pub(crate) objects: Objects,
    wal_dir: PathBuf,
    tx: Mutex<Option<Sender<Cmd>>>,
    /// Lock order: `frozen` before `active`, everywhere.
    pub(crate) active: RwLock<Memtable>,
    pub(crate) frozen: RwLock<Option<Arc<Memtable>>>,
    flush_lock: Mutex<()>,
    /// The WAL checkpoint last published (or found at open): the carry file with this tag
    /// is the one recovery would replay.
    published: std::sync::atomic::AtomicU64,
    pub(crate) index_cache: Mutex<HashMap<String, Arc<SegmentIndex>>>,
    /// Stream id to name per group, for reads over all streams; dropped on any change.
    pub(crate) stream_cache: Mutex<HashMap<u64, StreamNames>>,
    /// Bumped on every stream change, so a read that listed streams before a change never
    /// caches its stale list after it.
    pub(crate) stream_gen: std::sync::atomic::AtomicU64,
    /// Segment catalogue per group, as the metastore listed it at `segment_gen`. Listing a
    /// group's segments cost more than pruning all their blocks; this store is the
    /// catalogue's only writer, and every change bumps `segment_gen`.
    pub(crate) segment_cache: Mutex<HashMap<u64, (u64, SegmentList)>>,
    pub(crate) segment_gen: std::sync::atomic::AtomicU64,
    pub(crate) problems: Mutex<Vec<String>>,
    /// Segments replaced or deleted, with when they may go and the catalogue generation
    /// their removal was published at.
    doomed: Mutex<Vec<Doomed>>,
    /// Catalogue generations that reads in progress listed segments at, with how many
    /// reads hold each. A segment removed at a later generation may be in such a read's
    /// list, so its object stays until those reads finish, however long they take.
    pins: Mutex<BTreeMap<u64, usize>>,
    /// Group and stream ids by name for appends, valid while `targets_gen` equals its
    /// generation: a PutLogEvents then needs no metastore query, so it never queues behind
    /// a flush publishing to the metastore.
    targets: RwLock<TargetCache>,
    /// Bumped after every catalogue change that can invalidate a cached target (deleting
    /// a group or stream, changing retention).
    targets_gen: AtomicU64,
    stop: Mutex<bool>,
    wake: Condvar,
    /// Signalled after each flush, for appends waiting on a full memtable.
    flushed: Condvar,
    flushed_lock: Mutex<()>,
    unique: std::sync::atomic::AtomicU64,
    counters: Counters,
    /// When the append rate was last measured, the `appended` count then, and whether the
    /// rate over the interval before was above `index_rate`.
    rate: Mutex<(Instant, u64, bool)>,
    /// Message bytes in unindexed segments, as the last compaction pass counted them plus
    /// what flushes wrote since; `u64::MAX` until the first pass after opening.
    unindexed_bytes: AtomicU64,
    /// When the last flush rotated the memtable, and `appended` then: the flush after it
    /// judges the append rate over the time between.
    last_rotation: Mutex<(Instant, u64)>,
    /// One compaction pass at a time: an explicit `Store::compact` beside the background
    /// thread's pass would otherwise rebuild the same segments, and the one that publishes
    /// second finds its inputs gone and leaves its windows unmerged.
    compact_lock: Mutex<()>,
}

/// The storage engine. Blocking API: async callers use `spawn_blocking`.
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    recovery: RecoveryReport,
    writer: Option<JoinHandle<()>>,
    background: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.cfg.dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) a store, replaying the WAL into the memtable.
    pub fn open(cfg: StoreConfig) -> Result<Self, StorageError> {
        std::fs::create_dir_all(&cfg.dir)?;
        let wal_dir = cfg.dir.join("wal");
        std::fs::create_dir_all(&wal_dir)?;
        let meta: Arc<dyn Metastore> = match &cfg.metastore {
            Some(m) => m.clone(),
            None => Arc::new(SqliteMetastore::open(&cfg.dir.join("meta.db"))?),
        };
        let objects = match &cfg.object_store {
            Some(s) => Objects::new(s.clone()),
            None => {
                let dir = cfg.dir.join("objects");
                std::fs::create_dir_all(&dir)?;
                Objects::local(&dir)?
            }
        };
        let mut report = RecoveryReport::default();

        let checkpoint = meta.checkpoint()?;
        let files = wal::list_files(&wal_dir)?;
        let mut active = Memtable::new();
        let mut max_seq = checkpoint;
        for &n in &files {
            report.wal_files += 1;
            let bytes = std::fs::read(wal::file_path(&wal_dir, n))?;
            let (batches, err) = wal::decode_file(&bytes);
            if let Some(e) = err {
                tracing::warn!(file = n, error = %e, "wal file ends early; replaying what precedes");
                report.problems.push(format!("wal file {n}: {e}"));
            }
            for b in batches {
                if b.events.is_empty() || b.first_seq <= checkpoint {
                    continue;
                }
                max_seq = max_seq.max(b.last_seq());
                report.batches_replayed += 1;
                report.events_replayed += b.events.len();
                let (group_id, stream_id) = (b.group_id, b.stream_id);
                active.insert(group_id, stream_id, rows_of(b));
            }
        }
        for tag in wal::list_carry(&wal_dir)? {
            let path = wal::carry_path(&wal_dir, tag);
            if tag != checkpoint {
                // From a flush that never published (its rows are in the WAL files still
                // here) or one superseded by a later checkpoint.
                std::fs::remove_file(&path)?;
                continue;
            }
            let (batches, err) = wal::decode_file(&std::fs::read(&path)?);
            if let Some(e) = err {
                tracing::warn!(tag, error = %e, "carry file ends early; replaying what precedes");
                report.problems.push(format!("carry file {tag}: {e}"));
            }
            for b in batches {
                report.batches_replayed += 1;
                report.events_replayed += b.events.len();
                report.carried_events += b.events.len();
                let (group_id, stream_id) = (b.group_id, b.stream_id);
                active.insert(group_id, stream_id, rows_of(b));
            }
        }
        let known: HashSet<String> = meta.all_segment_keys()?.into_iter().collect();
        for key in objects.list_segments()? {
            if !known.contains(&key) {
                objects.delete(&key)?;
                report.orphans_removed += 1;
            }
        }
        let number = files.last().copied().unwrap_or(0) + 1;
        let writer_file = WalWriter::create(&wal_dir, number)?;
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            cfg,
            meta,
            objects,
            wal_dir,
            tx: Mutex::new(Some(tx)),
            active: RwLock::new(active),
            frozen: RwLock::new(None),
            flush_lock: Mutex::new(()),
            published: std::sync::atomic::AtomicU64::new(checkpoint),
            index_cache: Mutex::new(HashMap::new()),
            stream_cache: Mutex::new(HashMap::new()),
            stream_gen: std::sync::atomic::AtomicU64::new(0),
            targets: RwLock::new(TargetCache::default()),
            targets_gen: AtomicU64::new(0),
            segment_cache: Mutex::new(HashMap::new()),
            segment_gen: std::sync::atomic::AtomicU64::new(0),
            problems: Mutex::new(report.problems.clone()),
            doomed: Mutex::new(Vec::new()),
            pins: Mutex::new(BTreeMap::new()),
            stop: Mutex::new(false),
            wake: Condvar::new(),
            flushed: Condvar::new(),
            flushed_lock: Mutex::new(()),
            unique: std::sync::atomic::AtomicU64::new(0),
            counters: Counters::default(),
            rate: Mutex::new((Instant::now(), 0, false)),
            unindexed_bytes: AtomicU64::new(u64::MAX),
            last_rotation: Mutex::new((Instant::now(), 0)),
            compact_lock: Mutex::new(()),
        });
        let w_inner = inner.clone();
        let writer = std::thread::Builder::new()
            .name("lookout-wal".into())
            .spawn(move || writer_loop(&w_inner, rx, writer_file, max_seq + 1))?;
        let background = if inner.cfg.background {
            let b_inner = inner.clone();
            Some(
                std::thread::Builder::new()
                    .name("lookout-maintenance".into())
                    .spawn(move || background_loop(&b_inner))?,
            )
        } else {
            None
        };
        Ok(Self {
            inner,
            recovery: report,
            writer: Some(writer),
            background,
        })
    }

    /// What recovery found when this store was opened.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Corruption met since opening (WAL tails, segments skipped by reads).
    pub fn problems(&self) -> Vec<String> {
        self.inner.problems.lock().clone()
    }

    /// Counters of the write path since opening (see [`WriteStats`]).
    pub fn write_stats(&self) -> WriteStats {
        self.inner.counters.snapshot()
    }

    /// The metastore this store uses.
    pub fn metastore(&self) -> &Arc<dyn Metastore> {
        &self.inner.meta
    }

    // ---- catalogue -------------------------------------------------------------------

    /// Creates a log group.
    pub fn create_group(
        &self,
        name: &LogGroupName,
        opts: GroupOptions,
        now_ms: i64,
    ) -> Result<GroupRecord, StorageError> {
        self.inner.meta.create_group(&NewGroup {
            name: name.as_str().to_owned(),
            creation_time: now_ms,
            kms_key_id: opts.kms_key_id,
            tags: opts.tags,
            class: opts.class,
            deletion_protection: opts.deletion_protection,
        })
    }

    /// A log group with its stored bytes including unflushed events.
    pub fn group(&self, name: &str) -> Result<GroupRecord, StorageError> {
        let mut g = self
            .inner
            .meta
            .group(name)?
            .ok_or(StorageError::GroupNotFound)?;
        g.stored_bytes += self.inner.unflushed_group_bytes(g.id);
        Ok(g)
    }

    /// Log groups in byte order of name after `after`, with an optional prefix.
    pub fn list_groups(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<GroupRecord>, StorageError> {
        let mut groups = self.inner.meta.list_groups(prefix, after, limit)?;
        for g in &mut groups {
            g.stored_bytes += self.inner.unflushed_group_bytes(g.id);
        }
        Ok(groups)
    }

    /// Deletes a group, its streams and all their events.
    pub fn delete_group(&self, name: &str) -> Result<(), StorageError> {
        let deleted = self.inner.meta.delete_group(name);
        self.inner.segments_changed();
        self.inner.forget_targets();
        let (group, keys) = deleted?;
        self.inner.forget_streams(group.id);
        self.inner.active.write().remove_group(group.id);
        self.inner.doom(keys);
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) a group's retention policy.
    pub fn set_retention(
        &self,
        name: &str,
        days: Option<RetentionDays>,
    ) -> Result<(), StorageError> {
        let set = self
            .inner
            .meta
            .set_retention(name, days.map(RetentionDays::days));
        self.inner.forget_targets();
        set
    }

    /// Replaces a group's tags.
    pub fn set_tags(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StorageError> {
        self.inner.meta.set_tags(name, tags)
    }

    /// Creates a log stream in an existing group.
    pub fn create_stream(
        &self,
        group: &str,
        stream: &LogStreamName,
        now_ms: i64,
    ) -> Result<StreamRecord, StorageError> {
        let g = self
            .inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)?;
        let created = self.inner.meta.create_stream(g.id, stream.as_str(), now_ms);
        self.inner.forget_streams(g.id);
        created
    }

    /// A log stream with statistics including unflushed events.
    pub fn stream(&self, group: &str, stream: &str) -> Result<StreamRecord, StorageError> {
        let g = self
            .inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)?;
        let mut s = self
            .inner
            .meta
            .stream(g.id, stream)?
            .ok_or(StorageError::StreamNotFound)?;
        self.inner.merge_unflushed(&mut s);
        Ok(s)
    }

    /// Streams of a group in byte order of name after `after`, with an optional prefix,
    /// statistics including unflushed events.
    pub fn list_streams(
        &self,
        group: &str,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamRecord>, StorageError> {
        let g = self
            .inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)?;
        let mut streams = self.inner.meta.list_streams(g.id, prefix, after, limit)?;
        for s in &mut streams {
            self.inner.merge_unflushed(s);
        }
        Ok(streams)
    }

    /// Deletes a stream and its events.
    pub fn delete_stream(&self, group: &str, stream: &str) -> Result<(), StorageError> {
        let g = self
            .inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)?;
        let s = self.inner.meta.delete_stream(g.id, stream);
        self.inner.forget_targets();
        self.inner.forget_streams(g.id);
        let s = s?;
        self.inner.active.write().remove_stream(s.id);
        // Flushed blocks of the stream become unreachable (reads resolve stream ids through
        // the metastore) and are dropped by the next compaction of their window.
        Ok(())
    }

    // ---- write path --------------------------------------------------------------------

    /// Appends a batch to a stream. Returns once the batch is fsynced in the WAL (shared
    /// with concurrent writers: one fsync per group commit) and visible to reads.
    /// Events are stored in timestamp order; the caller enforces PutLogEvents' rules.
    pub fn append(
        &self,
        group: &str,
        stream: &str,
        events: Vec<InputEvent>,
    ) -> Result<AppendAck, StorageError> {
        let target = self.target(group, stream)?;
        self.append_to(&target, events)
    }

    /// Resolves where appends to `group`/`stream` go, from a cache kept valid across
    /// catalogue changes; `GroupNotFound` before `StreamNotFound`, as the API reports them.
    pub fn target(&self, group: &str, stream: &str) -> Result<AppendTarget, StorageError> {
        use std::sync::atomic::Ordering::SeqCst;
        let generation = self.inner.targets_gen.load(SeqCst);
        {
            let cache = self.inner.targets.read();
            if cache.generation == generation
                && let Some(g) = cache.groups.get(group)
                && let Some(&stream_id) = g.streams.get(stream)
            {
                return Ok(AppendTarget {
                    group_id: g.id,
                    stream_id,
                    retention_days: g.retention_days,
                });
            }
        }
        let g = self
            .inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)?;
        let s = self
            .inner
            .meta
            .stream(g.id, stream)?
            .ok_or(StorageError::StreamNotFound)?;
        let mut cache = self.inner.targets.write();
        // A change bumps the generation after the metastore has it, so a lookup that raced
        // one is either not cached here or cached under a generation already stale.
        if self.inner.targets_gen.load(SeqCst) == generation {
            // Names that were appended to once stay until a change or this bound: a server
            // seeing ever new streams must not grow the cache without end.
            if cache.generation != generation || cache.streams >= TARGET_CACHE_STREAMS {
                cache.groups.clear();
                cache.streams = 0;
                cache.generation = generation;
            }
            cache.streams += 1;
            cache
                .groups
                .entry(group.to_owned())
                .or_insert_with(|| CachedGroup {
                    id: g.id,
                    retention_days: g.retention_days,
                    streams: HashMap::new(),
                })
                .streams
                .insert(stream.to_owned(), s.id);
        }
        Ok(AppendTarget {
            group_id: g.id,
            stream_id: s.id,
            retention_days: g.retention_days,
        })
    }

    /// Appends a batch to a stream resolved by [`Store::target`]; see [`Store::append`].
    /// A target whose stream was deleted meanwhile takes the batch, which no read or flush
    /// ever returns.
    pub fn append_to(
        &self,
        target: &AppendTarget,
        events: Vec<InputEvent>,
    ) -> Result<AppendAck, StorageError> {
        if events.is_empty() {
            return Err(StorageError::Invalid(
                "a batch needs at least one event".into(),
            ));
        }
        let bytes: usize = events.iter().map(|e| e.message.len()).sum();
        self.inner.wait_for_room(bytes);
        self.inner
            .counters
            .appended
            .fetch_add(bytes as u64, Relaxed);
        let mut events: Vec<(i64, String)> = events
            .into_iter()
            .map(|e| (e.timestamp, e.message))
            .collect();
        // Stable: events with equal timestamps keep their request order.
        events.sort_by_key(|e| e.0);
        let packed = wal::pack_events(&events)?;
        let (reply, rx) = mpsc::sync_channel(1);
        self.inner.send(Cmd::Append {
            group_id: target.group_id,
            stream_id: target.stream_id,
            events,
            packed,
            reply,
        })?;
        rx.recv().map_err(|_| StorageError::Closed)?
    }

    /// Flushes the whole memtable to segments now (no-op when empty).
    pub fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush(true)
    }

    /// Flushes as the background thread does: the newest time windows stay in memory when
    /// they fit in `flush_bytes` (re-logged in a carry file so the WAL files can go), so a
    /// window still filling ends as one segment rather than one per flush. While ingest is
    /// busy (see [`StoreConfig::index_rate`]) it writes unindexed segments instead and
    /// keeps nothing back.
    pub fn flush_settled(&self) -> Result<(), StorageError> {
        self.inner.flush(false)
    }

    /// Merges the segments of each group's time windows that hold at least
    /// `compact_min_segments` segments at most `compact_max_bytes` large, and rebuilds
    /// every unindexed segment indexed. Returns segments replaced. (The background thread
    /// merges size-tiered instead, see [`StoreConfig::compact_min_segments`], and indexes
    /// as [`StoreConfig::index_rate`] says.)
    pub fn compact(&self) -> Result<usize, StorageError> {
        self.inner.compact(true, true)
    }

    /// Drops segments entirely past their group's retention at `now_ms`. Returns how many.
    pub fn enforce_retention(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.inner.enforce_retention(now_ms)
    }

    /// Deletes replaced segment objects whose grace period is over (`force`: all of them).
    pub fn collect_garbage(&self, force: bool) -> Result<usize, StorageError> {
        self.inner.collect_garbage(force)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        *self.inner.stop.lock() = true;
        self.inner.wake.notify_all();
        self.inner.tx.lock().take();
        if let Some(h) = self.background.take() {
            let _ = h.join();
        }
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

/// The batch's rows, taking its messages (no copy).
fn rows_of(b: WalBatch) -> Vec<Row> {
    let (first, ingest) = (b.first_seq, b.ingest);
    b.events
        .into_iter()
        .enumerate()
        .map(|(i, (ts, msg))| Row {
            ts,
            ingest,
            seq: first + i as u64,
            msg,
        })
        .collect()
}

struct Pending {
    group_id: u64,
    stream_id: u64,
    rows: Vec<Row>,
    ack: AppendAck,
    reply: SyncSender<Result<AppendAck, StorageError>>,
}

fn writer_loop(inner: &Inner, rx: Receiver<Cmd>, mut file: WalWriter, mut next_seq: u64) {
    let mut last_ingest = 0i64;
    let mut buf = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut failed = false;
    while let Ok(first) = rx.recv() {
        let mut cmds = vec![first];
        while cmds.len() < 4096 {
            match rx.try_recv() {
                Ok(c) => cmds.push(c),
                Err(_) => break,
            }
        }
        for cmd in cmds {
            match cmd {
                Cmd::Append {
                    group_id,
                    stream_id,
                    events,
                    packed,
                    reply,
                } => {
                    if failed {
                        let _ = reply.send(Err(StorageError::Closed));
                        continue;
                    }
                    last_ingest = last_ingest.max(now_ms());
                    let batch = WalBatch {
                        group_id,
                        stream_id,
                        first_seq: next_seq,
                        ingest: last_ingest,
                        events,
                    };
                    next_seq += batch.events.len() as u64;
                    wal::encode_record(
                        group_id,
                        stream_id,
                        batch.first_seq,
                        batch.ingest,
                        &packed,
                        &mut buf,
                    );
                    let ack = AppendAck {
                        first_seq: batch.first_seq,
                        count: batch.events.len(),
                        ingestion_time: batch.ingest,
                    };
                    let rows = rows_of(batch);
                    pending.push(Pending {
                        group_id,
                        stream_id,
                        rows,
                        ack,
                        reply,
                    });
                }
                Cmd::Rotate { reply } => {
                    failed |= !commit(inner, &mut file, &mut buf, &mut pending);
                    let res = if failed {
                        Err(StorageError::Closed)
                    } else {
                        // The checkpoint is a sequence number no event gets, so every flush
                        // publishes a new one: a carry file is replayed only while the
                        // checkpoint it is tagged with is the published one.
                        let upto = next_seq;
                        next_seq += 1;
                        rotate(inner, &mut file).map(|old_files| Rotated { old_files, upto })
                    };
                    let _ = reply.send(res);
                }
            }
        }
        failed |= !commit(inner, &mut file, &mut buf, &mut pending);
    }
    commit(inner, &mut file, &mut buf, &mut pending);
}

/// Writes and fsyncs the group, then makes it visible and acknowledges it. Returns false
/// when the WAL failed; the file's tail is then unknown, so the writer refuses further
/// appends rather than risk acknowledging records replay could not reach.
fn commit(
    inner: &Inner,
    file: &mut WalWriter,
    buf: &mut Vec<u8>,
    pending: &mut Vec<Pending>,
) -> bool {
    if pending.is_empty() {
        return true;
    }
    let started = Instant::now();
    let written = file.append_durable(buf);
    let c = &inner.counters;
    Counters::add(&c.commits, &c.commit_ns, None, started.elapsed());
    match written {
        Ok(()) => {
            let full = {
                let mut active = inner.active.write();
                for p in pending.iter_mut() {
                    active.insert(p.group_id, p.stream_id, std::mem::take(&mut p.rows));
                }
                active.bytes >= inner.cfg.flush_bytes
            };
            if full {
                // The flush starts now rather than at the background thread's next tick:
                // at a few hundred MB/s a tick is tens of MB the backpressure would meet.
                inner.wake.notify_all();
            }
            for p in pending.drain(..) {
                let _ = p.reply.send(Ok(p.ack));
            }
            buf.clear();
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "wal write failed; refusing further appends");
            let msg = e.to_string();
            for p in pending.drain(..) {
                let _ = p
                    .reply
                    .send(Err(StorageError::Io(std::io::Error::other(msg.clone()))));
            }
            buf.clear();
            false
        }
    }
}

/// What a WAL rotation froze.
struct Rotated {
    /// WAL files whose records are all in the frozen memtable, a carry file or segments.
    old_files: Vec<u64>,
    /// Every sequence number up to this one is in those places.
    upto: u64,
}

/// Starts a new WAL file and freezes the memtable; returns the numbers of the WAL files
/// whose records are all in the frozen memtable (or older segments).
fn rotate(inner: &Inner, file: &mut WalWriter) -> Result<Vec<u64>, StorageError> {
    let next = WalWriter::create(&inner.wal_dir, file.number + 1)?;
    *file = next;
    let mut frozen = inner.frozen.write();
    let mut active = inner.active.write();
    let mut old = std::mem::replace(&mut *active, Memtable::new());
    if let Some(failed) = frozen.take() {
        // A flush failed before publishing: its rows go out with this one.
        let failed = Arc::try_unwrap(failed).unwrap_or_else(|a| (*a).clone());
        for (sid, s) in failed.streams {
            old.insert(s.group_id, sid, s.rows);
        }
    }
    *frozen = Some(Arc::new(old));
    let files = wal::list_files(&inner.wal_dir)?;
    Ok(files.into_iter().filter(|&n| n < file.number).collect())
}

fn background_loop(inner: &Inner) {
    lower_priority();
    let mut last_retention = Instant::now();
    // The first pass counts the unindexed segments a previous run left.
    let mut compaction_due = true;
    loop {
        {
            let mut stop = inner.stop.lock();
            if *stop {
                return;
            }
            if !inner.flush_due() {
                inner.wake.wait_for(&mut stop, Duration::from_millis(200));
            }
            if *stop {
                return;
            }
        }
        if inner.flush_due() {
            if let Err(e) = inner.flush(false) {
                tracing::error!(error = %e, "background flush failed");
            }
            compaction_due = true;
        }
        // Compaction yields to flushes (it checks between windows), so it never holds
        // appends back; what it skipped is picked up after the next flush. Unindexed
        // segments wait for ingest to calm down, or for their bound.
        let index = inner.may_index();
        let unindexed = inner.unindexed_bytes.load(Relaxed) > 0;
        if (compaction_due || (unindexed && index)) && !inner.flush_due() {
            match inner.compact(false, index) {
                Ok(_) => compaction_due = inner.flush_due(),
                Err(e) => tracing::error!(error = %e, "background compaction failed"),
            }
        }
        if last_retention.elapsed() >= inner.cfg.retention_interval {
            last_retention = Instant::now();
            if let Err(e) = inner.enforce_retention(now_ms()) {
                tracing::error!(error = %e, "retention sweep failed");
            }
        }
        if let Err(e) = inner.collect_garbage(false) {
            tracing::warn!(error = %e, "segment garbage collection failed");
        }
    }
}

impl Inner {
    /// Whether appends arrived faster than `index_rate` over the last measured second.
    fn busy(&self) -> bool {
        if self.cfg.index_rate == 0 {
            return true;
        }
        let mut r = self.rate.lock();
        let elapsed = r.0.elapsed();
        if elapsed >= RATE_INTERVAL {
            let now = self.counters.appended.load(Relaxed);
            let per_sec = (now.saturating_sub(r.1) as f64 / elapsed.as_secs_f64()) as u64;
            *r = (Instant::now(), now, per_sec > self.cfg.index_rate);
        }
        r.2
    }

    /// Whether the background thread may rebuild unindexed segments now: ingest is not
    /// busy, or they reached their bound.
    fn may_index(&self) -> bool {
        // `u64::MAX`: not counted yet since opening, which is no reason to index under load.
        let waiting = self.unindexed_bytes.load(Relaxed);
        !self.busy() || (waiting != u64::MAX && waiting >= self.cfg.unindexed_max_bytes)
    }

    /// Whether the background thread should flush now: the memtable is full or old.
    fn flush_due(&self) -> bool {
        let a = self.active.read();
        !a.is_empty()
            && (a.bytes >= self.cfg.flush_bytes || a.created.elapsed() >= self.cfg.flush_age)
    }

    fn send(&self, cmd: Cmd) -> Result<(), StorageError> {
        let tx = self.tx.lock();
        tx.as_ref()
            .ok_or(StorageError::Closed)?
            .send(cmd)
            .map_err(|_| StorageError::Closed)
    }

    /// Backpressure: while flushing falls behind, appends slow down as the active memtable
    /// grows past one and a half times `flush_bytes`, so ingest settles at the rate the
    /// flush sustains with every append delayed a little rather than some stalled for a
    /// whole flush; only at `MEMTABLE_LIMIT_FACTOR` times `flush_bytes` do they wait for it.
    /// The delay grows with the square of the overshoot: a memtable just past the soft
    /// limit (a flush running a little late) costs an append milliseconds, one near the
    /// hard limit (flushing cannot keep up) up to `MAX_SLOWDOWN`.
    /// Without a background thread nothing flushes on its own, so nothing waits either.
    fn wait_for_room(&self, batch_bytes: usize) {
        if !self.cfg.background {
            return;
        }
        // A settled flush leaves up to `flush_bytes` in memory, so slowing down starts
        // half-way between that and the hard limit.
        let flush = self.cfg.flush_bytes.max(1);
        let hard = flush.saturating_mul(MEMTABLE_LIMIT_FACTOR);
        let soft = flush + (hard - flush) / 2;
        let bytes = self.active.read().bytes;
        if bytes <= soft {
            return;
        }
        // A flush may be due; the background thread otherwise notices within its tick.
        self.wake.notify_all();
        let started = Instant::now();
        if bytes < hard {
            let over = (bytes - soft) as f64 / (hard - soft).max(1) as f64;
            let share = (batch_bytes as f64 / BACKPRESSURE_BATCH_BYTES as f64).min(1.0);
            // A finished flush ends the wait early: the next one rotates the memtable.
            let mut guard = self.flushed_lock.lock();
            self.flushed
                .wait_for(&mut guard, MAX_SLOWDOWN.mul_f64(over * over * share));
        } else {
            let mut guard = self.flushed_lock.lock();
            // Bounded: if flushes keep failing, appends go on (the WAL still has them)
            // rather than hang; the failures are logged by the background thread.
            while self.active.read().bytes > hard
                && !*self.stop.lock()
                && started.elapsed() < MAX_BACKPRESSURE_WAIT
            {
                self.wake.notify_all();
                self.flushed
                    .wait_for(&mut guard, Duration::from_millis(100));
            }
        }
        let c = &self.counters;
        Counters::add(&c.held, &c.held_ns, Some(&c.held_max_ns), started.elapsed());
    }

    /// Publishes a catalogue change and invalidates the cached segment lists.
    fn publish(&self, p: &Publish) -> Result<(), StorageError> {
        if !p.add.is_empty() {
            self.objects.sync()?;
        }
        let r = self.meta.publish(p);
        self.segments_changed();
        r
    }

    pub(crate) fn segments_changed(&self) {
        self.segment_gen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.segment_cache.lock().clear();
    }

    /// Every segment of a group, ordered by (min timestamp, id), from the cache when no
    /// catalogue change happened since it was listed.
    pub(crate) fn group_segments(&self, group_id: u64) -> Result<SegmentList, StorageError> {
        use std::sync::atomic::Ordering::SeqCst;
        let generation = self.segment_gen.load(SeqCst);
        if let Some((g, list)) = self.segment_cache.lock().get(&group_id)
            && *g == generation
        {
            return Ok(list.clone());
        }
        let list = Arc::new(self.meta.segments(group_id, i64::MIN, i64::MAX)?);
        let mut cache = self.segment_cache.lock();
        if self.segment_gen.load(SeqCst) == generation {
            cache.insert(group_id, (generation, list.clone()));
        }
        Ok(list)
    }

    fn forget_targets(&self) {
        self.targets_gen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn forget_streams(&self, group_id: u64) {
        self.stream_gen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.stream_cache.lock().remove(&group_id);
    }

    fn unflushed_group_bytes(&self, group_id: u64) -> u64 {
        let frozen = self.frozen.read();
        let active = self.active.read();
        let mut total = 0;
        for m in frozen.iter().map(|f| &**f).chain(std::iter::once(&*active)) {
            total += m
                .streams
                .values()
                .filter(|s| s.group_id == group_id)
                .map(|s| s.delta.bytes)
                .sum::<u64>();
        }
        total
    }

    fn merge_unflushed(&self, s: &mut StreamRecord) {
        let frozen = self.frozen.read();
        let active = self.active.read();
        for m in frozen.iter().map(|f| &**f).chain(std::iter::once(&*active)) {
            if let Some(rows) = m.streams.get(&s.id) {
                let d: StreamDelta = rows.delta;
                s.first_event = Some(s.first_event.map_or(d.first_ts, |v| v.min(d.first_ts)));
                s.last_event = Some(s.last_event.map_or(d.last_ts, |v| v.max(d.last_ts)));
                s.last_ingestion = Some(
                    s.last_ingestion
                        .map_or(d.last_ingest, |v| v.max(d.last_ingest)),
                );
                s.stored_bytes += d.bytes;
            }
        }
    }

    /// Schedules the objects of segments already gone from the catalogue (or never in it)
    /// for deletion once the grace period is over and no read that may have listed them
    /// is still running.
    fn doom(&self, keys: Vec<String>) {
        let at = Instant::now() + self.cfg.delete_grace;
        // Loaded after the publish that removed them, so any read pinned below this
        // generation may hold them and any read pinned at or above it cannot.
        let generation = self.segment_gen.load(std::sync::atomic::Ordering::SeqCst);
        let mut cache = self.index_cache.lock();
        let mut doomed = self.doomed.lock();
        for key in keys {
            cache.remove(&key);
            doomed.push(Doomed {
                at,
                generation,
                key,
            });
        }
    }

    /// Registers a read about to list segments; their objects outlive the returned pin.
    pub(crate) fn pin_segments(&self) -> SegmentPin<'_> {
        let mut pins = self.pins.lock();
        // Under the pins lock, so garbage collection sees this pin or runs wholly before
        // it (and then only deletes what this read's listing can no longer contain).
        let generation = self.segment_gen.load(std::sync::atomic::Ordering::SeqCst);
        *pins.entry(generation).or_default() += 1;
        SegmentPin {
            pins: &self.pins,
            generation,
        }
    }

    fn collect_garbage(&self, force: bool) -> Result<usize, StorageError> {
        let now = Instant::now();
        let due: Vec<String> = {
            let pins = self.pins.lock();
            let oldest_read = pins.keys().next().copied().unwrap_or(u64::MAX);
            let mut doomed = self.doomed.lock();
            let (due, keep): (Vec<_>, Vec<_>) = doomed
                .drain(..)
                .partition(|d| (force || d.at <= now) && d.generation <= oldest_read);
            *doomed = keep;
            due.into_iter().map(|d| d.key).collect()
        };
        for k in &due {
            self.objects.delete(k)?;
        }
        Ok(due.len())
    }

    fn segment_key(&self, group_id: u64, window: i64, indexed: bool) -> String {
        let n = self
            .unique
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let kind = if indexed { "" } else { UNINDEXED_MARK };
        format!("{SEGMENT_PREFIX}/g{group_id}-w{window}-{nanos:x}-{n}{kind}.seg")
    }

    fn limits(&self) -> BlockLimits {
        BlockLimits {
            max_events: self.cfg.block_events.max(1),
            max_bytes: self.cfg.block_bytes.max(1),
        }
    }

    /// Writes one segment and returns its catalogue record.
    fn write_segment(
        &self,
        group_id: u64,
        window: i64,
        streams: &[(u64, &[Row])],
        indexed: bool,
    ) -> Result<SegmentRecord, StorageError> {
        let built = if indexed {
            segment::build(group_id, streams, self.limits())?
        } else {
            segment::build_unindexed(group_id, streams, self.limits())?
        };
        let key = self.segment_key(group_id, window, indexed);
        let size = built.bytes.len() as u64;
        self.objects.put(&key, built.bytes)?;
        let rec = SegmentRecord {
            id: 0,
            key: key.clone(),
            group_id,
            min_ts: built.index.min_ts,
            max_ts: built.index.max_ts,
            events: built.index.events,
            raw_bytes: built.index.raw_bytes,
            size,
            index_offset: built.index_offset,
            index_len: built.index_len,
        };
        self.index_cache.lock().insert(key, Arc::new(built.index));
        Ok(rec)
    }

    /// Builds and uploads segments on a few threads: uploads wait on fsync, and a backfill
    /// flush can cover hundreds of group-windows.
    fn write_segments(
        &self,
        jobs: &[SegmentJob<'_>],
        indexed: bool,
    ) -> Result<Vec<SegmentRecord>, StorageError> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, Result<SegmentRecord, StorageError>)>> =
            Mutex::new(Vec::with_capacity(jobs.len()));
        std::thread::scope(|scope| {
            for _ in 0..WRITE_THREADS.min(jobs.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((gid, w, streams)) = jobs.get(i) else {
                            break;
                        };
                        let r = self.write_segment(*gid, *w, streams, indexed);
                        let failed = r.is_err();
                        results.lock().push((i, r));
                        if failed {
                            break;
                        }
                    }
                });
            }
        });
        let mut results = results.into_inner();
        results.sort_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(results.len());
        for (_, r) in results {
            match r {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    // Objects already uploaded are orphans: removed at the next open.
                    self.doom(out.into_iter().map(|r: SegmentRecord| r.key).collect());
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// Flushes the frozen memtable. `full: false` keeps the newest windows in memory when
    /// they are small enough (see [`Memtable::hot_start`]), re-logging them in a carry file
    /// tagged with this flush's checkpoint before publishing it.
    fn flush(&self, full: bool) -> Result<(), StorageError> {
        let _guard = self.flush_lock.lock();
        let started = Instant::now();
        let r = self.flush_locked(full);
        let c = &self.counters;
        Counters::add(
            &c.flushes,
            &c.flush_ns,
            Some(&c.flush_max_ns),
            started.elapsed(),
        );
        r
    }

    /// [`Inner::flush`] under the flush lock.
    fn flush_locked(&self, full: bool) -> Result<(), StorageError> {
        use std::sync::atomic::Ordering::SeqCst;
        let (reply, rx) = mpsc::sync_channel(1);
        let rotation = (Instant::now(), self.counters.appended.load(Relaxed));
        let previous = std::mem::replace(&mut *self.last_rotation.lock(), rotation);
        self.send(Cmd::Rotate { reply })?;
        let Rotated { old_files, upto } = rx.recv().map_err(|_| StorageError::Closed)??;
        let Some(frozen) = self.frozen.read().clone() else {
            return Ok(());
        };
        let window_ms = self.cfg.window_ms.max(1);
        // Windows that fit in `flush_bytes` stay back; but a flush triggered by size must
        // free a quarter of it, or every flush would re-log a window nearly that large.
        let budget = self.cfg.flush_bytes;
        let min_cold = if frozen.bytes >= budget {
            budget / 4
        } else {
            0
        };
        // Under load, indexing is left for later (see `StoreConfig::index_rate`): appends
        // then wait on nothing but the WAL while the memtable turns over. Nothing stays
        // back either: keeping a window whole in memory spares segments a merge, and
        // unindexed ones are rewritten anyway.
        // The rate messages were appended at while this memtable was active (from its first
        // row: an idle spell before a burst does not count) tells the first flush of a
        // burst too, before the append rate has been measured.
        let active_since = previous.0.max(frozen.created);
        let filled_fast = rotation.1.saturating_sub(previous.1) as f64
            > self.cfg.index_rate as f64
                * rotation
                    .0
                    .saturating_duration_since(active_since)
                    .as_secs_f64();
        let indexed = full || !(filled_fast || self.busy());
        let hot = match full || !indexed {
            true => None,
            false => frozen.hot_start(window_ms, budget.min(self.cfg.hot_bytes), min_cold),
        };
        let hot_ts = hot.unwrap_or(i64::MAX);
        let mut publish = Publish::default();
        let mut carried: Vec<(u64, u64)> = Vec::new();
        if !frozen.is_empty() {
            // Only streams still in the catalogue are written; deleted ones are dropped here.
            let mut by_group: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
            for (&sid, s) in &frozen.streams {
                by_group.entry(s.group_id).or_default().push(sid);
            }
            let mut jobs: Vec<SegmentJob<'_>> = Vec::new();
            for (gid, mut sids) in by_group {
                let Some(group) = self.meta.group_by_id(gid)? else {
                    continue;
                };
                let live: HashSet<u64> = self
                    .meta
                    .list_streams(gid, None, None, usize::MAX)?
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                sids.retain(|s| live.contains(s));
                sids.sort_unstable();
                let cutoff = retention_cutoff(&group, now_ms());
                let mut windows: BTreeMap<i64, Vec<(u64, &[Row])>> = BTreeMap::new();
                // An unindexed flush writes one segment per group, whatever windows it
                // spans: each object costs an fsync, and a day of backfill in one flush
                // would otherwise be hundreds of them. Compaction splits it by window.
                let mut spanning: Vec<(u64, &[Row])> = Vec::new();
                for sid in sids {
                    let Some(s) = frozen.streams.get(&sid) else {
                        continue;
                    };
                    let cold = &s.rows[..hot_index(&s.rows, hot_ts)];
                    if cold.len() < s.rows.len() {
                        carried.push((gid, sid));
                    }
                    let rows = &cold[cold.partition_point(|r| r.ts < cutoff)..];
                    if indexed {
                        split_windows(sid, rows, window_ms, &mut windows);
                    } else if !rows.is_empty() {
                        spanning.push((sid, rows));
                    }
                    if let Some(d) = delta_of(cold) {
                        publish.stats.push(StreamStats {
                            stream_id: sid,
                            first_event: d.first_ts,
                            last_event: d.last_ts,
                            last_ingestion: d.last_ingest,
                            bytes: d.bytes,
                        });
                    }
                }
                for (w, streams) in windows {
                    jobs.push((gid, w, streams));
                }
                if let Some(first) = spanning.first().and_then(|(_, r)| r.first()) {
                    let w = first.ts.div_euclid(window_ms);
                    jobs.push((gid, w, spanning));
                }
            }
            // The carry file is written while the segments build: it must be durable
            // before the checkpoint that makes recovery read it is published.
            let (added, carry) = std::thread::scope(|scope| {
                let carry = (!carried.is_empty()).then(|| {
                    scope.spawn(|| {
                        let mut records = Vec::new();
                        let mut bytes = 0;
                        for &(gid, sid) in &carried {
                            if let Some(s) = frozen.streams.get(&sid) {
                                let hot = &s.rows[hot_index(&s.rows, hot_ts)..];
                                bytes += row_bytes(hot);
                                wal::encode_rows(gid, sid, hot, &mut records)?;
                            }
                        }
                        self.counters.carried_bytes.fetch_add(bytes as u64, Relaxed);
                        wal::write_carry(&self.wal_dir, upto, &records)
                    })
                });
                let added = self.write_segments(&jobs, indexed);
                let carry = carry.map_or(Ok(()), |h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StorageError::Invalid("carry writer panicked".into()))
                    })
                });
                (added, carry)
            });
            // The new files' directory entries, before readers wait on the publish below.
            let carry = carry.and_then(|()| self.objects.sync());
            publish.add = match (added, carry) {
                (Ok(added), Ok(())) => added,
                (Ok(added), Err(e)) => {
                    self.doom(added.into_iter().map(|r| r.key).collect());
                    return Err(e);
                }
                (Err(e), _) => return Err(e),
            };
            publish.checkpoint = Some(upto);
        }
        let remnant = {
            // Readers hold `frozen` while listing segments, so they see the memtable or its
            // segments, never both and never neither; kept rows move to the active memtable
            // in the same step.
            let mut slot = self.frozen.write();
            self.publish(&publish)?;
            let taken = slot.take();
            drop(frozen);
            match taken {
                Some(m) if !carried.is_empty() => {
                    let mut active = self.active.write();
                    match Arc::try_unwrap(m) {
                        Ok(mut m) => {
                            for &(gid, sid) in &carried {
                                if let Some(s) = m.streams.get_mut(&sid) {
                                    let kept = s.rows.split_off(hot_index(&s.rows, hot_ts));
                                    active.insert(gid, sid, kept);
                                }
                            }
                            Some(Arc::new(m))
                        }
                        Err(m) => {
                            for &(gid, sid) in &carried {
                                if let Some(s) = m.streams.get(&sid) {
                                    let kept = s.rows[hot_index(&s.rows, hot_ts)..].to_vec();
                                    active.insert(gid, sid, kept);
                                }
                            }
                            Some(m)
                        }
                    }
                }
                other => other,
            }
        };
        // Freed outside the locks and off the flush's path: a flushed memtable is hundreds of
        // thousands of strings allocated by the appending threads, and freeing them one by
        // one (a cache miss each) took a second per million events, which every append
        // waiting on this flush for room would wait through too.
        free_later(remnant);
        if let Some(c) = publish.checkpoint {
            self.published.store(c, SeqCst);
        }
        if !indexed && !publish.add.is_empty() {
            let raw: u64 = publish.add.iter().map(|s| s.raw_bytes).sum();
            let _ = self
                .unindexed_bytes
                .fetch_update(SeqCst, SeqCst, |b| Some(b.saturating_add(raw)));
            self.counters.unindexed_flushes.fetch_add(1, Relaxed);
        }
        for n in old_files {
            std::fs::remove_file(wal::file_path(&self.wal_dir, n))?;
        }
        let current = self.published.load(SeqCst);
        for tag in wal::list_carry(&self.wal_dir)? {
            if tag != current {
                std::fs::remove_file(wal::carry_path(&self.wal_dir, tag))?;
            }
        }
        self.flushed.notify_all();
        Ok(())
    }

    fn enforce_retention(&self, now: i64) -> Result<usize, StorageError> {
        let _guard = self.flush_lock.lock();
        let expired = self.meta.expired_segments(now)?;
        if expired.is_empty() {
            return Ok(0);
        }
        let mut shrink: HashMap<u64, u64> = HashMap::new();
        for s in &expired {
            *shrink.entry(s.group_id).or_default() += s.raw_bytes;
        }
        self.publish(&Publish {
            remove: expired.iter().map(|s| s.id).collect(),
            shrink: shrink.into_iter().collect(),
            ..Publish::default()
        })?;
        let n = expired.len();
        self.doom(expired.into_iter().map(|s| s.key).collect());
        Ok(n)
    }

    /// Compacts every group. `full` merges all small segments of a window; otherwise only a
    /// size tier (see [`tier`]). `index` lets it rebuild unindexed segments indexed; the
    /// pass recounts `unindexed_bytes`.
    ///
    /// Segments are read and built without the flush lock, so flushes go on meanwhile; only
    /// publishing takes it, and a merge whose inputs retention, a group deletion or another
    /// compaction removed in between is dropped.
    fn compact(&self, full: bool, index: bool) -> Result<usize, StorageError> {
        let _one = self.compact_lock.lock();
        let before = self.unindexed_bytes.load(Relaxed);
        let mut replaced = 0;
        let mut left = 0u64;
        let mut after: Option<String> = None;
        loop {
            let groups = self.meta.list_groups(None, after.as_deref(), 1000)?;
            let Some(last) = groups.last() else { break };
            after = Some(last.name.clone());
            for g in &groups {
                replaced += self.compact_group(g, full, index, &mut left)?;
            }
        }
        // Flushes during the pass added what they wrote; the pass's count replaces the rest.
        let _ = self.unindexed_bytes.fetch_update(Relaxed, Relaxed, |cur| {
            Some(cur.saturating_sub(before).saturating_add(left))
        });
        Ok(replaced)
    }

    /// Compacts one group: rebuilds its unindexed segments when `index` allows, and merges
    /// the small segments of its windows. Adds to `left` the message bytes of the
    /// unindexed segments it leaves (corrupt ones aside: they are never rebuilt).
    fn compact_group(
        &self,
        g: &GroupRecord,
        full: bool,
        index: bool,
        left: &mut u64,
    ) -> Result<usize, StorageError> {
        let window_ms = self.cfg.window_ms.max(1);
        // Deleting the group meanwhile removes these segments without the flush lock.
        let _pin = self.pin_segments();
        let segs = self.meta.segments(g.id, i64::MIN, i64::MAX)?;
        let (unindexed, indexed): (Vec<_>, Vec<_>) =
            segs.into_iter().partition(|s| is_unindexed(&s.key));
        *left += unindexed.iter().map(|s| s.raw_bytes).sum::<u64>();
        let live: HashSet<u64> = self
            .meta
            .list_streams(g.id, None, None, usize::MAX)?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut replaced = 0;
        let mut by_window: BTreeMap<i64, Vec<SegmentRecord>> = BTreeMap::new();
        for s in indexed {
            let w = s.min_ts.div_euclid(window_ms);
            if s.size <= self.cfg.compact_max_bytes && w == s.max_ts.div_euclid(window_ms) {
                by_window.entry(w).or_default().push(s);
            }
        }
        if index && !unindexed.is_empty() {
            replaced += self.index_segments(g, unindexed, &mut by_window, &live, full, left)?;
        }
        for (w, mut segs) in by_window {
            if !full {
                if self.cfg.background && self.flush_due() {
                    break;
                }
                tier(&mut segs, 0);
            }
            if segs.len() < self.cfg.compact_min_segments.max(2) {
                continue;
            }
            let merged = self.gather(&segs, &live, left);
            if merged.readable.len() < 2 {
                continue;
            }
            let streams: Vec<(u64, &[Row])> = merged
                .per_stream
                .iter()
                .filter(|(_, r)| !r.is_empty())
                .map(|(s, r)| (*s, r.as_slice()))
                .collect();
            let added = match streams.is_empty() {
                true => Vec::new(),
                false => vec![self.write_segment(g.id, w, &streams, true)?],
            };
            if self.publish_replacement(g, &merged.readable, added)? {
                replaced += merged.readable.len();
            }
        }
        Ok(replaced)
    }

    /// Rebuilds unindexed segments indexed, oldest first and about a flush's worth at a
    /// time: their rows, split by window, become one indexed segment per window, merged
    /// with that window's small indexed segments (`small`, by window): all of them when
    /// `full`, else a size tier over the rebuilt rows (see [`tier`]). What a rebuild merged
    /// is taken out of `small`.
    fn index_segments(
        &self,
        g: &GroupRecord,
        mut segs: Vec<SegmentRecord>,
        small: &mut BTreeMap<i64, Vec<SegmentRecord>>,
        live: &HashSet<u64>,
        full: bool,
        left: &mut u64,
    ) -> Result<usize, StorageError> {
        let window_ms = self.cfg.window_ms.max(1);
        let budget = self.cfg.flush_bytes.max(1) as u64;
        segs.sort_by_key(|s| s.id);
        let mut replaced = 0;
        let mut rest = &segs[..];
        while !rest.is_empty() {
            if !full && self.cfg.background && (self.flush_due() || !self.may_index()) {
                break;
            }
            let mut n = 0;
            let mut raw = 0u64;
            while let Some(s) = rest.get(n) {
                if n > 0 && raw + s.raw_bytes > budget {
                    break;
                }
                raw += s.raw_bytes;
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            let mut merged = self.gather(batch, live, left);
            if merged.readable.is_empty() {
                continue;
            }
            let rebuilt_bytes: u64 = merged.readable.iter().map(|s| s.raw_bytes).sum();
            let rebuilt_count = merged.readable.len() as u64;
            // Message bytes per window, against which the window's segments tier.
            let mut per_window: BTreeMap<i64, u64> = BTreeMap::new();
            for r in merged.per_stream.values().flatten() {
                *per_window.entry(r.ts.div_euclid(window_ms)).or_default() += r.msg.len() as u64;
            }
            let mut joined = Vec::new();
            for (w, bytes) in per_window {
                let Some(mut segs) = small.remove(&w) else {
                    continue;
                };
                if !full {
                    // Compared by size: stored bytes run at about a sixth of the raw ones.
                    let mut chosen = segs.clone();
                    tier(&mut chosen, bytes / 6);
                    segs.retain(|s| chosen.iter().all(|c| c.id != s.id));
                    if !segs.is_empty() {
                        small.insert(w, segs);
                    }
                    segs = chosen;
                }
                joined.extend(segs);
            }
            let other = self.gather(&joined, live, left);
            for (sid, rows) in other.per_stream {
                let mine = merged.per_stream.entry(sid).or_default();
                mine.extend(rows);
                mine.sort_unstable_by_key(Row::key);
            }
            merged.readable.extend(other.readable);
            let mut windows: BTreeMap<i64, Vec<(u64, &[Row])>> = BTreeMap::new();
            for (&sid, rows) in &merged.per_stream {
                split_windows(sid, rows, window_ms, &mut windows);
            }
            let jobs: Vec<SegmentJob<'_>> = windows
                .into_iter()
                .map(|(w, streams)| (g.id, w, streams))
                .collect();
            let added = self.write_segments(&jobs, true)?;
            if self.publish_replacement(g, &merged.readable, added)? {
                *left = left.saturating_sub(rebuilt_bytes);
                self.counters
                    .indexed_segments
                    .fetch_add(rebuilt_count, Relaxed);
                replaced += merged.readable.len();
            }
        }
        Ok(replaced)
    }

    /// The rows of `segs` per live stream, sorted; rows of deleted streams are dropped. A
    /// corrupt segment is reported and left out (and out of `left`).
    fn gather(&self, segs: &[SegmentRecord], live: &HashSet<u64>, left: &mut u64) -> Gathered {
        let mut out = Gathered::default();
        for s in segs {
            match crate::read::read_all_rows(self, s) {
                Ok(rows) => {
                    for (sid, r) in rows {
                        // A deleted stream's bytes left the group's count when it was deleted.
                        if live.contains(&sid) {
                            out.per_stream.entry(sid).or_default().extend(r);
                        }
                    }
                    out.readable.push(s.clone());
                }
                Err(e) => {
                    // A corrupt segment stays where it is (reads skip and report it).
                    self.report(&format!("compaction skips segment {}", s.key), &e);
                    if is_unindexed(&s.key) {
                        *left = left.saturating_sub(s.raw_bytes);
                    }
                }
            }
        }
        for rows in out.per_stream.values_mut() {
            rows.sort_unstable_by_key(Row::key);
        }
        out
    }

    /// Publishes `added` in place of `replaced`, unless retention, a group deletion or
    /// another compaction removed one of those since they were read: `added` is then
    /// dropped. Returns whether it published.
    fn publish_replacement(
        &self,
        g: &GroupRecord,
        replaced: &[SegmentRecord],
        added: Vec<SegmentRecord>,
    ) -> Result<bool, StorageError> {
        {
            let _guard = self.flush_lock.lock();
            let current: HashSet<u64> = self
                .meta
                .segments(g.id, i64::MIN, i64::MAX)?
                .into_iter()
                .map(|s| s.id)
                .collect();
            if !replaced.iter().all(|s| current.contains(&s.id)) {
                self.doom(added.into_iter().map(|s| s.key).collect());
                return Ok(false);
            }
            self.publish(&Publish {
                add: added,
                remove: replaced.iter().map(|s| s.id).collect(),
                ..Publish::default()
            })?;
        }
        self.doom(replaced.iter().map(|s| s.key.clone()).collect());
        Ok(true)
    }
}

/// Rows compaction read from the segments it replaces.
#[derive(Default)]
struct Gathered {
    per_stream: BTreeMap<u64, Vec<Row>>,
    readable: Vec<SegmentRecord>,
}

/// Adds a stream's rows (sorted by time) to `windows`, one slice per window they touch.
fn split_windows<'a>(
    sid: u64,
    rows: &'a [Row],
    window_ms: i64,
    windows: &mut BTreeMap<i64, Vec<(u64, &'a [Row])>>,
) {
    let mut start = 0;
    while let Some(first) = rows.get(start) {
        let w = first.ts.div_euclid(window_ms);
        let end = start + rows[start..].partition_point(|r| r.ts.div_euclid(window_ms) == w);
        windows.entry(w).or_default().push((sid, &rows[start..end]));
        start = end;
    }
}

/// Where a batch goes, resolved from its group and stream names by [`Store::target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendTarget {
    /// The group's catalogue id.
    pub group_id: u64,
    /// The stream's catalogue id.
    pub stream_id: u64,
    /// The group's retention in days, which PutLogEvents checks event ages against.
    pub retention_days: Option<u16>,
}

/// See [`Inner::targets`].
#[derive(Default)]
struct TargetCache {
    generation: u64,
    groups: HashMap<String, CachedGroup>,
    /// Streams cached in all groups.
    streams: usize,
}

/// Most streams [`TargetCache`] holds before it starts over.
const TARGET_CACHE_STREAMS: usize = 100_000;

struct CachedGroup {
    id: u64,
    retention_days: Option<u16>,
    /// Streams looked up so far, by name.
    streams: HashMap<String, u64>,
}

/// A segment object waiting to be deleted.
struct Doomed {
    /// Not before this instant.
    at: Instant,
    /// The catalogue generation after its removal was published.
    generation: u64,
    key: String,
}

/// A read in progress over segments listed at `generation`; see [`Inner::pin_segments`].
pub(crate) struct SegmentPin<'a> {
    pins: &'a Mutex<BTreeMap<u64, usize>>,
    generation: u64,
}

impl Drop for SegmentPin<'_> {
    fn drop(&mut self) {
        let mut pins = self.pins.lock();
        if let Some(n) = pins.get_mut(&self.generation) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.generation);
            }
        }
    }
}

/// A group's segments in catalogue order.
pub(crate) type SegmentList = Arc<Vec<SegmentRecord>>;

/// A group's streams by id.
pub(crate) type StreamNames = Arc<HashMap<u64, Arc<str>>>;

/// One segment to write: group, window, and each stream's rows.
type SegmentJob<'a> = (u64, i64, Vec<(u64, &'a [Row])>);

/// Drops `value` on a thread of its own when one can be started, else here.
fn free_later<T: Send + 'static>(value: T) {
    // A thread that cannot start drops its closure, and the value with it, right here.
    let _ = std::thread::Builder::new()
        .name("lookout-free".into())
        .spawn(move || drop(value));
}

/// Nice value of the background thread and the threads it starts (flush, compaction).
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority to [`BACKGROUND_NICE`]; threads it starts
/// inherit it. Flushing and compaction then take the CPU appends and reads leave: on a
/// machine with few cores a flush at equal priority holds every request waiting on the CPU
/// for its whole run, while the memtable has room to let it take longer. Best effort.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), BACKGROUND_NICE) {
            tracing::debug!(error = %e, "cannot lower the background thread's priority");
        }
    }
}

/// Longest an append waits for a flush to make room.
const MAX_BACKPRESSURE_WAIT: Duration = Duration::from_secs(30);

/// Appends wait once the active memtable holds this many times `flush_bytes`.
const MEMTABLE_LIMIT_FACTOR: usize = 2;

/// Longest slowdown of one append, just below the hard limit.
const MAX_SLOWDOWN: Duration = Duration::from_secs(1);

/// Batches of at least this many message bytes get the full slowdown, smaller ones a share.
const BACKPRESSURE_BATCH_BYTES: usize = 256 << 10;

/// Threads building and uploading segments during a flush.
const WRITE_THREADS: usize = 4;

/// Keeps the smallest segments of a window that merge into one tier: sorted by size, each
/// next segment joins while it is at most `TIER_RATIO` times the bytes gathered so far
/// (starting from `gathered`, the bytes merged anyway; with none the smallest joins). A
/// large segment is thus rewritten only once comparable bytes have gathered beside it, so
/// each byte is rewritten a logarithmic number of times, not once per flush of its window.
fn tier(segs: &mut Vec<SegmentRecord>, mut gathered: u64) {
    segs.sort_by_key(|s| (s.size, s.id));
    let mut keep = 0;
    for s in segs.iter() {
        if gathered > 0 && s.size > gathered.saturating_mul(TIER_RATIO) {
            break;
        }
        gathered += s.size;
        keep += 1;
    }
    segs.truncate(keep);
    // Merged rows are re-sorted per stream, so catalogue order does not matter here.
}

/// See [`tier`].
const TIER_RATIO: u64 = 2;

/// Marks the object key of an unindexed segment, so compaction finds them in the catalogue
/// without reading indexes. Reads go by the segment's own index flag.
const UNINDEXED_MARK: &str = "-unindexed";

fn is_unindexed(key: &str) -> bool {
    key.strip_suffix(".seg")
        .is_some_and(|k| k.ends_with(UNINDEXED_MARK))
}

/// How often the append rate is measured against `index_rate`.
const RATE_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) fn retention_cutoff(g: &GroupRecord, now: i64) -> i64 {
    match g
        .retention_days
        .and_then(|d| RetentionDays::new(i64::from(d)).ok())
    {
        Some(r) => r.cutoff(now),
        None => i64::MIN,
    }
}

#[cfg(test)]
mod write_path_tests {
    use super::*;

    /// A store without background work, windows of one second, holding group `g` with
    /// stream `s`.
    fn store(dir: &std::path::Path, hot_bytes: usize) -> Store {
        let mut cfg = StoreConfig::new(dir);
        cfg.background = false;
        cfg.window_ms = 1000;
        cfg.flush_bytes = 1 << 20;
        cfg.hot_bytes = hot_bytes;
        // These tests are about keeping windows back, which only indexed flushes do.
        cfg.index_rate = u64::MAX;
        let store = Store::open(cfg).unwrap();
        let g = LogGroupName::new("g").unwrap();
        store.create_group(&g, GroupOptions::default(), 0).unwrap();
        let s = LogStreamName::new("s").unwrap();
        store.create_stream("g", &s, 0).unwrap();
        store
    }

    /// `n` events of 100 bytes at `ts`.
    fn batch(ts: i64, n: usize) -> Vec<InputEvent> {
        (0..n)
            .map(|i| InputEvent {
                timestamp: ts,
                message: format!("{i:0100}"),
            })
            .collect()
    }

    #[test]
    fn write_stats_count_commits_flushes_and_carried_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), usize::MAX);
        assert_eq!(store.write_stats(), WriteStats::default());
        // Sequential appends each wait for their own group commit.
        store.append("g", "s", batch(500, 10)).unwrap();
        store.append("g", "s", batch(1500, 10)).unwrap();
        store.append("g", "s", batch(1600, 10)).unwrap();
        // The newest window (20 rows of 100 bytes plus overhead) stays in memory.
        store.flush_settled().unwrap();
        let stats = store.write_stats();
        assert_eq!(stats.commits, 3);
        assert_eq!(stats.flushes, 1);
        assert_eq!(stats.carried_bytes, 20 * (100 + 32));
        assert_eq!(stats.held_appends, 0);
        assert!(stats.longest_flush <= stats.flush_time);
    }

    #[test]
    fn a_deleted_streams_bytes_leave_the_group_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), 0);
        let t = LogStreamName::new("t").unwrap();
        store.create_stream("g", &t, 0).unwrap();
        // Enough segments in one window for compaction to merge them.
        let rounds = store.inner.cfg.compact_min_segments.max(2);
        for r in 0..rounds {
            store.append("g", "s", batch(100 + r as i64, 10)).unwrap();
            store.append("g", "t", batch(100 + r as i64, 7)).unwrap();
            store.flush().unwrap();
        }
        let n = rounds as u64;
        assert_eq!(store.group("g").unwrap().stored_bytes, n * 17 * 100);
        store.delete_stream("g", "t").unwrap();
        assert_eq!(store.group("g").unwrap().stored_bytes, n * 10 * 100);
        // Compaction drops the deleted stream's rows; they were already uncounted.
        assert_eq!(store.compact().unwrap(), rounds);
        assert_eq!(store.group("g").unwrap().stored_bytes, n * 10 * 100);
    }

    #[test]
    fn settled_flush_keeps_no_more_than_hot_bytes() {
        let dir = tempfile::tempdir().unwrap();
        // The newest window's 2,640 bytes fit in `flush_bytes` but not in `hot_bytes`.
        let store = store(dir.path(), 2000);
        store.append("g", "s", batch(500, 10)).unwrap();
        store.append("g", "s", batch(1500, 20)).unwrap();
        store.flush_settled().unwrap();
        assert_eq!(store.write_stats().carried_bytes, 0);
        assert!(store.inner.active.read().is_empty());
        // Reopened, nothing is replayed: every event is in a segment.
        drop(store);
        let mut cfg = StoreConfig::new(dir.path());
        cfg.background = false;
        let reopened = Store::open(cfg).unwrap();
        assert_eq!(reopened.recovery_report().events_replayed, 0);
    }
}
