//! The immutable segment format (version 6; versions 1 to 5 stay readable).
//!
//! ```text
//! "LKSEG\0" version:u16            header, 8 bytes
//! chunk*                           column chunks: every block's key columns, then each
//!                                  field's chunks of every block, then every block's messages
//! index                            one contiguous region: dictionary, segment stats, field
//!                                  paths, segment bloom, block directory
//! index_offset:u64 index_len:u32 index_crc:u32 "LKSEG5IX"     footer, 24 bytes
//! ```
//!
//! A block holds rows of several streams, sorted by stream and then (timestamp, arrival),
//! and is cut by event count and message bytes, so a group-hour of many short-lived
//! streams is a few large blocks rather than one small block per stream. Its directory
//! entry lists its streams as runs (stream id, row count, time range): the stream column,
//! run-length encoded, which lets a one-stream read skip blocks without the stream and
//! decode only its own rows' messages. Per block: timestamps, ingestion times and sequences
//! (delta varints), messages, one chunk per columnized flattened JSON field, a histogram of
//! its events per minute (counting by bins of whole minutes reads no chunk), and a bloom
//! over its tokens and field values when the segment has more than one block. A bloom over
//! the whole segment lets a needle skip the segment without looking at its blocks.
//!
//! Every chunk carries its CRC in the directory and is a zstd frame, or its raw bytes when
//! its stored length equals its raw length (zstd did not shrink it; a frame is always
//! longer than its content). Blooms are blocked (one 512-bit block per item) and hold
//! whole tokens, the first 8 bytes of longer tokens, and (path, value) hashes.
//!
//! Version 4 has version 3's index grammar (footer magic "LKSEG4IX") and layout, but
//! fixed-width columns: timestamps, ingestion times, sequences and dictionary codes are
//! byte planes of `value - base` (`codec::put_planes`), so a scan that
//! selects a few rows by a field's codes reads their keys without decoding the others, and
//! its messages store timestamps written in their text as distances from the event's
//! timestamp (`stamps`). A block's messages are compressed against the segment dictionary
//! followed by its field chunks with at least 1 KiB of dictionary text (flag 4 of the
//! field's directory entry), so request, trace and correlation ids are stored once.
//! Version 3 keys are zstd frames (when smaller) of delta varints.
//!
//! Version 5 (footer magic "LKSEG5IX") adds one field encoding: a dictionary whose entries
//! are all canonical lowercase UUIDs (request ids) stores their 16 bytes instead of their
//! 36 characters, so a scan that reads a few rows' request ids decompresses less than half
//! the bytes and no Huffman-coded hex. The messages' prefix holds such a chunk's entries as
//! text, as before.
//!
//! Version 6 (footer magic "LKSEG6IX") adds a flags byte after the index's segment stats.
//! Flag 1 marks an *unindexed* segment, what a flush under load writes so it costs little
//! more than compressing the messages: its blocks have key columns, messages (no stamps,
//! no dictionary, no field prefix), runs and histograms, but no field
//! directory and no blooms. A reader takes every field of such a block from its messages
//! and prunes its blocks by time and stream only; compaction rebuilds it indexed.
//!
//! Version 1 wrote one stream per block with chunks in block order; version 2 grouped each
//! column's chunks (same directory grammar). Their footer magic is "LKSEGEND", which is how
//! a reader that fetched only the index and footer tells the grammar; their blooms are
//! unblocked, their key columns always raw.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::bloom::{
    Bloom, FastMap, HashSet64, MAX_BLOOM_VALUE, SeenText, field_hash_at, insert_tokens, path_hash,
};
use crate::codec::{
    CodePlanes, PackDict, Planes, Reader, SegDict, ZSTD_MAGIC, push_uuid, put_bytes, put_ivarint,
    put_planes, put_u8, put_u32, put_u64, put_varint, unzigzag, unzstd, unzstd_prefixed,
    uuid_bytes, varint_at, zstd_into, zstd_prefixed,
};
use crate::error::StorageError;
use crate::fields::{Flat, Kind};
use crate::memtable::Row;

const MAGIC: &[u8; 6] = b"LKSEG\0";
/// Footer magic of versions 1 and 2.
const FOOT_MAGIC: &[u8; 8] = b"LKSEGEND";
/// Footer magic of version 3: it tells the index grammar to a reader that fetched only the
/// index and footer.
const FOOT_MAGIC_V3: &[u8; 8] = b"LKSEG3IX";
/// Footer magic of version 4 (version 3's grammar, fixed-width columns, stamped messages).
const FOOT_MAGIC_V4: &[u8; 8] = b"LKSEG4IX";
/// Footer magic of version 5 (version 4 plus UUID dictionaries).
const FOOT_MAGIC_V5: &[u8; 8] = b"LKSEG5IX";
/// Footer magic of version 6 (version 5 plus the index flags byte).
const FOOT_MAGIC_V6: &[u8; 8] = b"LKSEG6IX";
pub(crate) const VERSION: u16 = 6;
/// Index flag of version 6: the segment has no field directory and no blooms.
const FLAG_UNINDEXED: u8 = 1;
/// Oldest format version still decoded.
const MIN_VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 8;
pub(crate) const FOOTER_LEN: usize = 24;
/// Largest decompressed chunk accepted; blocks are cut well below this.
const MAX_CHUNK: usize = 64 << 20;
/// Level 1: on blocks of a few MB of Lambda logs it compressed 3% smaller than level 3
/// (with or without the segment dictionary) and faster.
const ZSTD_LEVEL: i32 = 1;

/// Where a chunk lives and how to verify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) raw_len: u64,
    pub(crate) crc: u32,
}

/// Directory entry of one flattened field in one block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldMeta {
    pub(crate) path: String,
    /// Min and max when every present value is a JSON number.
    pub(crate) numeric: Option<(f64, f64)>,
    /// Absent when the field is only in the raw message (too many distinct long values).
    pub(crate) chunk: Option<ChunkRef>,
    /// The block's messages were compressed against this chunk (version 4): reading them
    /// needs it.
    pub(crate) in_prefix: bool,
}

/// One stream's rows inside a block: rows `start..start + count`, in (timestamp, seq) order.
/// Together a block's runs are its stream column, run-length encoded (rows are sorted by
/// stream first), so reading one stream touches only blocks that hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) stream_id: u64,
    pub(crate) start: u32,
    pub(crate) count: u32,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
}

impl Run {
    pub(crate) fn min_key(&self) -> (i64, u64) {
        (self.min_ts, 0)
    }
    pub(crate) fn max_key(&self) -> (i64, u64) {
        (self.max_ts, u64::MAX)
    }
    /// Row range within the block.
    pub(crate) fn rows(&self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.count as usize
    }
}

/// Width of the buckets of a block's timestamp histogram: any bin width that is a multiple
/// of it can be counted from the histogram without decoding the block.
pub(crate) const HIST_BUCKET_MS: i64 = 60_000;
/// Blocks spanning more buckets than this keep no histogram.
const MAX_HIST_BUCKETS: i64 = 1440;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BlockMeta {
    /// Streams of the block in row order; version 1 and 2 blocks have exactly one.
    pub(crate) runs: Vec<Run>,
    /// Events per [`HIST_BUCKET_MS`] bucket from `min_ts`'s bucket on; empty when absent.
    pub(crate) minutes: Vec<u32>,
    /// Key columns may be zstd frames (version 3 on); always raw varints before.
    pub(crate) packed_keys: bool,
    /// Version 4 encodings: fixed-width keys and codes, stamped messages.
    pub(crate) fixed: bool,
    pub(crate) count: u64,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
    pub(crate) min_seq: u64,
    pub(crate) max_seq: u64,
    pub(crate) raw_bytes: u64,
    pub(crate) ts: ChunkRef,
    pub(crate) ingest: ChunkRef,
    pub(crate) seq: ChunkRef,
    pub(crate) msg: ChunkRef,
    pub(crate) fields: Vec<FieldMeta>,
    pub(crate) bloom: Bloom,
    /// False in unindexed segments: `fields` and `bloom` are empty and say nothing.
    pub(crate) indexed: bool,
}

impl BlockMeta {
    pub(crate) fn field(&self, path: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// Whether the values of `path` can only come from the messages: the block has no
    /// index, or the field is in its directory without a chunk.
    pub(crate) fn field_in_messages(&self, path: &str) -> bool {
        !self.indexed || self.field(path).is_some_and(|f| f.chunk.is_none())
    }

    /// Whether any row of the block may have a value at `path`.
    pub(crate) fn may_have_field(&self, path: &str) -> bool {
        !self.indexed || self.field(path).is_some()
    }
}

/// The decoded index region of a segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentIndex {
    pub(crate) group_id: u64,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
    pub(crate) min_seq: u64,
    pub(crate) max_seq: u64,
    pub(crate) events: u64,
    pub(crate) raw_bytes: u64,
    pub(crate) blocks: Vec<BlockMeta>,
    /// Raw-content zstd dictionary shared by the segment's compressed chunks.
    pub(crate) dict: Option<Arc<SegDict>>,
    /// Bloom over every token and field value of the segment (version 3), so a needle
    /// skips the segment without looking at its blocks.
    pub(crate) bloom: Option<Bloom>,
    /// False for unindexed segments (version 6 flag).
    pub(crate) indexed: bool,
}

/// Field paths of a segment, stored once in the index and referenced by number.
#[derive(Default)]
struct PathTable {
    names: Vec<String>,
    ids: HashMap<String, u64>,
}

impl PathTable {
    fn id(&mut self, path: &str) -> u64 {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let id = self.names.len() as u64;
        self.names.push(path.to_owned());
        self.ids.insert(path.to_owned(), id);
        id
    }
}

/// Bloom bits per distinct item: segment blooms (~3% false positives) and block blooms
/// (~25%). Version 3 wrote 8 and 4: blooms were 13% of a store, and a needle still decodes
/// only a few blocks beyond its hits at 7 and 3.
const SEGMENT_BLOOM_BITS: usize = 7;
const BLOCK_BLOOM_BITS: usize = 3;

/// Segments below this many message bytes get no dictionary.
const DICT_MIN_INPUT: u64 = 16 << 10;
/// Segments of fewer blocks than this get no dictionary.
const DICT_MIN_BLOCKS: u64 = 8;
const DICT_MAX: usize = 32 << 10;

