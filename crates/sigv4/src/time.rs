//! The two request-time formats SigV4 accepts: `X-Amz-Date` (`20150830T123600Z`) and the
//! HTTP `Date` header (`Sun, 30 Aug 2015 12:36:00 GMT`).

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn from_parts(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    let valid = (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 61;
    valid.then(|| days_from_civil(i64::from(y), mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

/// Epoch seconds of an ISO 8601 basic timestamp, `YYYYMMDD'T'HHMMSS'Z'`.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    from_parts(
        digits(s.get(0..4)?)?,
        digits(s.get(4..6)?)?,
        digits(s.get(6..8)?)?,
        digits(s.get(9..11)?)?,
        digits(s.get(11..13)?)?,
        digits(s.get(13..15)?)?,
    )
}

/// Epoch seconds of an RFC 1123 HTTP date, `Sun, 30 Aug 2015 12:36:00 GMT`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let rest = s.trim().split_once(", ").map_or(s.trim(), |(_, r)| r);
    let mut parts = rest.split_ascii_whitespace();
    let d = digits(parts.next()?)?;
    let mo = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let y = digits(parts.next()?)?;
    let mut hms = parts.next()?.split(':');
    let (h, mi, sec) = (
        digits(hms.next()?)?,
        digits(hms.next()?)?,
        digits(hms.next()?)?,
    );
    if hms.next().is_some() || !matches!(parts.next(), Some("GMT" | "UTC")) {
        return None;
    }
    from_parts(y, mo, d, h, mi, sec)
}

/// `YYYYMMDD'T'HHMMSS'Z'` of epoch seconds.
pub fn format_amz_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(t, 1_440_938_160);
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(t));
        assert_eq!(parse_http_date("30 Aug 2015 12:36:00 GMT"), Some(t));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "20150830T123600",
            "2015083OT123600Z",
            "20151330T123600Z",
            "20150830T253600Z",
            "20150830T12360٠Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        for bad in [
            "",
            "Sun, 30 Foo 2015 12:36:00 GMT",
            "Sun, 30 Aug 2015 12:36 GMT",
            "Sun, 30 Aug 2015 12:36:00 PST",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
