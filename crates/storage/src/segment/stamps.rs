//! Timestamps written in a message's text, stored as their distance from the event's
//! timestamp (segment format 4).
//!
//! Most log lines repeat their own time as text (`2026-11-01T02:01:08.486Z` in Lambda's
//! lines, `2026-11-01 02:01:08,486` in Python logging's); its last digits are noise to a
//! compressor but follow from the event's timestamp, so a message chunk stores such a run
//! as a marker, a format byte and the zigzag varint of its distance in milliseconds from the
//! event's timestamp (usually 0). The marker is `0xFF`, which never occurs in UTF-8, so
//! every other byte is the message's own. Reading expands the runs back byte for byte: a
//! run is replaced only when formatting its value gives exactly its bytes.

use crate::codec::{put_varint, unzigzag, varint_at, zigzag};
use crate::error::StorageError;
use lookout_model::civil::{civil_from_days, days_from_civil};

const MARK: u8 = 0xFF;
/// `YYYY-MM-DD?HH:MM:SS?mmm`.
const STAMP_LEN: usize = 23;
/// Format bits: a space (not `T`) between date and time, a comma (not a dot) before the
/// milliseconds, a trailing `Z`.
const SPACE: u8 = 1;
const COMMA: u8 = 2;
const ZULU: u8 = 4;
/// Runs further than this from the event's time stay text (a varint of at most 5 bytes).
const MAX_DISTANCE: i64 = 1 << 33;
/// Years 0000–9999 as milliseconds since the epoch.
const MIN_MS: i64 = -62_167_219_200_000;
const MAX_MS: i64 = 253_402_300_799_999;

fn digits<const N: usize>(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..N)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// The stamp at the start of `b`: its format bits and milliseconds since the epoch.
fn parse(b: &[u8]) -> Option<(u8, i64)> {
    if b.len() < STAMP_LEN || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut fmt = match b[10] {
        b'T' => 0,
        b' ' => SPACE,
        _ => return None,
    };
    fmt |= match b[19] {
        b'.' => 0,
        b',' => COMMA,
        _ => return None,
    };
    if b.get(STAMP_LEN) == Some(&b'Z') {
        fmt |= ZULU;
    }
    let y = digits::<4>(b)?;
    let mo = digits::<2>(&b[5..])?;
    let d = digits::<2>(&b[8..])?;
    let h = digits::<2>(&b[11..])?;
    let mi = digits::<2>(&b[14..])?;
    let s = digits::<2>(&b[17..])?;
    let ms = digits::<3>(&b[20..])?;
    if !(1..=12).contains(&mo) || d == 0 || d > 31 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    // 2026-02-30 would come back as 2026-03-02: only dates that exist are replaced.
    if civil_from_days(days) != (i64::from(y), mo, d) {
        return None;
    }
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Some((fmt, secs * 1000 + i64::from(ms)))
}

/// Writes the stamp `ms` in format `fmt`.
fn format(out: &mut Vec<u8>, fmt: u8, ms: i64) {
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    fn put(out: &mut Vec<u8>, v: i64, width: usize) {
        let mut buf = [b'0'; 4];
        let mut v = v;
        for slot in buf[..width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..width]);
    }
    put(out, y, 4);
    out.push(b'-');
    put(out, i64::from(mo), 2);
    out.push(b'-');
    put(out, i64::from(d), 2);
    out.push(if fmt & SPACE != 0 { b' ' } else { b'T' });
    put(out, rest / 3_600_000, 2);
    out.push(b':');
    put(out, rest / 60_000 % 60, 2);
    out.push(b':');
    put(out, rest / 1000 % 60, 2);
    out.push(if fmt & COMMA != 0 { b',' } else { b'.' });
    put(out, rest % 1000, 3);
    if fmt & ZULU != 0 {
        out.push(b'Z');
    }
}

/// A stamp found in a message: (position, format, distance from the event's timestamp).
pub(crate) type Found = (usize, u8, i64);