/// A raw-content dictionary: messages sampled evenly across the segment. Small per-stream
/// blocks compress poorly alone; against a dictionary of their neighbours' lines they
/// compress like one large block, while each block stays independently decodable.
///
/// Only segments of many blocks get one: a block of a few MB compresses as well without
/// it (measured on Lambda logs), and its stored copy costs more than it saves unless many
/// blocks share it.
fn sample_dictionary(streams: &[(u64, &[Row])], limits: BlockLimits) -> Option<Vec<u8>> {
    let total: u64 = streams
        .iter()
        .flat_map(|(_, r)| r.iter())
        .map(|r| r.msg.len() as u64)
        .sum();
    let events: usize = streams.iter().map(|(_, r)| r.len()).sum();
    let blocks = (total.div_ceil(limits.max_bytes.max(1) as u64))
        .max(events.div_ceil(limits.max_events.max(1)) as u64);
    if total < DICT_MIN_INPUT || blocks < DICT_MIN_BLOCKS {
        return None;
    }
    let target = (total / 16).min(DICT_MAX as u64) as usize;
    let stride = (total / target as u64).max(1);
    // A leading ASCII byte keeps the bytes from ever reading as a formatted zstd dictionary.
    let mut dict = vec![b'\n'];
    let mut acc = 0u64;
    for r in streams.iter().flat_map(|(_, r)| r.iter()) {
        acc += r.msg.len() as u64;
        if acc >= stride {
            acc -= stride;
            let take = r.msg.len().min(target.saturating_sub(dict.len()));
            dict.extend_from_slice(&r.msg.as_bytes()[..take]);
            dict.push(b'\n');
            if dict.len() >= target {
                break;
            }
        }
    }
    Some(dict)
}

/// A finished segment image and the facts the catalogue records about it.
pub(crate) struct Built {
    pub(crate) bytes: Vec<u8>,
    pub(crate) index_offset: u64,
    pub(crate) index_len: u64,
    pub(crate) index: SegmentIndex,
}

/// Limits on block size: a block is cut at whichever comes first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockLimits {
    pub(crate) max_events: usize,
    pub(crate) max_bytes: usize,
}

/// Chunk bytes of a segment being built, one region per column kind; the regions are
/// concatenated at the end and chunk offsets rebased. Offsets in block metadata are
/// relative to their region until then.
struct Regions<'d> {
    keys: Vec<u8>,
    msgs: Vec<u8>,
    /// Per field path id.
    fields: Vec<Vec<u8>>,
    scratch: Vec<u8>,
    /// A block's message prefix: the dictionary, then its id field chunks.
    prefix: Vec<u8>,
    dict: Option<&'d PackDict>,
    /// The dictionary's bytes, the start of every message chunk's prefix.
    dict_raw: Option<&'d [u8]>,
}

impl Regions<'_> {
    /// Appends `raw` to `region`, as a zstd frame when that is smaller.
    fn put(
        region: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        raw: &[u8],
        dict: Option<&PackDict>,
    ) -> Result<ChunkRef, StorageError> {
        zstd_into(raw, ZSTD_LEVEL, dict, scratch)?;
        Ok(Self::append_chunk(region, scratch, raw))
    }

    /// Appends the chunk `raw`, or its compressed form `packed` when that is smaller, and
    /// returns where it went.
    fn append_chunk(region: &mut Vec<u8>, packed: &[u8], raw: &[u8]) -> ChunkRef {
        let offset = region.len();
        // Raw only when zstd does not shrink the chunk and the bytes cannot be mistaken
        // for a frame (see `open_chunk`).
        if packed.len() < raw.len() || raw.starts_with(&ZSTD_MAGIC) {
            region.extend_from_slice(packed);
        } else {
            region.extend_from_slice(raw);
        }
        let stored = &region[offset..];
        ChunkRef {
            offset: offset as u64,
            len: stored.len() as u64,
            raw_len: raw.len() as u64,
            crc: crc32fast::hash(stored),
        }
    }

    /// Like [`Regions::put`], compressing against a raw-content `prefix` instead of the
    /// segment dictionary.
    fn put_prefixed(
        region: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        raw: &[u8],
        prefix: &[u8],
    ) -> Result<ChunkRef, StorageError> {
        zstd_prefixed(raw, ZSTD_LEVEL, prefix, scratch)?;
        Ok(Self::append_chunk(region, scratch, raw))
    }
}

/// Field chunks whose dictionary holds at least this many bytes of text join their
/// block's message prefix; below it they would cost more to read than they save.
const PREFIX_MIN_TEXT: usize = 1024;

/// Buffers of one block's build, reused from block to block.
#[derive(Default)]
struct Scratch {
    flat: Flat,
    ts: Vec<u8>,
    ing: Vec<u8>,
    seq: Vec<u8>,
    msg: Vec<u8>,
    col: Vec<u8>,
    hashes: HashSet64,
    seen: SeenText,
    /// (path, value) pairs whose field hash and tokens the block's set holds.
    seen_fields: SeenText,
    /// Field values of the block, referenced by span.
    arena: String,
    /// Per path id of `flat`'s paths.
    slots: Vec<Slot>,
    /// Paths with values in the current block.
    touched: Vec<u32>,
    /// Number of the current block, from 1.
    block: u32,
    /// Stamps of the message being written ([`stamps::put_message`]).
    stamps: Vec<stamps::Found>,
}

/// What the build keeps per flattened path.
#[derive(Default)]
struct Slot {
    /// The block `acc` holds values of; a stale accumulator is reset on first use.
    block: u32,
    /// The block whose bloom set has the tokens of the path's last key.
    key_block: u32,
    /// [`path_hash`] of the path, the first half of its values' field hashes.
    path_hash: Option<u64>,
    acc: FieldAcc,
}

fn slot_mut(slots: &mut Vec<Slot>, id: u32) -> &mut Slot {
    let i = id as usize;
    if slots.len() <= i {
        slots.resize_with(i + 1, Slot::default);
    }
    &mut slots[i]
}

/// One field's values in a block: rows that have it (ascending) and their value spans in
/// the arena.
#[derive(Default)]
struct FieldAcc {
    rows: Vec<u32>,
    spans: Vec<(u32, u32)>,
    numeric: Option<(f64, f64)>,
    all_numeric: bool,
    value_bytes: usize,
    /// The values numbered as they came (the dictionary `encode_field` would build): per
    /// row its value's number from 1, and each number's value. Valid while `interned`
    /// (every value was the message's own bytes, short enough to hash, and no row
    /// repeated the key).
    interned: bool,
    codes: Vec<u32>,
    order: Vec<(u32, u32)>,
}

impl FieldAcc {
    /// Empties the accumulator for a new block, keeping its buffers.
    fn reset(&mut self) {
        self.rows.clear();
        self.spans.clear();
        self.numeric = None;
        self.all_numeric = true;
        self.value_bytes = 0;
        self.interned = true;
        self.codes.clear();
        self.order.clear();
    }
}

/// The buffers of a segment build, kept by the thread for its next segment: a flush builds
/// hundreds of segments on a few threads, and growing every buffer afresh for each one
/// (fresh pages, reallocations) cost more than some small segments' encoding.
#[derive(Default)]
struct Spare {
    sc: Scratch,
    keys: Vec<u8>,
    msgs: Vec<u8>,
    fields: Vec<Vec<u8>>,
    scratch: Vec<u8>,
    prefix: Vec<u8>,
    /// Union of the blocks' bloom hashes.
    all: HashSet64,
}

/// Most buffer bytes a thread keeps between segments.
const SPARE_MAX_BYTES: usize = 64 << 20;

thread_local! {
    static SPARE: std::cell::RefCell<Option<Box<Spare>>> = const { std::cell::RefCell::new(None) };
}

impl Spare {
    /// This thread's spare buffers, emptied of the last segment's content.
    fn take() -> Box<Spare> {
        let mut sp = SPARE.with(|s| s.borrow_mut().take()).unwrap_or_default();
        // Path ids are the segment's own: slots forget the last segment's paths (keeping
        // their buffers) and are reset on first use, as `block` only grows.
        sp.sc.flat = Flat::default();
        for slot in &mut sp.sc.slots {
            slot.path_hash = None;
            slot.block = 0;
            slot.key_block = 0;
        }
        sp.keys.clear();
        sp.msgs.clear();
        for f in &mut sp.fields {
            f.clear();
        }
        sp.all.clear();
        sp
    }

    /// Keeps the buffers for the thread's next segment unless they grew past
    /// [`SPARE_MAX_BYTES`] (a large compaction's), which would stay allocated for good.
    fn put_back(self: Box<Self>) {
        let sc = &self.sc;
        let bytes = [&self.keys, &self.msgs, &self.scratch, &self.prefix]
            .into_iter()
            .chain(&self.fields)
            .chain([&sc.ts, &sc.ing, &sc.seq, &sc.msg, &sc.col])
            .map(Vec::capacity)
            .sum::<usize>()
            + sc.arena.capacity()
            + (self.all.capacity() + sc.hashes.capacity()) * 8;
        if bytes <= SPARE_MAX_BYTES {
            SPARE.with(|s| *s.borrow_mut() = Some(self));
        }
    }
}

/// Writes a segment for one group from streams' rows, each sorted by (timestamp, seq).
pub(crate) fn build(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
) -> Result<Built, StorageError> {
    build_spared(group_id, streams, limits, true)
}

/// Like [`build`], an unindexed segment (no field columns, no blooms), at a fraction of the
/// cost: what a flush writes while appends are arriving faster than indexing keeps up.
pub(crate) fn build_unindexed(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
) -> Result<Built, StorageError> {
    build_spared(group_id, streams, limits, false)
}

fn build_spared(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
    indexed: bool,
) -> Result<Built, StorageError> {
    let mut spare = Spare::take();
    let r = build_with(group_id, streams, limits, &mut spare, indexed);
    spare.put_back();
    r
}

fn build_with(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
    spare: &mut Spare,
    indexed: bool,
) -> Result<Built, StorageError> {
    let dict = if indexed {
        sample_dictionary(streams, limits)
    } else {
        None
    };
    let pack = match &dict {
        Some(d) => Some(PackDict::new(d, ZSTD_LEVEL)?),
        None => None,
    };
    let Spare {
        sc,
        keys,
        msgs,
        fields,
        scratch,
        prefix,
        all,
    } = spare;
    let mut regions = Regions {
        keys: std::mem::take(keys),
        msgs: std::mem::take(msgs),
        fields: std::mem::take(fields),
        scratch: std::mem::take(scratch),
        prefix: std::mem::take(prefix),
        dict: pack.as_ref(),
        dict_raw: dict.as_deref(),
    };
    let r = build_regions(group_id, streams, limits, &mut regions, sc, all, indexed);
    // Handed back for the next segment whatever happened.
    (*keys, *msgs, *fields, *scratch, *prefix) = (
        regions.keys,
        regions.msgs,
        regions.fields,
        regions.scratch,
        regions.prefix,
    );
    r
}

