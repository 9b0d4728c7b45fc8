//! Events: PutLogEvents, GetLogEvents, FilterLogEvents, TestMetricFilter.

use std::collections::BTreeMap;

use lookout_api::shapes::{
    FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent, GetLogEventsRequest,
    GetLogEventsResponse, InputLogEvent, MetricFilterMatchRecord, OutputLogEvent,
    PutLogEventsRequest, PutLogEventsResponse, RejectedLogEventsInfo, TestMetricFilterRequest,
    TestMetricFilterResponse,
};
use lookout_api::{ApiError, Violations};
use lookout_filter::{Operation, Pattern};
use lookout_model::{InputEvent, Limits, RetentionDays};
use lookout_storage::{Direction, GroupRead, StreamRead, StreamSelector};

use crate::tokens::{self, StreamToken};
use crate::validate::{bounded, group_and_stream, one_group, required, storage, stream_name};
use crate::{Service, now_ms};

/// Where each event of a sorted batch falls: a too-old prefix, an expired prefix, accepted
/// events, a too-new suffix.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Classified {
    pub accepted: std::ops::Range<usize>,
    pub info: Option<RejectedLogEventsInfo>,
}

/// Splits a chronologically sorted batch by time (spec §5.7 step 5).
pub(crate) fn classify(
    timestamps: &[i64],
    now: i64,
    limits: &Limits,
    retention: Option<RetentionDays>,
) -> Classified {
    let too_old_before = now.saturating_sub(limits.max_event_age_ms);
    let expired_before = retention.map_or(i64::MIN, |r| r.cutoff(now));
    let too_new_after = now.saturating_add(limits.max_future_ms);
    let too_old = timestamps.partition_point(|t| *t < too_old_before);
    let old = timestamps.partition_point(|t| *t < too_old_before.max(expired_before));
    let new = timestamps.partition_point(|t| *t <= too_new_after);
    let mut info = RejectedLogEventsInfo::default();
    if too_old > 0 {
        info.too_old_log_event_end_index = Some(too_old as i64 - 1);
    }
    if old > too_old {
        info.expired_log_event_end_index = Some(old as i64 - 1);
    }
    if new < timestamps.len() {
        info.too_new_log_event_start_index = Some(new as i64);
    }
    let rejected = info != RejectedLogEventsInfo::default();
    Classified {
        accepted: old.min(new)..new,
        info: rejected.then_some(info),
    }
}

/// A batch that passed PutLogEvents' checks: the events to store and what was refused.
struct CheckedBatch {
    events: Vec<InputEvent>,
    info: Option<RejectedLogEventsInfo>,
}

