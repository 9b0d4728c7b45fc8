//! The wall clock for record timestamps.
//!
//! Every record reads the clock, and on x86-64 the vDSO's `clock_gettime` costs ~45 ns
//! (measured on an AMD EPYC host): its ordered counter read waits for the pipeline to
//! drain. Where the kernel itself keeps time with the CPU's time-stamp counter (the `tsc`
//! clocksource: invariant, synchronised across CPUs, or the kernel would not use it), a
//! record reads the counter directly (~12 ns) and scales it from an anchor: a pair of
//! counter and wall-clock readings taken on the record's thread.
//!
//! The extrapolation never runs long. An anchor serves for at most [`WINDOW_NS`](limits::WINDOW_NS) of counter
//! time; the next record then reads the system clock again for a new one. The scale
//! (nanoseconds per tick) is measured once per process from pairs of readings at least
//! [`CALIBRATION_NS`](limits::CALIBRATION_NS) apart on one thread, and used only once a second interval agrees
//! with the first within [`MAX_DRIFT`](limits::MAX_DRIFT); every later re-anchor checks it against the interval
//! since the last check, and a disagreement (a wall-clock step, a changed counter rate)
//! sends the process back to measuring, with records on the system clock meanwhile.
//! Every invocation scope starts a new anchor epoch: Lambda freezes an environment between
//! invocations and may restore it from a snapshot, where the wall clock moves on without
//! the counter, so no record of an invocation is timed from an anchor taken before it
//! started. What is left: a wall-clock step, or a freeze that stopped the counter, shows
//! in records of the same epoch for at most one window (50 ms of counter time).
//!
//! Until the scale is known, and on other platforms, records read the system clock as
//! before, with one extra clock and counter reading per thread every 10 ms while measuring.

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