fn build_regions(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
    regions: &mut Regions<'_>,
    sc: &mut Scratch,
    all_hashes: &mut HashSet64,
    indexed: bool,
) -> Result<Built, StorageError> {
    let block = |regions: &mut Regions<'_>,
                 sc: &mut Scratch,
                 pieces: &[(u64, &[Row])],
                 paths: &mut PathTable| {
        if indexed {
            build_block(regions, sc, pieces, paths)
        } else {
            build_unindexed_block(regions, sc, pieces)
        }
    };
    let mut paths = PathTable::default();
    let mut blocks = Vec::new();
    // Blocks take rows stream after stream until a limit is reached, so a segment of many
    // short-lived streams still has a few large blocks.
    let mut pieces: Vec<(u64, &[Row])> = Vec::new();
    let (mut events, mut bytes) = (0usize, 0usize);
    let mut block_hashes: Vec<Vec<u64>> = Vec::new();
    for &(stream_id, rows) in streams {
        let mut rest = rows;
        while !rest.is_empty() {
            let mut take = 0;
            while take < rest.len() && events < limits.max_events && bytes < limits.max_bytes {
                bytes += rest[take].msg.len();
                events += 1;
                take += 1;
            }
            let (head, tail) = rest.split_at(take);
            if !head.is_empty() {
                pieces.push((stream_id, head));
            }
            rest = tail;
            if events >= limits.max_events || bytes >= limits.max_bytes {
                blocks.push(block(regions, sc, &pieces, &mut paths)?);
                block_hashes.push(sc.hashes.take());
                pieces.clear();
                (events, bytes) = (0, 0);
            }
        }
    }
    if !pieces.is_empty() {
        blocks.push(block(regions, sc, &pieces, &mut paths)?);
        block_hashes.push(sc.hashes.take());
    }
    // One segment-wide bloom; per-block blooms only where there is more than one block to
    // choose between.
    // The segment bloom decides for most segments; block blooms only choose among the
    // blocks of a segment that passed, so they are sparser.
    let seg_bloom = match &block_hashes[..] {
        _ if !indexed => None,
        [only] => Some(Bloom::build_blocked(only, SEGMENT_BLOOM_BITS)),
        many => {
            for &h in many.iter().flatten() {
                all_hashes.insert(h);
            }
            let all = all_hashes.take();
            for (b, h) in blocks.iter_mut().zip(many) {
                b.bloom = Bloom::build_blocked(h, BLOCK_BLOOM_BITS);
            }
            Some(Bloom::build_blocked(&all, SEGMENT_BLOOM_BITS))
        }
    };
    // Concatenate the regions and rebase every chunk. Buffers kept from an earlier
    // segment may hold more (empty) field regions than this segment has paths.
    let field_regions = &regions.fields[..paths.names.len().min(regions.fields.len())];
    let mut out = Vec::with_capacity(
        HEADER_LEN
            + regions.keys.len()
            + regions.msgs.len()
            + field_regions.iter().map(Vec::len).sum::<usize>()
            + blocks.len() * 256,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let keys_base = out.len() as u64;
    out.extend_from_slice(&regions.keys);
    let mut field_base = Vec::with_capacity(field_regions.len());
    for f in field_regions {
        field_base.push(out.len() as u64);
        out.extend_from_slice(f);
    }
    let msgs_base = out.len() as u64;
    out.extend_from_slice(&regions.msgs);
    for b in &mut blocks {
        b.ts.offset += keys_base;
        b.ingest.offset += keys_base;
        b.seq.offset += keys_base;
        b.msg.offset += msgs_base;
        for f in &mut b.fields {
            let id = paths.ids.get(f.path.as_str()).copied().unwrap_or(0) as usize;
            if let Some(c) = &mut f.chunk {
                c.offset += field_base.get(id).copied().unwrap_or(0);
            }
        }
    }
    let index = SegmentIndex {
        group_id,
        min_ts: blocks.iter().map(|b| b.min_ts).min().unwrap_or(0),
        max_ts: blocks.iter().map(|b| b.max_ts).max().unwrap_or(0),
        min_seq: blocks.iter().map(|b| b.min_seq).min().unwrap_or(0),
        max_seq: blocks.iter().map(|b| b.max_seq).max().unwrap_or(0),
        events: blocks.iter().map(|b| b.count).sum(),
        raw_bytes: blocks.iter().map(|b| b.raw_bytes).sum(),
        blocks,
        dict: match regions.dict_raw {
            Some(d) => Some(Arc::new(SegDict::new(d.to_vec())?)),
            None => None,
        },
        bloom: seg_bloom,
        indexed,
    };
    // The index region: dictionary (needed by every block) and index, read with one range.
    let index_offset = out.len() as u64;
    let packed_dict = match &index.dict {
        Some(d) => zstd::bulk::compress(&d.raw, ZSTD_LEVEL)?,
        None => Vec::new(),
    };
    put_u32(&mut out, packed_dict.len() as u32);
    put_u32(
        &mut out,
        index.dict.as_ref().map_or(0, |d| d.raw.len()) as u32,
    );
    out.extend_from_slice(&packed_dict);
    encode_index(&index, &paths.names, &mut out);
    let index_len = out.len() as u64 - index_offset;
    let crc = crc32fast::hash(&out[index_offset as usize..]);
    put_u64(&mut out, index_offset);
    put_u32(&mut out, index_len as u32);
    put_u32(&mut out, crc);
    out.extend_from_slice(FOOT_MAGIC_V6);
    Ok(Built {
        bytes: out,
        index_offset,
        index_len,
        index,
    })
}

fn build_block(
    regions: &mut Regions<'_>,
    sc: &mut Scratch,
    pieces: &[(u64, &[Row])],
    paths: &mut PathTable,
) -> Result<BlockMeta, StorageError> {
    let n: usize = pieces.iter().map(|(_, r)| r.len()).sum();
    let runs = block_runs(pieces);
    let rows = pieces.iter().flat_map(|(_, r)| r.iter());
    for v in [&mut sc.ts, &mut sc.ing, &mut sc.seq, &mut sc.msg] {
        v.clear();
    }
    sc.hashes.clear();
    sc.seen.clear();
    sc.seen_fields.clear();
    sc.arena.clear();
    sc.touched.clear();
    sc.block += 1;
    let block = sc.block;
    let mut raw_bytes = 0u64;
    for (i, r) in rows.enumerate() {
        stamps::put_message(&mut sc.msg, &mut sc.stamps, &r.msg, r.ts);
        raw_bytes += r.msg.len() as u64;
        if !r.msg.trim_start().starts_with('{') {
            insert_tokens(&r.msg, &mut sc.hashes);
            continue;
        }
        sc.flat.parse(&r.msg);
        // A JSON line's tokens are its keys' and values' tokens; most of those recur
        // within a block, and each distinct one is tokenized and hashed once per block.
        let exact = match sc.flat.token_sources() {
            Some((keys, spans)) => {
                for &id in keys {
                    let slot = slot_mut(&mut sc.slots, id);
                    if slot.key_block != block {
                        slot.key_block = block;
                        if let Some(k) = sc.flat.paths().plain_key(id) {
                            insert_tokens(k, &mut sc.hashes);
                        }
                    }
                }
                for &(a, b) in spans {
                    if let Some(text) = r.msg.get(a as usize..b as usize) {
                        sc.seen.insert_tokens(text, &mut sc.hashes);
                    }
                }
                true
            }
            None => {
                insert_tokens(&r.msg, &mut sc.hashes);
                false
            }
        };
        for f in sc.flat.fields() {
            let slot = slot_mut(&mut sc.slots, f.path);
            if slot.block != block {
                slot.block = block;
                slot.acc.reset();
                sc.touched.push(f.path);
            }
            let path_hash = *slot
                .path_hash
                .get_or_insert_with(|| path_hash(sc.flat.paths().name(f.path)));
            let value = f.value;
            let acc = &mut slot.acc;
            let start = sc.arena.len() as u32;
            sc.arena.push_str(value);
            let span = (start, sc.arena.len() as u32);
            // With exact token sources, a value the block has seen at this path has its
            // field hash and (being the message's own bytes) its tokens in the set; the
            // same look-up numbers the path's distinct values for its dictionary.
            let mut code = None;
            let own_tokens = exact && f.raw;
            if value.len() <= MAX_BLOOM_VALUE {
                let h = field_hash_at(path_hash, value);
                // The top bit of a number records that the value's tokens went in with it.
                let next = (acc.order.len() as u32 + 1) | (u32::from(own_tokens) << 31);
                let (first, c) = sc.seen_fields.intern(h, f.path, value.as_bytes(), next);
                if first {
                    sc.hashes.insert(h);
                    acc.order.push(span);
                }
                if own_tokens && (first || c >> 31 == 0) {
                    insert_tokens(value, &mut sc.hashes);
                }
                code = Some(c & !(1 << 31));
                // The reference build of the tests numbers values in `encode_field`.
                #[cfg(test)]
                if crate::fields::SERDE_ONLY.get() {
                    code = None;
                }
            } else if own_tokens {
                sc.seen.insert_tokens(value, &mut sc.hashes);
            }
            if f.kind == Kind::Number {
                if let Ok(v) = value.parse::<f64>() {
                    acc.numeric = Some(match acc.numeric {
                        Some((lo, hi)) => (lo.min(v), hi.max(v)),
                        None => (v, v),
                    });
                }
            } else {
                acc.all_numeric = false;
            }
            // A repeated key: the last value wins, as in a parsed JSON object.
            if acc.rows.last() == Some(&(i as u32)) {
                // The first value may hold a dictionary number no row keeps.
                acc.interned = false;
                if let Some(last) = acc.spans.last_mut() {
                    acc.value_bytes -= (last.1 - last.0) as usize;
                    *last = span;
                }
            } else {
                acc.rows.push(i as u32);
                acc.spans.push(span);
                match code {
                    Some(c) => acc.codes.push(c),
                    None => acc.interned = false,
                }
            }
            acc.value_bytes += value.len();
        }
    }
    // Key columns are zstd frames too when that is smaller (version 3): ingestion times
    // and sequence deltas repeat.
    key_columns(pieces, sc);
    let mut key = |raw: &[u8]| Regions::put(&mut regions.keys, &mut regions.scratch, raw, None);
    let ts_ref = key(&sc.ts)?;
    let ing_ref = key(&sc.ing)?;
    let seq_ref = key(&sc.seq)?;
    // Messages compress against the segment dictionary and the field chunks whose values
    // they repeat (request and trace ids), so those bytes are stored once.
    let mut prefix = std::mem::take(&mut regions.prefix);
    prefix.clear();
    prefix.extend_from_slice(regions.dict_raw.unwrap_or_default());
    let dict_len = prefix.len();
    let mut names: Vec<(&str, u32)> = sc
        .touched
        .iter()
        .map(|&id| (sc.flat.paths().name(id), id))
        .collect();
    names.sort_unstable();
    let mut metas = Vec::with_capacity(names.len());
    for (path, slot) in names {
        let Some(acc) = sc.slots.get(slot as usize).map(|s| &s.acc) else {
            continue;
        };
        let id = paths.id(path) as usize;
        if regions.fields.len() <= id {
            regions.fields.resize_with(id + 1, Vec::new);
        }
        let mut in_prefix = false;
        let chunk_ref = if let Some(text) = encode_field(acc, &sc.arena, n, &mut sc.col) {
            if text >= PREFIX_MIN_TEXT {
                prefix_text(&sc.col, &mut prefix)?;
                in_prefix = true;
            }
            Some(Regions::put(
                &mut regions.fields[id],
                &mut regions.scratch,
                &sc.col,
                regions.dict,
            )?)
        } else {
            None
        };
        let numeric = if acc.all_numeric { acc.numeric } else { None };
        metas.push(FieldMeta {
            path: path.to_owned(),
            numeric,
            chunk: chunk_ref,
            in_prefix,
        });
    }
    let msg_ref = if prefix.len() > dict_len {
        Regions::put_prefixed(&mut regions.msgs, &mut regions.scratch, &sc.msg, &prefix)
    } else {
        Regions::put(
            &mut regions.msgs,
            &mut regions.scratch,
            &sc.msg,
            regions.dict,
        )
    };
    regions.prefix = prefix;
    let chunks = [ts_ref, ing_ref, seq_ref, msg_ref?];
    finish_block(pieces, runs, raw_bytes, chunks, metas, true)
}

/// The runs of a block made of `pieces`, one per stream.
fn block_runs(pieces: &[(u64, &[Row])]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::with_capacity(pieces.len());
    let mut at = 0u32;
    for &(stream_id, rows) in pieces {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            continue;
        };
        runs.push(Run {
            stream_id,
            start: at,
            count: rows.len() as u32,
            min_ts: first.ts,
            max_ts: last.ts,
        });
        at += rows.len() as u32;
    }
    runs
}

