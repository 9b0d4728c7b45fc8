//! Reads: one stream from a position in either direction (GetLogEvents), a group's streams
//! interleaved by time (FilterLogEvents), and the pruning scan the query engine builds on.
//! All of them see the memtable and the segments as one sequence.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use lookout_model::StoredEvent;

use crate::bloom::{
    Bloom, MAX_BLOOM_VALUE, MIN_BLOOM_TOKEN, field_hash, interior_tokens, prefix_hash, token_hash,
    tokens, trailing_token,
};
use crate::error::StorageError;
use crate::fields::{Flat, field_of};
use crate::memtable::Row;
use crate::metastore::{GroupRecord, SegmentRecord};
use crate::segment::{
    self, BlockMeta, Decoded, FieldColumn, Lazy, RawColumn, Run, SegmentIndex, Want,
};
use crate::store::{Inner, SegmentPin, Store, now_ms, retention_cutoff};

/// Which streams of a group a read covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSelector {
    /// Every stream.
    All,
    /// These streams (names that do not exist are ignored).
    Names(Vec<String>),
    /// Streams whose name starts with this prefix.
    Prefix(String),
}

/// Reading direction from a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first: the first `limit` events after the position.
    Forward,
    /// The last `limit` events before the position, still returned oldest first.
    Backward,
}

/// A position in the (timestamp, sequence) order of events; bounds built from it are
/// exclusive, so a page's last key continues a forward read and its first key a backward one.
pub type Key = (i64, u64);

/// A read of one stream (what GetLogEvents needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRead {
    /// Inclusive lower time bound.
    pub start: Option<i64>,
    /// Exclusive upper time bound.
    pub end: Option<i64>,
    /// Only events strictly after this key.
    pub after: Option<Key>,
    /// Only events strictly before this key.
    pub before: Option<Key>,
    /// Which end of the range to take `limit` events from.
    pub direction: Direction,
    /// Most events returned.
    pub limit: usize,
}

/// A read across a group's streams, interleaved by (timestamp, sequence) (what
/// FilterLogEvents needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRead {
    /// Streams covered.
    pub streams: StreamSelector,
    /// Inclusive lower time bound.
    pub start: Option<i64>,
    /// Exclusive upper time bound (FilterLogEvents' inclusive `endTime` is `end + 1`).
    pub end: Option<i64>,
    /// Only events strictly after this key (the previous page's last key).
    pub after: Option<Key>,
    /// Most events returned.
    pub limit: usize,
}

/// An event and the stream it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent {
    /// The stream's name.
    pub stream: Arc<str>,
    /// The event.
    pub event: StoredEvent,
}

/// One page of a group read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPage {
    /// Events in (timestamp, sequence) order.
    pub events: Vec<GroupEvent>,
    /// Whether more matching events may follow the last one.
    pub more: bool,
}

/// A predicate pushed down into a scan. Every predicate is exact: a scan returns precisely
/// the events satisfying all of them; blooms and min/max only decide what to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// The message contains this whole token (see [`tokens`](crate::tokens)).
    Token(String),
    /// The message contains this case-sensitive substring.
    Contains(String),
    /// The flattened JSON field `path` has exactly this value (strings unquoted, numbers as
    /// written).
    FieldEquals {
        /// Field path such as `level` or `a.b.0`.
        path: String,
        /// Value as text.
        value: String,
    },
}

/// What a scan covers and returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Streams covered.
    pub streams: StreamSelector,
    /// Inclusive lower time bound.
    pub start: Option<i64>,
    /// Exclusive upper time bound.
    pub end: Option<i64>,
    /// All must hold.
    pub predicates: Vec<Predicate>,
    /// Flattened fields to return as columns.
    pub fields: Vec<String>,
    /// Return raw messages.
    pub messages: bool,
    /// Return ingestion times.
    pub ingestion_times: bool,
    /// Return timestamps and sequence numbers. Without them, blocks that lie inside the
    /// time range are read without their key columns (an aggregation over field columns
    /// needs none), and batches leave `timestamps` and `seqs` empty.
    pub keys: bool,
}

impl Scan {
    /// A scan of every stream over all time returning only timestamps (and sequences).
    pub fn all() -> Self {
        Self {
            streams: StreamSelector::All,
            start: None,
            end: None,
            predicates: Vec::new(),
            fields: Vec::new(),
            messages: false,
            ingestion_times: false,
            keys: true,
        }
    }
}

/// Matching events of one block (or of the memtable for one stream), column by column.
/// Batches arrive in no particular order; rows within a batch are in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanBatch {
    /// The stream's name.
    pub stream: Arc<str>,
    /// Number of rows.
    pub rows: usize,
    /// Event timestamps (empty when the scan asked for no keys).
    pub timestamps: Vec<i64>,
    /// Sequence numbers (empty when the scan asked for no keys).
    pub seqs: Vec<u64>,
    /// Ingestion times, when asked for.
    pub ingestion_times: Vec<i64>,
    /// Messages, when asked for.
    pub messages: Option<Vec<String>>,
    /// One column per requested field, in request order.
    pub fields: Vec<FieldColumn>,
}

impl ScanBatch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// Counters describing how much a scan could skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Segment blocks considered.
    pub blocks: u64,
    /// Blocks skipped by time range.
    pub pruned_by_time: u64,
    /// Blocks skipped by blooms, min/max or missing fields.
    pub pruned_by_index: u64,
    /// Blocks decoded.
    pub decoded: u64,
    /// Corrupt segments or blocks skipped (also listed in [`Store::problems`]).
    pub corrupt: u64,
    /// Events returned.
    pub events: u64,
}

/// A block that survived pruning: segment key, segment index, block number, and the
/// block's runs (streams) that the read covers.
type Candidate = (Arc<str>, Arc<SegmentIndex>, usize, Vec<u32>);

enum SrcKind {
    Mem(Vec<Row>),
    Block {
        key: Arc<str>,
        index: Arc<SegmentIndex>,
        block: usize,
        /// Runs of the block the read covers, ascending.
        runs: Vec<u32>,
    },
}

