//! One log event as a person reads it: Powertools JSON as `LEVEL request message key=value`,
//! Lambda's text format likewise, platform lines (START, END, REPORT, INIT_START) dimmed.

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::term::{Style, iso_millis};

/// How `lookout tail` prints an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum TailFormat {
    /// Time and the readable message; Lambda's context keys left out.
    Short,
    /// Time with milliseconds, stream, full request id and every key.
    Detailed,
    /// One FilterLogEvents event per line, with its `logGroupName`.
    Json,
}

/// Keys every Powertools record repeats; `short` leaves them out.
const CONTEXT_KEYS: &[&str] = &[
    "timestamp",
    "time",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "requestId",
    "request_id",
    "aws_request_id",
    "xray_trace_id",
    "sampling_rate",
    "location",
];

const LEVEL_KEYS: &[&str] = &["level", "log_level", "levelname", "severity"];
const MESSAGE_KEYS: &[&str] = &["message", "msg"];
const REQUEST_KEYS: &[&str] = &[
    "function_request_id",
    "requestId",
    "request_id",
    "aws_request_id",
];
const PLATFORM_PREFIXES: &[&str] = &[
    "START RequestId:",
    "END RequestId:",
    "REPORT RequestId:",
    "INIT_START ",
    "INIT_REPORT ",
    "INIT_RUNTIME_DONE",
    "EXTENSION\t",
    "TELEMETRY\t",
    "RESTORE_START ",
    "RESTORE_REPORT ",
    "XRAY TraceId:",
];

/// Whether `message` is a line the Lambda platform writes, not the function.
pub(crate) fn is_platform_line(message: &str) -> bool {
    PLATFORM_PREFIXES.iter().any(|p| message.starts_with(p))
}

/// The message part of one event (no time or stream), styled.
pub(crate) fn render_message(message: &str, detailed: bool, style: Style) -> String {
    let message = message.trim_end_matches(['\n', '\r']);
    if is_platform_line(message) {
        return style.dim(message.replace('\t', "  ").trim_end());
    }
    let trimmed = message.trim_start();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
        && let Some(line) = render_structured(&map, detailed, style)
    {
        return line;
    }
    if let Some(line) = render_lambda_text(message, detailed, style) {
        return line;
    }
    message.to_string()
}

