//! Calendar arithmetic on epoch milliseconds (UTC): rendering, and the floors and ceilings of
//! `bin`, `datefloor` and `dateceil` for fixed and calendar periods.

use lookout_insights::{Period, TimeUnit};
use lookout_model::civil::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the result rendering of timestamps (spec §10.2).
pub(crate) fn render(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{milli:03}")
}

/// Months since year 0 for calendar periods.
fn month_index(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    y * 12 + i64::from(m) - 1
}

fn month_start(index: i64) -> Option<i64> {
    let y = index.div_euclid(12);
    let m = index.rem_euclid(12) as u32 + 1;
    days_from_civil(y, m, 1).checked_mul(DAY_MS)
}

/// The period in whole milliseconds for fixed units, or in months for calendar units.
enum Step {
    Millis(i64),
    Months(i64),
}

fn step(p: Period) -> Option<Step> {
    let amount = p.amount;
    match p.unit.fixed_millis() {
        Some(unit) => {
            let ms = (amount * unit as f64).round();
            (1.0..9.0e15)
                .contains(&ms)
                .then_some(Step::Millis(ms as i64))
        }
        None => {
            let per = match p.unit {
                TimeUnit::Quarter => 3.0,
                TimeUnit::Year => 12.0,
                _ => 1.0,
            };
            let months = (amount * per).round();
            (1.0..1.0e6)
                .contains(&months)
                .then_some(Step::Months(months as i64))
        }
    }
}

/// The largest period boundary at or before `ms`, boundaries aligned to the epoch for fixed
/// units and to calendar months for months, quarters and years. `None` for a zero period.
pub(crate) fn floor(ms: i64, p: Period) -> Option<i64> {
    match step(p)? {
        Step::Millis(s) => ms.checked_sub(ms.rem_euclid(s)),
        Step::Months(n) => month_start(month_index(ms) - month_index(ms).rem_euclid(n)),
    }
}

/// The smallest boundary at or after `ms`; a value on a boundary is unchanged.
pub(crate) fn ceil(ms: i64, p: Period) -> Option<i64> {
    let f = floor(ms, p)?;
    if f == ms {
        return Some(ms);
    }
    match step(p)? {
        Step::Millis(s) => f.checked_add(s),
        Step::Months(n) => month_start(month_index(f).checked_add(n)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_millis() {
        assert_eq!(render(1_716_199_204_361), "2024-05-20 10:00:04.361");
        assert_eq!(render(0), "1970-01-01 00:00:00.000");
        assert_eq!(render(-1), "1969-12-31 23:59:59.999");
        for days in [-800_000, -1, 0, 59, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn floors_and_ceils() {
        let five_min = Period {
            amount: 5.0,
            unit: TimeUnit::Minute,
        };
        assert_eq!(floor(1_716_199_204_361, five_min), Some(1_716_199_200_000));
        assert_eq!(ceil(1_716_199_204_361, five_min), Some(1_716_199_500_000));
        assert_eq!(ceil(1_716_199_200_000, five_min), Some(1_716_199_200_000));
        let month = Period {
            amount: 1.0,
            unit: TimeUnit::Month,
        };
        assert_eq!(
            render(floor(1_716_199_204_361, month).unwrap_or(0)),
            "2024-05-01 00:00:00.000"
        );
        assert_eq!(
            render(ceil(1_716_199_204_361, month).unwrap_or(0)),
            "2024-06-01 00:00:00.000"
        );
        let zero = Period {
            amount: 0.0,
            unit: TimeUnit::Second,
        };
        assert_eq!(floor(5, zero), None);
        // Extreme inputs give no value rather than overflowing.
        assert_eq!(ceil(i64::MAX - 1, five_min), None);
        let _ = (
            floor(i64::MAX, month),
            ceil(i64::MAX, month),
            floor(i64::MIN, month),
        );
        let _ = (
            floor(i64::MIN, five_min),
            render(i64::MIN),
            render(i64::MAX),
        );
    }
}