/// A block's directory entry from its runs and chunks (timestamps, ingestion times,
/// sequences, messages), with its per-minute histogram.
fn finish_block(
    pieces: &[(u64, &[Row])],
    runs: Vec<Run>,
    raw_bytes: u64,
    [ts, ingest, seq, msg]: [ChunkRef; 4],
    fields: Vec<FieldMeta>,
    indexed: bool,
) -> Result<BlockMeta, StorageError> {
    if runs.is_empty() {
        return Err(StorageError::Invalid("empty block".into()));
    }
    let n: usize = pieces.iter().map(|(_, r)| r.len()).sum();
    let min_ts = runs.iter().map(|r| r.min_ts).min().unwrap_or(0);
    let max_ts = runs.iter().map(|r| r.max_ts).max().unwrap_or(0);
    let first = min_ts.div_euclid(HIST_BUCKET_MS);
    let span = max_ts.div_euclid(HIST_BUCKET_MS) - first + 1;
    let mut minutes = Vec::new();
    if span <= MAX_HIST_BUCKETS {
        minutes.resize(span as usize, 0u32);
        for r in pieces.iter().flat_map(|(_, r)| r.iter()) {
            if let Some(c) = minutes.get_mut((r.ts.div_euclid(HIST_BUCKET_MS) - first) as usize) {
                *c += 1;
            }
        }
    }
    let seqs = pieces.iter().flat_map(|(_, r)| r.iter()).map(|r| r.seq);
    Ok(BlockMeta {
        runs,
        minutes,
        packed_keys: true,
        fixed: true,
        count: n as u64,
        min_ts,
        max_ts,
        min_seq: seqs.clone().min().unwrap_or(0),
        max_seq: seqs.max().unwrap_or(0),
        raw_bytes,
        ts,
        ingest,
        seq,
        msg,
        fields,
        // Set by `build` once it knows whether the segment has more than one block.
        bloom: Bloom::empty(),
        indexed,
    })
}

/// A block of an unindexed segment: key columns, messages verbatim (no stamps) against no
/// dictionary, runs and histogram; no field parsing, tokens or hashing. (zstd's negative
/// levels were 10–30% faster here but stored 1/5 of the raw bytes instead of 1/7.)
fn build_unindexed_block(
    regions: &mut Regions<'_>,
    sc: &mut Scratch,
    pieces: &[(u64, &[Row])],
) -> Result<BlockMeta, StorageError> {
    let runs = block_runs(pieces);
    sc.msg.clear();
    let mut raw_bytes = 0u64;
    for r in pieces.iter().flat_map(|(_, r)| r.iter()) {
        stamps::put_verbatim(&mut sc.msg, &r.msg);
        raw_bytes += r.msg.len() as u64;
    }
    key_columns(pieces, sc);
    let mut key = |raw: &[u8]| Regions::put(&mut regions.keys, &mut regions.scratch, raw, None);
    let chunks = [key(&sc.ts)?, key(&sc.ing)?, key(&sc.seq)?, {
        Regions::put(&mut regions.msgs, &mut regions.scratch, &sc.msg, None)?
    }];
    finish_block(pieces, runs, raw_bytes, chunks, Vec::new(), false)
}

/// Writes the block's timestamps, ingestion times and sequences as fixed-width columns.
fn key_columns(pieces: &[(u64, &[Row])], sc: &mut Scratch) {
    let rows = || pieces.iter().flat_map(|(_, r)| r.iter());
    let mut vals: Vec<i64> = Vec::with_capacity(rows().count());
    type Get = fn(&Row) -> i64;
    let cols: [(&mut Vec<u8>, Get); 3] = [
        (&mut sc.ts, |r| r.ts),
        (&mut sc.ing, |r| r.ingest),
        (&mut sc.seq, |r| r.seq as i64),
    ];
    for (out, get) in cols {
        vals.clear();
        vals.extend(rows().map(get));
        out.clear();
        put_planes(out, &vals);
    }
}

/// Dictionary-codes low-cardinality fields (levels, services, request and trace ids shared by
/// an invocation's lines); keeps numbers plain; leaves mostly distinct text (free-text
/// messages, formatted timestamps, per-event identifiers such as client IPs and user ids) to
/// the raw message only, where blooms and the message serve lookups and a column would
/// repeat the message's bytes (measured: those plain columns were 4% of a segment). Writes the column to
/// `raw` and returns, when the field gets one, the bytes of text in its dictionary.
fn encode_field(acc: &FieldAcc, arena: &str, n: usize, raw: &mut Vec<u8>) -> Option<usize> {
    raw.clear();
    let value = |&(a, b): &(u32, u32)| arena.get(a as usize..b as usize).unwrap_or("");
    let present = acc.rows.len().max(1);
    let mut dict: FastMap<&str, u32> = FastMap::default();
    let mut order: Vec<&str> = Vec::new();
    let mut codes: Vec<u32> = Vec::with_capacity(acc.rows.len());
    // The build numbered most fields' values as it fed them: the same dictionary.
    if acc.interned {
        order.extend(acc.order.iter().map(value));
        codes.extend_from_slice(&acc.codes);
        if !acc.all_numeric && order.len() > 16 && order.len() * 4 > present {
            return None;
        }
    }
    for span in acc.spans.iter().filter(|_| !acc.interned) {
        let v = value(span);
        let next = order.len() as u32 + 1;
        let code = *dict.entry(v).or_insert_with(|| {
            order.push(v);
            next
        });
        codes.push(code);
        // Distinct values only grow: once too many for a dictionary, text gets no column.
        if !acc.all_numeric && order.len() > 16 && order.len() * 4 > present {
            return None;
        }
    }
    let distinct = order.len();
    let mut present_rows = acc.rows.iter().zip(acc.spans.iter().zip(&codes)).peekable();
    if distinct * 4 <= present || distinct <= 16 {
        // Fixed-width codes (version 4): a scan reads the rows it selects only. A dictionary
        // of UUIDs (request ids) keeps their 16 bytes (version 5): smaller than their text
        // compressed, and random bytes zstd leaves literal decompress at copying speed.
        let ids: Option<Vec<[u8; 16]>> = order.iter().map(|s| uuid_bytes(s.as_bytes())).collect();
        match ids {
            Some(ids) if !ids.is_empty() => {
                put_u8(raw, 3);
                put_varint(raw, distinct as u64);
                for id in &ids {
                    raw.extend_from_slice(id);
                }
            }
            _ => {
                put_u8(raw, 2);
                put_varint(raw, distinct as u64);
                for s in &order {
                    put_bytes(raw, s.as_bytes());
                }
            }
        }
        let all: Vec<i64> = (0..n as u32)
            .map(|i| match present_rows.next_if(|(r, _)| **r == i) {
                Some((_, (_, &code))) => i64::from(code),
                None => 0,
            })
            .collect();
        put_planes(raw, &all);
        Some(order.iter().map(|s| s.len()).sum())
    } else if acc.all_numeric {
        put_u8(raw, 1);
        for i in 0..n as u32 {
            match present_rows.next_if(|(r, _)| **r == i) {
                Some((_, (span, _))) => {
                    let s = value(span);
                    put_varint(raw, s.len() as u64 + 1);
                    raw.extend_from_slice(s.as_bytes());
                }
                None => put_varint(raw, 0),
            }
        }
        Some(0)
    } else {
        None
    }
}

fn put_chunk(out: &mut Vec<u8>, c: &ChunkRef) {
    put_varint(out, c.offset);
    put_varint(out, c.len);
    put_varint(out, c.raw_len);
    put_u32(out, c.crc);
}

fn put_bloom(out: &mut Vec<u8>, b: &Bloom) {
    put_u8(out, b.k);
    put_varint(out, b.words.len() as u64);
    for w in &b.words {
        put_u64(out, *w);
    }
}

/// Writes the version 6 index: version 2's grammar plus the segment bloom after the paths,
/// and per block its runs and timestamp histogram after its bloom (no stream id) (version
/// 3), plus the flags byte after the segment stats (version 6).
fn encode_index(ix: &SegmentIndex, paths: &[String], out: &mut Vec<u8>) {
    let ids: HashMap<&str, u64> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i as u64))
        .collect();
    put_varint(out, ix.group_id);
    put_ivarint(out, ix.min_ts);
    put_ivarint(out, ix.max_ts);
    put_varint(out, ix.min_seq);
    put_varint(out, ix.max_seq);
    put_varint(out, ix.events);
    put_varint(out, ix.raw_bytes);
    put_u8(out, if ix.indexed { 0 } else { FLAG_UNINDEXED });
    put_varint(out, paths.len() as u64);
    for p in paths {
        put_bytes(out, p.as_bytes());
    }
    put_bloom(out, ix.bloom.as_ref().unwrap_or(&Bloom::empty()));
    put_varint(out, ix.blocks.len() as u64);
    for b in &ix.blocks {
        put_varint(out, b.count);
        put_ivarint(out, b.min_ts);
        put_ivarint(out, b.max_ts);
        put_varint(out, b.min_seq);
        put_varint(out, b.max_seq);
        put_varint(out, b.raw_bytes);
        for c in [&b.ts, &b.ingest, &b.seq, &b.msg] {
            put_chunk(out, c);
        }
        put_varint(out, b.fields.len() as u64);
        for f in &b.fields {
            put_varint(out, ids.get(f.path.as_str()).copied().unwrap_or(0));
            let flags = u8::from(f.chunk.is_some())
                | (u8::from(f.numeric.is_some()) << 1)
                | (u8::from(f.in_prefix) << 2);
            put_u8(out, flags);
            if let Some((lo, hi)) = f.numeric {
                put_u64(out, lo.to_bits());
                put_u64(out, hi.to_bits());
            }
            if let Some(c) = &f.chunk {
                put_chunk(out, c);
            }
        }
        put_bloom(out, &b.bloom);
        put_varint(out, b.runs.len() as u64);
        let mut prev = 0u64;
        for r in &b.runs {
            // Stream ids ascend within a block (rows are sorted by stream).
            put_varint(out, r.stream_id.wrapping_sub(prev));
            prev = r.stream_id;
            put_varint(out, u64::from(r.count));
            put_varint(out, r.min_ts.wrapping_sub(b.min_ts) as u64);
            put_varint(out, r.max_ts.wrapping_sub(r.min_ts) as u64);
        }
        put_varint(out, b.minutes.len() as u64);
        for &m in &b.minutes {
            put_varint(out, u64::from(m));
        }
    }
}

