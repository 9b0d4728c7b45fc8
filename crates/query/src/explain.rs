//! A plain-text rendering of a plan, for snapshot tests and debugging: what the scan is asked
//! (streams, pushed predicates, which fields rows carry) and the steps after it.

use std::fmt::Write;

use crate::bind::{BExpr, Op, Plan};
use crate::func::AggFunc;

fn expr(plan: &Plan, e: &BExpr) -> String {
    match e {
        BExpr::Field(r) => plan.slots.names.get(r.slot).cloned().unwrap_or_default(),
        BExpr::Call { f, .. } => format!("{f:?}(..)").to_lowercase(),
        BExpr::Lit(v) => v.render().unwrap_or_else(|| "null".into()),
        _ => "expr".into(),
    }
}

fn names(plan: &Plan, slots: impl Iterator<Item = usize>) -> String {
    slots
        .map(|s| plan.slots.names.get(s).cloned().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn explain(plan: &Plan) -> String {
    let pd = crate::plan::pushdown(plan);
    let mut out = String::new();
    let streams = match &pd.streams {
        Some(s) => s.join(", "),
        None => "all".into(),
    };
    let _ = writeln!(out, "scan streams: {streams}");
    if !pd.contains.is_empty() {
        let _ = writeln!(out, "scan contains: {:?}", pd.contains);
    }
    if !pd.field_equals.is_empty() {
        let _ = writeln!(
            out,
            "scan field equals (non-Lambda groups): {:?}",
            pd.field_equals
        );
    }
    let n = &plan.needs;
    let mut reads: Vec<String> = Vec::new();
    for (name, slot) in [
        ("@message", n.message),
        ("@logStream", n.log_stream),
        ("@log", n.log),
        ("@ingestionTime", n.ingestion_time),
        ("@ptr", n.ptr),
    ] {
        if slot.is_some() {
            reads.push(name.into());
        }
    }
    reads.extend(n.lambda.iter().map(|(k, _)| k.clone()));
    let mut json: Vec<&String> = n.json.keys().collect();
    json.sort();
    reads.extend(json.into_iter().map(|k| format!("json {k}")));
    let _ = writeln!(
        out,
        "rows carry: @timestamp{}{}",
        if reads.is_empty() { "" } else { ", " },
        reads.join(", ")
    );
    let first_blocking = plan.ops.iter().position(|op| !op.is_streaming());
    for (i, op) in plan.ops.iter().enumerate() {
        let mark = if Some(i) == first_blocking {
            "collect: "
        } else {
            ""
        };
        let text = match op {
            Op::Filter(e) => format!("filter {}", expr(plan, e)),
            Op::Eval(items) => format!("eval {}", names(plan, items.iter().map(|(s, _)| *s))),
            Op::Parse { slots, .. } => {
                format!("parse into {}", names(plan, slots.iter().map(|(_, s)| *s)))
            }
            Op::Stats(s) => {
                let aggs: Vec<String> = s
                    .aggs
                    .iter()
                    .map(|a| {
                        let f = format!("{:?}", a.f).to_lowercase();
                        let arg = a.arg.as_ref().map_or("*".to_owned(), |e| expr(plan, e));
                        if a.f == AggFunc::Pct {
                            format!("{f}({arg}, {})", a.p)
                        } else {
                            format!("{f}({arg})")
                        }
                    })
                    .collect();
                // The columnar path applies when nothing runs before the stats.
                let fast = if i == 0 && s.count_by_bin().is_some() {
                    " [columnar bins]"
                } else {
                    ""
                };
                let by = names(plan, s.by.iter().map(|(b, _)| *b));
                let by = if by.is_empty() {
                    by
                } else {
                    format!(" by {by}")
                };
                format!(
                    "stats {} -> {}{by}{fast}",
                    aggs.join(", "),
                    names(plan, s.outputs.iter().map(|(o, _)| *o)),
                )
            }
            Op::Sort(keys) => {
                let k: Vec<String> = keys
                    .iter()
                    .map(|(e, o)| format!("{} {o:?}", expr(plan, e)).to_lowercase())
                    .collect();
                format!("sort {}", k.join(", "))
            }
            Op::Limit(n) => format!("limit {n}"),
            Op::Dedup(f) => format!(
                "dedup {}",
                f.iter()
                    .map(|e| expr(plan, e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Op::Unnest { into, .. } => format!("unnest into {}", names(plan, [*into].into_iter())),
            Op::Pattern { .. } => "pattern".into(),
            Op::Diff { period, .. } => format!("diff {period:?}"),
            Op::Anomaly => "anomaly".into(),
        };
        let _ = writeln!(out, "{mark}{text}");
    }
    let cols: Vec<&str> = plan.columns.iter().map(|(c, _)| c.as_str()).collect();
    let _ = writeln!(out, "columns: {}", cols.join(", "));
    out
}
