//! FilterLogEvents as an iterator over one group, and a time-ordered merge of several.

use std::collections::{HashMap, VecDeque};

use anyhow::Result;
use lookout_api::shapes::{FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent};

use crate::client::Client;

/// What to read from a group.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// Inclusive, epoch ms.
    pub start_ms: Option<i64>,
    /// Inclusive, epoch ms.
    pub end_ms: Option<i64>,
    /// Filter pattern; `None` matches everything.
    pub pattern: Option<String>,
    /// Stream name prefix.
    pub stream_prefix: Option<String>,
}

/// The events of one group, fetched a page at a time.
pub(crate) struct GroupEvents {
    /// The group read.
    pub group: String,
    selection: Selection,
    buffer: VecDeque<FilteredLogEvent>,
    token: Option<String>,
    done: bool,
}

impl GroupEvents {
    pub(crate) fn new(group: &str, selection: Selection) -> Self {
        Self {
            group: group.to_string(),
            selection,
            buffer: VecDeque::new(),
            token: None,
            done: false,
        }
    }

    /// Starts over from `start_ms` (inclusive) after the previous pass ended.
    pub(crate) fn restart(&mut self, start_ms: i64) {
        self.selection.start_ms = Some(start_ms);
        self.buffer.clear();
        self.token = None;
        self.done = false;
    }

    /// The next event without consuming it; fetches pages as needed.
    pub(crate) fn peek(&mut self, client: &Client) -> Result<Option<&FilteredLogEvent>> {
        while self.buffer.is_empty() && !self.done {
            let page: FilterLogEventsResponse = client.call(
                "FilterLogEvents",
                &FilterLogEventsRequest {
                    log_group_name: Some(self.group.clone()),
                    log_stream_name_prefix: self.selection.stream_prefix.clone(),
                    start_time: self.selection.start_ms,
                    end_time: self.selection.end_ms,
                    filter_pattern: self.selection.pattern.clone(),
                    next_token: self.token.take(),
                    ..Default::default()
                },
            )?;
            self.buffer.extend(page.events);
            self.token = page.next_token;
            self.done = self.token.is_none();
        }
        Ok(self.buffer.front())
    }

    /// Consumes the event `peek` returned.
    pub(crate) fn pop(&mut self) -> Option<FilteredLogEvent> {
        self.buffer.pop_front()
    }
}

/// Several groups merged into one time-ordered sequence (ties keep group order).
pub(crate) struct Merged {
    pub groups: Vec<GroupEvents>,
}

impl Merged {
    /// The next event of any group, with the index of its group.
    pub(crate) fn next(&mut self, client: &Client) -> Result<Option<(usize, FilteredLogEvent)>> {
        let mut best: Option<(usize, i64)> = None;
        for (i, g) in self.groups.iter_mut().enumerate() {
            if let Some(e) = g.peek(client)?
                && best.is_none_or(|(_, t)| e.timestamp < t)
            {
                best = Some((i, e.timestamp));
            }
        }
        Ok(best.and_then(|(i, _)| self.groups[i].pop().map(|e| (i, e))))
    }
}

/// Follow state: which events were already shown near the newest timestamp, so a poll that
/// starts a little before it prints neither a gap nor a duplicate.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Event id → timestamp, for events at or after `floor`.
    ids: HashMap<String, i64>,
    newest: Option<i64>,
}

impl Seen {
    /// Records `e`; `false` if it was already shown.
    pub(crate) fn insert(&mut self, e: &FilteredLogEvent) -> bool {
        self.newest = Some(self.newest.map_or(e.timestamp, |n| n.max(e.timestamp)));
        self.ids.insert(e.event_id.clone(), e.timestamp).is_none()
    }

    /// Where the next poll starts: `lookback_ms` before the newest event shown (events
    /// ingested late with an older timestamp are still picked up), and forgets ids older
    /// than that. `None` before any event was shown.
    pub(crate) fn next_start(&mut self, lookback_ms: i64) -> Option<i64> {
        let floor = self.newest? - lookback_ms;
        self.ids.retain(|_, ts| *ts >= floor);
        Some(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, ts: i64) -> FilteredLogEvent {
        FilteredLogEvent {
            event_id: id.into(),
            timestamp: ts,
            ..Default::default()
        }
    }

    #[test]
    fn seen_dedups_at_the_boundary_and_forgets_older_ids() {
        let mut seen = Seen::default();
        assert_eq!(seen.next_start(0), None);
        assert!(seen.insert(&ev("a", 10)));
        assert!(seen.insert(&ev("b", 20)));
        assert!(!seen.insert(&ev("b", 20)));
        assert_eq!(seen.next_start(5), Some(15));
        assert_eq!(seen.ids.len(), 1, "a is older than the floor");
        assert!(!seen.insert(&ev("b", 20)));
        assert!(seen.insert(&ev("c", 20)));
        assert!(
            seen.insert(&ev("late", 17)),
            "late arrival inside the lookback"
        );
    }
}
