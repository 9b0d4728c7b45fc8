//! The immutable segment format (version 1).
//!
//! ```text
//! "LKSEG\0" version:u16            header, 8 bytes
//! chunk*                           column chunks of every block, block after block
//! index                            one contiguous region: segment stats, block directory,
//!                                  column directory, blooms
//! index_offset:u64 index_len:u32 index_crc:u32 "LKSEGEND"     footer, 24 bytes
//! ```
//!
//! Each chunk carries its CRC in the directory. Chunks per block: timestamps, ingestion
//! times and sequences (delta varints), messages (zstd), and one zstd chunk per columnized
//! flattened JSON field.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bloom::{Bloom, MAX_BLOOM_VALUE, MIN_BLOOM_TOKEN, field_hash, token_hash, tokens};
use crate::codec::{Reader, put_bytes, put_ivarint, put_u8, put_u32, put_u64, put_varint, unzstd};
use crate::error::StorageError;
use crate::fields::{Kind, flatten};
use crate::memtable::Row;

const MAGIC: &[u8; 6] = b"LKSEG\0";
const FOOT_MAGIC: &[u8; 8] = b"LKSEGEND";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 8;
pub(crate) const FOOTER_LEN: usize = 24;
/// Largest decompressed chunk accepted; blocks are cut well below this.
const MAX_CHUNK: usize = 64 << 20;
const ZSTD_LEVEL: i32 = 3;

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
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BlockMeta {
    pub(crate) stream_id: u64,
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
}