/// Appends `msg` to `out` with every stamp near `ts` replaced, as a length-prefixed
/// string of the message chunk. `found` is scratch space, reused across messages.
pub(crate) fn put_message(out: &mut Vec<u8>, found: &mut Vec<Found>, msg: &str, ts: i64) {
    let b = msg.as_bytes();
    found.clear();
    let mut len = b.len();
    let mut i = 0;
    while i + STAMP_LEN <= b.len() {
        // Only a position whose first dash is in place can start a stamp: `memchr` skips
        // to the next one (last possible: a stamp ending the message).
        let Some(k) = b
            .get(i + 4..b.len() - STAMP_LEN + 5)
            .and_then(|rest| memchr::memchr(b'-', rest))
        else {
            break;
        };
        i += k;
        if b[i + 7] == b'-'
            && let Some((fmt, ms)) = parse(&b[i..])
            && let Some(dist) = ms.checked_sub(ts)
            && dist.unsigned_abs() <= MAX_DISTANCE.unsigned_abs()
        {
            let stored = 2 + varint_len(zigzag(dist));
            let text = STAMP_LEN + usize::from(fmt & ZULU != 0);
            found.push((i, fmt, dist));
            len = len - text + stored;
            i += text;
            continue;
        }
        i += 1;
    }
    put_varint(out, len as u64);
    let mut at = 0;
    for &(pos, fmt, dist) in found.iter() {
        out.extend_from_slice(&b[at..pos]);
        out.push(MARK);
        out.push(fmt);
        put_varint(out, zigzag(dist));
        at = pos + STAMP_LEN + usize::from(fmt & ZULU != 0);
    }
    out.extend_from_slice(&b[at..]);
}

/// Appends `msg` to `out` with no stamp replaced: what [`put_message`] writes for a message
/// without stamps, and valid for any message, since the marker never occurs in UTF-8.
/// Unindexed segments take this, skipping the search for stamps.
pub(crate) fn put_verbatim(out: &mut Vec<u8>, msg: &str) {
    put_varint(out, msg.len() as u64);
    out.extend_from_slice(msg.as_bytes());
}

fn varint_len(v: u64) -> usize {
    (64 - v.max(1).leading_zeros() as usize).div_ceil(7)
}

/// Whether an occurrence of `needle` in an expanded message could share a byte with an
/// expanded stamp. When it cannot, every occurrence lies inside the message's own bytes,
/// which the stored form keeps contiguous, so searching the stored bytes finds it (and
/// may find more, across a stamp's marker: callers recheck what they keep).
pub(crate) fn may_overlap_stamp(needle: &[u8]) -> bool {
    // Each byte of a stamp as a class: digit, one of two separators, or itself.
    const TEMPLATE: &[u8; 24] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let fits = |t: u8, c: u8| match t {
        b'd' => c.is_ascii_digit(),
        b'T' => c == b'T' || c == b' ',
        b'.' => c == b'.' || c == b',',
        _ => c == t,
    };
    // The trailing `Z` is optional: a stamp is the template's first 23 or all 24 bytes.
    [STAMP_LEN, STAMP_LEN + 1].into_iter().any(|len| {
        let t = &TEMPLATE[..len];
        // The stamp placed at needle offset `at` (negative: the needle starts inside the
        // stamp), for every placement that overlaps; only the overlapping bytes are
        // compared, so the cost does not grow with the needle.
        let n = needle.len() as isize;
        (1 - len as isize..n).any(|at| {
            let from = at.max(0);
            let to = (at + len as isize).min(n);
            (from..to).all(|i| {
                let (Ok(k), Ok(j)) = (usize::try_from(i - at), usize::try_from(i)) else {
                    return false;
                };
                matches!((t.get(k), needle.get(j)), (Some(&tc), Some(&c)) if fits(tc, c))
            })
        })
    })
}

