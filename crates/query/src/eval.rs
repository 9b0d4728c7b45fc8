//! Evaluating bound expressions over a row (spec §5).

use std::cmp::Ordering;

use lookout_insights::BinaryOp;

use crate::bind::{BExpr, FieldRef, Match};
use crate::row::Row;
use crate::value::Value;

/// What evaluation needs besides the row.
pub(crate) struct Ctx<'a> {
    /// Query start, epoch seconds (`now()`).
    pub(crate) now_secs: i64,
    /// Finished aggregations of the enclosing `stats`, for its output items.
    pub(crate) aggs: &'a [Value],
}

pub(crate) fn field(r: &FieldRef, row: &Row) -> Value {
    let v = row.vals.get(r.slot).cloned().unwrap_or_default();
    if !v.is_null() {
        return v;
    }
    for (slot, rest) in &r.nav {
        if let Some(Value::Json(j)) = row.vals.get(*slot) {
            let mut cur: &serde_json::Value = j;
            let mut ok = true;
            for seg in rest {
                let next = match cur {
                    serde_json::Value::Object(m) => m.get(seg.as_str()),
                    serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                    _ => None,
                };
                match next {
                    Some(n) => cur = n,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return Value::from_json_ref(cur);
            }
        }
    }
    Value::Null
}

pub(crate) fn eval(e: &BExpr, row: &Row, ctx: &Ctx<'_>) -> Value {
    match e {
        BExpr::Lit(v) => v.clone(),
        BExpr::Period(p) => Value::Num(p.amount),
        BExpr::Field(r) => field(r, row),
        BExpr::Neg(x) => match eval(x, row, ctx).as_num() {
            Some(n) => Value::Num(-n),
            None => Value::Null,
        },
        BExpr::Not(x) => Value::Bool(!eval(x, row, ctx).truthy()),
        BExpr::And(l, r) => Value::Bool(eval(l, row, ctx).truthy() && eval(r, row, ctx).truthy()),
        BExpr::Or(l, r) => Value::Bool(eval(l, row, ctx).truthy() || eval(r, row, ctx).truthy()),
        BExpr::Cmp(op, l, r) => {
            let (a, b) = (eval(l, row, ctx), eval(r, row, ctx));
            Value::Bool(compare(*op, &a, &b))
        }
        BExpr::Arith(op, l, r) => {
            let (a, b) = (eval(l, row, ctx).as_num(), eval(r, row, ctx).as_num());
            match (a, b) {
                (Some(a), Some(b)) => arith(*op, a, b),
                _ => Value::Null,
            }
        }
        BExpr::Like { expr, pat, negated } => {
            let v = eval(expr, row, ctx);
            let Some(t) = v.as_text() else {
                return Value::Bool(false);
            };
            let hit = match pat {
                Match::Sub(s) => t.contains(s.as_str()),
                Match::Re(re) => re.is_match(&t),
            };
            Value::Bool(hit != *negated)
        }
        BExpr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, ctx);
            if v.is_null() {
                return Value::Bool(false);
            }
            let hit = list
                .iter()
                .any(|x| compare(BinaryOp::Eq, &v, &eval(x, row, ctx)));
            Value::Bool(hit != *negated)
        }
        BExpr::Call { f, args, period } if args.len() <= 3 => {
            // Most calls have few arguments: keep them on the stack.
            let vals: [Value; 3] =
                std::array::from_fn(|i| args.get(i).map_or(Value::Null, |a| eval(a, row, ctx)));
            crate::func::apply(*f, &vals[..args.len()], *period, ctx.now_secs)
        }
        BExpr::Call { f, args, period } => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, row, ctx)).collect();
            crate::func::apply(*f, &vals, *period, ctx.now_secs)
        }
        BExpr::Agg(i) => ctx.aggs.get(*i).cloned().unwrap_or_default(),
    }
}

/// Comparison with null handling of spec §5.2: false whenever an operand is null.
pub(crate) fn compare(op: BinaryOp, a: &Value, b: &Value) -> bool {
    let Some(o) = a.compare(b) else {
        return false;
    };
    match op {
        BinaryOp::Eq => o == Ordering::Equal,
        BinaryOp::Ne => o != Ordering::Equal,
        BinaryOp::Lt => o == Ordering::Less,
        BinaryOp::Le => o != Ordering::Greater,
        BinaryOp::Gt => o == Ordering::Greater,
        BinaryOp::Ge => o != Ordering::Less,
        _ => false,
    }
}

fn arith(op: BinaryOp, a: f64, b: f64) -> Value {
    let r = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0.0 => return Value::Null,
        BinaryOp::Div => a / b,
        BinaryOp::Mod if b == 0.0 => return Value::Null,
        BinaryOp::Mod => a % b,
        BinaryOp::Pow => a.powf(b),
        _ => return Value::Null,
    };
    if r.is_finite() {
        Value::Num(r)
    } else {
        Value::Null
    }
}