impl BlockMeta {
    pub(crate) fn min_key(&self) -> (i64, u64) {
        (self.min_ts, 0)
    }
    pub(crate) fn max_key(&self) -> (i64, u64) {
        (self.max_ts, u64::MAX)
    }
    pub(crate) fn field(&self, path: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.path == path)
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
    pub(crate) dict: Option<Arc<[u8]>>,
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

/// Segments below this many message bytes get no dictionary.
const DICT_MIN_INPUT: u64 = 16 << 10;
const DICT_MAX: usize = 32 << 10;

/// A raw-content dictionary: messages sampled evenly across the segment. Small per-stream
/// blocks compress poorly alone; against a dictionary of their neighbours' lines they
/// compress like one large block, while each block stays independently decodable.
fn sample_dictionary(streams: &[(u64, &[Row])]) -> Option<Vec<u8>> {
    let total: u64 = streams
        .iter()
        .flat_map(|(_, r)| r.iter())
        .map(|r| r.msg.len() as u64)
        .sum();
    if total < DICT_MIN_INPUT {
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

/// Compresses chunks of one segment, all with the segment's dictionary when it has one.
/// One context for the whole segment: creating a zstd context per chunk dominated flushes.
type Packer = zstd::bulk::Compressor<'static>;

fn chunk(
    out: &mut Vec<u8>,
    raw: &[u8],
    packer: Option<&mut Packer>,
) -> Result<ChunkRef, StorageError> {
    let offset = out.len() as u64;
    let data;
    let bytes: &[u8] = if let Some(p) = packer {
        data = p.compress(raw)?;
        &data
    } else {
        raw
    };
    out.extend_from_slice(bytes);
    Ok(ChunkRef {
        offset,
        len: bytes.len() as u64,
        raw_len: raw.len() as u64,
        crc: crc32fast::hash(bytes),
    })
}

struct FieldAcc {
    values: Vec<Option<String>>,
    numeric: Option<(f64, f64)>,
    all_numeric: bool,
    value_bytes: usize,
}

/// Writes a segment for one group from streams' rows, each sorted by (timestamp, seq).
pub(crate) fn build(
    group_id: u64,
    streams: &[(u64, &[Row])],
    limits: BlockLimits,
) -> Result<Built, StorageError> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let dict = sample_dictionary(streams);
    let mut packer = match &dict {
        Some(d) => Packer::with_dictionary(ZSTD_LEVEL, d)?,
        None => Packer::new(ZSTD_LEVEL)?,
    };
    let mut paths = PathTable::default();
    let mut blocks = Vec::new();
    let mut flat = Vec::new();
    for &(stream_id, rows) in streams {
        let mut start = 0;
        while start < rows.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < rows.len() && end - start < limits.max_events && bytes < limits.max_bytes {
                bytes += rows[end].msg.len();
                end += 1;
            }
            blocks.push(build_block(
                &mut out,
                stream_id,
                &rows[start..end],
                &mut flat,
                &mut packer,
                &mut paths,
            )?);
            start = end;
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
        dict: dict.map(Arc::from),
    };
    // The index region: dictionary (needed by every block) and index, read with one range.
    let index_offset = out.len() as u64;
    let packed_dict = match &index.dict {
        Some(d) => zstd::bulk::compress(d, ZSTD_LEVEL)?,
        None => Vec::new(),
    };
    put_u32(&mut out, packed_dict.len() as u32);
    put_u32(&mut out, index.dict.as_ref().map_or(0, |d| d.len()) as u32);
    out.extend_from_slice(&packed_dict);
    encode_index(&index, &paths.names, &mut out);
    let index_len = out.len() as u64 - index_offset;
    let crc = crc32fast::hash(&out[index_offset as usize..]);
    put_u64(&mut out, index_offset);
    put_u32(&mut out, index_len as u32);
    put_u32(&mut out, crc);
    out.extend_from_slice(FOOT_MAGIC);
    Ok(Built {
        bytes: out,
        index_offset,
        index_len,
        index,
    })
}

fn build_block(
    out: &mut Vec<u8>,
    stream_id: u64,
    rows: &[Row],
    flat: &mut Vec<(String, String, Kind)>,
    packer: &mut Packer,
    paths: &mut PathTable,
) -> Result<BlockMeta, StorageError> {
    let n = rows.len();
    let mut ts = Vec::with_capacity(n * 2);
    let mut ing = Vec::with_capacity(n * 2);
    let mut seq = Vec::with_capacity(n * 2);
    let mut msg = Vec::new();
    let (mut pts, mut ping, mut pseq) = (0i64, 0i64, 0i64);
    let mut hashes = Vec::new();
    let mut fields: HashMap<String, FieldAcc> = HashMap::new();
    let mut raw_bytes = 0u64;
    for (i, r) in rows.iter().enumerate() {
        put_ivarint(&mut ts, r.ts.wrapping_sub(pts));
        put_ivarint(&mut ing, r.ingest.wrapping_sub(ping));
        put_ivarint(&mut seq, (r.seq as i64).wrapping_sub(pseq));
        (pts, ping, pseq) = (r.ts, r.ingest, r.seq as i64);
        put_bytes(&mut msg, r.msg.as_bytes());
        raw_bytes += r.msg.len() as u64;
        hashes.extend(
            tokens(&r.msg)
                .filter(|t| t.len() >= MIN_BLOOM_TOKEN)
                .map(token_hash),
        );
        flatten(&r.msg, flat);
        for (path, value, kind) in flat.drain(..) {
            if value.len() <= MAX_BLOOM_VALUE {
                hashes.push(field_hash(&path, &value));
            }
            let acc = fields.entry(path).or_insert_with(|| FieldAcc {
                values: vec![None; n],
                numeric: None,
                all_numeric: true,
                value_bytes: 0,
            });
            if kind == Kind::Number {
                if let Ok(v) = value.parse::<f64>() {
                    acc.numeric = Some(match acc.numeric {
                        Some((lo, hi)) => (lo.min(v), hi.max(v)),
                        None => (v, v),
                    });
                }
            } else {
                acc.all_numeric = false;
            }
            acc.value_bytes += value.len();
            acc.values[i] = Some(value);
        }
    }
    let ts_ref = chunk(out, &ts, None)?;
    let ing_ref = chunk(out, &ing, None)?;
    let seq_ref = chunk(out, &seq, None)?;
    let msg_ref = chunk(out, &msg, Some(&mut *packer))?;
    let mut names: Vec<String> = fields.keys().cloned().collect();
    names.sort_unstable();
    let mut metas = Vec::with_capacity(names.len());
    for path in names {
        let Some(acc) = fields.remove(&path) else {
            continue;
        };
        let (column, _) = encode_field(&acc);
        let chunk_ref = match column {
            Some(raw) => Some(chunk(out, &raw, Some(&mut *packer))?),
            None => None,
        };
        let numeric = if acc.all_numeric { acc.numeric } else { None };
        paths.id(&path);
        metas.push(FieldMeta {
            path,
            numeric,
            chunk: chunk_ref,
        });
    }
    hashes.sort_unstable();
    hashes.dedup();
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Err(StorageError::Invalid("empty block".into()));
    };
    Ok(BlockMeta {
        stream_id,
        count: n as u64,
        min_ts: first.ts,
        max_ts: last.ts,
        min_seq: rows.iter().map(|r| r.seq).min().unwrap_or(0),
        max_seq: rows.iter().map(|r| r.seq).max().unwrap_or(0),
        raw_bytes,
        ts: ts_ref,
        ingest: ing_ref,
        seq: seq_ref,
        msg: msg_ref,
        fields: metas,
        bloom: Bloom::build(&hashes),
    })
}

/// Dictionary-codes low-cardinality fields (levels, services, request and trace ids shared by
/// an invocation's lines); keeps numbers and very short values plain; leaves mostly distinct
/// text (free-text messages, formatted timestamps) to the raw message only, where a column
/// would double the bytes stored without helping any aggregation.
fn encode_field(acc: &FieldAcc) -> (Option<Vec<u8>>, usize) {
    let present = acc.values.iter().filter(|v| v.is_some()).count().max(1);
    let mut dict: HashMap<&str, u64> = HashMap::new();
    for v in acc.values.iter().flatten() {
        let next = dict.len() as u64 + 1;
        dict.entry(v.as_str()).or_insert(next);
    }
    let distinct = dict.len();
    let avg = acc.value_bytes / present;
    let mut raw = Vec::new();
    if distinct * 4 <= present || distinct <= 16 {
        let mut entries: Vec<(&str, u64)> = dict.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_unstable_by_key(|e| e.1);
        put_u8(&mut raw, 0);
        put_varint(&mut raw, entries.len() as u64);
        for (s, _) in &entries {
            put_bytes(&mut raw, s.as_bytes());
        }
        for v in &acc.values {
            put_varint(
                &mut raw,
                v.as_deref().and_then(|s| dict.get(s)).copied().unwrap_or(0),
            );
        }
        (Some(raw), distinct)
    } else if acc.all_numeric || avg <= 16 {
        put_u8(&mut raw, 1);
        for v in &acc.values {
            match v {
                Some(s) => {
                    put_varint(&mut raw, s.len() as u64 + 1);
                    raw.extend_from_slice(s.as_bytes());
                }
                None => put_varint(&mut raw, 0),
            }
        }
        (Some(raw), distinct)
    } else {
        (None, distinct)
    }
}

fn put_chunk(out: &mut Vec<u8>, c: &ChunkRef) {
    put_varint(out, c.offset);
    put_varint(out, c.len);
    put_varint(out, c.raw_len);
    put_u32(out, c.crc);
}

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
    put_varint(out, paths.len() as u64);
    for p in paths {
        put_bytes(out, p.as_bytes());
    }
    put_varint(out, ix.blocks.len() as u64);
    for b in &ix.blocks {
        put_varint(out, b.stream_id);
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
            let flags = u8::from(f.chunk.is_some()) | (u8::from(f.numeric.is_some()) << 1);
            put_u8(out, flags);
            if let Some((lo, hi)) = f.numeric {
                put_u64(out, lo.to_bits());
                put_u64(out, hi.to_bits());
            }
            if let Some(c) = &f.chunk {
                put_chunk(out, c);
            }
        }
        put_u8(out, b.bloom.k);
        put_varint(out, b.bloom.words.len() as u64);
        for w in &b.bloom.words {
            put_u64(out, *w);
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

/// Parses the 24-byte footer; returns (index offset, index length, index crc).
pub(crate) fn decode_footer(f: &[u8]) -> Result<(u64, u64, u32), StorageError> {
    let mut r = Reader::new(f, "segment footer");
    let off = r.u64()?;
    let len = u64::from(r.u32()?);
    let crc = r.u32()?;
    if r.take(8)? != FOOT_MAGIC {
        return Err(r.corrupt("bad magic"));
    }
    Ok((off, len, crc))
}

/// Decodes and validates an index region against the segment's data length.
pub(crate) fn decode_index(
    bytes: &[u8],
    crc: Option<u32>,
    data_end: u64,
) -> Result<SegmentIndex, StorageError> {
    if let Some(crc) = crc
        && crc32fast::hash(bytes) != crc
    {
        return Err(StorageError::Corrupt {
            what: "segment index",
            detail: "checksum mismatch".into(),
        });
    }
    let mut r = Reader::new(bytes, "segment index");
    let packed_len = r.u32()? as usize;
    let dict_len = r.u32()? as usize;
    let packed = r.take(packed_len)?;
    let dict: Option<Arc<[u8]>> = if packed_len == 0 {
        None
    } else {
        if dict_len > DICT_MAX + 1 {
            return Err(r.corrupt("dictionary too large"));
        }
        Some(Arc::from(unzstd(
            packed,
            dict_len,
            None,
            "segment dictionary",
        )?))
    };
    let group_id = r.varint()?;
    let min_ts = r.ivarint()?;
    let max_ts = r.ivarint()?;
    let min_seq = r.varint()?;
    let max_seq = r.varint()?;
    let events = r.varint()?;
    let raw_bytes = r.varint()?;
    let np = r.len(1)?;
    let mut paths = Vec::with_capacity(np);
    for _ in 0..np {
        paths.push(r.str()?.to_owned());
    }
    let n = r.len(20)?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let stream_id = r.varint()?;
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
                chunk,
            });
        }
        let k = r.u8()?;
        let nw = r.len(8)?;
        let mut words = Vec::with_capacity(nw);
        for _ in 0..nw {
            words.push(r.u64()?);
        }
        let b = BlockMeta {
            stream_id,
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
            bloom: Bloom {
                k: k.clamp(1, 16),
                words,
            },
        };
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
    })
}