/// PutLogEvents' batch rules (spec §5.7) in AWS's order: count, members, size, order, time.
fn check_batch(
    input: Vec<InputLogEvent>,
    limits: &Limits,
    retention: Option<RetentionDays>,
    now: i64,
) -> Result<CheckedBatch, ApiError> {
    if input.is_empty() || input.len() > limits.max_batch_events {
        let mut v = Violations::new();
        v.add(
            "logEvents",
            None,
            &format!(
                "Member must have length between 1 and {}",
                limits.max_batch_events
            ),
        );
        v.finish()?;
    }
    let mut events = Vec::with_capacity(input.len());
    let mut size = 0usize;
    let mut v = Violations::new();
    for (i, e) in input.into_iter().enumerate() {
        // Built only when a violation needs it: most batches have none.
        let member = || format!("logEvents.{}.member", i + 1);
        match (e.timestamp, e.message) {
            (Some(ts), Some(msg)) if !msg.is_empty() && ts >= 0 => {
                if msg.len() > limits.max_event_bytes {
                    return Err(ApiError::invalid(format!(
                        "Log event too large: {} bytes exceeds limit of {}",
                        msg.len(),
                        limits.max_event_bytes
                    )));
                }
                size += msg.len() + Limits::EVENT_OVERHEAD;
                events.push(InputEvent {
                    timestamp: ts,
                    message: msg,
                });
            }
            (None, _) => v.add(
                &format!("{}.timestamp", member()),
                None,
                "Member must not be null",
            ),
            (Some(ts), _) if ts < 0 => v.add(
                &format!("{}.timestamp", member()),
                Some(&ts.to_string()),
                "Member must have value greater than or equal to 0",
            ),
            (_, None) => v.add(
                &format!("{}.message", member()),
                None,
                "Member must not be null",
            ),
            (_, Some(_)) => v.add(
                &format!("{}.message", member()),
                Some(""),
                "Member must have length greater than or equal to 1",
            ),
        }
    }
    v.finish()?;
    if size > limits.max_batch_bytes {
        return Err(ApiError::invalid(format!(
            "Upload too large: {size} bytes exceeds limit of {}",
            limits.max_batch_bytes
        )));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(ApiError::invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let timestamps: Vec<i64> = events.iter().map(|e| e.timestamp).collect();
    let c = classify(&timestamps, now, limits, retention);
    let accepted = &timestamps[c.accepted.clone()];
    if let (Some(first), Some(last)) = (accepted.first(), accepted.last())
        && last - first > limits.max_batch_span_ms
    {
        return Err(ApiError::invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    events.truncate(c.accepted.end);
    events.drain(..c.accepted.start);
    Ok(CheckedBatch {
        events,
        info: c.info,
    })
}

impl Service {
    pub(crate) async fn put_log_events(
        &self,
        req: PutLogEventsRequest,
    ) -> Result<PutLogEventsResponse, ApiError> {
        let (group, stream) = group_and_stream(req.log_group_name, req.log_stream_name)?;
        let input = required(req.log_events, "logEvents")?;
        let store = self.store.clone();
        let cfg = self.cfg.clone();
        // One hop to the blocking pool for the whole request: the lookups (a missing group or
        // stream is reported before anything about the batch), the checks and the append,
        // which returns once the WAL's group commit has fsynced the batch. The async worker
        // meanwhile parses the next request.
        let job = move || -> Result<PutLogEventsResponse, ApiError> {
            let (g, s) = (group.as_str(), stream.as_str());
            let target = store.target(g, s).map_err(storage)?;
            let retention = target
                .retention_days
                .and_then(|d| RetentionDays::new(i64::from(d)).ok());
            let batch = check_batch(input, &cfg.limits, retention, now_ms())?;
            let mut token_seq = 0;
            if !batch.events.is_empty() {
                let ack = store.append_to(&target, batch.events).map_err(storage)?;
                token_seq = ack.first_seq + ack.count as u64;
            }
            Ok(PutLogEventsResponse {
                next_sequence_token: Some(format!("{token_seq:056}")),
                rejected_log_events_info: batch.info,
            })
        };
        match tokio::task::spawn_blocking(job).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "storage task failed");
                Err(ApiError::internal())
            }
        }
    }

    pub(crate) async fn get_log_events(
        &self,
        req: GetLogEventsRequest,
    ) -> Result<GetLogEventsResponse, ApiError> {
        let group = one_group(req.log_group_name, req.log_group_identifier)?;
        let stream = stream_name(
            &required(req.log_stream_name, "logStreamName")?,
            "logStreamName",
        )?;
        let limits = &self.cfg.limits;
        let limit = bounded(req.limit, "limit", 1, 10_000, limits.max_page_events as i64)? as usize;
        let token = match &req.next_token {
            Some(t) => Some(StreamToken::decode(t)?),
            None => None,
        };
        let (start, end) = (req.start_time, req.end_time);
        let (direction, after, before) = match token {
            Some(StreamToken::Forward(k)) => (Direction::Forward, Some(k), None),
            Some(StreamToken::Backward(k)) => (Direction::Backward, None, Some(k)),
            None if req.start_from_head.unwrap_or(false) => (Direction::Forward, None, None),
            None => (Direction::Backward, None, None),
        };
        let read = StreamRead {
            start,
            end,
            after,
            before,
            direction,
            limit,
        };
        let (g, s) = (group.as_str().to_string(), stream.as_str().to_string());
        let mut events = self
            .blocking(move |st| st.read_stream(&g, &s, &read))
            .await?;
        // A page also stops at 1 MB, dropping events at the far end of the reading direction.
        let mut bytes = 0usize;
        let fit = events.iter().position(|e| {
            bytes += e.message.len() + Limits::EVENT_OVERHEAD;
            bytes > limits.max_page_bytes
        });
        if let Some(n) = fit {
            match direction {
                Direction::Forward => events.truncate(n.max(1)),
                Direction::Backward => {
                    let keep = events.len() - n.max(1);
                    events.drain(..events.len() - keep.max(1));
                }
            }
        }
        // Tokens: after the page's last event and before its first. An empty page hands
        // back the position it was asked from, so clients see "same token" and stop.
        let lower = start.map_or((i64::MIN, 0), |t| (t.saturating_sub(1), u64::MAX));
        let upper = end.map_or((i64::MAX, u64::MAX), |t| (t, 0));
        let (forward, backward) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (last.key(), first.key()),
            _ => match token {
                Some(StreamToken::Forward(k)) | Some(StreamToken::Backward(k)) => (k, k),
                None => (lower, upper),
            },
        };
        Ok(GetLogEventsResponse {
            events: events
                .into_iter()
                .map(|e| OutputLogEvent {
                    timestamp: e.timestamp,
                    message: e.message,
                    ingestion_time: e.ingestion_time,
                })
                .collect(),
            next_forward_token: StreamToken::Forward(forward).encode(),
            next_backward_token: StreamToken::Backward(backward).encode(),
        })
    }

    pub(crate) async fn filter_log_events(
        &self,
        req: FilterLogEventsRequest,
    ) -> Result<FilterLogEventsResponse, ApiError> {
        let group = one_group(req.log_group_name, req.log_group_identifier)?;
        let limits = &self.cfg.limits;
        let limit = bounded(req.limit, "limit", 1, 10_000, limits.max_page_events as i64)? as usize;
        let selector = match (req.log_stream_names, req.log_stream_name_prefix) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "Cannot specify both logStreamNames and logStreamNamePrefix.",
                ));
            }
            (Some(names), None) => {
                if names.is_empty() || names.len() > 100 {
                    let mut v = Violations::new();
                    v.add(
                        "logStreamNames",
                        None,
                        "Member must have length between 1 and 100",
                    );
                    v.finish()?;
                }
                for n in &names {
                    stream_name(n, "logStreamNames")?;
                }
                StreamSelector::Names(names)
            }
            (None, Some(prefix)) => {
                stream_name(&prefix, "logStreamNamePrefix")?;
                StreamSelector::Prefix(prefix)
            }
            (None, None) => StreamSelector::All,
        };
        let pattern_text = req.filter_pattern.unwrap_or_default();
        let pattern = Pattern::parse(&pattern_text)
            .map_err(|e| ApiError::invalid(e.aws_message_for(Operation::FilterLogEvents)))?;
        let fingerprint = tokens::fingerprint(&[
            group.as_str(),
            &format!("{selector:?}"),
            &format!("{:?}/{:?}", req.start_time, req.end_time),
            &pattern_text,
        ]);
        let after = match &req.next_token {
            Some(t) => Some(tokens::decode_after(t, fingerprint)?),
            None => None,
        };
        let read = GroupRead {
            streams: selector,
            start: req.start_time,
            // FilterLogEvents' endTime is inclusive.
            end: req.end_time.map(|t| t.saturating_add(1)),
            after,
            limit,
        };
        let g = group.as_str().to_string();
        let mut page = self
            .blocking(move |st| st.read_group(&g, &read, &|m| pattern.matches(m)))
            .await?;
        let mut bytes = 0usize;
        if let Some(n) = page.events.iter().position(|e| {
            bytes += e.event.message.len() + Limits::EVENT_OVERHEAD;
            bytes > limits.max_page_bytes
        }) {
            page.events.truncate(n.max(1));
            page.more = true;
        }
        let next_token = if page.more {
            page.events
                .last()
                .map(|e| tokens::encode_after(e.event.key(), fingerprint))
        } else {
            None
        };
        Ok(FilterLogEventsResponse {
            events: page
                .events
                .into_iter()
                .map(|e| FilteredLogEvent {
                    log_stream_name: e.stream.to_string(),
                    timestamp: e.event.timestamp,
                    event_id: e.event.event_id().to_string(),
                    ingestion_time: e.event.ingestion_time,
                    message: e.event.message,
                })
                .collect(),
            searched_log_streams: Vec::new(),
            next_token,
        })
    }

    pub(crate) fn test_metric_filter(
        &self,
        req: TestMetricFilterRequest,
    ) -> Result<TestMetricFilterResponse, ApiError> {
        let text = required(req.filter_pattern, "filterPattern")?;
        let messages = required(req.log_event_messages, "logEventMessages")?;
        if messages.is_empty() || messages.len() > 50 {
            let mut v = Violations::new();
            v.add(
                "logEventMessages",
                None,
                "Member must have length between 1 and 50",
            );
            v.finish()?;
        }
        let pattern = Pattern::parse(&text)
            .map_err(|e| ApiError::invalid(e.aws_message_for(Operation::MetricFilter)))?;
        let mut matches = Vec::new();
        for (i, message) in messages.into_iter().enumerate() {
            if let Some(ex) = pattern.extract(&message) {
                let extracted_values: BTreeMap<String, String> =
                    ex.values().iter().cloned().collect();
                matches.push(MetricFilterMatchRecord {
                    event_number: i as i64 + 1,
                    event_message: message,
                    extracted_values,
                });
            }
        }
        Ok(TestMetricFilterResponse { matches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 100 * 86_400_000;

    #[test]
    fn classify_splits_prefixes_and_suffix() {
        let l = Limits::default();
        let day = 86_400_000;
        let ts = [
            NOW - 20 * day,
            NOW - 10 * day,
            NOW - day,
            NOW,
            NOW + 3 * 3_600_000,
        ];
        let c = classify(&ts, NOW, &l, RetentionDays::new(7).ok());
        assert_eq!(c.accepted, 2..4);
        let info = c.info.unwrap();
        assert_eq!(info.too_old_log_event_end_index, Some(0));
        assert_eq!(info.expired_log_event_end_index, Some(1));
        assert_eq!(info.too_new_log_event_start_index, Some(4));
        let c = classify(&[NOW], NOW, &l, None);
        assert_eq!((c.accepted, c.info), (0..1, None));
        // Everything too new: nothing accepted, no panic on the empty range.
        let c = classify(&[NOW + day], NOW, &l, None);
        assert_eq!(c.accepted.len(), 0);
        let any_age = Limits {
            max_event_age_ms: i64::MAX,
            ..Limits::default()
        };
        assert_eq!(classify(&[0], NOW, &any_age, None).accepted, 0..1);
    }
}