struct Src {
    /// The stream of memtable rows (a block's streams are in its runs).
    stream_id: u64,
    min_key: Key,
    max_key: Key,
    kind: SrcKind,
}

struct Bounds {
    start: i64,
    end: i64,
    after: Option<Key>,
    before: Option<Key>,
}

impl Bounds {
    fn admits(&self, k: Key) -> bool {
        k.0 >= self.start
            && k.0 < self.end
            && self.after.is_none_or(|a| k > a)
            && self.before.is_none_or(|b| k < b)
    }

    fn overlaps(&self, lo: Key, hi: Key) -> bool {
        hi.0 >= self.start
            && lo.0 < self.end
            && self.after.is_none_or(|a| hi > a)
            && self.before.is_none_or(|b| lo < b)
    }
}

fn bounds(g: &GroupRecord, start: Option<i64>, end: Option<i64>) -> Bounds {
    let cutoff = retention_cutoff(g, now_ms());
    Bounds {
        start: start.unwrap_or(i64::MIN).max(cutoff),
        end: end.unwrap_or(i64::MAX),
        after: None,
        before: None,
    }
}

impl Inner {
    fn resolve(
        &self,
        g: &GroupRecord,
        sel: &StreamSelector,
    ) -> Result<Arc<HashMap<u64, Arc<str>>>, StorageError> {
        let mut out = HashMap::new();
        match sel {
            StreamSelector::All => {
                // Listing a group's streams per query costs more than a needle lookup; the
                // list is cached until a stream of the group is created or deleted here.
                if let Some(cached) = self.stream_cache.lock().get(&g.id) {
                    return Ok(cached.clone());
                }
                let generation = self.stream_gen.load(std::sync::atomic::Ordering::SeqCst);
                for s in self.meta.list_streams(g.id, None, None, usize::MAX)? {
                    out.insert(s.id, Arc::from(s.name));
                }
                let out = Arc::new(out);
                let mut cache = self.stream_cache.lock();
                if self.stream_gen.load(std::sync::atomic::Ordering::SeqCst) == generation {
                    cache.insert(g.id, out.clone());
                }
                return Ok(out);
            }
            StreamSelector::Prefix(p) => {
                for s in self.meta.list_streams(g.id, Some(p), None, usize::MAX)? {
                    out.insert(s.id, Arc::from(s.name));
                }
            }
            StreamSelector::Names(names) => {
                for n in names {
                    if let Some(s) = self.meta.stream(g.id, n)? {
                        out.insert(s.id, Arc::from(s.name));
                    }
                }
            }
        }
        Ok(Arc::new(out))
    }

    pub(crate) fn load_index(
        &self,
        seg: &SegmentRecord,
    ) -> Result<Arc<SegmentIndex>, StorageError> {
        if let Some(ix) = self.index_cache.lock().get(&seg.key) {
            return Ok(ix.clone());
        }
        // The index region and the footer are adjacent: one range read fetches both.
        let end = seg
            .index_offset
            .saturating_add(seg.index_len)
            .saturating_add(segment::FOOTER_LEN as u64);
        let bytes = self.objects.get_range(&seg.key, seg.index_offset..end)?;
        let corrupt = |d: &str| StorageError::corrupt("segment", d);
        let split = usize::try_from(seg.index_len).map_err(|_| corrupt("index too long"))?;
        if bytes.len() != split + segment::FOOTER_LEN {
            return Err(corrupt("short index read"));
        }
        let f = segment::decode_footer(&bytes[split..])?;
        if f.offset != seg.index_offset || f.len != seg.index_len {
            return Err(corrupt("footer disagrees with catalogue"));
        }
        let ix = Arc::new(segment::decode_index(
            &bytes[..split],
            Some(f.crc),
            f.offset,
            f.grammar,
        )?);
        self.index_cache.lock().insert(seg.key.clone(), ix.clone());
        Ok(ix)
    }

    pub(crate) fn report(&self, what: &str, e: &StorageError) {
        tracing::warn!(what, error = %e, "skipping corrupt data");
        let mut p = self.problems.lock();
        if p.len() < 1000 {
            p.push(format!("{what}: {e}"));
        }
    }

