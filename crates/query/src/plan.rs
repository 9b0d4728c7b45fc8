//! Pushdown: what of a query's leading filters the storage scan can check itself (spec §13:
//! pushing `filter` into the scan is allowed when it cannot change the result). Every
//! pushed predicate is implied by the query's own filter, which still runs on the rows.

use std::collections::HashSet;

use lookout_insights::BinaryOp;
use lookout_storage::Predicate;

use crate::bind::{BExpr, Match, Op, Plan};
use crate::value::{Value, parse_number};

/// The scan-side part of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pushdown {
    /// Only these streams (`@logStream = "x"` / `in [...]`).
    pub(crate) streams: Option<Vec<String>>,
    /// Message substrings every match contains (`@message like "x"`, `@requestId = "x"`).
    pub(crate) contains: Vec<String>,
    /// JSON field equalities, valid only where discovery reads whole-message JSON (not in
    /// Lambda groups, where JSON may follow a text prefix the store does not flatten).
    pub(crate) field_equals: Vec<(String, String)>,
}

/// The per-row check behind [`Pushdown::field_equals`] that holds in every group, Lambda
/// groups included: a JSON string value equal to a literal appears verbatim in a message
/// without backslashes (only an escape can make the raw text differ from the value), so a
/// message with neither the literal nor a backslash fails the query's own filter and need
/// not be decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowCheck {
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl RowCheck {
    pub(crate) fn new(pd: &Pushdown) -> RowCheck {
        let mut finders: Vec<memchr::memmem::Finder<'static>> = Vec::new();
        for (_, value) in &pd.field_equals {
            if finders.iter().all(|f| f.needle() != value.as_bytes()) {
                finders.push(memchr::memmem::Finder::new(value.as_bytes()).into_owned());
            }
        }
        RowCheck { finders }
    }

    /// Whether the row of `message` may pass the leading filters.
    pub(crate) fn may_match(&self, message: Option<&str>) -> bool {
        if self.finders.is_empty() {
            return true;
        }
        let Some(m) = message else {
            // No message, no discovered fields: the equality is false.
            return false;
        };
        let m = m.as_bytes();
        memchr::memchr(b'\\', m).is_some() || self.finders.iter().all(|f| f.find(m).is_some())
    }
}

impl Pushdown {
    /// The predicates for one group.
    pub(crate) fn predicates(&self, lambda: bool) -> Vec<Predicate> {
        let mut out: Vec<Predicate> = self
            .contains
            .iter()
            .map(|s| Predicate::Contains(s.clone()))
            .collect();
        if !lambda {
            for (path, value) in &self.field_equals {
                out.push(Predicate::FieldEquals {
                    path: path.clone(),
                    value: value.clone(),
                });
            }
        }
        out
    }
}

pub(crate) fn pushdown(plan: &Plan) -> Pushdown {
    let mut pd = Pushdown::default();
    let mut written: HashSet<usize> = HashSet::new();
    for op in &plan.ops {
        match op {
            Op::Filter(e) => {
                let mut conj = Vec::new();
                conjuncts(e, &mut conj);
                for c in conj {
                    push_one(plan, c, &written, &mut pd);
                }
            }
            Op::Eval(items) => written.extend(items.iter().map(|(s, _)| *s)),
            Op::Parse { slots, .. } => written.extend(slots.iter().map(|(_, s)| *s)),
            _ => break,
        }
    }
    pd
}

fn conjuncts<'a>(e: &'a BExpr, out: &mut Vec<&'a BExpr>) {
    if let BExpr::And(l, r) = e {
        conjuncts(l, out);
        conjuncts(r, out);
    } else {
        out.push(e);
    }
}

/// The event field a bare reference reads, when nothing earlier overwrote it.
fn event_field<'a>(plan: &'a Plan, e: &BExpr, written: &HashSet<usize>) -> Option<&'a str> {
    let BExpr::Field(r) = e else {
        return None;
    };
    if !r.nav.is_empty() || written.contains(&r.slot) {
        return None;
    }
    plan.slots.names.get(r.slot).map(String::as_str)
}

