//! Event-level lookups beside query execution: GetLogRecord (every field of one event),
//! GetLogGroupFields (field presence), and resolving `SOURCE` to log groups.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use lookout_insights::{Source, SourceKey, SourceSelection as Selection, TimeBound};
use lookout_storage::{Direction, Scan, Store, StreamRead};

use crate::error::Error;
use crate::row::{is_lambda_group, json_object, lambda_fields, walk};

/// Most log groups `SOURCE logGroups(...)` may select (spec §11.7).
pub const MAX_SOURCE_GROUPS: usize = 10_000;
/// Events sampled by [`log_group_fields`].
pub const FIELD_SAMPLE: usize = 10_000;

fn store_err(e: lookout_storage::StorageError, group: &str) -> Error {
    if e.kind() == lookout_storage::ErrorKind::NotFound {
        Error::GroupNotFound(group.to_owned())
    } else {
        Error::Storage(e)
    }
}

/// Every discovered field of a message in a group, rendered.
fn discovered(group: &str, message: &str, out: &mut Vec<(String, String)>) {
    let lambda = is_lambda_group(group);
    if lambda {
        for (name, v) in lambda_fields(message) {
            if let Some(s) = v.render() {
                out.push((name, s));
            }
        }
    }
    if let Some(obj) = json_object(message, lambda) {
        walk(&obj, &mut String::new(), 0, &mut 0, &mut |name, v| {
            if let Some(s) = v.render() {
                out.push((name.to_owned(), s));
            }
        });
    }
}

/// All fields of the event `ptr` points to (GetLogRecord, spec §11.5): system fields with
/// timestamps as epoch-ms strings, Lambda fields and discovered JSON fields.
pub fn log_record(store: &Store, ptr: &str, account: &str) -> Result<Vec<(String, String)>, Error> {
    let bad = || Error::InvalidParameter("the log record pointer is not valid".to_owned());
    let p = crate::ptr::decode(ptr).ok_or_else(bad)?;
    let read = StreamRead {
        start: Some(p.timestamp),
        end: Some(p.timestamp.saturating_add(1)),
        after: None,
        before: None,
        direction: Direction::Forward,
        limit: 10_000,
    };
    let events = store.read_stream(&p.group, &p.stream, &read).map_err(|e| {
        if e.kind() == lookout_storage::ErrorKind::NotFound {
            bad()
        } else {
            Error::Storage(e)
        }
    })?;
    let ev = events
        .into_iter()
        .find(|e| e.seq == p.seq)
        .ok_or_else(bad)?;
    let mut out = vec![
        ("@timestamp".to_owned(), ev.timestamp.to_string()),
        ("@ingestionTime".to_owned(), ev.ingestion_time.to_string()),
        ("@logStream".to_owned(), p.stream.clone()),
        ("@log".to_owned(), format!("{account}:{}", p.group)),
        ("@message".to_owned(), ev.message.clone()),
    ];
    discovered(&p.group, &ev.message, &mut out);
    Ok(out)
}

/// Fields seen in up to [`FIELD_SAMPLE`] events of a group in `[start, end)` and the
/// percentage of those events that have each (GetLogGroupFields).
pub fn log_group_fields(
    store: &Store,
    group: &str,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<Vec<(String, u32)>, Error> {
    let scan = Scan {
        start,
        end,
        messages: true,
        ..Scan::all()
    };
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    let mut fields = Vec::new();
    store
        .scan(group, &scan, &mut |batch| {
            for m in batch.messages.iter().flatten() {
                total += 1;
                fields.clear();
                discovered(group, m, &mut fields);
                for (name, _) in &fields {
                    *counts.entry(name.clone()).or_insert(0) += 1;
                }
                if total as usize >= FIELD_SAMPLE {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| store_err(e, group))?;
    let mut out = Vec::new();
    if total > 0 {
        for name in [
            "@timestamp",
            "@message",
            "@logStream",
            "@log",
            "@ingestionTime",
        ] {
            out.push((name.to_owned(), 100));
        }
    }
    for (name, n) in counts {
        out.push((name, ((n * 100 + total / 2) / total.max(1)) as u32));
    }
    Ok(out)
}

/// Groups a `SOURCE` selects and the time range (epoch ms, end inclusive) it carries.
pub type SourceSelection = (Vec<String>, Option<(i64, i64)>);

/// The log groups a `SOURCE` selects, and the time range its rewritten form carries
/// (`START=` / `END=`, epoch ms, end inclusive). `now_ms` anchors relative bounds.
pub fn resolve_source(
    store: &Store,
    source: &Source,
    now_ms: i64,
) -> Result<SourceSelection, Error> {
    match &source.selection {
        Selection::Named { groups, range } => {
            let bound = |b: &TimeBound| match b {
                TimeBound::Absolute(ms) => *ms,
                TimeBound::Relative { negative, period } => {
                    let ms = period
                        .unit
                        .fixed_millis()
                        .map_or(0.0, |u| period.amount * u as f64)
                        as i64;
                    if *negative { now_ms - ms } else { now_ms + ms }
                }
            };
            Ok((
                groups.clone(),
                range.as_ref().map(|(s, e)| (bound(s), bound(e))),
            ))
        }
        Selection::LogGroups(args) => {
            let mut prefixes: Vec<Option<&str>> = Vec::new();
            for a in args {
                if a.key == SourceKey::NamePrefix {
                    prefixes.extend(a.values.iter().map(|v| Some(v.as_str())));
                }
            }
            if prefixes.is_empty() {
                prefixes.push(None);
            }
            let mut out: Vec<String> = Vec::new();
            for prefix in prefixes {
                let mut after: Option<String> = None;
                loop {
                    let page = store.list_groups(prefix, after.as_deref(), 1000)?;
                    let Some(last) = page.last() else {
                        break;
                    };
                    after = Some(last.name.clone());
                    for g in page {
                        if !out.contains(&g.name) {
                            out.push(g.name);
                        }
                    }
                    if out.len() > MAX_SOURCE_GROUPS {
                        return Err(Error::InvalidParameter(format!(
                            "SOURCE selects more than {MAX_SOURCE_GROUPS} log groups; narrow the selection"
                        )));
                    }
                }
            }
            Ok((out, None))
        }
    }
}