fn first_str<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<(&'a str, &'a str)> {
    keys.iter().find_map(|k| {
        map.get_key_value(*k)
            .and_then(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
    })
}

fn short_id(id: &str, detailed: bool) -> &str {
    if detailed {
        id
    } else {
        id.get(..8).unwrap_or(id)
    }
}

/// `ERROR a1b2c3d4 Failed to charge card  amount=42.5  order_id=ord-1` (other keys in name
/// order), or `None` when the object is not a structured log record (no level and message).
fn render_structured(map: &Map<String, Value>, detailed: bool, style: Style) -> Option<String> {
    let (level_key, level) = first_str(map, LEVEL_KEYS)?;
    let (message_key, text) = match first_str(map, MESSAGE_KEYS) {
        Some(found) => found,
        // Powertools logs non-string messages (objects) as they are.
        None => MESSAGE_KEYS
            .iter()
            .find_map(|k| map.get_key_value(*k).map(|(k, _)| (k.as_str(), "")))?,
    };
    let mut out = style.level(level);
    if let Some((_, id)) = first_str(map, REQUEST_KEYS) {
        out.push(' ');
        out.push_str(&style.cyan(short_id(id, detailed)));
    }
    out.push(' ');
    if text.is_empty() {
        if let Some(v) = map.get(message_key) {
            out.push_str(&v.to_string());
        }
    } else {
        out.push_str(text);
    }
    let mut trailer = Vec::new();
    for (k, v) in map {
        if k == level_key || k == message_key {
            continue;
        }
        if !detailed && CONTEXT_KEYS.contains(&k.as_str()) {
            continue;
        }
        if detailed && REQUEST_KEYS.contains(&k.as_str()) {
            continue;
        }
        let value = match v {
            Value::String(s) if detailed && s.contains('\n') => {
                trailer.push(format!(
                    "{k}:\n    {}",
                    s.trim_end().replace('\n', "\n    ")
                ));
                continue;
            }
            // `short` keeps one event on one line: the first line of a traceback is enough.
            Value::String(s) if !detailed => match s.split_once('\n') {
                Some((first, _)) => format!("{first} …"),
                None => s.clone(),
            },
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str("  ");
        out.push_str(&style.dim(&format!("{k}=")));
        out.push_str(&value);
    }
    for t in trailer {
        out.push_str("\n  ");
        out.push_str(&t);
    }
    Some(out)
}

/// Lambda's text format: `2026-11-29T19:05:41.123Z\t<request id>\tINFO\tmessage`.
fn render_lambda_text(message: &str, detailed: bool, style: Style) -> Option<String> {
    let mut parts = message.splitn(4, '\t');
    let time = parts.next()?;
    let id = parts.next()?;
    let level = parts.next()?;
    let text = parts.next()?;
    let is_level = LEVEL_NAMES.contains(&level);
    if !(is_level && time.len() >= 20 && time.ends_with('Z') && id.len() >= 8) {
        return None;
    }
    Some(format!(
        "{} {} {text}",
        style.level(level),
        style.cyan(short_id(id, detailed))
    ))
}

const LEVEL_NAMES: &[&str] = &[
    "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL",
];

/// The whole line of one event in `short` or `detailed` form.
pub(crate) fn render_line(
    group: Option<&str>,
    stream: &str,
    timestamp: i64,
    message: &str,
    format: TailFormat,
    style: Style,
) -> String {
    let detailed = format == TailFormat::Detailed;
    let time = iso_millis(timestamp);
    let mut out = if detailed {
        style.dim(&time)
    } else {
        // Seconds are enough at a glance; `detailed` has the milliseconds.
        style.dim(time.get(..19).unwrap_or(&time))
    };
    out.push(' ');
    if let Some(g) = group {
        out.push_str(&style.bold(g));
        out.push(' ');
    }
    if detailed {
        out.push_str(&style.cyan(stream));
        out.push(' ');
    }
    out.push_str(&render_message(message, detailed, style));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style = Style::plain();

    #[test]
    fn powertools_records_put_the_message_first() {
        let line = r#"{"level":"ERROR","location":"handler:64","message":"Failed to process order","timestamp":"2026-11-01 01:28:48,000+0000","service":"payments","cold_start":true,"function_request_id":"f053ad55-a17d-47d8-946c-64428ee5830c","order_id":"ord-1","attempt":3}"#;
        assert_eq!(
            render_message(line, false, PLAIN),
            "ERROR f053ad55 Failed to process order  attempt=3  order_id=ord-1"
        );
        let detailed = render_message(line, true, PLAIN);
        assert!(
            detailed.starts_with("ERROR f053ad55-a17d-47d8-946c-64428ee5830c Failed to process order  attempt=3  cold_start=true  location=handler:64"),
            "{detailed}"
        );
    }

    #[test]
    fn exceptions_go_below_in_detailed_form() {
        let line =
            r#"{"level":"ERROR","message":"boom","exception":"Traceback\n  File x\nValueError"}"#;
        assert_eq!(
            render_message(line, true, PLAIN),
            "ERROR boom\n  exception:\n    Traceback\n      File x\n    ValueError"
        );
    }

    #[test]
    fn platform_and_text_lines() {
        assert_eq!(
            render_message("END RequestId: abc\n", false, PLAIN),
            "END RequestId: abc"
        );
        assert_eq!(
            render_message(
                "REPORT RequestId: abc\tDuration: 1.5 ms\t\n",
                false,
                Style::new_colored()
            ),
            "\x1b[2mREPORT RequestId: abc  Duration: 1.5 ms\x1b[0m"
        );
        assert_eq!(
            render_message(
                "2026-11-29T19:05:41.123Z\t8622761f-7aff-49f1-9625-38303ee812ef\tWARN\tslow call\n",
                false,
                PLAIN
            ),
            "WARN  8622761f slow call"
        );
        assert_eq!(render_message("plain text\n", false, PLAIN), "plain text");
        assert_eq!(render_message("{not json", false, PLAIN), "{not json");
        assert_eq!(
            render_message(r#"{"a":1}"#, false, PLAIN),
            r#"{"a":1}"#,
            "objects without level and message stay as they are"
        );
    }

    #[test]
    fn whole_lines() {
        assert_eq!(
            render_line(None, "s1", 86_400_123, "hello", TailFormat::Short, PLAIN),
            "1970-01-02T00:00:00 hello"
        );
        assert_eq!(
            render_line(
                Some("/g"),
                "s1",
                86_400_123,
                "hello",
                TailFormat::Detailed,
                PLAIN
            ),
            "1970-01-02T00:00:00.123Z /g s1 hello"
        );
    }
}