fn read_chunk(r: &mut Reader<'_>) -> Result<ChunkRef, StorageError> {
    Ok(ChunkRef {
        offset: r.varint()?,
        len: r.varint()?,
        raw_len: r.varint()?,
        crc: r.u32()?,
    })
}

/// A parsed footer: where the index is, its checksum, and which index grammar it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) crc: u32,
    /// 2 for versions 1 and 2 (one grammar), else the version (3 to 5 share a grammar,
    /// 6 adds the flags byte,
    /// and differ in column encodings).
    pub(crate) grammar: u16,
}

/// Parses the 24-byte footer.
pub(crate) fn decode_footer(f: &[u8]) -> Result<Footer, StorageError> {
    let mut r = Reader::new(f, "segment footer");
    let offset = r.u64()?;
    let len = u64::from(r.u32()?);
    let crc = r.u32()?;
    let grammar = match r.take(8)? {
        m if m == FOOT_MAGIC => 2,
        m if m == FOOT_MAGIC_V3 => 3,
        m if m == FOOT_MAGIC_V4 => 4,
        m if m == FOOT_MAGIC_V5 => 5,
        m if m == FOOT_MAGIC_V6 => 6,
        _ => return Err(r.corrupt("bad magic")),
    };
    Ok(Footer {
        offset,
        len,
        crc,
        grammar,
    })
}

fn read_bloom(r: &mut Reader<'_>, blocked: bool) -> Result<Bloom, StorageError> {
    let k = r.u8()?;
    let nw = r.len(8)?;
    let mut words = Vec::with_capacity(nw);
    for _ in 0..nw {
        words.push(r.u64()?);
    }
    Ok(Bloom {
        k: k.clamp(1, 16),
        words,
        blocked,
    })
}

/// Decodes and validates an index region against the segment's data length.
pub(crate) fn decode_index(
    bytes: &[u8],
    crc: Option<u32>,
    data_end: u64,
    grammar: u16,
) -> Result<SegmentIndex, StorageError> {
    if let Some(crc) = crc
        && crc32fast::hash(bytes) != crc
    {
        return Err(StorageError::corrupt("segment index", "checksum mismatch"));
    }
    let mut r = Reader::new(bytes, "segment index");
    let packed_len = r.u32()? as usize;
    let dict_len = r.u32()? as usize;
    let packed = r.take(packed_len)?;
    let dict: Option<Arc<SegDict>> = if packed_len == 0 {
        None
    } else {
        if dict_len > DICT_MAX + 1 {
            return Err(r.corrupt("dictionary too large"));
        }
        let raw = unzstd(packed, dict_len, None, "segment dictionary")?;
        Some(Arc::new(SegDict::new(raw)?))
    };
    let group_id = r.varint()?;
    let min_ts = r.ivarint()?;
    let max_ts = r.ivarint()?;
    let min_seq = r.varint()?;
    let max_seq = r.varint()?;
    let events = r.varint()?;
    let raw_bytes = r.varint()?;
    let flags = if grammar >= 6 { r.u8()? } else { 0 };
    if flags & !FLAG_UNINDEXED != 0 {
        return Err(r.corrupt("unknown index flags"));
    }
    let indexed = flags & FLAG_UNINDEXED == 0;
    let np = r.len(1)?;
    let mut paths = Vec::with_capacity(np);
    for _ in 0..np {
        paths.push(r.str()?.to_owned());
    }
    let v3 = grammar >= 3;
    let bloom = if v3 {
        Some(read_bloom(&mut r, true)?)
    } else {
        None
    };
    // An unindexed segment's (empty) bloom must not rule anything out.
    let bloom = bloom.filter(|_| indexed);
    let n = r.len(20)?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let stream_id = if v3 { 0 } else { r.varint()? };
        let count = r.varint()?;
        let bmin = r.ivarint()?;
        let bmax = r.ivarint()?;
        let smin = r.varint()?;
        let smax = r.varint()?;
        let braw = r.varint()?;
        let ts = read_chunk(&mut r)?;
        let ingest = read_chunk(&mut r)?;
        let seq = read_chunk(&mut r)?;
        let msg = read_chunk(&mut r)?;
        let nf = r.len(3)?;
        let mut fields = Vec::with_capacity(nf);
        for _ in 0..nf {
            let id = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
            let path = paths
                .get(id)
                .ok_or_else(|| r.corrupt("unknown field path"))?
                .clone();
            let flags = r.u8()?;
            let numeric = if flags & 2 != 0 {
                Some((f64::from_bits(r.u64()?), f64::from_bits(r.u64()?)))
            } else {
                None
            };
            let chunk = if flags & 1 != 0 {
                Some(read_chunk(&mut r)?)
            } else {
                None
            };
            fields.push(FieldMeta {
                path,
                numeric,
                // Only version 4 compresses messages against field chunks.
                in_prefix: grammar >= 4 && flags & 4 != 0 && chunk.is_some(),
                chunk,
            });
        }
        let bloom = read_bloom(&mut r, v3)?;
        let (runs, minutes) = if v3 {
            read_runs(&mut r, count, bmin, bmax)?
        } else {
            let count32 = u32::try_from(count).map_err(|_| r.corrupt("block too large"))?;
            let run = Run {
                stream_id,
                start: 0,
                count: count32,
                min_ts: bmin,
                max_ts: bmax,
            };
            (vec![run], Vec::new())
        };
        let b = BlockMeta {
            runs,
            minutes,
            packed_keys: v3,
            fixed: grammar >= 4,
            count,
            min_ts: bmin,
            max_ts: bmax,
            min_seq: smin,
            max_seq: smax,
            raw_bytes: braw,
            ts,
            ingest,
            seq,
            msg,
            fields,
            bloom,
            indexed,
        };
        if !indexed && !b.fields.is_empty() {
            return Err(r.corrupt("field directory in an unindexed block"));
        }
        let chunks = [b.ts, b.ingest, b.seq, b.msg]
            .into_iter()
            .chain(b.fields.iter().filter_map(|f| f.chunk));
        for c in chunks {
            let end = c.offset.checked_add(c.len);
            if c.offset < HEADER_LEN as u64 || end.is_none_or(|e| e > data_end) {
                return Err(r.corrupt("chunk outside data region"));
            }
            if c.raw_len > MAX_CHUNK as u64 {
                return Err(r.corrupt("chunk too large"));
            }
        }
        if b.count == 0 || b.count > b.ts.raw_len.max(1) || b.min_ts > b.max_ts {
            return Err(r.corrupt("inconsistent block header"));
        }
        blocks.push(b);
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(SegmentIndex {
        group_id,
        min_ts,
        max_ts,
        min_seq,
        max_seq,
        events,
        raw_bytes,
        blocks,
        dict,
        bloom,
        indexed,
    })
}

/// Reads a version 3 block's runs and histogram, checking them against the block header.
fn read_runs(
    r: &mut Reader<'_>,
    count: u64,
    min_ts: i64,
    max_ts: i64,
) -> Result<(Vec<Run>, Vec<u32>), StorageError> {
    let nr = r.len(4)?;
    let mut runs = Vec::with_capacity(nr);
    let (mut prev, mut at) = (0u64, 0u64);
    for i in 0..nr {
        let delta = r.varint()?;
        if i > 0 && delta == 0 {
            return Err(r.corrupt("streams out of order"));
        }
        let stream_id = prev.wrapping_add(delta);
        prev = stream_id;
        let n = r.varint()?;
        let lo = min_ts.wrapping_add(r.varint()? as i64);
        let hi = lo.wrapping_add(r.varint()? as i64);
        if n == 0 || lo < min_ts || hi > max_ts || lo > hi {
            return Err(r.corrupt("inconsistent stream run"));
        }
        let (Ok(start), Ok(n32)) = (u32::try_from(at), u32::try_from(n)) else {
            return Err(r.corrupt("block too large"));
        };
        at = at.saturating_add(n);
        runs.push(Run {
            stream_id,
            start,
            count: n32,
            min_ts: lo,
            max_ts: hi,
        });
    }
    if at != count {
        return Err(r.corrupt("stream runs disagree with the block's count"));
    }
    let nm = r.len(1)?;
    let mut minutes = Vec::with_capacity(nm);
    let mut sum = 0u64;
    for _ in 0..nm {
        let m = u32::try_from(r.varint()?).map_err(|_| r.corrupt("histogram overflows"))?;
        sum += u64::from(m);
        minutes.push(m);
    }
    if nm > 0 {
        let span = max_ts
            .div_euclid(HIST_BUCKET_MS)
            .wrapping_sub(min_ts.div_euclid(HIST_BUCKET_MS))
            .wrapping_add(1);
        if sum != count || span != nm as i64 {
            return Err(r.corrupt("histogram disagrees with the block"));
        }
    }
    Ok((runs, minutes))
}

/// Which parts of a block to decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want<'a> {
    /// Timestamps and sequences; a version 4 block's messages need its timestamps too.
    pub(crate) keys: bool,
    pub(crate) ingest: bool,
    pub(crate) messages: bool,
    pub(crate) fields: &'a [String],
    /// Substrings every returned row's message must contain: a message lacking one reads
    /// as empty, without a UTF-8 check or an allocation. Only for callers that hold every
    /// row to the same substrings afterwards.
    pub(crate) contains: &'a [memchr::memmem::Finder<'a>],
    /// Whether none of `contains` can overlap an expanded timestamp
    /// ([`may_overlap_stamp`]), so stamped messages are searched in their stored bytes.
    pub(crate) contains_stored: bool,
}

/// A decoded field column: `codes[i]` is 0 when row `i` lacks the field, else an index + 1
/// into `dict`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldColumn {
    /// Distinct values in first-seen order.
    pub dict: Vec<String>,
    /// One entry per row: 0 = absent, `n` = `dict[n - 1]`.
    pub codes: Vec<u32>,
}

impl FieldColumn {
    /// The value of row `i`, if present.
    pub fn get(&self, i: usize) -> Option<&str> {
        let c = *self.codes.get(i)? as usize;
        if c == 0 {
            None
        } else {
            self.dict.get(c - 1).map(String::as_str)
        }
    }
}

/// Columns of one block, decoded from `data` (the bytes starting at `base` in the segment).
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) ts: Vec<i64>,
    pub(crate) ingest: Vec<i64>,
    pub(crate) seq: Vec<u64>,
    pub(crate) messages: Option<Vec<String>>,
    /// One per wanted path; `None` when the block has no column for it.
    pub(crate) fields: Vec<Option<RawColumn>>,
}

/// Byte buffers holding parts of a segment: (offset in the segment, bytes).
pub(crate) type Bufs<'a> = [(u64, &'a [u8])];