/// A message of the chunk, its stamps expanded against the event's timestamp `ts`.
pub(crate) fn message(stored: &[u8], ts: i64) -> Result<String, StorageError> {
    let corrupt = |d: &str| StorageError::corrupt("segment messages", d);
    let Some(first) = memchr::memchr(MARK, stored) else {
        return std::str::from_utf8(stored)
            .map(str::to_owned)
            .map_err(|_| corrupt("invalid utf-8"));
    };
    let mut out = Vec::with_capacity(stored.len() + 24);
    out.extend_from_slice(&stored[..first]);
    let mut pos = first;
    while pos < stored.len() {
        if stored[pos] != MARK {
            let next = memchr::memchr(MARK, &stored[pos..]).map_or(stored.len(), |k| pos + k);
            out.extend_from_slice(&stored[pos..next]);
            pos = next;
            continue;
        }
        let fmt = *stored
            .get(pos + 1)
            .ok_or_else(|| corrupt("truncated stamp"))?;
        if fmt >= 8 {
            return Err(corrupt("unknown stamp format"));
        }
        pos += 2;
        let dist = varint_at(stored, &mut pos).ok_or_else(|| corrupt("truncated stamp"))?;
        let ms = ts
            .checked_add(unzigzag(dist))
            .filter(|ms| (MIN_MS..=MAX_MS).contains(ms))
            .ok_or_else(|| corrupt("stamp out of range"))?;
        format(&mut out, fmt, ms);
    }
    String::from_utf8(out).map_err(|_| corrupt("invalid utf-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(msg: &str, ts: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_message(&mut out, &mut Vec::new(), msg, ts);
        let mut pos = 0;
        let len = varint_at(&out, &mut pos).unwrap() as usize;
        let stored = out[pos..].to_vec();
        assert_eq!(stored.len(), len);
        assert_eq!(message(&stored, ts).unwrap(), msg);
        stored
    }

    #[test]
    fn needles_that_cannot_touch_a_stamp_are_found_in_the_stored_bytes() {
        assert!(!may_overlap_stamp(b"REPORT RequestId: "));
        assert!(!may_overlap_stamp(b"ERROR"));
        assert!(!may_overlap_stamp(b"abc"));
        // A digit can be any of a stamp's digits, a stamp starts with one and may end with
        // `Z`; a separator inside the needle must sit where a stamp has one.
        assert!(may_overlap_stamp(b"7"));
        assert!(may_overlap_stamp(b"Zabc"));
        assert!(may_overlap_stamp(b"abc2"));
        assert!(may_overlap_stamp(b"01 02"));
        assert!(!may_overlap_stamp(b"xyzT"));
        assert!(may_overlap_stamp(b"x 0"));
        assert!(may_overlap_stamp(b":08.486Z\tabc"));
        assert!(may_overlap_stamp(b"\t2026-"));
        assert!(!may_overlap_stamp(b"\t2026+"));
        // The cost does not grow with the needle: only overlapping bytes are compared.
        let long = vec![b'a'; 1 << 20];
        assert!(!may_overlap_stamp(&long));
        let mut long = long;
        long.push(b'7');
        assert!(may_overlap_stamp(&long));
        // Check the claim on real stamps: every needle taken from around a stamp that the
        // test says cannot touch one is found in the stored bytes.
        let ts = 1_793_498_468_486;
        let msg = "[INFO]\t2026-11-01T02:01:08.486Z\tREPORT RequestId: x 2026-11-01 02:01:08,486 y";
        let stored = round_trip(msg, ts);
        for a in 0..msg.len() {
            for b in a + 1..=msg.len() {
                let needle = &msg.as_bytes()[a..b];
                if !may_overlap_stamp(needle) {
                    assert!(
                        memchr::memmem::find(&stored, needle).is_some(),
                        "{:?}",
                        String::from_utf8_lossy(needle)
                    );
                }
            }
        }
    }

    #[test]
    fn lambda_and_python_stamps_shrink_and_come_back() {
        // 2026-11-01T02:01:08.486Z
        let ts = 1_793_498_468_486;
        let s = round_trip("[INFO]\t2026-11-01T02:01:08.486Z\tabc\tdone\n", ts);
        assert_eq!(s.len(), "[INFO]\t\tabc\tdone\n".len() + 3);
        let s = round_trip(r#"{"timestamp":"2026-11-01 02:01:09,000+0000","x":1}"#, ts);
        assert!(s.len() < 40, "a stamp 514 ms later is 4 bytes: {}", s.len());
        // Two stamps, one far away (stays text), one a date that does not exist.
        round_trip(
            "2026-11-01T02:01:08.486Z 1999-01-01T00:00:00.000Z 2026-02-30T00:00:00.000Z",
            ts,
        );
        round_trip(
            "0000-01-01T00:00:00.000Z and 9999-12-31 23:59:59,999",
            MIN_MS,
        );
        round_trip("9999-12-31 23:59:59,999", MAX_MS);
        round_trip("2026-11-01T02:01:08.486", ts);
        round_trip("no stamp here, ünïcödé 2026-11-01T02:01", ts);
    }

    #[test]
    fn corrupt_stamps_are_errors() {
        for bad in [
            &[b'a', MARK][..],
            &[MARK, 9, 0],
            &[MARK, 0],
            &[MARK, 0, 0x80],
            &[
                MARK, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            &[0xC3],
        ] {
            assert!(message(bad, 0).is_err(), "{bad:?}");
        }
        assert!(message(&[MARK, 0, 0], i64::MAX).is_err());
    }

    /// The scan before its `memchr` pre-check: every position tried in turn.
    fn reference(msg: &str, ts: i64) -> Vec<u8> {
        let b = msg.as_bytes();
        let mut body = Vec::new();
        let (mut i, mut at) = (0, 0);
        while i + STAMP_LEN <= b.len() {
            if let Some((fmt, ms)) = parse(&b[i..])
                && let Some(dist) = ms.checked_sub(ts)
                && dist.unsigned_abs() <= MAX_DISTANCE.unsigned_abs()
            {
                body.extend_from_slice(&b[at..i]);
                body.extend_from_slice(&[MARK, fmt]);
                put_varint(&mut body, zigzag(dist));
                i += STAMP_LEN + usize::from(fmt & ZULU != 0);
                at = i;
                continue;
            }
            i += 1;
        }
        body.extend_from_slice(&b[at..]);
        let mut out = Vec::new();
        put_varint(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
        out
    }

    proptest! {
        #[test]
        fn the_scan_finds_what_trying_every_position_finds(
            parts in proptest::collection::vec(("[0-9T:., Z-]{0,30}", -3000i64..3000, 0u8..8), 0..4),
            ts in 0i64..MAX_MS / 2,
        ) {
            let mut text = Vec::new();
            for (filler, d, fmt) in &parts {
                text.extend_from_slice(filler.as_bytes());
                format(&mut text, *fmt, ts + d);
            }
            let msg = String::from_utf8(text).unwrap();
            let mut out = Vec::new();
            put_message(&mut out, &mut Vec::new(), &msg, ts);
            prop_assert_eq!(out, reference(&msg, ts));
        }

        #[test]
        fn any_text_round_trips(msg in "[0-9T:., Z-]{0,60}", ts in MIN_MS..MAX_MS) {
            round_trip(&msg, ts);
        }

        #[test]
        fn stamps_near_the_event_round_trip(ts in 0i64..MAX_MS / 2, d in -5000i64..5000, fmt in 0u8..8) {
            let mut text = b"x ".to_vec();
            format(&mut text, fmt, ts + d);
            text.extend_from_slice(b" y");
            let msg = String::from_utf8(text).unwrap();
            let stored = round_trip(&msg, ts);
            prop_assert!(stored.len() < msg.len());
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), ts in any::<i64>()) {
            let _ = message(&bytes, ts);
        }
    }
}
