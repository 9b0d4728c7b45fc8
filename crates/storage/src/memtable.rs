//! The in-memory tail: events acknowledged since the last flush, per stream, in
//! (timestamp, sequence) order.

use std::collections::HashMap;
use std::time::Instant;

/// One stored event in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) ts: i64,
    pub(crate) ingest: i64,
    pub(crate) seq: u64,
    pub(crate) msg: String,
}

impl Row {
    pub(crate) fn key(&self) -> (i64, u64) {
        (self.ts, self.seq)
    }
}

/// Statistics of the events a memtable holds for one stream; merged into the metastore at
/// flush so describing a stream never needs a write per PutLogEvents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamDelta {
    pub(crate) first_ts: i64,
    pub(crate) last_ts: i64,
    pub(crate) last_ingest: i64,
    pub(crate) bytes: u64,
}

impl StreamDelta {
    pub(crate) fn merge(&mut self, o: &StreamDelta) {
        self.first_ts = self.first_ts.min(o.first_ts);
        self.last_ts = self.last_ts.max(o.last_ts);
        self.last_ingest = self.last_ingest.max(o.last_ingest);
        self.bytes += o.bytes;
    }
}

#[derive(Debug)]
pub(crate) struct StreamRows {
    pub(crate) group_id: u64,
    pub(crate) rows: Vec<Row>,
    pub(crate) delta: StreamDelta,
}

#[derive(Debug)]
pub(crate) struct Memtable {
    pub(crate) streams: HashMap<u64, StreamRows>,
    pub(crate) bytes: usize,
    pub(crate) events: usize,
    pub(crate) max_seq: u64,
    pub(crate) created: Instant,
}

impl Memtable {
    pub(crate) fn new() -> Self {
        Self {
            streams: HashMap::new(),
            bytes: 0,
            events: 0,
            max_seq: 0,
            created: Instant::now(),
        }
    }

    /// Adds rows that arrive sorted by key among themselves.
    pub(crate) fn insert(&mut self, group_id: u64, stream_id: u64, rows: Vec<Row>) {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return;
        };
        let mut delta = StreamDelta {
            first_ts: first.ts,
            last_ts: last.ts,
            last_ingest: first.ingest,
            bytes: 0,
        };
        for r in &rows {
            delta.bytes += r.msg.len() as u64;
            delta.last_ingest = delta.last_ingest.max(r.ingest);
            delta.first_ts = delta.first_ts.min(r.ts);
            delta.last_ts = delta.last_ts.max(r.ts);
            self.max_seq = self.max_seq.max(r.seq);
        }
        self.bytes += delta.bytes as usize + rows.len() * 32;
        self.events += rows.len();
        let entry = self.streams.entry(stream_id).or_insert_with(|| StreamRows {
            group_id,
            rows: Vec::new(),
            delta: StreamDelta { bytes: 0, ..delta },
        });
        entry.delta.merge(&delta);
        let ordered = entry.rows.last().is_none_or(|l| l.key() < first.key());
        entry.rows.extend(rows);
        if !ordered {
            // Concurrent writers to one stream may interleave timestamps; keys are unique.
            entry.rows.sort_unstable_by_key(Row::key);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }

    pub(crate) fn remove_stream(&mut self, stream_id: u64) {
        self.streams.remove(&stream_id);
    }

    pub(crate) fn remove_group(&mut self, group_id: u64) {
        self.streams.retain(|_, s| s.group_id != group_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: i64, seq: u64) -> Row {
        Row {
            ts,
            ingest: 7,
            seq,
            msg: format!("m{seq}"),
        }
    }

    #[test]
    fn keeps_rows_ordered_and_tracks_stats() {
        let mut m = Memtable::new();
        m.insert(1, 10, vec![row(5, 1), row(6, 2)]);
        m.insert(1, 10, vec![row(3, 3), row(9, 4)]);
        let s = &m.streams[&10];
        let keys: Vec<_> = s.rows.iter().map(Row::key).collect();
        assert_eq!(keys, [(3, 3), (5, 1), (6, 2), (9, 4)]);
        assert_eq!(
            (s.delta.first_ts, s.delta.last_ts, s.delta.bytes),
            (3, 9, 8)
        );
        assert_eq!(m.max_seq, 4);
        m.remove_group(1);
        assert!(m.streams.is_empty());
    }
}
