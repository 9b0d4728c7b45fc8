//! Terminal manners: colour only on a terminal, aligned tables, times as people read them.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use anyhow::{Result, bail};
use lookout_testkit::{parse_span, parse_start};
use time::OffsetDateTime;
use time::macros::format_description;

/// ANSI styling that is a no-op when colour is off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    color: bool,
}

impl Style {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset (no-color.org).
    pub(crate) fn for_stdout() -> Self {
        Self::new(io::stdout().is_terminal())
    }

    /// Colour if `terminal`, unless the user opted out.
    pub(crate) fn new(terminal: bool) -> Self {
        let opted_out = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Self {
            color: terminal && !opted_out,
        }
    }

    /// No colour at all.
    #[cfg(test)]
    pub(crate) const fn plain() -> Self {
        Self { color: false }
    }

    /// Colour whatever the environment says.
    #[cfg(test)]
    pub(crate) const fn new_colored() -> Self {
        Self { color: true }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }

    /// A log level padded to five columns, in its conventional colour (errors red, warnings
    /// yellow, …).
    pub(crate) fn level(self, level: &str) -> String {
        let padded = format!("{level:<5}");
        let code = match level.to_ascii_uppercase().as_str() {
            "CRITICAL" | "FATAL" | "ERROR" => "1;31",
            "WARN" | "WARNING" => "33",
            "INFO" => "32",
            "DEBUG" => "34",
            "TRACE" => "35",
            _ => "0",
        };
        self.paint(code, &padded)
    }
}

/// Writes `rows` under `headers` with columns padded to their widest cell.
pub(crate) fn write_table(
    out: &mut impl Write,
    style: Style,
    headers: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, cell) in cells.enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            if i + 1 < widths.len() {
                s.push_str(cell);
                s.extend(std::iter::repeat_n(
                    ' ',
                    width.saturating_sub(cell.chars().count()) + 2,
                ));
            } else {
                s.push_str(cell);
            }
        }
        s
    };
    writeln!(out, "{}", style.bold(&line(&mut headers.iter().copied())))?;
    for row in rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

/// `2026-11-29T19:05:41.123Z`.
pub(crate) fn iso_millis(ms: i64) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// `1.2 MB`: a byte count for a table cell.
pub(crate) fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Parses a point in time: a duration ago (`10m`, `2h`, `7d`, `1w`), RFC 3339 UTC, or epoch
/// milliseconds. Returns epoch milliseconds.
pub(crate) fn parse_time(flag: &str, s: &str, now_ms: i64) -> Result<i64> {
    let s = s.trim();
    if let Some(weeks) = s.strip_suffix('w').and_then(|n| n.parse::<i64>().ok())
        && weeks > 0
    {
        return Ok(now_ms - weeks * 7 * 86_400_000);
    }
    let is_duration = s.ends_with(['s', 'm', 'h', 'd']) && !s.contains(['-', ':']);
    if is_duration && let Some(ago) = parse_span(s) {
        return Ok(now_ms - ago);
    }
    if let Some(t) = parse_start(s) {
        return Ok(t);
    }
    bail!(
        "invalid {flag} {s:?}: expected a duration ago (30s, 10m, 2h, 7d, 1w), an RFC 3339 time (2026-11-29T10:00:00Z) or epoch milliseconds"
    )
}

/// Sleeps; the client tools are plain threads, never inside an async runtime.
#[allow(clippy::disallowed_methods)]
pub(crate) fn pause(d: Duration) {
    std::thread::sleep(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_accepted_form() {
        let now = 1_800_000_000_000;
        assert_eq!(parse_time("--since", "10m", now).unwrap(), now - 600_000);
        assert_eq!(parse_time("--since", "1w", now).unwrap(), now - 604_800_000);
        assert_eq!(
            parse_time("--start", "2026-11-29T10:00:00Z", now).unwrap(),
            parse_start("2026-11-29T10:00:00Z").unwrap()
        );
        assert_eq!(parse_time("--start", "1234", now).unwrap(), 1234);
        let err = parse_time("--since", "yesterday", now).unwrap_err();
        assert!(err.to_string().starts_with("invalid --since"), "{err}");
    }

    #[test]
    fn tables_align_and_times_format() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["a".to_string(), "1".to_string()],
            vec!["long name".to_string(), "22".to_string()],
        ];
        write_table(&mut out, Style { color: false }, &["NAME", "N"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME       N\na          1\nlong name  22\n"
        );
        assert_eq!(iso_millis(86_400_123), "1970-01-02T00:00:00.123Z");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }
}
