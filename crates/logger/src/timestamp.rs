//! Timestamp formatting without a date library: the date part is cached per second in the
//! thread's scratch so a record only formats the sub-second digits.

/// How the `timestamp` key is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// RFC 3339 UTC with milliseconds: `2026-11-23T19:40:40.883Z` (default).
    #[default]
    Rfc3339Millis,
    /// RFC 3339 UTC with microseconds: `2026-11-23T19:40:40.883123Z`.
    Rfc3339Micros,
    /// RFC 3339 local time with milliseconds and the UTC offset:
    /// `2026-11-23T20:40:40.883+01:00`. The zone is `TZ` as the layer reads its environment
    /// (the process's, or [`env_vars`](crate::LoggerBuilder::env_vars)): an IANA name, a
    /// zoneinfo path after `:`, or a POSIX rule such as `IST-5:30`; when `TZ` is unset, the
    /// system zone (`/etc/localtime`), else UTC. A `TZ` naming no zone gives one warning
    /// and UTC. Lambda runs in UTC unless `TZ` is set.
    Rfc3339MillisLocal,
    /// Powertools Python's default shape in local time, `2026-11-23 19:40:40,883+0000`.
    Python,
}

/// The zone of the local-time formats: `TZ` from the layer's environment source (an IANA
/// name, a zoneinfo path after `:`, or a POSIX rule string), else the system zone.
#[derive(Clone, Debug)]
pub(crate) struct Zone {
    /// Distinguishes zones in the per-thread cache (layers with different zones may log
    /// on one thread).
    id: u64,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    /// UTC: the zone of the UTC formats, which never look at it.
    pub(crate) fn utc() -> Zone {
        Zone {
            id: 0,
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// The zone `TZ` names (`None`: unset), or UTC with an error text when it names none.
    pub(crate) fn resolve(tz: Option<&str>) -> Result<Zone, Zone> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let found = match tz.map(str::trim) {
            None | Some("") => Some(jiff::tz::TimeZone::system()),
            Some(value) => {
                let name = value.strip_prefix(':').unwrap_or(value);
                if name.starts_with('/') {
                    std::fs::read(name)
                        .ok()
                        .and_then(|data| jiff::tz::TimeZone::tzif(name, &data).ok())
                } else {
                    jiff::tz::TimeZone::get(name)
                        .or_else(|_| jiff::tz::TimeZone::posix(value))
                        .ok()
                }
            }
        };
        match found {
            Some(tz) => Ok(Zone {
                id: NEXT.fetch_add(1, Ordering::Relaxed),
                tz,
            }),
            None => Err(Zone::utc()),
        }
    }

    /// Seconds east of UTC at `second` since the epoch.
    fn offset(&self, second: i64) -> i32 {
        match jiff::Timestamp::from_second(second) {
            Ok(t) => self.tz.to_offset(t).seconds(),
            Err(_) => 0,
        }
    }
}

/// Where record times come from; tests use a fixed clock to assert exact lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system's wall clock. On Linux x86-64 hosts whose kernel keeps time with the
    /// CPU's time-stamp counter it is read through that counter, scaled from a recent
    /// reading of the system clock (at most 50 ms old, and never from before the current
    /// invocation started), which is cheaper than `clock_gettime`.
    #[default]
    System,
    /// Always this many microseconds since the Unix epoch.
    FixedMicros(i64),
}

impl Clock {
    pub(crate) fn now_micros(self) -> i64 {
        match self {
            Clock::System => crate::clock::wall_micros(),
            Clock::FixedMicros(us) => us,
        }
    }
}

/// The date and time of the last formatted second, so a record in the same second only
/// formats its sub-second digits. Each thread's scratch holds one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cache {
    second: i64,
    format: TimestampFormat,
    zone: u64,
    /// Date and time up to and including the seconds digits.
    prefix: [u8; 19],
    /// `"timestamp":"<prefix><sub-second template>",` and its length.
    piece: [u8; 48],
    piece_len: usize,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            second: i64::MIN,
            format: TimestampFormat::Rfc3339Millis,
            zone: 0,
            prefix: [0; 19],
            piece: [0; 48],
            piece_len: 0,
        }
    }
}

/// Where the sub-second digits start in [`Cache::piece`].
const SUB_AT: usize = 33;
/// Length of `"timestamp":` before the quoted value in [`Cache::piece`].
const KEY_LEN: usize = 12;

impl Cache {
    /// Makes the cached piece describe `second` in `format` and `zone`.
    #[inline]
    fn refresh(&mut self, second: i64, format: TimestampFormat, zone: &Zone) {
        if self.second != second || self.format != format || self.zone != zone.id {
            self.rebuild(second, format, zone);
        }
    }

