/// Service limits (`spec/logs-api.md` §3.4); AWS values by default, configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most events in one PutLogEvents batch.
    pub max_batch_events: usize,
    /// Most bytes in one batch, counting each message's UTF-8 length plus
    /// [`Limits::EVENT_OVERHEAD`].
    pub max_batch_bytes: usize,
    /// Largest single message in bytes.
    pub max_event_bytes: usize,
    /// Events older than this (relative to now) are refused as too old.
    pub max_event_age_ms: i64,
    /// Events further ahead than this are refused as too new.
    pub max_future_ms: i64,
    /// Largest span between the oldest and newest accepted event of one batch.
    pub max_batch_span_ms: i64,
    /// Most events on one GetLogEvents or FilterLogEvents page.
    pub max_page_events: usize,
    /// Most bytes on one GetLogEvents or FilterLogEvents page.
    pub max_page_bytes: usize,
    /// Most tags on one resource.
    pub max_tags: usize,
}

impl Limits {
    /// Bytes AWS adds to each message when sizing a batch.
    pub const EVENT_OVERHEAD: usize = 26;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_batch_events: 10_000,
            max_batch_bytes: 1_048_576,
            max_event_bytes: 1_048_576 - Self::EVENT_OVERHEAD,
            max_event_age_ms: 14 * 86_400_000,
            max_future_ms: 2 * 3_600_000,
            max_batch_span_ms: 24 * 3_600_000,
            max_page_events: 10_000,
            max_page_bytes: 1_048_576,
            max_tags: 50,
        }
    }
}