/// The stored bytes of chunk `c`, from whichever buffer holds it.
fn slice<'a>(bufs: &Bufs<'a>, c: &ChunkRef, verify: bool) -> Result<&'a [u8], StorageError> {
    let corrupt = || StorageError::corrupt("segment chunk", "out of range");
    let end = c.offset.checked_add(c.len).ok_or_else(corrupt)?;
    let (base, data) = bufs
        .iter()
        .find(|(base, data)| *base <= c.offset && end <= base.saturating_add(data.len() as u64))
        .ok_or_else(corrupt)?;
    let start = usize::try_from(c.offset - base).map_err(|_| corrupt())?;
    let len = usize::try_from(c.len).map_err(|_| corrupt())?;
    let s = data
        .get(start..start.checked_add(len).ok_or_else(corrupt)?)
        .ok_or_else(corrupt)?;
    if verify && crc32fast::hash(s) != c.crc {
        return Err(StorageError::corrupt("segment chunk", "checksum mismatch"));
    }
    Ok(s)
}

/// A message or field chunk's raw content. Such a chunk is stored raw when its stored
/// length equals its raw length and it does not start with the zstd magic (version 2 writers
/// keep a chunk raw only then; version 1 wrote every such chunk as a frame, and a frame
/// starts with the magic). Key columns are always raw varints and never go through here.
fn open_chunk<'a>(
    bufs: &Bufs<'a>,
    c: &ChunkRef,
    dict: Option<&SegDict>,
    verify: bool,
    what: &'static str,
) -> Result<Cow<'a, [u8]>, StorageError> {
    let stored = slice(bufs, c, verify)?;
    if stored.len() as u64 == c.raw_len && !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(Cow::Borrowed(stored));
    }
    let raw_len =
        usize::try_from(c.raw_len).map_err(|_| StorageError::corrupt(what, "length overflows"))?;
    Ok(Cow::Owned(unzstd(stored, raw_len, dict, what)?))
}

/// A block's raw message chunk; a version 4 chunk may be compressed against the segment
/// dictionary followed by the block's prefix field chunks.
fn open_messages<'a>(
    bufs: &Bufs<'a>,
    b: &BlockMeta,
    dict: Option<&SegDict>,
    verify: bool,
) -> Result<Cow<'a, [u8]>, StorageError> {
    const WHAT: &str = "segment messages";
    let c = &b.msg;
    let stored = slice(bufs, c, verify)?;
    let prefixed = b.fields.iter().filter(|f| f.in_prefix);
    if prefixed.clone().next().is_none()
        || (stored.len() as u64 == c.raw_len && !stored.starts_with(&ZSTD_MAGIC))
    {
        return open_chunk(bufs, c, dict, verify, WHAT);
    }
    let mut prefix = dict.map(|d| d.raw.clone()).unwrap_or_default();
    for f in prefixed {
        if let Some(fc) = &f.chunk {
            prefix_text(&open_chunk(bufs, fc, dict, verify, FIELD)?, &mut prefix)?;
        }
    }
    let raw_len =
        usize::try_from(c.raw_len).map_err(|_| StorageError::corrupt(WHAT, "length overflows"))?;
    Ok(Cow::Owned(unzstd_prefixed(stored, raw_len, &prefix, WHAT)?))
}

fn deltas(bytes: &[u8], n: usize) -> Result<Vec<i64>, StorageError> {
    let corrupt = |d: &str| StorageError::corrupt("segment key column", d);
    // Every varint is at least one byte.
    let mut out = Vec::with_capacity(n.min(bytes.len()));
    let mut prev = 0i64;
    let mut pos = 0;
    for _ in 0..n {
        let v = varint_at(bytes, &mut pos).ok_or_else(|| corrupt("bad varint"))?;
        prev = prev.wrapping_add(unzigzag(v));
        out.push(prev);
    }
    if pos != bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(out)
}

/// The byte ranges of the segment that hold everything `want` needs from block `b`.
pub(crate) fn block_ranges(b: &BlockMeta, want: &Want<'_>, out: &mut Vec<(u64, u64)>) {
    let mut push = |c: &ChunkRef| out.push((c.offset, c.offset.saturating_add(c.len)));
    if want.keys || (want.messages && b.fixed) {
        push(&b.ts);
    }
    if want.keys {
        push(&b.seq);
    }
    if want.ingest {
        push(&b.ingest);
    }
    if want.messages {
        push(&b.msg);
        for c in b
            .fields
            .iter()
            .filter(|f| f.in_prefix)
            .filter_map(|f| f.chunk)
        {
            push(&c);
        }
    }
    for p in want.fields {
        if let Some(c) = b.field(p).and_then(|f| f.chunk) {
            push(&c);
        }
    }
}

#[cfg(test)]
pub(crate) fn decode_block(
    dict: Option<&SegDict>,
    b: &BlockMeta,
    data: &[u8],
    base: u64,
    want: &Want<'_>,
) -> Result<Decoded, StorageError> {
    decode_block_in(dict, b, &[(base, data)], want, true)
}

/// Decodes what `want` asks of block `b` from buffers covering its chunks.
pub(crate) fn decode_block_in(
    dict: Option<&SegDict>,
    b: &BlockMeta,
    bufs: &Bufs<'_>,
    want: &Want<'_>,
    verify: bool,
) -> Result<Decoded, StorageError> {
    decode_block_gated(dict, b, bufs, want, verify, &[], None)
        .map(|d| d.unwrap_or_default().into_decoded())
}

/// Like [`decode_block_in`], but first decodes the field columns and returns `None`
/// without touching the rest when a column of `gate` (index into `want.fields`, value)
/// lacks the value: no row of the block can match that field predicate. With `rows`,
/// only messages of those row ranges are materialized (the others are left empty), so
/// reading one stream of a block shared by many builds only that stream's strings. Key
/// columns of version 4 stay fixed-width, read row by row.
pub(crate) fn decode_block_gated(
    dict: Option<&SegDict>,
    b: &BlockMeta,
    bufs: &Bufs<'_>,
    want: &Want<'_>,
    verify: bool,
    gate: &[(usize, &str)],
    rows: Option<&[std::ops::Range<usize>]>,
) -> Result<Option<Lazy>, StorageError> {
    let n = usize::try_from(b.count)
        .map_err(|_| StorageError::corrupt("segment block", "count overflows"))?;
    let open_field = |p: &str| -> Result<Option<_>, StorageError> {
        match b.field(p).and_then(|f| f.chunk) {
            Some(c) => {
                let raw = open_chunk(bufs, &c, dict, verify, FIELD)?;
                Ok(Some(parse_field(raw.into_owned(), n)?))
            }
            None => Ok(None),
        }
    };
    // Gate columns are opened first: a block they rule out costs no other decompression.
    let mut chunks: Vec<Option<_>> = (0..want.fields.len()).map(|_| None).collect();
    for &(j, _) in gate {
        if let (Some(slot @ None), Some(p)) = (chunks.get_mut(j), want.fields.get(j)) {
            *slot = open_field(p)?;
        }
    }
    // Rows every gate holds for, found in the gate columns' planes: no row, no block. The
    // other columns' codes are then read at those rows only.
    let mut selected: Option<Vec<u32>> = None;
    for &(j, value) in gate {
        let Some(Some(col)) = chunks.get(j) else {
            continue;
        };
        let Some(code) = col.code_of(value) else {
            return Ok(None);
        };
        match &mut selected {
            None => selected = Some(col.rows_equal(code)),
            Some(rows) => col.retain_equal(code, rows)?,
        }
        if selected.as_ref().is_some_and(Vec::is_empty) {
            return Ok(None);
        }
    }
    for (j, p) in want.fields.iter().enumerate() {
        if gate.iter().all(|&(g, _)| g != j)
            && let Some(slot) = chunks.get_mut(j)
        {
            *slot = open_field(p)?;
        }
    }
    let mut fields = Vec::with_capacity(chunks.len());
    for c in chunks {
        fields.push(match c {
            Some(c) => Some(c.into_column(selected.as_deref())?),
            None => None,
        });
    }
    let key = |c: &ChunkRef| -> Result<KeyColumn, StorageError> {
        const WHAT: &str = "segment key column";
        if b.fixed {
            let raw = open_chunk(bufs, c, None, verify, WHAT)?;
            Ok(KeyColumn::Planes(Planes::parse(raw.into_owned(), n, WHAT)?))
        } else if b.packed_keys {
            deltas(&open_chunk(bufs, c, None, verify, WHAT)?, n).map(KeyColumn::Full)
        } else {
            deltas(slice(bufs, c, verify)?, n).map(KeyColumn::Full)
        }
    };
    // Without keys (a scan that returns none, over a block inside its bounds), the
    // timestamps are still read when stamped messages need them.
    let ts = if want.keys || (want.messages && b.fixed) {
        key(&b.ts)?
    } else {
        KeyColumn::default()
    };
    let ingest = if want.ingest {
        key(&b.ingest)?
    } else {
        KeyColumn::default()
    };
    let seq = if want.keys {
        key(&b.seq)?
    } else {
        KeyColumn::default()
    };
    let messages = if want.messages {
        let raw = open_messages(bufs, b, dict, verify)?;
        let mut r = Reader::new(&raw, "segment messages");
        let mut out = Vec::with_capacity(n);
        // A substring that cannot touch an expanded stamp is searched for in the stored
        // bytes, so a stamped message without it is never expanded.
        let stored_gate = !want.contains.is_empty() && want.contains_stored;
        // Ranges and selected rows ascend (runs are in row order): one pass with cursors.
        let mut next = rows.map(|r| r.iter().peekable());
        let mut picked = selected.as_deref().map(|s| s.iter().peekable());
        for i in 0..n {
            let in_runs = match &mut next {
                None => true,
                Some(next) => {
                    while next.next_if(|g| g.end <= i).is_some() {}
                    next.peek().is_some_and(|g| g.contains(&i))
                }
            };
            let keep = in_runs
                && match &mut picked {
                    None => true,
                    Some(p) => {
                        while p.next_if(|&&r| (r as usize) < i).is_some() {}
                        p.peek().is_some_and(|&&r| r as usize == i)
                    }
                };
            if !keep {
                r.bytes()?;
                out.push(String::new());
            } else if b.fixed {
                let t = ts.get(i).ok_or_else(|| r.corrupt("missing timestamp"))?;
                let stored = r.bytes()?;
                if stored_gate && !want.contains.iter().all(|f| f.find(stored).is_some()) {
                    out.push(String::new());
                    continue;
                }
                let m = stamps::message(stored, t)?;
                let hit = want.contains.iter().all(|f| f.find(m.as_bytes()).is_some());
                out.push(if hit { m } else { String::new() });
            } else {
                let m = r.bytes()?;
                if want.contains.iter().all(|f| f.find(m).is_some()) {
                    let m = std::str::from_utf8(m).map_err(|_| r.corrupt("invalid utf-8"))?;
                    out.push(m.to_owned());
                } else {
                    out.push(String::new());
                }
            }
        }
        Some(out)
    } else {
        None
    };
    Ok(Some(Lazy {
        ts,
        ingest,
        seq,
        messages,
        fields,
        selected,
    }))
}

/// A key column: whole (versions 1 to 3 store delta varints) or fixed-width (version 4),
/// read row by row so a selective scan decodes only its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyColumn {
    Full(Vec<i64>),
    Planes(Planes),
}

impl Default for KeyColumn {
    fn default() -> Self {
        Self::Full(Vec::new())
    }
}

