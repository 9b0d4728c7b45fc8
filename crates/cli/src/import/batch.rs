//! Per-stream batches within the PutLogEvents limits.

use std::collections::HashMap;

use lookout_model::Limits;

/// One PutLogEvents call's worth of events of one stream.
#[derive(Debug)]
pub(crate) struct Batch {
    pub stream: String,
    /// (timestamp, message), chronological.
    pub events: Vec<(i64, String)>,
    /// First input line of this stream the batch covers.
    pub from: u64,
    /// Last input line of this stream the batch covers; every event of the stream between
    /// `from` and `through` is in the batch.
    pub through: u64,
}

#[derive(Debug, Default)]
struct Pending {
    events: Vec<(i64, String)>,
    bytes: usize,
    min_ts: i64,
    max_ts: i64,
    first_line: u64,
    last_line: u64,
}

/// Collects events per stream and cuts batches: a stream's batch is cut when the next event
/// would break a limit (count, bytes, 24 h span); when everything buffered passes
/// `max_buffered_bytes`, the streams idle longest are cut first (a Lambda stream that has
/// gone quiet has usually ended, so its batch is as full as it will get).
pub(crate) struct Batcher {
    limits: Limits,
    max_buffered_bytes: usize,
    pending: HashMap<String, Pending>,
    buffered_bytes: usize,
}

impl Batcher {
    pub(crate) fn new(limits: Limits, max_buffered_bytes: usize) -> Self {
        Self {
            limits,
            max_buffered_bytes,
            pending: HashMap::new(),
            buffered_bytes: 0,
        }
    }

    /// Bytes an event counts for in a batch.
    pub(crate) fn event_size(&self, message: &str) -> usize {
        message.len() + Limits::EVENT_OVERHEAD
    }

    /// Whether a message is too large for any batch.
    pub(crate) fn too_large(&self, message: &str) -> bool {
        message.len() > self.limits.max_event_bytes
    }

    /// Adds an event from input `line`; appends to `out` the batches that are now complete.
    pub(crate) fn add(
        &mut self,
        stream: &str,
        line: u64,
        timestamp: i64,
        message: String,
        out: &mut Vec<Batch>,
    ) {
        let size = self.event_size(&message);
        let full = self.pending.get(stream).is_some_and(|p| {
            p.events.len() >= self.limits.max_batch_events
                || p.bytes + size > self.limits.max_batch_bytes
                || p.max_ts.max(timestamp) - p.min_ts.min(timestamp) > self.limits.max_batch_span_ms
        });
        if full {
            self.cut(stream, out);
        }
        let p = self.pending.entry(stream.to_string()).or_default();
        if p.events.is_empty() {
            p.min_ts = timestamp;
            p.max_ts = timestamp;
            p.first_line = line;
        }
        p.min_ts = p.min_ts.min(timestamp);
        p.max_ts = p.max_ts.max(timestamp);
        p.last_line = line;
        p.bytes += size;
        p.events.push((timestamp, message));
        self.buffered_bytes += size;
        if self.buffered_bytes > self.max_buffered_bytes {
            let mut idle: Vec<(u64, String)> = self
                .pending
                .iter()
                .filter(|(_, p)| !p.events.is_empty())
                .map(|(s, p)| (p.last_line, s.clone()))
                .collect();
            idle.sort_unstable();
            for (_, s) in idle {
                if self.buffered_bytes <= self.max_buffered_bytes / 2 {
                    break;
                }
                self.cut(&s, out);
            }
        }
    }

    /// Cuts every remaining batch (end of input).
    pub(crate) fn finish(&mut self, out: &mut Vec<Batch>) {
        let mut streams: Vec<(u64, String)> = self
            .pending
            .iter()
            .filter(|(_, p)| !p.events.is_empty())
            .map(|(s, p)| (p.first_line, s.clone()))
            .collect();
        streams.sort_unstable();
        for (_, s) in streams {
            self.cut(&s, out);
        }
    }

    fn cut(&mut self, stream: &str, out: &mut Vec<Batch>) {
        let Some(p) = self.pending.remove(stream) else {
            return;
        };
        if p.events.is_empty() {
            return;
        }
        self.buffered_bytes -= p.bytes;
        let mut events = p.events;
        // PutLogEvents wants chronological order; a stable sort keeps ties in input order.
        events.sort_by_key(|e| e.0);
        out.push(Batch {
            stream: stream.to_string(),
            events,
            from: p.first_line,
            through: p.last_line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_limits() -> Limits {
        Limits {
            max_batch_events: 3,
            max_batch_bytes: 100,
            max_batch_span_ms: 1000,
            ..Limits::default()
        }
    }

    #[test]
    fn cuts_on_count_bytes_and_span_and_sorts() {
        let mut b = Batcher::new(small_limits(), 1 << 20);
        let mut out = Vec::new();
        for (line, ts) in [(0, 30), (1, 10), (2, 20), (3, 40)] {
            b.add("s", line, ts, "m".into(), &mut out);
        }
        assert_eq!(out.len(), 1, "cut at three events");
        assert_eq!(
            out[0].events.iter().map(|e| e.0).collect::<Vec<_>>(),
            [10, 20, 30]
        );
        assert_eq!((out[0].from, out[0].through), (0, 2));
        b.add("s", 4, 2000, "m".into(), &mut out);
        assert_eq!(out.len(), 2, "cut on the 24 h span (here 1 s)");
        b.add("s", 5, 2000, "x".repeat(60), &mut out);
        assert_eq!(out.len(), 3, "cut on bytes: 27 + 86 > 100");
        b.finish(&mut out);
        assert_eq!(out.len(), 4);
        assert_eq!((out[3].from, out[3].through), (5, 5));
    }

    #[test]
    fn buffer_pressure_cuts_idle_streams_first() {
        let mut b = Batcher::new(Limits::default(), 200);
        let mut out = Vec::new();
        b.add("old", 0, 1, "x".repeat(50), &mut out);
        b.add("new", 1, 1, "x".repeat(50), &mut out);
        assert!(out.is_empty());
        b.add("new", 2, 1, "x".repeat(50), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].stream, "old");
        assert_eq!((out[1].from, out[1].through), (1, 2));
    }
}
