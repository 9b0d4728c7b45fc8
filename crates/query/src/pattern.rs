//! `pattern` and `diff` (spec §6.13, §6.15). Templates group identical strings (the v1
//! minimum the spec sets); each carries its share of the input and a severity guessed from
//! level words in the text.

use std::collections::HashMap;

use lookout_insights::DiffPeriod;

use crate::bind::BExpr;
use crate::eval::{Ctx, eval};
use crate::row::Row;
use crate::value::Value;

const DAY_MS: i64 = 86_400_000;

fn severity(text: &str) -> &'static str {
    let upper = text.to_ascii_uppercase();
    let has = |w: &str| {
        upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| t == w)
    };
    if has("FATAL") || has("CRITICAL") {
        "Critical"
    } else if has("ERROR") || has("EXCEPTION") || has("FAILED") {
        "Error"
    } else if has("WARN") || has("WARNING") {
        "Warning"
    } else if has("DEBUG") || has("TRACE") {
        "Debug"
    } else if has("INFO") {
        "Info"
    } else {
        "Unknown"
    }
}

/// Counts of each distinct text, in first-seen order.
fn count(texts: impl Iterator<Item = String>) -> (Vec<(String, u64)>, u64) {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, u64)> = Vec::new();
    let mut total = 0;
    for t in texts {
        total += 1;
        match index.get(&t) {
            Some(&i) => out[i].1 += 1,
            None => {
                index.insert(t.clone(), out.len());
                out.push((t, 1));
            }
        }
    }
    (out, total)
}

/// One row per template, most frequent first: `@pattern`, `@ratio`, `@sampleCount`,
/// `@severityLabel`.
pub(crate) fn patterns(
    rows: &[Row],
    expr: &BExpr,
    ctx: &Ctx<'_>,
    out: [usize; 4],
    width: usize,
) -> Vec<Row> {
    let texts = rows
        .iter()
        .filter_map(|r| eval(expr, r, ctx).as_text().map(|t| t.into_owned()));
    let (mut counts, total) = count(texts);
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
        .into_iter()
        .map(|(text, n)| {
            let mut row = Row::empty(width);
            row.set(out[3], Value::Str(severity(&text).to_owned()));
            row.set(out[0], Value::Str(text));
            row.set(out[1], Value::Num(n as f64 / total.max(1) as f64));
            row.set(out[2], Value::Num(n as f64));
            row
        })
        .collect()
}

/// The window `diff` compares with: the same length immediately before, or one day, week or
/// (30-day) month earlier.
pub(crate) fn previous_window(start: i64, end: i64, period: Option<DiffPeriod>) -> (i64, i64) {
    let shift = match period {
        None => end - start + 1,
        Some(DiffPeriod::PreviousDay) => DAY_MS,
        Some(DiffPeriod::PreviousWeek) => 7 * DAY_MS,
        Some(DiffPeriod::PreviousMonth) => 30 * DAY_MS,
    };
    (start - shift, end - shift)
}

/// `@pattern`, `@previousSampleCount`, `@sampleCount`, `@change` over messages of both windows.
pub(crate) fn diff(
    cur: &[Row],
    prev: &[Row],
    msg: Option<usize>,
    out: [usize; 4],
    width: usize,
) -> Vec<Row> {
    let texts = |rows: &[Row]| -> Vec<String> {
        rows.iter()
            .filter_map(|r| {
                msg.and_then(|m| r.vals.get(m))
                    .and_then(|v| v.as_text().map(|t| t.into_owned()))
            })
            .collect()
    };
    let (now, _) = count(texts(cur).into_iter());
    let (before, _) = count(texts(prev).into_iter());
    let before: HashMap<String, u64> = before.into_iter().collect();
    let mut seen: Vec<(String, u64, u64)> = Vec::new();
    for (t, n) in &now {
        seen.push((t.clone(), before.get(t).copied().unwrap_or(0), *n));
    }
    let current: HashMap<&String, u64> = now.iter().map(|(t, n)| (t, *n)).collect();
    let mut gone: Vec<(String, u64, u64)> = before
        .iter()
        .filter(|(t, _)| !current.contains_key(t))
        .map(|(t, n)| (t.clone(), *n, 0))
        .collect();
    gone.sort();
    seen.extend(gone);
    seen.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    seen.into_iter()
        .map(|(text, p, n)| {
            let change = match (p, n) {
                (0, _) => "new",
                (p, n) if n > p => "increased",
                (p, n) if n < p => "decreased",
                _ => "unchanged",
            };
            let mut row = Row::empty(width);
            row.set(out[0], Value::Str(text));
            row.set(out[1], Value::Num(p as f64));
            row.set(out[2], Value::Num(n as f64));
            row.set(out[3], Value::Str(change.to_owned()));
            row
        })
        .collect()
}
