//! Runner for the `*.cases` files beside each parser module (STYLE habits 5 and 7).
//!
//! A case is one or more `> ` lines (the query; several are joined with newlines) followed
//! by expectations:
//!
//! - `= text`: the alternate print (`{:#}`, every compound parenthesised) of the tree;
//! - `~ text`: the plain print;
//! - `! kind start..end [words]`: the error kind (snake case), its byte span and, optionally,
//!   words its message contains;
//! - `+ text`: continues the previous `=` or `~` on a new line.
//!
//! Every accepted case is also printed and re-parsed, and must give the same tree.
//! Lines starting with `#` and blank lines are ignored.

use crate::{ErrorKind, parse};

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::TooLong => "too_long",
        ErrorKind::Lexical => "lexical",
        ErrorKind::Syntax => "syntax",
        ErrorKind::TooDeep => "too_deep",
        ErrorKind::UnknownCommand => "unknown_command",
        ErrorKind::Regex => "regex",
        ErrorKind::GlobAliases => "glob_aliases",
        ErrorKind::Limit => "limit",
        ErrorKind::Pipeline => "pipeline",
    }
}

struct Case {
    line: usize,
    query: String,
    expectations: Vec<(char, String)>,
}

fn cases(text: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let mut open = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_at(1);
        let rest = rest.strip_prefix(' ').unwrap_or(rest).to_owned();
        match tag {
            ">" if open => {
                let case = out.last_mut().unwrap();
                case.query.push('\n');
                case.query.push_str(&rest);
            }
            ">" => {
                out.push(Case {
                    line: i + 1,
                    query: rest,
                    expectations: Vec::new(),
                });
                open = true;
            }
            "+" => {
                let case = out
                    .last_mut()
                    .unwrap_or_else(|| panic!("line {}: continuation before a query", i + 1));
                let (_, last) = case
                    .expectations
                    .last_mut()
                    .unwrap_or_else(|| panic!("line {}: continuation before `=` or `~`", i + 1));
                last.push('\n');
                last.push_str(&rest);
            }
            "=" | "~" | "!" => {
                let case = out
                    .last_mut()
                    .unwrap_or_else(|| panic!("line {}: expectation before a query", i + 1));
                case.expectations.push((tag.chars().next().unwrap(), rest));
                open = false;
            }
            _ => panic!("line {}: unknown tag {tag:?}", i + 1),
        }
    }
    out
}

fn check(case: &Case) -> Result<(), String> {
    if case.expectations.is_empty() {
        return Err("no expectation".into());
    }
    let parsed = parse(&case.query);
    for (tag, want) in &case.expectations {
        match (tag, &parsed) {
            ('!', Ok(q)) => return Err(format!("accepted as {q:#}, want error {want}")),
            ('!', Err(e)) => {
                let got = format!("{} {}", kind_name(e.kind()), e.span());
                let mut words = want.splitn(3, ' ');
                let head = format!(
                    "{} {}",
                    words.next().unwrap_or(""),
                    words.next().unwrap_or("")
                );
                if got != head {
                    return Err(format!("error {got} ({e}), want {want}"));
                }
                if let Some(text) = words.next()
                    && !e.to_string().contains(text)
                {
                    return Err(format!("message {:?} lacks {text:?}", e.to_string()));
                }
            }
            (_, Err(e)) => return Err(format!("rejected: {e}")),
            ('=', Ok(q)) => {
                let got = format!("{q:#}");
                if &got != want {
                    return Err(format!("tree\n  got  {got}\n  want {want}"));
                }
            }
            (_, Ok(q)) => {
                let got = q.to_string();
                if &got != want {
                    return Err(format!("print\n  got  {got}\n  want {want}"));
                }
            }
        }
    }
    if let Ok(q) = &parsed {
        let printed = q.to_string();
        match parse(&printed) {
            Ok(again) if again.without_spans() == q.without_spans() => {}
            Ok(again) => return Err(format!("printed as {printed:?}, re-parsed as {again:#}")),
            Err(e) => return Err(format!("printed as {printed:?}, which fails: {e}")),
        }
    }
    Ok(())
}

/// Runs every case of a file; panics listing all failures.
pub(crate) fn run_cases(file: &str, text: &str) {
    let all = cases(text);
    assert!(!all.is_empty(), "{file}: no cases");
    let mut failures = Vec::new();
    for case in &all {
        if let Err(why) = check(case) {
            failures.push(format!("{file}:{}: {:?}: {why}", case.line, case.query));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