    /// Memtable rows and segment blocks that may hold events of `streams` within `b`;
    /// segments whose bloom rules out `plan` are skipped without looking at their blocks.
    fn sources(
        &self,
        g: &GroupRecord,
        streams: &HashMap<u64, Arc<str>>,
        b: &Bounds,
        plan: &[Prune<'_>],
        stats: &mut ScanStats,
    ) -> Result<(Vec<Src>, SegmentPin<'_>), StorageError> {
        let mut out = Vec::new();
        let pin = self.pin_segments();
        let segs;
        {
            let frozen = self.frozen.read();
            {
                let active = self.active.read();
                for m in frozen.iter().map(|f| &**f).chain(std::iter::once(&*active)) {
                    for (&sid, s) in &m.streams {
                        if s.group_id != g.id || !streams.contains_key(&sid) {
                            continue;
                        }
                        let lo = s.rows.partition_point(|r| r.ts < b.start);
                        let hi = s.rows.partition_point(|r| r.ts < b.end);
                        let rows: Vec<Row> = s.rows[lo..hi.max(lo)]
                            .iter()
                            .filter(|r| b.admits(r.key()))
                            .cloned()
                            .collect();
                        if let (Some(f), Some(l)) = (rows.first(), rows.last()) {
                            let (min_key, max_key) = (f.key(), l.key());
                            out.push(Src {
                                stream_id: sid,
                                min_key,
                                max_key,
                                kind: SrcKind::Mem(rows),
                            });
                        }
                    }
                }
            }
            segs = self.group_segments(g.id)?;
        }
        let last = b.end.saturating_sub(1);
        for seg in segs
            .iter()
            .filter(|s| s.max_ts >= b.start && s.min_ts <= last)
        {
            let index = match self.load_index(seg) {
                Ok(ix) => ix,
                Err(e) => {
                    stats.corrupt += 1;
                    self.report(&format!("segment {}", seg.key), &e);
                    continue;
                }
            };
            if let Some(bloom) = &index.bloom
                && !bloom_may_match(bloom, plan)
            {
                stats.blocks += index.blocks.len() as u64;
                stats.pruned_by_index += index.blocks.len() as u64;
                continue;
            }
            let key: Arc<str> = Arc::from(seg.key.as_str());
            for (i, blk) in index.blocks.iter().enumerate() {
                let mut runs = Vec::new();
                let mut selected = false;
                let (mut lo, mut hi) = ((i64::MAX, u64::MAX), (i64::MIN, 0));
                for (j, run) in blk.runs.iter().enumerate() {
                    if !streams.contains_key(&run.stream_id) {
                        continue;
                    }
                    selected = true;
                    if b.overlaps(run.min_key(), run.max_key()) {
                        runs.push(j as u32);
                        lo = lo.min(run.min_key());
                        hi = hi.max(run.max_key());
                    }
                }
                if !selected {
                    continue;
                }
                stats.blocks += 1;
                if runs.is_empty() {
                    stats.pruned_by_time += 1;
                    continue;
                }
                out.push(Src {
                    stream_id: 0,
                    min_key: lo,
                    max_key: hi,
                    kind: SrcKind::Block {
                        key: key.clone(),
                        index: index.clone(),
                        block: i,
                        runs,
                    },
                });
            }
        }
        Ok((out, pin))
    }

    fn decode(
        &self,
        key: &str,
        index: &SegmentIndex,
        blk: &BlockMeta,
        want: &Want<'_>,
        rows: Option<&[std::ops::Range<usize>]>,
    ) -> Result<Decoded, StorageError> {
        let mut ranges = Vec::new();
        segment::block_ranges(blk, want, &mut ranges);
        let buffers = self.fetch_coalesced(key, &ranges)?;
        let bufs: Vec<(u64, &[u8])> = buffers.iter().map(|(o, b)| (*o, &b[..])).collect();
        let dict = index.dict.as_deref();
        segment::decode_block_gated(dict, blk, &bufs, want, true, &[], rows)
            .map(|d| d.unwrap_or_default().into_decoded())
    }

    /// Reads the given byte ranges of one object in one request, merging ranges less than
    /// 8 KiB apart. Returns (offset, bytes) buffers covering every range.
    fn fetch_coalesced(
        &self,
        key: &str,
        ranges: &[(u64, u64)],
    ) -> Result<Vec<(u64, bytes::Bytes)>, StorageError> {
        // Small gaps only: a timestamps-only scan must not drag the messages in between.
        const GAP: u64 = 8 << 10;
        let mut sorted: Vec<(u64, u64)> = ranges.to_vec();
        sorted.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (lo, hi) in sorted {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(GAP) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        let wanted: Vec<std::ops::Range<u64>> = merged.iter().map(|&(lo, hi)| lo..hi).collect();
        let got = self.objects.get_ranges(key, &wanted)?;
        if got.len() != merged.len() {
            return Err(StorageError::corrupt("segment", "short range read"));
        }
        Ok(merged.into_iter().map(|(lo, _)| lo).zip(got).collect())
    }

    /// Rows of a source within the bounds that satisfy `keep`, with their streams.
    fn rows_of(
        &self,
        src: Src,
        b: &Bounds,
        keep: &dyn Fn(&str) -> bool,
        stats: &mut ScanStats,
    ) -> Vec<(u64, Row)> {
        let sid = src.stream_id;
        match src.kind {
            SrcKind::Mem(rows) => rows
                .into_iter()
                .filter(|r| keep(&r.msg))
                .map(|r| (sid, r))
                .collect(),
            SrcKind::Block {
                key,
                index,
                block,
                runs,
            } => {
                let Some(blk) = index.blocks.get(block) else {
                    return Vec::new();
                };
                let want = Want {
                    keys: true,
                    ingest: true,
                    messages: true,
                    fields: &[],
                    contains: &[],
                    contains_stored: false,
                };
                stats.decoded += 1;
                let ranges: Vec<std::ops::Range<usize>> = runs
                    .iter()
                    .filter_map(|&j| blk.runs.get(j as usize).map(Run::rows))
                    .collect();
                let only = (runs.len() < blk.runs.len()).then_some(&ranges[..]);
                match self.decode(&key, &index, blk, &want, only) {
                    Ok(d) => {
                        let mut msgs = d.messages.unwrap_or_default();
                        let mut out = Vec::new();
                        for run in runs.iter().filter_map(|&j| blk.runs.get(j as usize)) {
                            for i in run.rows() {
                                let (Some(&ts), Some(&seq), Some(&ingest), Some(m)) =
                                    (d.ts.get(i), d.seq.get(i), d.ingest.get(i), msgs.get_mut(i))
                                else {
                                    break;
                                };
                                if b.admits((ts, seq)) && keep(m) {
                                    let msg = std::mem::take(m);
                                    out.push((
                                        run.stream_id,
                                        Row {
                                            ts,
                                            ingest,
                                            seq,
                                            msg,
                                        },
                                    ));
                                }
                            }
                        }
                        out
                    }
                    Err(e) => {
                        stats.corrupt += 1;
                        self.report(&format!("segment {key} block {block}"), &e);
                        Vec::new()
                    }
                }
            }
        }
    }

    /// The `limit` smallest (forward) or largest (backward) matching events, visiting
    /// sources in key order and stopping once no unvisited source can contribute.
    fn ordered(
        &self,
        mut srcs: Vec<Src>,
        b: &Bounds,
        dir: Direction,
        limit: usize,
        keep: &dyn Fn(&str) -> bool,
    ) -> (Vec<(u64, Row)>, bool) {
        let mut stats = ScanStats::default();
        match dir {
            Direction::Forward => srcs.sort_by_key(|s| s.min_key),
            Direction::Backward => srcs.sort_by_key(|s| std::cmp::Reverse(s.max_key)),
        }
        let mut got: Vec<(u64, Row)> = Vec::new();
        let mut more = false;
        let n = srcs.len();
        for (i, src) in srcs.into_iter().enumerate() {
            if limit > 0 && got.len() >= limit {
                let kth = got[limit - 1].1.key();
                let beyond = match dir {
                    Direction::Forward => src.min_key > kth,
                    Direction::Backward => src.max_key < kth,
                };
                if beyond {
                    more = i < n;
                    break;
                }
            }
            if limit == 0 {
                more = true;
                break;
            }
            got.extend(self.rows_of(src, b, keep, &mut stats));
            if got.len() >= limit {
                match dir {
                    Direction::Forward => got.sort_unstable_by_key(|(_, r)| r.key()),
                    Direction::Backward => {
                        got.sort_unstable_by_key(|(_, r)| std::cmp::Reverse(r.key()))
                    }
                }
                if got.len() > limit {
                    more = true;
                    got.truncate(limit);
                }
            }
        }
        match dir {
            Direction::Forward => got.sort_unstable_by_key(|(_, r)| r.key()),
            Direction::Backward => {
                got.sort_unstable_by_key(|(_, r)| std::cmp::Reverse(r.key()));
                got.truncate(limit);
                got.reverse();
            }
        }
        got.truncate(limit);
        (got, more)
    }
}

fn stored(r: Row) -> StoredEvent {
    StoredEvent {
        timestamp: r.ts,
        ingestion_time: r.ingest,
        seq: r.seq,
        message: r.msg,
    }
}

/// All rows of a segment per stream, for compaction.
pub(crate) fn read_all_rows(
    inner: &Inner,
    seg: &SegmentRecord,
) -> Result<Vec<(u64, Vec<Row>)>, StorageError> {
    let index = inner.load_index(seg)?;
    let want = Want {
        keys: true,
        ingest: true,
        messages: true,
        fields: &[],
        contains: &[],
        contains_stored: false,
    };
    let mut out = Vec::with_capacity(index.blocks.len());
    for blk in &index.blocks {
        let d = inner.decode(&seg.key, &index, blk, &want, None)?;
        let mut msgs = d.messages.unwrap_or_default().into_iter();
        let mut keys = d.ts.iter().zip(d.seq.iter().zip(d.ingest.iter()));
        for run in &blk.runs {
            let rows = msgs
                .by_ref()
                .take(run.count as usize)
                .zip(keys.by_ref())
                .map(|(m, (&ts, (&seq, &ingest)))| Row {
                    ts,
                    ingest,
                    seq,
                    msg: m,
                })
                .collect();
            out.push((run.stream_id, rows));
        }
    }
    Ok(out)
}

/// A predicate reduced to what block pruning checks, hashed once per scan.
enum Prune<'a> {
    /// Bloom hashes of tokens every matching message contains, and (version 3 blooms
    /// only) of token prefixes it contains.
    Tokens {
        whole: Vec<u64>,
        prefix: Option<u64>,
    },
    Field {
        path: &'a str,
        number: Option<f64>,
        /// Absent for values too long to be in blooms.
        hash: Option<u64>,
    },
}

fn prune_plan(preds: &[Predicate]) -> Vec<Prune<'_>> {
    preds
        .iter()
        .map(|p| match p {
            Predicate::Token(t) => Prune::Tokens {
                whole: if t.len() < MIN_BLOOM_TOKEN {
                    Vec::new()
                } else {
                    vec![token_hash(t)]
                },
                prefix: None,
            },
            Predicate::Contains(s) => Prune::Tokens {
                whole: interior_tokens(s)
                    .iter()
                    .filter(|t| t.len() >= MIN_BLOOM_TOKEN)
                    .map(|t| token_hash(t))
                    .collect(),
                prefix: trailing_token(s).and_then(prefix_hash),
            },
            Predicate::FieldEquals { path, value } => Prune::Field {
                path,
                number: value.parse::<f64>().ok(),
                hash: (value.len() <= MAX_BLOOM_VALUE).then(|| field_hash(path, value)),
            },
        })
        .collect()
}