impl KeyColumn {
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Full(v) => v.len(),
            Self::Planes(p) => p.len(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        match self {
            Self::Full(v) => v.get(i).copied(),
            Self::Planes(p) => p.get(i),
        }
    }

    /// Rows `range`, clamped to the column.
    pub(crate) fn range(&self, range: std::ops::Range<usize>) -> Vec<i64> {
        match self {
            Self::Full(v) => v
                .get(range.start.min(v.len())..range.end.min(v.len()))
                .unwrap_or_default()
                .to_vec(),
            Self::Planes(p) => p.range(range),
        }
    }

    pub(crate) fn into_vec(self) -> Vec<i64> {
        match self {
            Self::Full(v) => v,
            Self::Planes(p) => p.range(0..p.len()),
        }
    }
}

/// Columns of one block as [`decode_block_gated`] leaves them: keys readable row by row.
#[derive(Debug, Default)]
pub(crate) struct Lazy {
    pub(crate) ts: KeyColumn,
    /// Empty unless asked for.
    pub(crate) ingest: KeyColumn,
    pub(crate) seq: KeyColumn,
    pub(crate) messages: Option<Vec<String>>,
    /// One per wanted path; `None` when the block has no column for it.
    pub(crate) fields: Vec<Option<RawColumn>>,
    /// Rows that hold every gate, ascending, when there were gates on columns the block
    /// has; field codes are read at those rows only (the others read as absent).
    pub(crate) selected: Option<Vec<u32>>,
}

impl Lazy {
    /// Every key decoded.
    pub(crate) fn into_decoded(self) -> Decoded {
        Decoded {
            ts: self.ts.into_vec(),
            ingest: self.ingest.into_vec(),
            seq: self.seq.into_vec().into_iter().map(|s| s as u64).collect(),
            messages: self.messages,
            fields: self.fields,
        }
    }
}

/// A decoded field column whose values stay in the chunk's bytes: a scan that selects a
/// few rows builds strings for those rows' values only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawColumn {
    bytes: Vec<u8>,
    /// Byte range of each dictionary entry in `bytes` (UTF-8 checked on use; checksums
    /// vouch for it, and a value that is not reads as empty).
    spans: Vec<(u32, u32)>,
    /// One per row: 0 = absent, `n` = `spans[n - 1]`; with `rows`, one per row listed there.
    codes: Vec<u32>,
    /// When a scan selected rows: the rows `codes` belongs to, ascending; the others are
    /// absent. Spares a zeroed row-sized column per field and block.
    rows: Option<Vec<u32>>,
}

impl RawColumn {
    /// Row `i`'s code: 0 when absent.
    #[inline]
    pub(crate) fn code(&self, i: usize) -> u32 {
        match &self.rows {
            None => self.codes.get(i).copied().unwrap_or(0),
            Some(rows) => u32::try_from(i)
                .ok()
                .and_then(|i| rows.binary_search(&i).ok())
                .and_then(|k| self.codes.get(k).copied())
                .unwrap_or(0),
        }
    }

    /// Every row's code.
    fn dense(&self, n: usize) -> Vec<u32> {
        match &self.rows {
            None => self.codes.clone(),
            Some(_) => (0..n).map(|i| self.code(i)).collect(),
        }
    }

    /// Number of rows the column covers (a sparse column: up to its last listed row).
    pub(crate) fn len(&self) -> usize {
        match &self.rows {
            None => self.codes.len(),
            Some(rows) => rows.last().map_or(0, |&r| r as usize + 1),
        }
    }

    /// A column of `n` rows without values.
    pub(crate) fn absent(n: usize) -> Self {
        Self {
            codes: vec![0; n],
            ..Self::default()
        }
    }

    pub(crate) fn from_column(col: FieldColumn) -> Self {
        let mut out = Self {
            codes: col.codes,
            ..Self::default()
        };
        for v in &col.dict {
            let start = out.bytes.len() as u32;
            out.bytes.extend_from_slice(v.as_bytes());
            out.spans.push((start, out.bytes.len() as u32));
        }
        out
    }

    /// Dictionary entry `code` (1-based).
    fn entry(&self, code: u32) -> Option<&str> {
        let &(a, b) = self.spans.get((code as usize).checked_sub(1)?)?;
        std::str::from_utf8(self.bytes.get(a as usize..b as usize)?).ok()
    }

    /// The value of row `i`, if present.
    #[cfg(test)]
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        self.entry(self.code(i))
    }

    /// The code of `value`, or `u32::MAX` (matches no row) when no row has it.
    pub(crate) fn code_of(&self, value: &str) -> u32 {
        self.spans
            .iter()
            .position(|&(a, b)| self.bytes.get(a as usize..b as usize) == Some(value.as_bytes()))
            .map_or(u32::MAX, |c| c as u32 + 1)
    }

    /// Every one of `n` rows, as the public column type.
    pub(crate) fn into_column(self, n: usize) -> FieldColumn {
        let dict = (1..=self.spans.len() as u32)
            .map(|c| self.entry(c).unwrap_or_default().to_owned())
            .collect();
        let codes = match self.rows {
            None => self.codes,
            Some(_) => self.dense(n),
        };
        FieldColumn { dict, codes }
    }

    /// The given rows, with a dictionary of only the values they use. `remap` is scratch
    /// shared by calls (all zeros between them), so selecting a few rows of a block's many
    /// runs does not clear a dictionary-sized table per run.
    pub(crate) fn select(&self, rows: &[usize], remap: &mut Vec<u32>) -> FieldColumn {
        if remap.len() < self.spans.len() + 1 {
            remap.resize(self.spans.len() + 1, 0);
        }
        let mut out = FieldColumn {
            dict: Vec::new(),
            codes: Vec::with_capacity(rows.len()),
        };
        let mut used: Vec<u32> = Vec::new();
        for &i in rows {
            let c = self.code(i);
            let code = match remap.get(c as usize) {
                Some(&m) if c != 0 && m == 0 => {
                    out.dict.push(self.entry(c).unwrap_or_default().to_owned());
                    let m = out.dict.len() as u32;
                    remap[c as usize] = m;
                    used.push(c);
                    m
                }
                Some(&m) => m,
                None => 0,
            };
            out.codes.push(code);
        }
        for c in used {
            remap[c as usize] = 0;
        }
        out
    }
}

/// A field chunk parsed up to its codes: dictionary entries located, codes either decoded
/// (varint and plain encodings) or left as planes to be read at the rows a scan selects.
#[derive(Debug)]
struct FieldChunk {
    bytes: Vec<u8>,
    /// Byte ranges of the dictionary's text entries (none in a UUID dictionary).
    spans: Vec<(u32, u32)>,
    /// A UUID dictionary (encoding 3): where its 16-byte entries start, and how many.
    uuids: Option<(usize, usize)>,
    codes: Codes,
}

#[derive(Debug)]
enum Codes {
    Rows(Vec<u32>),
    Planes(CodePlanes),
}

const FIELD: &str = "segment field";

impl FieldChunk {
    /// The code of `value`, or `None` when no row has it.
    fn code_of(&self, value: &str) -> Option<u32> {
        if let Some((at, nd)) = self.uuids {
            let id = uuid_bytes(value.as_bytes())?;
            let table = self.bytes.get(at..at + nd * 16)?;
            return table
                .chunks_exact(16)
                .position(|e| e == id)
                .map(|c| c as u32 + 1);
        }
        self.spans
            .iter()
            .position(|&(a, b)| self.bytes.get(a as usize..b as usize) == Some(value.as_bytes()))
            .map(|c| c as u32 + 1)
    }

    /// Keeps the rows of `rows` (ascending) whose code is `code`.
    fn retain_equal(&self, code: u32, rows: &mut Vec<u32>) -> Result<(), StorageError> {
        let mut err = None;
        rows.retain(|&i| match &self.codes {
            Codes::Rows(c) => c.get(i as usize) == Some(&code),
            Codes::Planes(p) => match p.get(&self.bytes, i as usize, FIELD) {
                Ok(c) => c == code,
                Err(e) => {
                    err = Some(e);
                    false
                }
            },
        });
        err.map_or(Ok(()), Err)
    }

    /// Every row whose code is `code`, ascending.
    fn rows_equal(&self, code: u32) -> Vec<u32> {
        let mut out = Vec::new();
        match &self.codes {
            Codes::Rows(c) => out.extend(
                c.iter()
                    .enumerate()
                    .filter(|&(_, &x)| x == code)
                    .map(|(i, _)| i as u32),
            ),
            Codes::Planes(p) => p.rows_equal(&self.bytes, code, &mut out),
        }
        out
    }

    /// The column of `n` rows; with `only`, codes are read at those rows alone and the others
    /// left absent (a scan hands over selected rows only).
    fn into_column(self, only: Option<&[u32]>) -> Result<RawColumn, StorageError> {
        let mut listed = None;
        let codes = match (self.codes, only) {
            (Codes::Rows(c), _) => c,
            (Codes::Planes(p), Some(rows)) => {
                listed = Some(rows.to_vec());
                rows.iter()
                    .map(|&i| p.get(&self.bytes, i as usize, FIELD))
                    .collect::<Result<Vec<u32>, _>>()?
            }
            (Codes::Planes(p), None) => p.all(&self.bytes, FIELD)?,
        };
        let Some((at, nd)) = self.uuids else {
            return Ok(RawColumn {
                bytes: self.bytes,
                spans: self.spans,
                codes,
                rows: listed,
            });
        };
        // Only the entries the column's rows use are written out as text; the others get
        // a span that reads as no value.
        let table = self
            .bytes
            .get(at..at + nd * 16)
            .ok_or_else(|| corrupt_field("truncated"))?;
        let mut text = Vec::new();
        let mut spans = vec![(u32::MAX, u32::MAX); nd];
        for &c in &codes {
            let Some(slot) = (c as usize).checked_sub(1).and_then(|i| spans.get_mut(i)) else {
                continue;
            };
            if slot.0 == u32::MAX {
                let id = table
                    .get((c as usize - 1) * 16..c as usize * 16)
                    .ok_or_else(|| corrupt_field("dictionary code out of range"))?;
                let start = text.len();
                push_uuid(id, &mut text);
                let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(text.len())) else {
                    return Err(corrupt_field("dictionary too large"));
                };
                *slot = (a, b);
            }
        }
        Ok(RawColumn {
            bytes: text,
            spans,
            codes,
            rows: listed,
        })
    }
}

/// Appends what a field chunk contributes to the prefix its block's messages are
/// compressed against: the chunk itself, or a UUID dictionary's entries as text (the
/// messages repeat the text, not the 16-byte forms).
pub(crate) fn prefix_text(chunk: &[u8], out: &mut Vec<u8>) -> Result<(), StorageError> {
    if chunk.first() != Some(&3) {
        out.extend_from_slice(chunk);
        return Ok(());
    }
    let mut r = Reader::new(chunk, FIELD);
    r.u8()?;
    let nd = r.len(16)?;
    let table = r.take(nd * 16)?;
    out.reserve(nd * 36);
    for id in table.chunks_exact(16) {
        push_uuid(id, out);
    }
    Ok(())
}

fn corrupt_field(detail: &str) -> StorageError {
    StorageError::corrupt(FIELD, detail)
}