fn literal(e: &BExpr) -> Option<&str> {
    match e {
        BExpr::Lit(Value::Str(s)) => Some(s),
        _ => None,
    }
}

fn push_one(plan: &Plan, e: &BExpr, written: &HashSet<usize>, pd: &mut Pushdown) {
    match e {
        BExpr::Cmp(BinaryOp::Eq, l, r) => {
            let (name, lit) = match (event_field(plan, l, written), literal(r)) {
                (Some(n), Some(v)) => (n, v),
                _ => match (event_field(plan, r, written), literal(l)) {
                    (Some(n), Some(v)) => (n, v),
                    _ => return,
                },
            };
            if lit.is_empty() {
                return;
            }
            match name {
                "@logStream" => narrow(pd, vec![lit.to_owned()]),
                "@requestId" => pd.contains.push(lit.to_owned()),
                // Only platform lines carry @type, and they start with these words.
                "@type" if matches!(lit, "START" | "END" | "REPORT") => {
                    pd.contains.push(format!("{lit} RequestId: "))
                }
                n if !n.starts_with('@')
                    && parse_number(lit).is_none()
                    && !matches!(lit, "true" | "false" | "null") =>
                {
                    pd.field_equals.push((n.to_owned(), lit.to_owned()))
                }
                _ => {}
            }
        }
        BExpr::In {
            expr,
            list,
            negated: false,
        } if event_field(plan, expr, written) == Some("@logStream") => {
            let names: Option<Vec<String>> =
                list.iter().map(|x| literal(x).map(str::to_owned)).collect();
            if let Some(names) = names {
                narrow(pd, names);
            }
        }
        BExpr::Like {
            expr,
            pat,
            negated: false,
        } if event_field(plan, expr, written) == Some("@message") => {
            let lit = match pat {
                Match::Sub(s) => Some(s.clone()),
                Match::Re(re) => plain_regex(re.as_str()),
            };
            if let Some(s) = lit.filter(|s| !s.is_empty()) {
                pd.contains.push(s);
            }
        }
        _ => {}
    }
}

fn narrow(pd: &mut Pushdown, names: Vec<String>) {
    pd.streams = Some(match pd.streams.take() {
        None => names,
        Some(old) => old.into_iter().filter(|n| names.contains(n)).collect(),
    });
}

/// A regex with no special characters matches exactly its text as a substring.
fn plain_regex(pattern: &str) -> Option<String> {
    let special = |c: char| "\\.+*?()|[]{}^$#".contains(c) || c.is_whitespace() && c != ' ';
    (!pattern.chars().any(special)).then(|| pattern.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pd(q: &str) -> Pushdown {
        let plan = lookout_insights::parse(q)
            .map_err(crate::Error::from)
            .and_then(|q| crate::bind::bind(&q));
        match plan {
            Ok(p) => pushdown(&p),
            Err(e) => panic!("{q}: {e}"),
        }
    }

    #[test]
    fn leading_filters_push_down() {
        let p = pd(
            r#"filter @requestId = "abc" and level = "ERROR" and status = 200 | stats count(*)"#,
        );
        assert_eq!(p.contains, ["abc"]);
        assert_eq!(p.field_equals, [("level".to_owned(), "ERROR".to_owned())]);
        let p = pd(r#"filter @type = "REPORT" | stats avg(@duration)"#);
        assert_eq!(p.contains, ["REPORT RequestId: "]);
        let p = pd(r#"filter @logStream in ["a", "b"] and @message like /ERROR/"#);
        assert_eq!(p.streams, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(p.contains, ["ERROR"]);
        assert_eq!(
            pd(r#"filter @message like /(?i)error/"#),
            Pushdown::default()
        );
        assert_eq!(
            pd(r#"fields x as level | filter level = "a""#),
            Pushdown::default()
        );
        assert_eq!(
            pd(r#"stats count(*) as n by level | filter level = "a""#),
            Pushdown::default()
        );
        assert_eq!(pd(r#"filter not (level = "a")"#), Pushdown::default());
    }
}