/// Whether `bloom` admits every token of a predicate (prefix hashes exist in version 3
/// blooms, the blocked ones, only).
fn tokens_may_match(bloom: &Bloom, whole: &[u64], prefix: Option<u64>) -> bool {
    whole.iter().all(|&h| bloom.may_contain(h))
        && prefix.is_none_or(|h| !bloom.blocked || bloom.may_contain(h))
}

/// Whether a segment's bloom admits every token and field value the plan needs.
fn bloom_may_match(bloom: &Bloom, plan: &[Prune<'_>]) -> bool {
    plan.iter().all(|p| match p {
        Prune::Tokens { whole, prefix } => tokens_may_match(bloom, whole, *prefix),
        Prune::Field { hash, .. } => hash.is_none_or(|h| bloom.may_contain(h)),
    })
}

/// How a block can be skipped without decoding it, given the predicates. An unindexed
/// block has nothing to rule them out with.
fn block_may_match(blk: &BlockMeta, plan: &[Prune<'_>]) -> bool {
    if !blk.indexed {
        return true;
    }
    plan.iter().all(|p| match p {
        Prune::Tokens { whole, prefix } => tokens_may_match(&blk.bloom, whole, *prefix),
        Prune::Field { path, number, hash } => {
            let Some(f) = blk.field(path) else {
                return false;
            };
            if let (Some((lo, hi)), Some(v)) = (f.numeric, number)
                && (*v < lo || *v > hi)
            {
                return false;
            }
            hash.is_none_or(|h| blk.bloom.may_contain(h))
        }
    })
}

fn needs_messages(preds: &[Predicate]) -> bool {
    preds
        .iter()
        .any(|p| matches!(p, Predicate::Token(_) | Predicate::Contains(_)))
}

/// The text predicates of a scan, prepared once: substring searchers are built once per
/// scan rather than once per row.
pub(crate) struct TextMatch<'a> {
    tokens: Vec<&'a str>,
    contains: Vec<memchr::memmem::Finder<'a>>,
    /// No substring can overlap an expanded timestamp (decided once: it costs time linear
    /// in the needles).
    contains_stored: bool,
}

impl<'a> TextMatch<'a> {
    pub(crate) fn new(preds: &'a [Predicate]) -> Self {
        let mut m = TextMatch {
            tokens: Vec::new(),
            contains: Vec::new(),
            contains_stored: true,
        };
        for p in preds {
            match p {
                Predicate::Token(t) => m.tokens.push(t),
                Predicate::Contains(s) => {
                    m.contains.push(memchr::memmem::Finder::new(s));
                    m.contains_stored &= !segment::may_overlap_stamp(s.as_bytes());
                }
                Predicate::FieldEquals { .. } => {}
            }
        }
        m
    }

    /// Whether [`contains`](Self::contains) may be searched in stamped messages' stored
    /// bytes.
    pub(crate) fn contains_stored(&self) -> bool {
        self.contains_stored
    }

    /// The substring searchers, for gates on raw message bytes.
    pub(crate) fn contains(&self) -> &[memchr::memmem::Finder<'a>] {
        &self.contains
    }

    fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.contains.is_empty()
    }

    /// Whether `msg` satisfies every token and substring predicate.
    fn matches(&self, msg: Option<&str>) -> bool {
        let Some(m) = msg else {
            return self.is_empty();
        };
        self.contains.iter().all(|f| f.find(m.as_bytes()).is_some())
            && self.tokens.iter().all(|t| tokens(m).any(|x| x == *t))
    }
}

