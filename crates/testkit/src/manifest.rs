//! The manifest written beside a generated corpus: what is in it and the planted needles,
//! with exact counts, so that every benchmark can check its answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A planted value and the exact number of events that contain it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needle {
    /// The string to search for.
    pub value: String,
    /// Events whose message contains `value` (each event is one line of the JSONL output,
    /// so this is also what `grep -c` counts there).
    pub count: u64,
    /// The log group all hits are in, when they are in one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub log_group: Option<String>,
}

/// The planted needles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needles {
    /// One invocation's request id: its START/END/REPORT lines and every record it logged.
    pub request_id: Needle,
    /// The same invocation's X-Ray trace id (JSON records and its REPORT's XRAY line).
    pub trace_id: Needle,
    /// A term planted in a few application messages across all groups.
    pub rare_term: Needle,
}

/// Summary of a generated corpus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Generator name and version.
    pub generator: String,
    /// The seed used.
    pub seed: u64,
    /// Number of events.
    pub events: u64,
    /// Entropy setting used.
    pub entropy: f64,
    /// Configured start, epoch milliseconds.
    pub start_ms: i64,
    /// Configured span, milliseconds.
    pub span_ms: i64,
    /// Timestamp of the last event.
    pub last_timestamp_ms: i64,
    /// Number of log groups (functions).
    pub log_groups: u64,
    /// Number of log streams (execution environments).
    pub log_streams: u64,
    /// Invocations started.
    pub invocations: u64,
    /// Invocations that ended in an error, panic or timeout.
    pub failed_invocations: u64,
    /// Cold starts (one INIT_START each).
    pub cold_starts: u64,
    /// INIT_START, START, END, REPORT and timeout lines.
    pub platform_lines: u64,
    /// REPORT lines.
    pub report_lines: u64,
    /// Application records by level (DEBUG, INFO, WARN — WARNING in Python —, ERROR).
    pub levels: BTreeMap<String, u64>,
    /// Sum of message lengths in bytes.
    pub message_bytes: u64,
    /// Planted needles with exact counts.
    pub needles: Needles,
}