    #[cold]
    fn rebuild(&mut self, second: i64, format: TimestampFormat, zone: &Zone) {
        let offset = match format {
            TimestampFormat::Rfc3339MillisLocal | TimestampFormat::Python => zone.offset(second),
            _ => 0,
        };
        self.zone = zone.id;
        self.prefix = prefix(second.saturating_add(i64::from(offset)), format);
        self.second = second;
        self.format = format;
        let mut tail = [0u8; 16];
        let n = match format {
            TimestampFormat::Rfc3339Millis => copy(&mut tail, b".000Z\","),
            TimestampFormat::Rfc3339Micros => copy(&mut tail, b".000000Z\","),
            TimestampFormat::Rfc3339MillisLocal => {
                let n = copy(&mut tail, b".000");
                n + offset_text(&mut tail[n..], offset, true) + copy(&mut tail[n + 6..], b"\",")
            }
            TimestampFormat::Python => {
                let n = copy(&mut tail, b",000");
                n + offset_text(&mut tail[n..], offset, false) + copy(&mut tail[n + 5..], b"\",")
            }
        };
        let mut piece = [0u8; 48];
        piece[..13].copy_from_slice(b"\"timestamp\":\"");
        piece[13..32].copy_from_slice(&self.prefix);
        piece[32..32 + n].copy_from_slice(&tail[..n]);
        self.piece = piece;
        self.piece_len = 32 + n;
    }

    /// Refreshes the cache for `micros` and returns the sub-second microseconds.
    #[inline]
    fn sub_second(&mut self, micros: i64, format: TimestampFormat, zone: &Zone) -> u32 {
        // Unsigned division is cheaper, and every time after 1970 takes it.
        let (second, sub) = match u64::try_from(micros) {
            Ok(m) => ((m / 1_000_000) as i64, (m % 1_000_000) as u32),
            Err(_) => (
                micros.div_euclid(1_000_000),
                micros.rem_euclid(1_000_000) as u32,
            ),
        };
        self.refresh(second, format, zone);
        sub
    }

    /// The piece for `micros` with its sub-second digits filled in.
    #[inline]
    fn patched(&mut self, micros: i64, format: TimestampFormat, zone: &Zone) -> [u8; 48] {
        let sub = self.sub_second(micros, format, zone);
        let mut piece = self.piece;
        put_sub(&mut piece[SUB_AT..], sub, format);
        piece
    }
}

/// Writes the sub-second digits (3, or 6 for microseconds) at the start of `dst`.
#[inline]
fn put_sub(dst: &mut [u8], sub: u32, format: TimestampFormat) {
    match format {
        TimestampFormat::Rfc3339Micros => put(&mut dst[..6], sub),
        _ => {
            let ms = sub / 1000;
            let hundreds = ms / 100;
            let rest = ms % 100;
            if let [a, b, c, ..] = dst {
                *a = b'0' + hundreds as u8;
                *b = b'0' + (rest / 10) as u8;
                *c = b'0' + (rest % 10) as u8;
            }
        }
    }
}

fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    dst[..src.len()].copy_from_slice(src);
    src.len()
}

/// `+01:00` (RFC 3339, 6 bytes) or `+0100` (Python's `%z`, 5 bytes).
fn offset_text(dst: &mut [u8], offset: i32, colon: bool) -> usize {
    dst[0] = if offset < 0 { b'-' } else { b'+' };
    let minutes = offset.unsigned_abs() / 60;
    put(&mut dst[1..3], minutes / 60);
    if colon {
        dst[3] = b':';
        put(&mut dst[4..6], minutes % 60);
        6
    } else {
        put(&mut dst[3..5], minutes % 60);
        5
    }
}

/// Appends `"timestamp":"…",` for `micros` since the epoch: a copy of the cached piece with
/// the sub-second digits patched in, written with one constant-size copy.
#[inline]
pub(crate) fn write_piece(
    out: &mut Vec<u8>,
    micros: i64,
    (format, zone): (TimestampFormat, &Zone),
    c: &mut Cache,
) {
    let sub = c.sub_second(micros, format, zone);
    let start = out.len();
    out.extend_from_slice(&c.piece);
    out.truncate(start + c.piece_len);
    if let Some(dst) = out.get_mut(start + SUB_AT..) {
        put_sub(dst, sub, format);
    }
}

/// Appends the quoted timestamp for `micros` since the epoch.
#[cfg(test)]
pub(crate) fn write(out: &mut Vec<u8>, micros: i64, format: TimestampFormat) {
    write_cached(out, micros, (format, &system()), &mut Cache::default());
}

/// Appends the quoted timestamp for `micros` since the epoch, reusing `cache` when the
/// second has not changed.
pub(crate) fn write_cached(
    out: &mut Vec<u8>,
    micros: i64,
    (format, zone): (TimestampFormat, &Zone),
    c: &mut Cache,
) {
    let piece = c.patched(micros, format, zone);
    out.extend_from_slice(piece.get(KEY_LEN..c.piece_len - 1).unwrap_or(&[]));
}

fn prefix(second: i64, format: TimestampFormat) -> [u8; 19] {
    let days = second.div_euclid(86_400);
    let secs = second.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut p = *b"0000-00-00T00:00:00";
    if format == TimestampFormat::Python {
        p[10] = b' ';
    }
    let y = y.clamp(0, 9999) as u32;
    put(&mut p[0..4], y);
    put(&mut p[5..7], m);
    put(&mut p[8..10], d);
    put(&mut p[11..13], (secs / 3600) as u32);
    put(&mut p[14..16], (secs / 60 % 60) as u32);
    put(&mut p[17..19], (secs % 60) as u32);
    p
}