fn row_matches(
    preds: &[Predicate],
    text: &TextMatch<'_>,
    msg: Option<&str>,
    field: &dyn Fn(&str) -> Option<String>,
) -> bool {
    text.matches(msg)
        && preds.iter().all(|p| match p {
            Predicate::FieldEquals { path, value } => {
                field(path).as_deref() == Some(value.as_str())
            }
            Predicate::Token(_) | Predicate::Contains(_) => true,
        })
}

fn column_from_messages(msgs: &[&str], path: &str) -> FieldColumn {
    let mut col = FieldColumn {
        dict: Vec::new(),
        codes: Vec::with_capacity(msgs.len()),
    };
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut flat = Flat::default();
    for m in msgs {
        flat.parse(m);
        match flat.get(path) {
            Some(v) => {
                let code = match seen.get(v) {
                    Some(&c) => c,
                    None => {
                        col.dict.push(v.to_owned());
                        let c = col.dict.len() as u32;
                        seen.insert(v.to_owned(), c);
                        c
                    }
                };
                col.codes.push(code);
            }
            None => col.codes.push(0),
        }
    }
    col
}

impl Store {
    fn group_record(&self, group: &str) -> Result<GroupRecord, StorageError> {
        self.inner
            .meta
            .group(group)?
            .ok_or(StorageError::GroupNotFound)
    }

    /// Events of one stream within bounds, `limit` from the start (forward) or from the end
    /// (backward) of the range, always returned oldest first.
    pub fn read_stream(
        &self,
        group: &str,
        stream: &str,
        r: &StreamRead,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let g = self.group_record(group)?;
        let s = self
            .inner
            .meta
            .stream(g.id, stream)?
            .ok_or(StorageError::StreamNotFound)?;
        let mut b = bounds(&g, r.start, r.end);
        b.after = r.after;
        b.before = r.before;
        let streams = Arc::new(HashMap::from([(s.id, Arc::<str>::from(s.name))]));
        let mut stats = ScanStats::default();
        let (srcs, _pin) = self.inner.sources(&g, &streams, &b, &[], &mut stats)?;
        let (rows, _) = self
            .inner
            .ordered(srcs, &b, r.direction, r.limit, &|_| true);
        Ok(rows.into_iter().map(|(_, r)| stored(r)).collect())
    }

    /// Events of a group's selected streams interleaved in (timestamp, sequence) order,
    /// those after `r.after` whose message satisfies `matches`, at most `r.limit`.
    pub fn read_group(
        &self,
        group: &str,
        r: &GroupRead,
        matches: &dyn Fn(&str) -> bool,
    ) -> Result<GroupPage, StorageError> {
        let g = self.group_record(group)?;
        let streams = self.inner.resolve(&g, &r.streams)?;
        let mut b = bounds(&g, r.start, r.end);
        b.after = r.after;
        let mut stats = ScanStats::default();
        let (srcs, _pin) = self.inner.sources(&g, &streams, &b, &[], &mut stats)?;
        let (rows, more) = self
            .inner
            .ordered(srcs, &b, Direction::Forward, r.limit, matches);
        let events = rows
            .into_iter()
            .map(|(sid, row)| GroupEvent {
                stream: streams.get(&sid).cloned().unwrap_or_else(|| Arc::from("")),
                event: stored(row),
            })
            .collect();
        Ok(GroupPage { events, more })
    }

    /// Scans a group, skipping blocks by time, stream, blooms and min/max before decoding,
    /// and hands each block's matching rows to `sink` until it breaks.
    pub fn scan(
        &self,
        group: &str,
        scan: &Scan,
        sink: &mut dyn FnMut(ScanBatch) -> ControlFlow<()>,
    ) -> Result<ScanStats, StorageError> {
        let g = self.group_record(group)?;
        let streams = self.inner.resolve(&g, &scan.streams)?;
        let b = bounds(&g, scan.start, scan.end);
        let mut stats = ScanStats::default();
        let plan = prune_plan(&scan.predicates);
        let (srcs, _pin) = self.inner.sources(&g, &streams, &b, &plan, &mut stats)?;
        self.scan_sources(&streams, &b, scan, &plan, srcs, stats, sink)
    }