/// Which parts of a block to decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want<'a> {
    pub(crate) ingest: bool,
    pub(crate) messages: bool,
    pub(crate) fields: &'a [String],
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
    pub(crate) fields: Vec<Option<FieldColumn>>,
}

fn slice<'a>(
    data: &'a [u8],
    base: u64,
    c: &ChunkRef,
    verify: bool,
) -> Result<&'a [u8], StorageError> {
    let corrupt = || StorageError::Corrupt {
        what: "segment chunk",
        detail: "out of range".into(),
    };
    let start =
        usize::try_from(c.offset.checked_sub(base).ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let end = start
        .checked_add(usize::try_from(c.len).map_err(|_| corrupt())?)
        .ok_or_else(corrupt)?;
    let s = data.get(start..end).ok_or_else(corrupt)?;
    if verify && crc32fast::hash(s) != c.crc {
        return Err(StorageError::Corrupt {
            what: "segment chunk",
            detail: "checksum mismatch".into(),
        });
    }
    Ok(s)
}

fn deltas(bytes: &[u8], n: usize) -> Result<Vec<i64>, StorageError> {
    let mut r = Reader::new(bytes, "segment key column");
    let mut out = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(r.ivarint()?);
        out.push(prev);
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

/// The byte range of the segment that holds everything `want` needs from block `b`.
pub(crate) fn block_range(b: &BlockMeta, want: &Want<'_>) -> (u64, u64) {
    let mut lo = b.ts.offset;
    let mut hi = b.seq.offset + b.seq.len;
    lo = lo.min(b.ingest.offset).min(b.seq.offset);
    if want.messages {
        lo = lo.min(b.msg.offset);
        hi = hi.max(b.msg.offset + b.msg.len);
    }
    for p in want.fields {
        if let Some(c) = b.field(p).and_then(|f| f.chunk) {
            lo = lo.min(c.offset);
            hi = hi.max(c.offset.saturating_add(c.len));
        }
    }
    (lo, hi.max(lo))
}

pub(crate) fn decode_block(
    dict: Option<&[u8]>,
    b: &BlockMeta,
    data: &[u8],
    base: u64,
    want: &Want<'_>,
) -> Result<Decoded, StorageError> {
    decode_block_checked(dict, b, data, base, want, true)
}

fn decode_block_checked(
    dict: Option<&[u8]>,
    b: &BlockMeta,
    data: &[u8],
    base: u64,
    want: &Want<'_>,
    verify: bool,
) -> Result<Decoded, StorageError> {
    let n = usize::try_from(b.count).map_err(|_| StorageError::Corrupt {
        what: "segment block",
        detail: "count overflows".into(),
    })?;
    let ts = deltas(slice(data, base, &b.ts, verify)?, n)?;
    let ingest = if want.ingest {
        deltas(slice(data, base, &b.ingest, verify)?, n)?
    } else {
        Vec::new()
    };
    let seq = deltas(slice(data, base, &b.seq, verify)?, n)?
        .into_iter()
        .map(|s| s as u64)
        .collect();
    let messages = if want.messages {
        let raw = unzstd(
            slice(data, base, &b.msg, verify)?,
            b.msg.raw_len as usize,
            dict,
            "segment messages",
        )?;
        let mut r = Reader::new(&raw, "segment messages");
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(r.str()?.to_owned());
        }
        Some(out)
    } else {
        None
    };
    let mut fields = Vec::with_capacity(want.fields.len());
    for p in want.fields {
        match b.field(p).and_then(|f| f.chunk) {
            Some(c) => {
                let raw = unzstd(
                    slice(data, base, &c, verify)?,
                    c.raw_len as usize,
                    dict,
                    "segment field",
                )?;
                fields.push(Some(decode_field(&raw, n)?));
            }
            None => fields.push(None),
        }
    }
    Ok(Decoded {
        ts,
        ingest,
        seq,
        messages,
        fields,
    })
}

