//! The function table: names (case-insensitive), arities, and the scalar functions' bodies
//! (spec §7). Aggregations are only named here; their state lives in `agg`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use crate::value::Value;

/// A scalar (row) function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Abs,
    Ceil,
    Floor,
    Greatest,
    Least,
    Log,
    Sqrt,
    Round,
    IsEmpty,
    IsBlank,
    Concat,
    Ltrim,
    Rtrim,
    Trim,
    Strlen,
    ToUpper,
    ToLower,
    Substr,
    Replace,
    StrContains,
    StartsWith,
    EndsWith,
    Bin,
    DateFloor,
    DateCeil,
    FromMillis,
    ToMillis,
    Now,
    IsPresent,
    Coalesce,
    JsonParse,
    JsonStringify,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    IsIpInSubnet,
    IsIpv4InSubnet,
    IsIpv6InSubnet,
    Unmask,
}

/// An aggregation or stats-only function (spec §7.7, §7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFunc {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
    Pct,
    Earliest,
    Latest,
    SortsFirst,
    SortsLast,
}

/// What a name resolves to.
pub(crate) enum Resolved {
    Scalar(Func),
    Agg(AggFunc),
}

/// Resolves a function name case-insensitively, with its accepted argument counts.
pub(crate) fn lookup(name: &str) -> Option<(Resolved, usize, usize)> {
    use AggFunc as A;
    use Func as F;
    use Resolved::{Agg, Scalar};
    const MANY: usize = usize::MAX;
    let r = match name.to_ascii_lowercase().as_str() {
        "abs" => (Scalar(F::Abs), 1, 1),
        "ceil" => (Scalar(F::Ceil), 1, 1),
        "floor" => (Scalar(F::Floor), 1, 1),
        "greatest" => (Scalar(F::Greatest), 1, MANY),
        "least" => (Scalar(F::Least), 1, MANY),
        "log" => (Scalar(F::Log), 1, 1),
        "sqrt" => (Scalar(F::Sqrt), 1, 1),
        "round" => (Scalar(F::Round), 1, 2),
        "isempty" => (Scalar(F::IsEmpty), 1, 1),
        "isblank" => (Scalar(F::IsBlank), 1, 1),
        "concat" => (Scalar(F::Concat), 1, MANY),
        "ltrim" => (Scalar(F::Ltrim), 1, 2),
        "rtrim" => (Scalar(F::Rtrim), 1, 2),
        "trim" => (Scalar(F::Trim), 1, 2),
        "strlen" => (Scalar(F::Strlen), 1, 1),
        "toupper" => (Scalar(F::ToUpper), 1, 1),
        "tolower" => (Scalar(F::ToLower), 1, 1),
        "substr" => (Scalar(F::Substr), 2, 3),
        "replace" => (Scalar(F::Replace), 3, 3),
        "strcontains" => (Scalar(F::StrContains), 2, 2),
        "startswith" => (Scalar(F::StartsWith), 2, 2),
        "endswith" => (Scalar(F::EndsWith), 2, 2),
        "bin" => (Scalar(F::Bin), 1, 1),
        "datefloor" => (Scalar(F::DateFloor), 2, 2),
        "dateceil" => (Scalar(F::DateCeil), 2, 2),
        "frommillis" => (Scalar(F::FromMillis), 1, 1),
        "tomillis" => (Scalar(F::ToMillis), 1, 1),
        "now" => (Scalar(F::Now), 0, 0),
        "ispresent" => (Scalar(F::IsPresent), 1, 1),
        "coalesce" => (Scalar(F::Coalesce), 1, MANY),
        "jsonparse" => (Scalar(F::JsonParse), 1, 1),
        "jsonstringify" => (Scalar(F::JsonStringify), 1, 1),
        "isvalidip" => (Scalar(F::IsValidIp), 1, 1),
        "isvalidipv4" => (Scalar(F::IsValidIpV4), 1, 1),
        "isvalidipv6" => (Scalar(F::IsValidIpV6), 1, 1),
        "isipinsubnet" => (Scalar(F::IsIpInSubnet), 2, 2),
        "isipv4insubnet" => (Scalar(F::IsIpv4InSubnet), 2, 2),
        "isipv6insubnet" => (Scalar(F::IsIpv6InSubnet), 2, 2),
        "unmask" => (Scalar(F::Unmask), 1, 1),
        "count" => (Agg(A::Count), 0, 1),
        "count_distinct" => (Agg(A::CountDistinct), 1, 1),
        "sum" => (Agg(A::Sum), 1, 1),
        "avg" => (Agg(A::Avg), 1, 1),
        "min" => (Agg(A::Min), 1, 1),
        "max" => (Agg(A::Max), 1, 1),
        "stddev" => (Agg(A::Stddev), 1, 1),
        "pct" => (Agg(A::Pct), 2, 2),
        "earliest" => (Agg(A::Earliest), 1, 1),
        "latest" => (Agg(A::Latest), 1, 1),
        "sortsfirst" => (Agg(A::SortsFirst), 1, 1),
        "sortslast" => (Agg(A::SortsLast), 1, 1),
        _ => return None,
    };
    Some(r)
}