    /// Events matching `scan` per `bin_ms`-wide time bin: (bin start, count) in ascending
    /// order, bins without events left out. With no predicates and a bin width that is a
    /// multiple of a minute, blocks wholly inside the range are counted from their
    /// timestamp histograms without being read; the rest are scanned.
    pub fn count_by_bin(
        &self,
        group: &str,
        scan: &Scan,
        bin_ms: i64,
    ) -> Result<Vec<(i64, u64)>, StorageError> {
        if bin_ms <= 0 {
            return Err(StorageError::Invalid("bin width must be positive".into()));
        }
        let g = self.group_record(group)?;
        let streams = self.inner.resolve(&g, &scan.streams)?;
        let b = bounds(&g, scan.start, scan.end);
        let mut stats = ScanStats::default();
        let plan = prune_plan(&scan.predicates);
        let (mut srcs, _pin) = self.inner.sources(&g, &streams, &b, &plan, &mut stats)?;
        let mut bins: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
        if scan.predicates.is_empty() && bin_ms % segment::HIST_BUCKET_MS == 0 {
            srcs.retain(|src| {
                let SrcKind::Block {
                    index, block, runs, ..
                } = &src.kind
                else {
                    return true;
                };
                let Some(blk) = index.blocks.get(*block) else {
                    return true;
                };
                let inside = blk.min_ts >= b.start && blk.max_ts < b.end;
                if !inside || blk.minutes.is_empty() || runs.len() != blk.runs.len() {
                    return true;
                }
                let first = blk.min_ts.div_euclid(segment::HIST_BUCKET_MS);
                for (i, &n) in blk.minutes.iter().enumerate() {
                    if n > 0 {
                        let at = (first + i as i64) * segment::HIST_BUCKET_MS;
                        *bins.entry(at.div_euclid(bin_ms) * bin_ms).or_default() += u64::from(n);
                    }
                }
                false
            });
        }
        let ts_only = Scan {
            fields: Vec::new(),
            messages: false,
            ingestion_times: false,
            keys: true,
            ..scan.clone()
        };
        self.scan_sources(&streams, &b, &ts_only, &plan, srcs, stats, &mut |batch| {
            for t in batch.timestamps {
                *bins.entry(t.div_euclid(bin_ms) * bin_ms).or_default() += 1;
            }
            ControlFlow::Continue(())
        })?;
        Ok(bins.into_iter().collect())
    }