/// The counter clock's limits, unused where it is not built.
#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)]
mod limits {
    /// How long one anchor serves, in nanoseconds of counter time.
    pub(super) const WINDOW_NS: u64 = 50_000_000;
    /// The shortest interval the scale is measured over: with both ends read within
    /// [`MAX_PAIR_TICKS`] of the counter (a few microseconds), the scale errs by at most ~1e-3,
    /// under 50 µs over a window; two such measurements must agree before one is used.
    pub(super) const CALIBRATION_NS: i64 = 10_000_000;
    /// The longest interval a measurement or check spans: longer ones (a thread idle for a
    /// while) may hide a clock step and only move the thread's reference point.
    pub(super) const LONGEST_NS: i64 = 500_000_000;
    /// The largest relative difference between two measurements of the scale taken as
    /// agreement; NTP slews the clock by at most 5e-4.
    pub(super) const MAX_DRIFT: f64 = 2e-3;
    /// Counter ticks allowed between the two counter readings around a system-clock reading
    /// (normally a few hundred): more means the thread was interrupted, and the reading is not
    /// used.
    pub(super) const MAX_PAIR_TICKS: u64 = 10_000;
}
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod tsc {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

    use super::limits::{CALIBRATION_NS, LONGEST_NS, MAX_DRIFT, MAX_PAIR_TICKS, WINDOW_NS};
    use super::system_nanos;

    const UNDECIDED: u8 = 0;
    const COUNTER: u8 = 1;
    const SYSTEM: u8 = 2;

    /// Whether the counter is used: decided once, from the kernel's clocksource.
    static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);
    /// See [`super::new_epoch`].
    static EPOCH: AtomicU64 = AtomicU64::new(0);
    /// Nanoseconds per counter tick, times 2^32, once measured and confirmed; 0 before.
    static SCALE: AtomicU64 = AtomicU64::new(0);

    /// A thread's clock state.
    #[derive(Clone, Copy)]
    struct Anchor {
        /// The counter reading and the wall-clock time it stood for.
        tsc: u64,
        nanos: i64,
        epoch: u64,
        /// The scale in use from this anchor, and how many ticks it serves (0: none).
        scale: u64,
        limit: u64,
        /// Where the thread's current measurement of the scale started.
        ref_tsc: u64,
        ref_nanos: i64,
        /// A first measurement awaiting a second that agrees (0: none).
        candidate: u64,
    }

    const NONE: Anchor = Anchor {
        tsc: 0,
        nanos: 0,
        epoch: u64::MAX,
        scale: 0,
        limit: 0,
        ref_tsc: 0,
        ref_nanos: 0,
        candidate: 0,
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
                match extrapolate(&a, read_counter(), epoch) {
                    Some(ns) => ns,
                    None => reanchor(cell, a, epoch),
                }
            })
            .ok()
    }

    /// The time counter reading `tsc` stands for, when anchor `a` serves it.
    #[inline(always)]
    fn extrapolate(a: &Anchor, tsc: u64, epoch: u64) -> Option<i64> {
        let d = tsc.wrapping_sub(a.tsc);
        (d < a.limit && a.epoch == epoch).then(|| {
            let ns = ((u128::from(d) * u128::from(a.scale)) >> 32) as i64;
            a.nanos.saturating_add(ns)
        })
    }

    /// The relative difference between two scales.
    fn drift(a: u64, b: u64) -> f64 {
        (a as f64 / b.max(1) as f64 - 1.0).abs()
    }

    /// Reads the system clock for a record the anchor does not serve; takes a new anchor
    /// (measuring or checking the scale on the way) when one is due.
    #[cold]
    #[inline(never)]
    fn reanchor(cell: &Cell<Anchor>, old: Anchor, epoch: u64) -> i64 {
        let scale = SCALE.load(Relaxed);
        if scale == 0 && old.ref_tsc != 0 {
            // Measuring: only one reading in CALIBRATION_NS needs the counter beside it.
            let now = system_nanos();
            let since = now.saturating_sub(old.ref_nanos);
            if (0..CALIBRATION_NS).contains(&since) {
                return now;
            }
        }
        let before = read_counter();
        let nanos = system_nanos();
        let after = read_counter();
        let pair = after.wrapping_sub(before);
        if pair > MAX_PAIR_TICKS {
            return nanos;
        }
        let tsc = before.wrapping_add(pair / 2);
        let (next, new_scale) = advance(old, scale, tsc, nanos, epoch);
        if new_scale != scale {
            // Another thread may have changed it meanwhile; the later word wins, and a wrong
            // one is caught by the next check.
            SCALE.store(new_scale, Relaxed);
        }
        cell.set(next);
        nanos
    }

    /// The state after a reading pair: counter `tsc` stood for `nanos`. `scale` is the
    /// process's confirmed scale (0: none); returns the thread's new state and the new
    /// confirmed scale.
    fn advance(old: Anchor, scale: u64, tsc: u64, nanos: i64, epoch: u64) -> (Anchor, u64) {
        let mut next = old;
        let mut scale = scale;
        let (dt, dn) = (
            tsc.wrapping_sub(old.ref_tsc),
            nanos.saturating_sub(old.ref_nanos),
        );
        let forward = old.ref_tsc != 0 && tsc > old.ref_tsc && dn > 0;
        // How long the interval was by the counter, at the scale in use.
        let counted = (u128::from(dt) * u128::from(scale)) >> 32;
        if !forward || dn > LONGEST_NS || counted > LONGEST_NS as u128 {
            // The first reading, the counter or the clock going backwards, or a long idle
            // spell: the next measurement starts here.
            next.ref_tsc = tsc;
            next.ref_nanos = nanos;
        } else if dn >= CALIBRATION_NS {
            let measured =
                u64::try_from((u128::from(dn as u64) << 32) / u128::from(dt)).unwrap_or(0);
            if scale != 0 {
                if drift(measured, scale) > MAX_DRIFT {
                    // A clock step or a changed counter rate: measure again.
                    scale = 0;
                    next.candidate = 0;
                }
            } else if next.candidate != 0 && drift(measured, next.candidate) <= MAX_DRIFT {
                scale = measured;
            } else {
                next.candidate = measured;
            }
            next.ref_tsc = tsc;
            next.ref_nanos = nanos;
        }
        next.tsc = tsc;
        next.nanos = nanos;
        next.epoch = epoch;
        next.scale = scale;
        next.limit = match scale {
            0 => 0,
            // Ticks in one window: WINDOW_NS * 2^32 / scale.
            s => u64::try_from((u128::from(WINDOW_NS) << 32) / u128::from(s)).unwrap_or(0),
        };
        (next, scale)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A simulated thread: a counter at 3 GHz and a wall clock that may step. Each
        /// record goes through `extrapolate`, or `advance` as `reanchor` does.
        struct Sim {
            state: Anchor,
            scale: u64,
            epoch: u64,
            /// Counter ticks per nanosecond.
            rate: f64,
        }

        impl Sim {
            fn new() -> Sim {
                Sim {
                    state: NONE,
                    scale: 0,
                    epoch: 0,
                    rate: 3.0,
                }
            }

            /// One record at counter `tsc`, when the wall clock reads `wall`; its error.
            fn record(&mut self, tsc: u64, wall: i64) -> i64 {
                let a = self.state;
                if let Some(ns) = extrapolate(&a, tsc, self.epoch) {
                    return (ns - wall).abs();
                }
                let (next, scale) = advance(a, self.scale, tsc, wall, self.epoch);
                self.state = next;
                self.scale = scale;
                0
            }

            /// Records every `step_ns` for `for_ns`, starting at counter time `t0`
            /// (nanoseconds) with the wall clock at `t0 + offset`; the largest error.
            fn run(&mut self, t0: i64, for_ns: i64, step_ns: i64, offset: i64) -> i64 {
                let mut worst = 0;
                let mut t = t0;
                while t < t0 + for_ns {
                    let tsc = (t as f64 * self.rate) as u64;
                    worst = worst.max(self.record(tsc, t + offset));
                    t += step_ns;
                }
                worst
            }
        }

        const MS: i64 = 1_000_000;

        #[test]
        fn the_scale_is_confirmed_before_use_and_records_stay_within_microseconds() {
            let mut sim = Sim::new();
            let base = 1_700_000_000_000 * MS;
            assert!(sim.run(1_000 * MS, 19 * MS, 100_000, base) == 0);
            assert_eq!(sim.scale, 0, "one measurement is not enough");
            let worst = sim.run(1_020 * MS, 2_000 * MS, 100_000, base);
            assert_ne!(sim.scale, 0);
            assert!(worst < 10_000, "off by {worst} ns");
        }

        #[test]
        fn a_clock_step_during_the_first_measurement_is_not_used() {
            // The case a review found: one record, 400 ms idle, the clock stepped back
            // 390 ms, then steady logging. The skewed first measurement must not be used.
            let mut sim = Sim::new();
            let base = 1_700_000_000_000 * MS;
            sim.run(1_000 * MS, MS, MS, base);
            let back = base - 390 * MS;
            let worst = sim.run(1_400 * MS, 3_000 * MS, 100_000, back);
            assert!(worst < 100_000, "off by {worst} ns");
        }

        #[test]
        fn a_clock_step_later_shows_for_at_most_one_window() {
            let mut sim = Sim::new();
            let base = 1_700_000_000_000 * MS;
            sim.run(1_000 * MS, 1_000 * MS, 100_000, base);
            assert_ne!(sim.scale, 0);
            // Forward by 5 s: records of the current window keep the old clock, then the
            // clock is read again; the scale is measured anew and nothing drifts after.
            let mut worst_after_window = 0;
            let mut t = 2_000 * MS;
            while t < 4_000 * MS {
                let err = sim.record((t as f64 * sim.rate) as u64, t + base + 5_000 * MS);
                if t >= 2_000 * MS + 60 * MS {
                    worst_after_window = worst_after_window.max(err);
                }
                t += 100_000;
            }
            assert!(
                worst_after_window < 100_000,
                "off by {worst_after_window} ns"
            );
        }

        #[test]
        fn a_new_epoch_never_uses_an_older_anchor() {
            let mut sim = Sim::new();
            let base = 1_700_000_000_000 * MS;
            sim.run(1_000 * MS, 1_000 * MS, 100_000, base);
            // A freeze that stopped the counter for 10 minutes, then a new invocation.
            sim.epoch += 1;
            let worst = sim.run(2_000 * MS, 1_000 * MS, 100_000, base + 600_000 * MS);
            assert!(worst < 100_000, "off by {worst} ns");
        }

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
                if ANCHOR.with(|c| c.get().limit) != 0 {
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
            // Log until the counter is in use on this thread.
            let started = system_nanos();
            while ANCHOR.with(|c| c.get().limit) == 0 {
                let _ = now_nanos();
                assert!(system_nanos() - started < 2_000 * MS, "never calibrated");
            }
            let before = ANCHOR.with(|c| c.get());
            new_epoch();
            let _ = now_nanos();
            let after = ANCHOR.with(|c| c.get());
            assert_ne!(before.epoch, after.epoch);
            assert_eq!(after.epoch, EPOCH.load(Relaxed));
            assert_ne!(before.tsc, after.tsc, "a new anchor, not the old one");
        }
    }
}
