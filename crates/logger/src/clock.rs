//! The wall clock for record timestamps.
//!
//! Every record reads the clock, and on x86-64 the vDSO's `clock_gettime` costs ~45 ns
//! (measured on an AMD EPYC host): its ordered counter read waits for the pipeline to
//! drain. Where the kernel itself keeps time with the CPU's time-stamp counter (the `tsc`
//! clocksource: invariant, synchronised across CPUs, or the kernel would not use it), a
//! record reads the counter directly (~12 ns) and scales it from an anchor: a pair of
//! counter and wall-clock readings taken on the record's thread.
//!
//! The extrapolation never runs long. An anchor serves for at most [`WINDOW_NS`] of counter
//! time, after which the next record takes a new one and checks the scale against the
//! counter ticks and nanoseconds elapsed since the last; a scale off by more than
//! [`MAX_DRIFT`] (a wall-clock step, a different counter frequency) is measured again.
//! Every invocation scope starts a new anchor epoch: Lambda freezes an environment between
//! invocations and may restore it from a snapshot, where the wall clock moves on without
//! the counter, so no record of an invocation is timed from an anchor taken before it
//! started. Elsewhere, and until a thread's first scale is measured ([`CALIBRATION_NS`] of
//! logging), records read the system clock as before.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch from the system clock (negative before 1970).
pub(crate) fn system_nanos() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        // Seconds fit an i64 for 292 years of nanoseconds past 1970; saturate beyond.
        Ok(d) => (d.as_secs() as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(d.subsec_nanos())),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Microseconds since the Unix epoch: from the time-stamp counter where that is sound,
/// else from the system clock.
#[inline]
pub(crate) fn wall_micros() -> i64 {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(ns) = tsc::now_nanos() {
        return ns.div_euclid(1000);
    }
    system_nanos().div_euclid(1000)
}

/// Starts a new anchor epoch: records taken after this never extrapolate from an anchor
/// taken before it. Called when an invocation scope opens.
pub(crate) fn new_epoch() {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    tsc::new_epoch();
}

