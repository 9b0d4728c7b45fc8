//! Aggregation state for `stats` (spec §7.7, §7.8): one accumulator per aggregation per
//! group, each bounded except where the function needs every value (`pct`,
//! `count_distinct`).

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::bind::AggSpec;
use crate::func::AggFunc;
use crate::value::{Value, sort_cmp};

/// Running state of one aggregation.
#[derive(Debug, Clone)]
pub(crate) enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum(Option<f64>),
    Avg(f64, u64),
    /// Best value so far; `true` keeps the one sorting last.
    Extreme(Option<Value>, bool),
    /// Welford's running mean and squared deviations.
    Stddev {
        n: u64,
        mean: f64,
        m2: f64,
    },
    Pct(Vec<f64>, f64),
    /// (timestamp, value); `true` keeps the latest.
    Time(Option<(i64, Value)>, bool),
}

impl Acc {
    pub(crate) fn new(spec: &AggSpec) -> Acc {
        match spec.f {
            AggFunc::Count => Acc::Count(0),
            AggFunc::CountDistinct => Acc::Distinct(HashSet::new()),
            AggFunc::Sum => Acc::Sum(None),
            AggFunc::Avg => Acc::Avg(0.0, 0),
            AggFunc::Min | AggFunc::SortsFirst => Acc::Extreme(None, false),
            AggFunc::Max | AggFunc::SortsLast => Acc::Extreme(None, true),
            AggFunc::Stddev => Acc::Stddev {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            AggFunc::Pct => Acc::Pct(Vec::new(), spec.p),
            AggFunc::Earliest => Acc::Time(None, false),
            AggFunc::Latest => Acc::Time(None, true),
        }
    }

    /// Adds `n` rows to a `count(*)`; other accumulators are unchanged.
    pub(crate) fn add_count(&mut self, n: u64) {
        if let Acc::Count(c) = self {
            *c += n;
        }
    }

    /// Adds one row's argument value (`None` for `count(*)`, which counts every row).
    pub(crate) fn add(&mut self, v: Option<Value>, ts: i64) {
        let v = match v {
            None => {
                if let Acc::Count(n) = self {
                    *n += 1;
                }
                return;
            }
            Some(v) if v.is_null() || matches!(v, Value::Json(_)) => return,
            Some(v) => v,
        };
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                if let Some(s) = v.render() {
                    set.insert(s);
                }
            }
            Acc::Sum(s) => {
                if let Some(x) = v.as_num() {
                    *s = Some(s.unwrap_or(0.0) + x);
                }
            }
            Acc::Avg(sum, n) => {
                if let Some(x) = v.as_num() {
                    *sum += x;
                    *n += 1;
                }
            }
            Acc::Extreme(best, last) => {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let o = sort_cmp(&v, b);
                        if *last {
                            o == Ordering::Greater
                        } else {
                            o == Ordering::Less
                        }
                    }
                };
                if better {
                    *best = Some(v);
                }
            }
            Acc::Stddev { n, mean, m2 } => {
                if let Some(x) = v.as_num() {
                    *n += 1;
                    let d = x - *mean;
                    *mean += d / *n as f64;
                    *m2 += d * (x - *mean);
                }
            }
            Acc::Pct(vals, _) => {
                if let Some(x) = v.as_num() {
                    vals.push(x);
                }
            }
            Acc::Time(best, latest) => {
                let better = match best {
                    None => true,
                    Some((t, _)) => {
                        if *latest {
                            ts > *t
                        } else {
                            ts < *t
                        }
                    }
                };
                if better {
                    *best = Some((ts, v));
                }
            }
        }
    }

    /// Folds in the state of the same aggregation over other rows; exact only for the
    /// functions [`crate::bind::StatsOp::mergeable`] admits, others keep `self`.
    pub(crate) fn merge(&mut self, other: Acc) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Distinct(a), Acc::Distinct(b)) => a.extend(b),
            (Acc::Pct(a, _), Acc::Pct(b, _)) => a.extend(b),
            _ => {}
        }
    }

    /// The result; null when no value contributed (except counts, which are 0).
    pub(crate) fn finish(self) -> Value {
        match self {
            Acc::Count(n) => Value::Num(n as f64),
            Acc::Distinct(set) => Value::Num(set.len() as f64),
            Acc::Sum(s) => s.map_or(Value::Null, Value::Num),
            Acc::Avg(_, 0) => Value::Null,
            Acc::Avg(sum, n) => Value::Num(sum / n as f64),
            Acc::Extreme(best, _) => best.unwrap_or_default(),
            Acc::Stddev { n, m2, .. } if n >= 2 => Value::Num((m2 / (n - 1) as f64).sqrt()),
            Acc::Stddev { .. } => Value::Null,
            Acc::Pct(mut vals, p) => {
                if vals.is_empty() {
                    return Value::Null;
                }
                vals.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
                let n = vals.len();
                let k = ((p / 100.0) * n as f64).ceil().clamp(1.0, n as f64) as usize;
                Value::Num(vals[k - 1])
            }
            Acc::Time(best, _) => best.map(|(_, v)| v).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: AggFunc, p: f64, vals: &[f64]) -> Value {
        let mut a = Acc::new(&AggSpec { f, arg: None, p });
        for (i, v) in vals.iter().enumerate() {
            a.add(Some(Value::Num(*v)), i as i64);
        }
        a.finish()
    }

    #[test]
    fn aggregates_follow_the_spec_choices() {
        assert_eq!(run(AggFunc::Pct, 50.0, &[5.0, 1.0, 3.0]), Value::Num(3.0));
        assert_eq!(run(AggFunc::Pct, 100.0, &[5.0, 1.0, 3.0]), Value::Num(5.0));
        assert_eq!(
            run(
                AggFunc::Stddev,
                0.0,
                &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
            ),
            Value::Num((32.0f64 / 7.0).sqrt())
        );
        assert_eq!(run(AggFunc::Stddev, 0.0, &[1.0]), Value::Null);
        assert_eq!(run(AggFunc::Sum, 0.0, &[]), Value::Null);
        assert_eq!(run(AggFunc::Earliest, 0.0, &[7.0, 8.0]), Value::Num(7.0));
        assert_eq!(run(AggFunc::Latest, 0.0, &[7.0, 8.0]), Value::Num(8.0));
        let mut c = Acc::new(&AggSpec {
            f: AggFunc::Count,
            arg: None,
            p: 0.0,
        });
        c.add(None, 0);
        c.add(None, 0);
        assert_eq!(c.finish(), Value::Num(2.0));
    }
}