fn parse_field(bytes: Vec<u8>, n: usize) -> Result<FieldChunk, StorageError> {
    let raw = &bytes[..];
    let mut r = Reader::new(raw, FIELD);
    let mut spans = Vec::new();
    let mut uuids = None;
    // UTF-8 is checked when a value is turned into a string, not for every value here.
    let span = |r: &mut Reader<'_>, len: usize| -> Result<(u32, u32), StorageError> {
        let start = raw.len() - r.remaining();
        r.take(len)?;
        let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(start + len)) else {
            return Err(r.corrupt("chunk too large"));
        };
        Ok((a, b))
    };
    let codes = match r.u8()? {
        0 => {
            let nd = r.len(1)?;
            spans.reserve(nd);
            for _ in 0..nd {
                let len = r.len(1)?;
                spans.push(span(&mut r, len)?);
            }
            let at = raw.len() - r.remaining();
            let mut pos = at;
            let mut codes = Vec::with_capacity(n.min(r.remaining()));
            for _ in 0..n {
                let c = varint_at(raw, &mut pos).ok_or_else(|| r.corrupt("bad code"))?;
                if c > nd as u64 {
                    return Err(r.corrupt("dictionary code out of range"));
                }
                codes.push(c as u32);
            }
            r.take(pos - at)?;
            Codes::Rows(codes)
        }
        2 => {
            let nd = r.len(1)?;
            spans.reserve(nd);
            for _ in 0..nd {
                let len = r.len(1)?;
                spans.push(span(&mut r, len)?);
            }
            let max = u32::try_from(nd).map_err(|_| r.corrupt("dictionary too large"))?;
            let at = raw.len() - r.remaining();
            r.take(r.remaining())?;
            Codes::Planes(CodePlanes::parse(raw, at, n, max, FIELD)?)
        }
        3 => {
            let nd = r.len(16)?;
            let at = raw.len() - r.remaining();
            r.take(nd * 16)?;
            uuids = Some((at, nd));
            let max = u32::try_from(nd).map_err(|_| r.corrupt("dictionary too large"))?;
            let at = raw.len() - r.remaining();
            r.take(r.remaining())?;
            Codes::Planes(CodePlanes::parse(raw, at, n, max, FIELD)?)
        }
        1 => {
            let mut codes = Vec::with_capacity(n.min(r.remaining()));
            for _ in 0..n {
                let l = r.varint()?;
                if l == 0 {
                    codes.push(0);
                } else {
                    let len = usize::try_from(l - 1).map_err(|_| r.corrupt("length overflows"))?;
                    spans.push(span(&mut r, len)?);
                    codes.push(spans.len() as u32);
                }
            }
            Codes::Rows(codes)
        }
        _ => return Err(r.corrupt("unknown field encoding")),
    };
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(FieldChunk {
        bytes,
        spans,
        uuids,
        codes,
    })
}

/// Decodes a whole segment image: header, footer, index and every chunk of every block.
/// Returns the number of events. Used by compaction checks, tools and the fuzz target.
pub fn verify_segment(bytes: &[u8]) -> Result<u64, StorageError> {
    decode_segment(bytes, true)
}

fn decode_segment(bytes: &[u8], verify: bool) -> Result<u64, StorageError> {
    let corrupt = |d: &str| StorageError::corrupt("segment", d);
    if bytes.len() < HEADER_LEN + FOOTER_LEN {
        return Err(corrupt("too short"));
    }
    if &bytes[..6] != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let version = u16::from_le_bytes([bytes[6], bytes[7]]);
    if !(MIN_VERSION..=VERSION).contains(&version) {
        return Err(corrupt("unsupported version"));
    }
    let footer_at = bytes.len() - FOOTER_LEN;
    let f = decode_footer(&bytes[footer_at..])?;
    let off = f.offset;
    let end = off
        .checked_add(f.len)
        .ok_or_else(|| corrupt("index range overflows"))?;
    if end != footer_at as u64 || off < HEADER_LEN as u64 {
        return Err(corrupt("index range mismatch"));
    }
    if f.grammar != version.max(2) {
        return Err(corrupt("footer disagrees with the version"));
    }
    let index = decode_index(
        &bytes[off as usize..footer_at],
        verify.then_some(f.crc),
        off,
        f.grammar,
    )?;
    let mut total = 0;
    for b in &index.blocks {
        let paths: Vec<String> = b.fields.iter().map(|f| f.path.clone()).collect();
        let want = Want {
            keys: true,
            ingest: true,
            messages: true,
            fields: &paths,
            contains: &[],
            contains_stored: false,
        };
        let d = decode_block_in(index.dict.as_deref(), b, &[(0, bytes)], &want, verify)?;
        if d.fields.iter().flatten().any(|c| c.len() != d.ts.len()) {
            return Err(corrupt("field column disagrees with the block's count"));
        }
        total += d.ts.len() as u64;
    }
    Ok(total)
}

/// Fuzzing entry point: builds a valid segment from `messages`, applies `flips` (position,
/// xor mask) and decodes the result with checksum verification off, so mutations reach the
/// structural decoders behind the checksums. Must return an error or a count, never panic.
#[doc(hidden)]
pub fn fuzz_segment(messages: &[&str], flips: &[(usize, u8)]) -> Result<u64, StorageError> {
    let rows: Vec<Row> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| Row {
            ts: i as i64 * 3,
            ingest: 7,
            seq: i as u64 + 1,
            msg: (*m).to_owned(),
        })
        .collect();
    let half = rows.len() / 2;
    let streams = [(1, &rows[..half]), (2, &rows[half..])];
    let streams: Vec<(u64, &[Row])> = streams.into_iter().filter(|(_, r)| !r.is_empty()).collect();
    // An odd number of flips mutates an unindexed segment (version 6 flag), an even one an
    // indexed segment.
    let builder = if flips.len() % 2 == 1 {
        build_unindexed
    } else {
        build
    };
    let limits = BlockLimits {
        max_events: 5,
        max_bytes: 1 << 16,
    };
    let mut built = builder(1, &streams, limits)?.bytes;
    for &(pos, mask) in flips {
        let n = built.len();
        if n > 0 {
            built[pos % n] ^= mask;
        }
    }
    fuzz_gated(&built);
    decode_segment(&built, false)
}

/// Every block of a (possibly mutated) image through a scan's gated decoding, checksums
/// off: a field gate (on a level, a UUID, nothing) selects rows, the other fields are read
/// at those rows, and a few rows are handed over as a batch's column would be.
fn fuzz_gated(bytes: &[u8]) {
    let Some(footer) = bytes
        .len()
        .checked_sub(FOOTER_LEN)
        .and_then(|at| bytes.get(at..))
    else {
        return;
    };
    let Ok(f) = decode_footer(footer) else {
        return;
    };
    let (Ok(off), Ok(len)) = (usize::try_from(f.offset), usize::try_from(f.len)) else {
        return;
    };
    let Some(index) = off.checked_add(len).and_then(|end| bytes.get(off..end)) else {
        return;
    };
    let Ok(ix) = decode_index(index, None, f.offset, f.grammar) else {
        return;
    };
    // Substring gates too: one checked on stored bytes, one that can overlap a timestamp
    // stamp (so stamped messages are expanded first).
    let needles = [
        memchr::memmem::Finder::new("ERROR"),
        memchr::memmem::Finder::new("2026-"),
    ];
    for b in &ix.blocks {
        let paths: Vec<String> = b.fields.iter().take(4).map(|f| f.path.clone()).collect();
        for contains in [&needles[..0], &needles[..1], &needles[1..]] {
            let want = Want {
                keys: false,
                ingest: false,
                messages: true,
                fields: &paths,
                contains,
                contains_stored: contains.iter().all(|f| !may_overlap_stamp(f.needle())),
            };
            for gate in [
                (0, "ERROR"),
                (1, "0f9e8d7c-6b5a-4493-a281-70ffeeddccbb"),
                (0, ""),
            ] {
                let bufs = [(0, bytes)];
                if let Ok(Some(d)) =
                    decode_block_gated(ix.dict.as_deref(), b, &bufs, &want, false, &[gate], None)
                {
                    for col in d.fields.iter().flatten() {
                        let _ = col.select(&[0, 1, 2], &mut Vec::new());
                    }
                }
            }
        }
    }
}

/// Benchmark entry point: segments' worth of streams' events, built on demand with
/// [`BenchSegments::build_all`] so a profiler sees the segment build alone.
#[doc(hidden)]
pub struct BenchSegments(Vec<Vec<(u64, Vec<Row>)>>);

impl BenchSegments {
    /// Each segment is a list of streams, each a list of (timestamp, message) sorted by time.
    pub fn new(segments: Vec<Vec<Vec<(i64, String)>>>) -> Self {
        let mut seq = 0u64;
        Self(
            segments
                .into_iter()
                .map(|streams| {
                    streams
                        .into_iter()
                        .enumerate()
                        .map(|(i, evs)| {
                            let rows = evs
                                .into_iter()
                                .map(|(ts, msg)| {
                                    seq += 1;
                                    Row {
                                        ts,
                                        ingest: ts + 100,
                                        seq,
                                        msg,
                                    }
                                })
                                .collect();
                            (i as u64 + 1, rows)
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// Builds every segment, indexed or (as a flush under load does) unindexed; returns
    /// where the bytes went.
    pub fn build_all(
        &self,
        max_events: usize,
        max_bytes: usize,
        indexed: bool,
    ) -> Result<SizeReport, StorageError> {
        let limits = BlockLimits {
            max_events,
            max_bytes,
        };
        let mut rep = SizeReport::default();
        for seg in &self.0 {
            let streams: Vec<(u64, &[Row])> = seg.iter().map(|(s, r)| (*s, r.as_slice())).collect();
            let built = build_spared(1, &streams, limits, indexed)?;
            rep.total += built.bytes.len() as u64;
            rep.index += built.index_len;
            rep.segments += 1;
            if let Some(b) = &built.index.bloom {
                rep.blooms += b.words.len() as u64 * 8;
            }
            for b in &built.index.blocks {
                rep.blocks += 1;
                rep.blooms += b.bloom.words.len() as u64 * 8;
                rep.keys += b.ts.len + b.ingest.len + b.seq.len;
                rep.messages += b.msg.len;
                for f in &b.fields {
                    if let Some(c) = f.chunk {
                        *rep.fields.entry(f.path.clone()).or_default() += c.len;
                    }
                }
            }
        }
        Ok(rep)
    }
}

/// Where a benchmark build's bytes went.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct SizeReport {
    /// Segment bytes in all.
    pub total: u64,
    /// Segments built.
    pub segments: u64,
    /// Blocks built.
    pub blocks: u64,
    /// Index regions (dictionary, directories, blooms).
    pub index: u64,
    /// Blooms, segment and block.
    pub blooms: u64,
    /// Timestamp, ingestion-time and sequence columns.
    pub keys: u64,
    /// Message chunks.
    pub messages: u64,
    /// Field chunks per path.
    pub fields: std::collections::BTreeMap<String, u64>,
}

mod stamps;
pub(crate) use stamps::may_overlap_stamp;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod build_tests;