    /// The part of a scan after the sources are listed: memtable rows, then blocks that
    /// survive pruning, decoded by this thread and up to [`SCAN_THREADS`] - 1 more.
    #[allow(clippy::too_many_arguments)]
    fn scan_sources(
        &self,
        streams: &HashMap<u64, Arc<str>>,
        b: &Bounds,
        scan: &Scan,
        plan: &[Prune<'_>],
        srcs: Vec<Src>,
        mut stats: ScanStats,
        sink: &mut dyn FnMut(ScanBatch) -> ControlFlow<()>,
    ) -> Result<ScanStats, StorageError> {
        let need_msgs = scan.messages || needs_messages(&scan.predicates);
        // Field columns needed to evaluate FieldEquals without the message.
        let mut wanted: Vec<String> = scan.fields.clone();
        for p in &scan.predicates {
            if let Predicate::FieldEquals { path, .. } = p
                && !wanted.contains(path)
            {
                wanted.push(path.clone());
            }
        }
        // Memtable rows first; surviving blocks are then fetched per segment with
        // coalesced range reads (one read for neighbouring blocks) and decoded.
        let mut blocks: Vec<Candidate> = Vec::new();
        let mut stopped = false;
        for src in srcs {
            match src.kind {
                SrcKind::Mem(rows) => {
                    let Some(name) = streams.get(&src.stream_id).cloned() else {
                        continue;
                    };
                    if stopped {
                        continue;
                    }
                    let batch = self.scan_rows(name, rows, scan, &wanted);
                    if batch.is_empty() {
                        continue;
                    }
                    stats.events += batch.len() as u64;
                    stopped = sink(batch).is_break();
                }
                SrcKind::Block {
                    key,
                    index,
                    block,
                    runs,
                } => {
                    let Some(blk) = index.blocks.get(block) else {
                        continue;
                    };
                    if !block_may_match(blk, plan) {
                        stats.pruned_by_index += 1;
                        continue;
                    }
                    blocks.push((key, index, block, runs));
                }
            }
        }
        // Blocks of one segment are fetched together; segments are decoded on up to
        // SCAN_THREADS threads, this one among them: it also hands every batch to the sink.
        let mut segs: Vec<&[Candidate]> = Vec::new();
        let mut rest = &blocks[..];
        while let Some(first) = rest.first() {
            let n = rest
                .iter()
                .take_while(|b| Arc::ptr_eq(&b.0, &first.0))
                .count();
            let (head, tail) = rest.split_at(n);
            segs.push(head);
            rest = tail;
        }
        if stopped || segs.is_empty() {
            return Ok(stats);
        }
        let job = SegScan {
            inner: &self.inner,
            streams,
            scan,
            wanted: &wanted,
            bounds: b,
            need_msgs,
        };
        let threads = if blocks.len() < PARALLEL_MIN_BLOCKS {
            1
        } else {
            SCAN_THREADS.min(segs.len())
        };
        if threads <= 1 {
            for seg in &segs {
                let mut out = Vec::new();
                job.run(seg, &mut stats, &mut out);
                for batch in out {
                    stats.events += batch.len() as u64;
                    if sink(batch).is_break() {
                        return Ok(stats);
                    }
                }
            }
            return Ok(stats);
        }
        use std::sync::atomic::Ordering::Relaxed;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<ScanBatch>, ScanStats)>(threads * 4);
        // The next segment no thread has taken, decoded; `None` once all are taken or the
        // sink has stopped the scan.
        let decode_next = || {
            if stop.load(Relaxed) {
                return None;
            }
            let seg = segs.get(next.fetch_add(1, Relaxed))?;
            let mut st = ScanStats::default();
            let mut out = Vec::new();
            job.run(seg, &mut st, &mut out);
            Some((out, st))
        };
        std::thread::scope(|scope| {
            // Owned here, so a panic on this thread drops the receiver and a helper
            // blocked on a full channel wakes up instead of holding the scope forever.
            let rx = rx;
            for _ in 1..threads {
                let tx = tx.clone();
                let decode_next = &decode_next;
                scope.spawn(move || {
                    while let Some(done) = decode_next() {
                        if tx.send(done).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut stopped = false;
            let mut hand = |(batches, st): (Vec<ScanBatch>, ScanStats), stats: &mut ScanStats| {
                stats.blocks += st.blocks;
                stats.decoded += st.decoded;
                stats.corrupt += st.corrupt;
                if stopped {
                    return;
                }
                for batch in batches {
                    stats.events += batch.len() as u64;
                    if sink(batch).is_break() {
                        stopped = true;
                        stop.store(true, Relaxed);
                        return;
                    }
                }
            };
            // Decode beside the helpers, handing over what they finished in between, so
            // no thread sleeps waiting for another while segments remain.
            while let Some(done) = decode_next() {
                hand(done, &mut stats);
                while let Ok(done) = rx.try_recv() {
                    hand(done, &mut stats);
                }
            }
            for done in rx.iter() {
                hand(done, &mut stats);
            }
        });
        Ok(stats)
    }

    fn scan_rows(
        &self,
        stream: Arc<str>,
        rows: Vec<Row>,
        scan: &Scan,
        wanted: &[String],
    ) -> ScanBatch {
        let text = TextMatch::new(&scan.predicates);
        let keep: Vec<Row> = rows
            .into_iter()
            .filter(|r| {
                row_matches(&scan.predicates, &text, Some(&r.msg), &|p| {
                    field_of(&r.msg, p)
                })
            })
            .collect();
        let msgs: Vec<&str> = keep.iter().map(|r| &*r.msg).collect();
        let fields = scan
            .fields
            .iter()
            .map(|p| column_from_messages(&msgs, p))
            .collect();
        let _ = wanted;
        let keys = if scan.keys { &keep[..] } else { &[] };
        ScanBatch {
            stream,
            rows: keep.len(),
            timestamps: keys.iter().map(|r| r.ts).collect(),
            seqs: keys.iter().map(|r| r.seq).collect(),
            ingestion_times: if scan.ingestion_times {
                keep.iter().map(|r| r.ingest).collect()
            } else {
                Vec::new()
            },
            messages: scan
                .messages
                .then(|| keep.iter().map(|r| r.msg.to_string()).collect()),
            fields,
        }
    }
}

/// Threads decoding a scan's segments.
const SCAN_THREADS: usize = 2;
/// Scans with fewer candidate blocks than this run on the calling thread alone. A block
/// costs tens of microseconds to decode, a thread about as much to start: at 64, 32 of the
/// 50 groups of the 10M benchmark (45% of the top-10 query's blocks) ran on one thread.
const PARALLEL_MIN_BLOCKS: usize = 16;

/// What every segment of one scan shares.
struct SegScan<'a> {
    inner: &'a Inner,
    streams: &'a HashMap<u64, Arc<str>>,
    scan: &'a Scan,
    wanted: &'a [String],
    bounds: &'a Bounds,
    need_msgs: bool,
}

impl SegScan<'_> {
    /// Fetches the surviving blocks of one segment with coalesced range reads and decodes
    /// them into batches.
    fn run(&self, group: &[Candidate], stats: &mut ScanStats, out: &mut Vec<ScanBatch>) {
        let Some((key, _, _, _)) = group.first() else {
            return;
        };
        let text = TextMatch::new(&self.scan.predicates);
        let wants: Vec<Want<'_>> = group
            .iter()
            .map(|(_, index, block, runs)| {
                let blk = index.blocks.get(*block);
                // Fields the block has but did not columnize come from the messages.
                let from_msgs =
                    blk.is_some_and(|blk| self.wanted.iter().any(|p| blk.field_in_messages(p)));
                // Keys not asked for are still read to bound rows of runs reaching past
                // the time range.
                let inside = blk.is_some_and(|blk| {
                    self.bounds.after.is_none()
                        && self.bounds.before.is_none()
                        && runs.iter().all(|&j| {
                            blk.runs.get(j as usize).is_some_and(|r| {
                                r.min_ts >= self.bounds.start && r.max_ts < self.bounds.end
                            })
                        })
                });
                Want {
                    keys: self.scan.keys || !inside,
                    ingest: self.scan.ingestion_times,
                    messages: self.need_msgs || from_msgs,
                    fields: self.wanted,
                    // `scan_decoded` holds every row to these: the others need no string.
                    contains: text.contains(),
                    contains_stored: text.contains_stored(),
                }
            })
            .collect();
        let mut ranges = Vec::new();
        for ((_, index, block, _), w) in group.iter().zip(&wants) {
            if let Some(blk) = index.blocks.get(*block) {
                segment::block_ranges(blk, w, &mut ranges);
            }
        }
        let buffers = match self.inner.fetch_coalesced(key, &ranges) {
            Ok(b) => b,
            Err(e) => {
                stats.corrupt += group.len() as u64;
                self.inner.report(&format!("segment {key}"), &e);
                return;
            }
        };
        let bufs: Vec<(u64, &[u8])> = buffers.iter().map(|(o, b)| (*o, &b[..])).collect();
        // Field predicates whose value a block's dictionary lacks rule the block out
        // before its keys and messages are decoded.
        let gate: Vec<(usize, &str)> = self
            .scan
            .predicates
            .iter()
            .filter_map(|p| match p {
                Predicate::FieldEquals { path, value } => self
                    .wanted
                    .iter()
                    .position(|w| w == path)
                    .map(|j| (j, value.as_str())),
                _ => None,
            })
            .collect();
        for ((_, index, block, runs), want) in group.iter().zip(&wants) {
            let Some(blk) = index.blocks.get(*block) else {
                continue;
            };
            stats.decoded += 1;
            let ranges: Vec<std::ops::Range<usize>> = runs
                .iter()
                .filter_map(|&j| blk.runs.get(j as usize).map(Run::rows))
                .collect();
            let only = (runs.len() < blk.runs.len()).then_some(&ranges[..]);
            let gated = segment::decode_block_gated(
                index.dict.as_deref(),
                blk,
                &bufs,
                want,
                true,
                &gate,
                only,
            );
            match gated {
                Ok(None) => {}
                Ok(Some(d)) => {
                    let runs: Vec<(Arc<str>, &Run)> = runs
                        .iter()
                        .filter_map(|&j| blk.runs.get(j as usize))
                        .filter_map(|r| Some((self.streams.get(&r.stream_id)?.clone(), r)))
                        .collect();
                    scan_decoded(
                        d,
                        blk,
                        &runs,
                        self.bounds,
                        (self.scan, &text),
                        self.wanted,
                        out,
                    );
                }
                Err(e) => {
                    stats.corrupt += 1;
                    self.inner
                        .report(&format!("segment {key} block {block}"), &e);
                }
            }
        }
    }
}

/// Hands the admitted rows of each run of a decoded block to `out`, one batch per run.
/// Rows are selected by field codes first, then by their keys, then by message text, so
/// a selective field predicate reads the keys of its rows only.
fn scan_decoded(
    d: Lazy,
    blk: &BlockMeta,
    runs: &[(Arc<str>, &Run)],
    b: &Bounds,
    (scan, text): (&Scan, &TextMatch<'_>),
    wanted: &[String],
    out: &mut Vec<ScanBatch>,
) {
    let Lazy {
        ts,
        ingest,
        seq,
        messages,
        fields,
        selected,
    } = d;
    let n = usize::try_from(blk.count).unwrap_or(0);
    // Keys are left out only of blocks wholly inside the bounds (`SegScan::run`).
    let keyed = seq.len() == n;
    let mut messages = messages.unwrap_or_default();
    let mut cols: Vec<RawColumn> = Vec::with_capacity(wanted.len());
    let mut decoded = fields.into_iter();
    for p in wanted {
        let col = match decoded.next().flatten() {
            Some(c) => c,
            None if blk.may_have_field(p) => {
                let msgs: Vec<&str> = messages.iter().map(String::as_str).collect();
                RawColumn::from_column(column_from_messages(&msgs, p))
            }
            None => RawColumn::absent(n),
        };
        cols.push(col);
    }
    // Field predicates compare dictionary codes, so no row's value is materialized.
    let mut field_codes: Vec<(usize, u32)> = Vec::new();
    for p in &scan.predicates {
        if let Predicate::FieldEquals { path, value } = p
            && let Some(j) = wanted.iter().position(|w| w == path)
        {
            field_codes.push((j, cols[j].code_of(value)));
        }
    }
    // No row can match: nothing to hand over.
    if field_codes.iter().any(|&(_, c)| c == u32::MAX) {
        return;
    }
    let complete = (keyed || !scan.keys)
        && (!scan.ingestion_times || ingest.len() == n)
        && (!scan.messages || messages.len() == n);
    let no_row_preds =
        field_codes.is_empty() && text.is_empty() && b.after.is_none() && b.before.is_none();
    // Reused by every run's field selection.
    let mut remap: Vec<u32> = Vec::new();
    let (mut ts, mut seq, mut ingest) = (Some(ts), Some(seq), Some(ingest));
    for (stream, run) in runs {
        let range = run.rows();
        if range.end > n {
            continue;
        }
        // A run wholly inside the bounds with no row predicate is handed over without
        // row-by-row selection (the common case of aggregations over a time range); the
        // only run of a block hands its columns over as they are.
        let whole = no_row_preds && complete && run.min_ts >= b.start && run.max_ts < b.end;
        if whole && range.len() == n {
            cols.truncate(scan.fields.len());
            let (ts, seq) = match (ts.take(), seq.take()) {
                (Some(ts), Some(seq)) if scan.keys => (ts.into_vec(), seq.into_vec()),
                _ => (Vec::new(), Vec::new()),
            };
            out.push(ScanBatch {
                stream: stream.clone(),
                rows: n,
                timestamps: ts,
                seqs: seq.into_iter().map(|s| s as u64).collect(),
                ingestion_times: if scan.ingestion_times {
                    ingest.take().unwrap_or_default().into_vec()
                } else {
                    Vec::new()
                },
                messages: scan.messages.then(|| std::mem::take(&mut messages)),
                fields: std::mem::take(&mut cols)
                    .into_iter()
                    .map(|c| c.into_column(n))
                    .collect(),
            });
            return;
        }
        let (Some(ts), Some(seq), Some(ingest)) = (&ts, &seq, &ingest) else {
            return;
        };
        if whole && scan.fields.is_empty() && !scan.messages && !scan.ingestion_times {
            // Timestamps only (counting, binning): copy the run's slices.
            let (rows, range) = (range.len(), if scan.keys { range } else { 0..0 });
            out.push(ScanBatch {
                stream: stream.clone(),
                rows,
                timestamps: ts.range(range.clone()),
                seqs: seq.range(range).into_iter().map(|s| s as u64).collect(),
                ingestion_times: Vec::new(),
                messages: None,
                fields: Vec::new(),
            });
            continue;
        }
        let rows: Vec<usize> = if whole {
            range.collect()
        } else {
            // Rows the block's gates selected (ascending), else the whole run.
            let candidates: Box<dyn Iterator<Item = usize>> = match &selected {
                Some(sel) => {
                    let lo = sel.partition_point(|&r| (r as usize) < range.start);
                    let hi = sel.partition_point(|&r| (r as usize) < range.end);
                    Box::new(
                        sel.get(lo..hi)
                            .unwrap_or_default()
                            .iter()
                            .map(|&r| r as usize),
                    )
                }
                None => Box::new(range),
            };
            candidates
                .filter(|&i| {
                    field_codes.iter().all(|&(j, code)| cols[j].code(i) == code)
                        && (!keyed
                            || ts
                                .get(i)
                                .zip(seq.get(i))
                                .is_some_and(|(t, q)| b.admits((t, q as u64))))
                        && (text.is_empty() || text.matches(messages.get(i).map(String::as_str)))
                })
                .collect()
        };
        if rows.is_empty() {
            continue;
        }
        let keys = if scan.keys { &rows[..] } else { &[] };
        out.push(ScanBatch {
            stream: stream.clone(),
            rows: rows.len(),
            timestamps: keys.iter().filter_map(|&i| ts.get(i)).collect(),
            seqs: keys
                .iter()
                .filter_map(|&i| seq.get(i))
                .map(|s| s as u64)
                .collect(),
            ingestion_times: if scan.ingestion_times {
                rows.iter().filter_map(|&i| ingest.get(i)).collect()
            } else {
                Vec::new()
            },
            messages: if scan.messages {
                Some(
                    rows.iter()
                        .filter_map(|&i| messages.get_mut(i).map(std::mem::take))
                        .collect(),
                )
            } else {
                None
            },
            fields: cols
                .iter()
                .take(scan.fields.len())
                .map(|c| c.select(&rows, &mut remap))
                .collect(),
        });
    }
}