fn put(dst: &mut [u8], mut v: u32) {
    for b in dst.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The process's zone (tests).
#[cfg(test)]
fn system() -> Zone {
    Zone::resolve(None).unwrap_or_else(|z| z)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(us: i64, f: TimestampFormat) -> String {
        let mut v = Vec::new();
        write(&mut v, us, f);
        String::from_utf8(v).unwrap()
    }

    /// What chrono prints for `us` in the process's local zone (the local forms depend on
    /// the machine's zone, so the tests compare against an independent formatter).
    fn local(us: i64, pattern: &str) -> String {
        use chrono::TimeZone;
        let t = chrono::Local.timestamp_micros(us).single().unwrap();
        format!("\"{}\"", t.format(pattern))
    }

    #[test]
    fn formats_known_instants() {
        // 2026-11-23T19:40:40.883123Z
        let us = 1_795_462_840_883_123;
        assert_eq!(
            fmt(us, TimestampFormat::Rfc3339Millis),
            "\"2026-11-23T19:40:40.883Z\""
        );
        assert_eq!(
            fmt(us, TimestampFormat::Rfc3339Micros),
            "\"2026-11-23T19:40:40.883123Z\""
        );
        assert_eq!(
            fmt(us, TimestampFormat::Python),
            local(us, "%Y-%m-%d %H:%M:%S,%3f%z")
        );
        assert_eq!(
            fmt(us, TimestampFormat::Rfc3339MillisLocal),
            local(us, "%Y-%m-%dT%H:%M:%S%.3f%:z")
        );
        // Across a year of hours, so any DST change of the local zone is crossed.
        for h in 0..(366 * 24) {
            let t = us + h * 3_600_000_000;
            assert_eq!(
                fmt(t, TimestampFormat::Rfc3339MillisLocal),
                local(t, "%Y-%m-%dT%H:%M:%S%.3f%:z")
            );
        }
        assert_eq!(
            fmt(0, TimestampFormat::Rfc3339Millis),
            "\"1970-01-01T00:00:00.000Z\""
        );
        assert_eq!(
            fmt(951_782_400_000_000, TimestampFormat::Rfc3339Millis),
            "\"2000-02-29T00:00:00.000Z\""
        );
        assert_eq!(
            fmt(-1, TimestampFormat::Rfc3339Micros),
            "\"1969-12-31T23:59:59.999999Z\""
        );
    }

    #[test]
    fn offsets_print_in_both_spellings() {
        let mut b = [0u8; 8];
        assert_eq!(offset_text(&mut b, 3600, true), 6);
        assert_eq!(&b[..6], b"+01:00");
        assert_eq!(offset_text(&mut b, -(5 * 3600 + 30 * 60), false), 5);
        assert_eq!(&b[..5], b"-0530");
        assert_eq!(offset_text(&mut b, 0, true), 6);
        assert_eq!(&b[..6], b"+00:00");
    }

    #[test]
    fn cache_follows_second_and_format_changes() {
        let mut cache = Cache::default();
        let mut f = |us, format| {
            let mut v = Vec::new();
            write_cached(&mut v, us, (format, &system()), &mut cache);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(
            f(1_000_000, TimestampFormat::Rfc3339Millis),
            "\"1970-01-01T00:00:01.000Z\""
        );
        assert_eq!(
            f(1_000_000, TimestampFormat::Python),
            local(1_000_000, "%Y-%m-%d %H:%M:%S,%3f%z")
        );
        assert_eq!(
            f(2_000_000, TimestampFormat::Python),
            local(2_000_000, "%Y-%m-%d %H:%M:%S,%3f%z")
        );
        assert_eq!(
            f(2_999_999, TimestampFormat::Rfc3339Micros),
            "\"1970-01-01T00:00:02.999999Z\""
        );
        let mut piece = |us, format| {
            let mut v = b"x".to_vec();
            write_piece(&mut v, us, (format, &system()), &mut cache);
            String::from_utf8(v).unwrap()
        };
        let us = 1_795_462_840_883_123;
        assert_eq!(
            piece(us, TimestampFormat::Rfc3339Millis),
            "x\"timestamp\":\"2026-11-23T19:40:40.883Z\","
        );
        assert_eq!(
            piece(us, TimestampFormat::Rfc3339Micros),
            "x\"timestamp\":\"2026-11-23T19:40:40.883123Z\","
        );
        assert_eq!(
            piece(us + 1_000_000, TimestampFormat::Rfc3339MillisLocal),
            format!(
                "x\"timestamp\":{},",
                local(us + 1_000_000, "%Y-%m-%dT%H:%M:%S%.3f%:z")
            )
        );
    }

    #[test]
    fn civil_matches_system_formatting_for_many_days() {
        // Cross-check against a naive day-by-day walk from the epoch.
        let mut y = 1970i64;
        let mut m = 1u32;
        let mut d = 1u32;
        for day in 0..40_000i64 {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][(m - 1) as usize];
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
