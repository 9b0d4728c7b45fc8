//! Epoch-millisecond timestamps to the text forms Lambda logs use, and back.
//!
//! The generator formats two timestamps per event; a date library's general formatter costs
//! more than the rest of the line, so the civil-date arithmetic is done here directly.

/// Civil date (year, month, day) of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Broken-down UTC time of an epoch-millisecond timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

impl Civil {
    pub(crate) fn from_millis(ms: i64) -> Self {
        let days = ms.div_euclid(86_400_000);
        let rem = ms.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let secs = (rem / 1000) as u32;
        Self {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            milli: (rem % 1000) as u32,
        }
    }
}

fn push2(out: &mut String, v: u32) {
    out.push((b'0' + (v / 10 % 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

fn push_year(out: &mut String, y: i64) {
    let y = y.clamp(0, 9999) as u32;
    push2(out, y / 100);
    push2(out, y % 100);
}

/// Two decimal digits of `v` (mod 100) into `out[0..2]`.
fn put2(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// Date, time and milliseconds of `ms` with the given separators and suffix, formatted in a
/// stack buffer and appended at once.
fn push_date_time(out: &mut String, ms: i64, between: u8, before_millis: u8, suffix: &str) {
    let c = Civil::from_millis(ms);
    let y = c.year.clamp(0, 9999) as u32;
    let mut b = *b"0000-00-00T00:00:00.000";
    put2(&mut b[0..2], y / 100);
    put2(&mut b[2..4], y % 100);
    put2(&mut b[5..7], c.month);
    put2(&mut b[8..10], c.day);
    b[10] = between;
    put2(&mut b[11..13], c.hour);
    put2(&mut b[14..16], c.minute);
    put2(&mut b[17..19], c.second);
    b[19] = before_millis;
    b[20] = b'0' + (c.milli / 100 % 10) as u8;
    put2(&mut b[21..23], c.milli % 100);
    // Digits and ASCII separators: always UTF-8.
    out.push_str(std::str::from_utf8(&b).unwrap_or_default());
    out.push_str(suffix);
}

/// `2026-11-29T19:05:41.123Z`, the form of Lambda's text lines and Powertools TypeScript.
pub(crate) fn push_iso_millis(out: &mut String, ms: i64) {
    push_date_time(out, ms, b'T', b'.', "Z");
}

/// `2026-11-29 19:05:41,123+0000`, Powertools Python's default `datefmt`.
pub(crate) fn push_python_millis(out: &mut String, ms: i64) {
    push_date_time(out, ms, b' ', b',', "+0000");
}

/// `2026/11/29`, the date prefix of a Lambda log stream name.
pub(crate) fn push_stream_date(out: &mut String, ms: i64) {
    let c = Civil::from_millis(ms);
    push_year(out, c.year);
    out.push('/');
    push2(out, c.month);
    out.push('/');
    push2(out, c.day);
}

/// Parses `--start`: epoch milliseconds, or RFC 3339 UTC (`2026-11-01T00:00:00Z`, optional
/// fraction, optional `Z`).
pub fn parse_start(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (s, "00:00:00"),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, b),
        None => (time, ""),
    };
    let mut tp = hms.split(':');
    let h: i64 = tp.next()?.parse().ok()?;
    let mi: i64 = tp.next()?.parse().ok()?;
    let se: i64 = tp.next().unwrap_or("0").parse().ok()?;
    if tp.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut millis = 0i64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        millis += i64::from(b - b'0') * [100, 10, 1][i];
    }
    Some(days_from_civil(y, m, d) * 86_400_000 + ((h * 60 + mi) * 60 + se) * 1000 + millis)
}

/// Parses `--span`: a number with a unit (`ms`, `s`, `m`, `h`, `d`); a bare number is
/// milliseconds.
pub fn parse_span(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "" | "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2026-11-29T19:05:41.123Z
        let ms = parse_start("2026-11-29T19:05:41.123Z").unwrap();
        let mut s = String::new();
        push_iso_millis(&mut s, ms);
        assert_eq!(s, "2026-11-29T19:05:41.123Z");
        s.clear();
        push_python_millis(&mut s, ms);
        assert_eq!(s, "2026-11-29 19:05:41,123+0000");
        s.clear();
        push_stream_date(&mut s, ms);
        assert_eq!(s, "2026/11/29");
        assert_eq!(parse_start("0"), Some(0));
        assert_eq!(parse_start("1970-01-02T00:00:00Z"), Some(86_400_000));
        assert_eq!(parse_start("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "2026-13-01",
            "2026-11-01T25:00:00Z",
            "yesterday",
            "2026-11-01T00:00:00.x",
        ] {
            assert_eq!(parse_start(bad), None, "{bad}");
        }
        assert_eq!(parse_span("24h"), Some(86_400_000));
        assert_eq!(parse_span("90s"), Some(90_000));
        assert_eq!(parse_span("1500"), Some(1500));
        assert_eq!(parse_span("0"), None);
        assert_eq!(parse_span("3w"), None);
        assert_eq!(parse_span("h"), None);
    }
}