fn decode_field(raw: &[u8], n: usize) -> Result<FieldColumn, StorageError> {
    let mut r = Reader::new(raw, "segment field");
    let mut col = FieldColumn {
        dict: Vec::new(),
        codes: Vec::with_capacity(n),
    };
    match r.u8()? {
        0 => {
            let nd = r.len(1)?;
            for _ in 0..nd {
                col.dict.push(r.str()?.to_owned());
            }
            for _ in 0..n {
                let c = r.varint()?;
                if c > nd as u64 {
                    return Err(r.corrupt("dictionary code out of range"));
                }
                col.codes.push(c as u32);
            }
        }
        1 => {
            for _ in 0..n {
                let l = r.varint()?;
                if l == 0 {
                    col.codes.push(0);
                } else {
                    let len = usize::try_from(l - 1).map_err(|_| r.corrupt("length overflows"))?;
                    let s = std::str::from_utf8(r.take(len)?)
                        .map_err(|_| r.corrupt("invalid utf-8"))?;
                    col.dict.push(s.to_owned());
                    col.codes.push(col.dict.len() as u32);
                }
            }
        }
        _ => return Err(r.corrupt("unknown field encoding")),
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(col)
}

/// Decodes a whole segment image: header, footer, index and every chunk of every block.
/// Returns the number of events. Used by compaction checks, tools and the fuzz target.
pub fn verify_segment(bytes: &[u8]) -> Result<u64, StorageError> {
    decode_segment(bytes, true)
}

fn decode_segment(bytes: &[u8], verify: bool) -> Result<u64, StorageError> {
    let corrupt = |d: &str| StorageError::Corrupt {
        what: "segment",
        detail: d.into(),
    };
    if bytes.len() < HEADER_LEN + FOOTER_LEN {
        return Err(corrupt("too short"));
    }
    if &bytes[..6] != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let version = u16::from_le_bytes([bytes[6], bytes[7]]);
    if version != VERSION {
        return Err(corrupt("unsupported version"));
    }
    let footer_at = bytes.len() - FOOTER_LEN;
    let (off, len, crc) = decode_footer(&bytes[footer_at..])?;
    let end = off
        .checked_add(len)
        .ok_or_else(|| corrupt("index range overflows"))?;
    if end != footer_at as u64 || off < HEADER_LEN as u64 {
        return Err(corrupt("index range mismatch"));
    }
    let index = decode_index(&bytes[off as usize..footer_at], verify.then_some(crc), off)?;
    let mut total = 0;
    for b in &index.blocks {
        let paths: Vec<String> = b.fields.iter().map(|f| f.path.clone()).collect();
        let want = Want {
            ingest: true,
            messages: true,
            fields: &paths,
        };
        let d = decode_block_checked(index.dict.as_deref(), b, bytes, 0, &want, verify)?;
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
    let mut built = build(
        1,
        &streams,
        BlockLimits {
            max_events: 5,
            max_bytes: 1 << 16,
        },
    )?
    .bytes;
    for &(pos, mask) in flips {
        let n = built.len();
        if n > 0 {
            built[pos % n] ^= mask;
        }
    }
    decode_segment(&built, false)
}

#[cfg(test)]
mod tests;