/// How long one anchor serves, in nanoseconds of counter time.
const WINDOW_NS: u64 = 50_000_000;
/// The shortest interval a thread's first scale is measured over: the readings' jitter
/// (well under a microsecond) then errs the scale by less than 1e-4, under 5 µs over a
/// window.
const CALIBRATION_NS: i64 = 10_000_000;
/// The largest relative change of the scale accepted from one window to the next; NTP slews
/// the clock by at most 5e-4.
const MAX_DRIFT: f64 = 1e-3;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod tsc {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

    use super::{CALIBRATION_NS, MAX_DRIFT, WINDOW_NS, system_nanos};

    const UNDECIDED: u8 = 0;
    const COUNTER: u8 = 1;
    const SYSTEM: u8 = 2;

    /// Whether the counter is used: decided once, from the kernel's clocksource.
    static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);
    /// See [`super::new_epoch`].
    static EPOCH: AtomicU64 = AtomicU64::new(0);

    /// A thread's anchor: a counter reading and the wall-clock time it stood for.
    #[derive(Clone, Copy)]
    struct Anchor {
        tsc: u64,
        nanos: i64,
        epoch: u64,
        /// Nanoseconds per counter tick, times 2^32; 0 until measured.
        scale: u64,
        /// Counter ticks the anchor serves for (`WINDOW_NS` at `scale`).
        limit: u64,
    }

    const NONE: Anchor = Anchor {
        tsc: 0,
        nanos: 0,
        epoch: u64::MAX,
        scale: 0,
        limit: 0,
    };

    thread_local! {
        static ANCHOR: Cell<Anchor> = const { Cell::new(NONE) };
    }

    pub(super) fn new_epoch() {
        EPOCH.fetch_add(1, Relaxed);
    }

    #[inline(always)]
    fn read_counter() -> u64 {
        // SAFETY: RDTSC reads the time-stamp counter into two registers and touches no
        // memory. It would fault only if the kernel were told to trap it (PR_SET_TSC), and
        // this runs only where the kernel keeps its own time with this counter.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::x86_64::_rdtsc()
        }
    }

    /// Whether the kernel keeps time with the time-stamp counter.
    #[cold]
    fn decide() -> bool {
        let tsc = std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .is_ok_and(|s| s.trim() == "tsc");
        MODE.store(if tsc { COUNTER } else { SYSTEM }, Relaxed);
        tsc
    }

    /// Nanoseconds since the Unix epoch from the counter, or `None` when the counter is not
    /// used (the caller reads the system clock).
    #[inline(always)]
    pub(super) fn now_nanos() -> Option<i64> {
        match MODE.load(Relaxed) {
            COUNTER => {}
            UNDECIDED if decide() => {}
            _ => return None,
        }
        let epoch = EPOCH.load(Relaxed);
        ANCHOR
            .try_with(|cell| {
                let a = cell.get();
                let d = read_counter().wrapping_sub(a.tsc);
                if d < a.limit && a.epoch == epoch {
                    let ns = ((u128::from(d) * u128::from(a.scale)) >> 32) as i64;
                    return a.nanos + ns;
                }
                reanchor(cell, a, epoch)
            })
            .ok()
    }

    /// Takes a new anchor (measuring or checking the scale on the way) and returns the
    /// system clock's time.
    #[cold]
    #[inline(never)]
    fn reanchor(cell: &Cell<Anchor>, old: Anchor, epoch: u64) -> i64 {
        let before = read_counter();
        let nanos = system_nanos();
        let after = read_counter();
        // A thread preempted between the readings cannot tell which counter value the
        // clock reading belongs to: no anchor from them (about 30 µs at 3 GHz).
        if after.wrapping_sub(before) > 100_000 {
            return nanos;
        }
        let tsc = before + (after - before) / 2;
        let mut next = Anchor {
            tsc,
            nanos,
            epoch,
            scale: old.scale,
            limit: 0,
        };
        let forward = tsc > old.tsc && nanos > old.nanos;
        let (dt, dn) = (tsc.wrapping_sub(old.tsc), nanos.saturating_sub(old.nanos));
        let long = 10 * WINDOW_NS as i64;
        if old.epoch != epoch {
            // A thread's first anchor, or a new invocation: anchor here and keep the scale
            // (the counter's frequency), which the next window checks.
        } else if !forward {
            // The counter or the clock went backwards: measure the scale again.
            next.scale = 0;
        } else if old.scale == 0 && dn < CALIBRATION_NS {
            // Still measuring the first scale: the first anchor stays until the interval is
            // long enough.
            next = old;
        } else if dn <= long {
            let measured = u64::try_from(((dn as u128) << 32) / u128::from(dt)).unwrap_or(0);
            let drift = (measured as f64 / old.scale.max(1) as f64 - 1.0).abs();
            next.scale = if old.scale == 0 || drift <= MAX_DRIFT {
                measured
            } else {
                0
            };
        }
        // (After a long idle spell the scale is kept: the new anchor absorbs any clock step.)
        if next.scale != 0 {
            // Ticks in one window: WINDOW_NS * 2^32 / scale.
            next.limit =
                u64::try_from((u128::from(WINDOW_NS) << 32) / u128::from(next.scale)).unwrap_or(0);
        }
        cell.set(next);
        nanos
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn counter_time_follows_the_system_clock() {
            if !decide() {
                return;
            }
            // Long enough for a scale to be measured and several windows to pass.
            let started = system_nanos();
            let mut worst = 0i64;
            let mut extrapolated = 0u64;
            while system_nanos() - started < 3 * WINDOW_NS as i64 {
                let before = system_nanos();
                let Some(ours) = now_nanos() else {
                    panic!("the counter is in use")
                };
                let after = system_nanos();
                // Our reading must fall between two system readings around it, give or
                // take the extrapolation's error.
                let off = if ours < before {
                    before - ours
                } else if ours > after {
                    ours - after
                } else {
                    0
                };
                worst = worst.max(off);
                if ANCHOR.with(|c| c.get().scale) != 0 {
                    extrapolated += 1;
                }
            }
            assert!(
                extrapolated > 1000,
                "the counter path was used {extrapolated} times"
            );
            assert!(worst < 200_000, "off by {worst} ns");
        }

        #[test]
        fn a_new_epoch_takes_a_new_anchor() {
            if !decide() {
                return;
            }
            let _ = now_nanos();
            let before = ANCHOR.with(|c| c.get().epoch);
            new_epoch();
            let _ = now_nanos();
            let after = ANCHOR.with(|c| c.get().epoch);
            assert_ne!(before, after);
            assert_eq!(after, EPOCH.load(Relaxed));
        }
    }
}