fn num(v: &Value) -> Option<f64> {
    v.as_num()
}

fn n(x: f64) -> Value {
    if x.is_finite() {
        Value::Num(x)
    } else {
        Value::Null
    }
}

fn flag(b: bool) -> Value {
    Value::Bool(b)
}

fn text(v: &Value) -> Option<Cow<'_, str>> {
    v.as_text()
}

fn strip<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    match chars {
        None => match (left, right) {
            (true, true) => s.trim(),
            (true, false) => s.trim_start(),
            _ => s.trim_end(),
        },
        Some(set) => {
            let pred = |c: char| set.contains(c);
            let s = if left { s.trim_start_matches(pred) } else { s };
            if right { s.trim_end_matches(pred) } else { s }
        }
    }
}

/// Applies a scalar function to evaluated arguments. `bin`, `datefloor` and `dateceil` get
/// their period through `period`; `now_secs` is the query start.
pub(crate) fn apply(
    f: Func,
    args: &[Value],
    period: Option<lookout_insights::Period>,
    now_secs: i64,
) -> Value {
    let a0 = args.first().unwrap_or(&Value::Null);
    let a1 = args.get(1).unwrap_or(&Value::Null);
    let a2 = args.get(2).unwrap_or(&Value::Null);
    match f {
        Func::Abs => num(a0).map_or(Value::Null, |x| n(x.abs())),
        Func::Ceil => num(a0).map_or(Value::Null, |x| n(x.ceil())),
        Func::Floor => num(a0).map_or(Value::Null, |x| n(x.floor())),
        Func::Round => match (num(a0), args.len()) {
            (Some(x), 1) => n(x.round()),
            (Some(x), _) => match num(a1) {
                Some(d) => {
                    let m = 10f64.powi(d.clamp(-15.0, 15.0) as i32);
                    n((x * m).round() / m)
                }
                None => Value::Null,
            },
            (None, _) => Value::Null,
        },
        Func::Greatest | Func::Least => {
            let mut best: Option<f64> = None;
            for x in args.iter().filter_map(num) {
                best = Some(match best {
                    None => x,
                    Some(b) if f == Func::Greatest => b.max(x),
                    Some(b) => b.min(x),
                });
            }
            best.map_or(Value::Null, n)
        }
        Func::Log => num(a0)
            .filter(|x| *x > 0.0)
            .map_or(Value::Null, |x| n(x.ln())),
        Func::Sqrt => num(a0)
            .filter(|x| *x >= 0.0)
            .map_or(Value::Null, |x| n(x.sqrt())),
        Func::IsEmpty => flag(text(a0).is_none_or(|s| s.is_empty())),
        Func::IsBlank => flag(text(a0).is_none_or(|s| s.trim().is_empty())),
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                if let Some(s) = text(a) {
                    out.push_str(&s);
                }
            }
            Value::Str(out)
        }
        Func::Ltrim | Func::Rtrim | Func::Trim => {
            let Some(s) = text(a0) else {
                return Value::Null;
            };
            let set = if args.len() > 1 {
                match text(a1) {
                    Some(c) => Some(c),
                    None => return Value::Null,
                }
            } else {
                None
            };
            let (l, r) = match f {
                Func::Ltrim => (true, false),
                Func::Rtrim => (false, true),
                _ => (true, true),
            };
            Value::Str(strip(&s, set.as_deref(), l, r).to_owned())
        }
        Func::Strlen => text(a0).map_or(Value::Null, |s| Value::Num(s.chars().count() as f64)),
        Func::ToUpper => text(a0).map_or(Value::Null, |s| Value::Str(s.to_uppercase())),
        Func::ToLower => text(a0).map_or(Value::Null, |s| Value::Str(s.to_lowercase())),
        Func::Substr => {
            let (Some(s), Some(start)) = (text(a0), num(a1)) else {
                return Value::Null;
            };
            let chars: Vec<char> = s.chars().collect();
            let start = (start.max(0.0) as usize).min(chars.len());
            let end = if args.len() > 2 {
                match num(a2) {
                    Some(len) => start.saturating_add(len.max(0.0) as usize).min(chars.len()),
                    None => return Value::Null,
                }
            } else {
                chars.len()
            };
            Value::Str(chars[start..end].iter().collect())
        }
        Func::Replace => match (text(a0), text(a1), text(a2)) {
            (Some(s), Some(from), Some(to)) if !from.is_empty() => {
                Value::Str(s.replace(from.as_ref(), &to))
            }
            (Some(s), Some(_), Some(_)) => Value::Str(s.into_owned()),
            _ => Value::Null,
        },
        Func::StrContains => match (text(a0), text(a1)) {
            (Some(s), Some(x)) => flag(s.contains(x.as_ref())),
            _ => Value::Null,
        },
        Func::StartsWith => match (text(a0), text(a1)) {
            (Some(s), Some(x)) => flag(s.starts_with(x.as_ref())),
            _ => Value::Null,
        },
        Func::EndsWith => match (text(a0), text(a1)) {
            (Some(s), Some(x)) => flag(s.ends_with(x.as_ref())),
            _ => Value::Null,
        },
        Func::Bin | Func::DateFloor | Func::DateCeil => {
            let (Some(ms), Some(p)) = (num(a0), period) else {
                return Value::Null;
            };
            let ms = ms as i64;
            let out = if f == Func::DateCeil {
                crate::time::ceil(ms, p)
            } else {
                crate::time::floor(ms, p)
            };
            out.map_or(Value::Null, Value::Ts)
        }
        Func::FromMillis => num(a0).map_or(Value::Null, |x| Value::Ts(x as i64)),
        Func::ToMillis => num(a0).map_or(Value::Null, |x| Value::Num(x.trunc())),
        Func::Now => Value::Num(now_secs as f64),
        Func::IsPresent => flag(!a0.is_null()),
        Func::Coalesce => args
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null),
        Func::JsonParse => match text(a0) {
            Some(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                    Value::Json(Arc::new(v))
                }
                _ => Value::Null,
            },
            None => a0.clone(),
        },
        Func::JsonStringify => match a0 {
            Value::Json(j) => Value::Str(j.to_string()),
            _ => Value::Null,
        },
        Func::IsValidIp => flag(ip(a0).is_some()),
        Func::IsValidIpV4 => flag(ip(a0).is_some_and(|a| a.is_ipv4())),
        Func::IsValidIpV6 => flag(ip(a0).is_some_and(|a| a.is_ipv6())),
        Func::IsIpInSubnet => flag(in_subnet(a0, a1, None)),
        Func::IsIpv4InSubnet => flag(in_subnet(a0, a1, Some(true))),
        Func::IsIpv6InSubnet => flag(in_subnet(a0, a1, Some(false))),
        Func::Unmask => a0.clone(),
    }
}

