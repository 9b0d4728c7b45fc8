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

/// Bytes a row costs in memory beyond its message, for the flush and backpressure limits.
const ROW_OVERHEAD: usize = 32;

/// Bytes `rows` count for in the flush and backpressure limits.
pub(crate) fn row_bytes(rows: &[Row]) -> usize {
    rows.iter().map(|r| r.msg.len() + ROW_OVERHEAD).sum()
}

/// Index of the first row at or after `start` in rows sorted by key.
pub(crate) fn hot_index(rows: &[Row], start: i64) -> usize {
    rows.partition_point(|r| r.ts < start)
}

/// Statistics of rows; `None` when there are none.
pub(crate) fn delta_of(rows: &[Row]) -> Option<StreamDelta> {
    let first = rows.first()?;
    let mut d = StreamDelta {
        first_ts: first.ts,
        last_ts: first.ts,
        last_ingest: first.ingest,
        bytes: 0,
    };
    for r in rows {
        d.bytes += r.msg.len() as u64;
        d.last_ingest = d.last_ingest.max(r.ingest);
        d.first_ts = d.first_ts.min(r.ts);
        d.last_ts = d.last_ts.max(r.ts);
    }
    Some(d)
}

#[derive(Debug, Clone)]
pub(crate) struct StreamRows {
    pub(crate) group_id: u64,
    pub(crate) rows: Vec<Row>,
    pub(crate) delta: StreamDelta,
}

#[derive(Debug, Clone)]
pub(crate) struct Memtable {
    pub(crate) streams: HashMap<u64, StreamRows>,
    pub(crate) bytes: usize,
    pub(crate) events: usize,
    pub(crate) max_seq: u64,
    /// When the first row came in (when the memtable was made, while it is empty): the
    /// age `flush_age` bounds, and the start of the fill rate a flush judges load by.
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
    pub(crate) fn insert(&mut self, group_id: u64, stream_id: u64, mut rows: Vec<Row>) {
        let (Some(first), Some(last), Some(delta)) = (rows.first(), rows.last(), delta_of(&rows))
        else {
            return;
        };
        let (first, last) = (first.key(), last.key());
        if self.events == 0 {
            self.created = Instant::now();
        }
        self.max_seq = rows.iter().fold(self.max_seq, |m, r| m.max(r.seq));
        self.bytes += delta.bytes as usize + rows.len() * ROW_OVERHEAD;
        self.events += rows.len();
        let entry = self.streams.entry(stream_id).or_insert_with(|| StreamRows {
            group_id,
            rows: Vec::new(),
            delta: StreamDelta { bytes: 0, ..delta },
        });
        entry.delta.merge(&delta);
        if entry.rows.last().is_none_or(|l| l.key() < first) {
            entry.rows.append(&mut rows);
        } else if entry.rows.first().is_some_and(|f| last < f.key()) {
            // Rows kept back by a flush go in front of the ones appended meanwhile.
            rows.append(&mut entry.rows);
            entry.rows = rows;
        } else {
            // Concurrent writers to one stream may interleave timestamps; keys are unique.
            entry.rows.append(&mut rows);
            entry.rows.sort_unstable_by_key(Row::key);
        }
    }

    /// Where a background flush stops: rows at or after the returned timestamp stay in memory
    /// (and are re-logged), so the group-windows still filling end as one segment instead
    /// of one per flush. Keeps the newest two windows, else the newest one, if they hold at
    /// most `budget` bytes and leave at least `min_cold` bytes (and at least one row) to
    /// flush; `None` flushes everything.
    pub(crate) fn hot_start(&self, window_ms: i64, budget: usize, min_cold: usize) -> Option<i64> {
        let newest = self
            .streams
            .values()
            .filter_map(|s| s.rows.last())
            .map(|r| r.ts.div_euclid(window_ms))
            .max()?;
        for windows in [2, 1] {
            let start = newest.saturating_sub(windows - 1).saturating_mul(window_ms);
            let mut kept = 0usize;
            let mut kept_rows = 0usize;
            for s in self.streams.values() {
                let hot = &s.rows[hot_index(&s.rows, start)..];
                kept_rows += hot.len();
                kept += row_bytes(hot);
                if kept > budget {
                    break;
                }
            }
            let cold = self.bytes.saturating_sub(kept);
            if kept <= budget && kept_rows < self.events && cold >= min_cold {
                return Some(start);
            }
        }
        None
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

    #[test]
    fn rows_kept_back_go_in_front_of_newer_ones() {
        let mut m = Memtable::new();
        m.insert(1, 10, vec![row(8, 5), row(9, 6)]);
        m.insert(1, 10, vec![row(5, 1), row(6, 2)]);
        let keys: Vec<_> = m.streams[&10].rows.iter().map(Row::key).collect();
        assert_eq!(keys, [(5, 1), (6, 2), (8, 5), (9, 6)]);
        assert_eq!(m.events, 4);
    }

    #[test]
    fn hot_start_keeps_the_newest_windows_that_fit() {
        let mut m = Memtable::new();
        // Windows of 10: rows in windows 0, 1, 2 (stream 10) and 2 (stream 11).
        m.insert(1, 10, vec![row(1, 1), row(12, 2), row(25, 3)]);
        m.insert(2, 11, vec![row(21, 4)]);
        let per_row = 2 + ROW_OVERHEAD;
        // Two windows (1 and 2) fit.
        assert_eq!(m.hot_start(10, 3 * per_row, 1), Some(10));
        // Only the newest window fits, or only it leaves enough to flush.
        assert_eq!(m.hot_start(10, 2 * per_row, 1), Some(20));
        assert_eq!(m.hot_start(10, 3 * per_row, 2 * per_row), Some(20));
        // Nothing fits, or too little would be flushed: flush everything.
        assert_eq!(m.hot_start(10, per_row, 1), None);
        assert_eq!(m.hot_start(10, 3 * per_row, 3 * per_row), None);
        // Everything is hot: nothing would be flushed, so flush everything.
        let mut hot = Memtable::new();
        hot.insert(1, 10, vec![row(21, 1)]);
        assert_eq!(hot.hot_start(10, usize::MAX, 0), None);
        assert_eq!(Memtable::new().hot_start(10, usize::MAX, 0), None);
    }
}