fn ip(v: &Value) -> Option<IpAddr> {
    text(v)?.trim().parse().ok()
}

/// Whether `addr` lies in `cidr`; `v4`: `Some(true)` requires IPv4 on both sides,
/// `Some(false)` IPv6.
fn in_subnet(addr: &Value, cidr: &Value, v4: Option<bool>) -> bool {
    let (Some(a), Some(c)) = (ip(addr), text(cidr)) else {
        return false;
    };
    let (net, bits) = match c.split_once('/') {
        Some((n, b)) => (n.trim(), b.trim().parse::<u32>().ok()),
        None => (c.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    if v4.is_some_and(|want| want != a.is_ipv4() || want != net.is_ipv4()) {
        return false;
    }
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_owned())
    }

    #[test]
    fn string_functions_follow_the_spec() {
        assert_eq!(
            apply(Func::Trim, &[s("xyZxyfooxyxyZ"), s("xyZ")], None, 0),
            s("foo")
        );
        assert_eq!(apply(Func::Ltrim, &[s("  pad  ")], None, 0), s("pad  "));
        assert_eq!(
            apply(
                Func::Substr,
                &[s("xyZfooxyZ"), Value::Num(3.0), Value::Num(3.0)],
                None,
                0
            ),
            s("foo")
        );
        assert_eq!(
            apply(
                Func::Concat,
                &[s("a"), Value::Null, Value::Num(2.0)],
                None,
                0
            ),
            s("a2")
        );
        assert_eq!(apply(Func::IsBlank, &[s("  ")], None, 0), Value::Bool(true));
    }

    #[test]
    fn ip_functions() {
        assert_eq!(
            apply(
                Func::IsIpv4InSubnet,
                &[s("203.0.113.7"), s("203.0.113.0/24")],
                None,
                0
            ),
            Value::Bool(true)
        );
        assert_eq!(
            apply(
                Func::IsIpInSubnet,
                &[s("2001:db8::1"), s("2001:db8::/32")],
                None,
                0
            ),
            Value::Bool(true)
        );
        assert_eq!(
            apply(
                Func::IsIpv6InSubnet,
                &[s("10.0.0.1"), s("fe80::/10")],
                None,
                0
            ),
            Value::Bool(false)
        );
        assert_eq!(
            apply(Func::IsValidIp, &[s("nope")], None, 0),
            Value::Bool(false)
        );
    }
}
