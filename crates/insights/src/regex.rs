//! Regex literals are checked with `regex-syntax`, the parser of the `regex` crate the
//! executor compiles them with, so what parses here compiles there.

use regex_syntax::hir::{Hir, HirKind};

use crate::error::{Error, Span};

/// Nesting limit for regex groups; below regex-syntax's default so that walking the tree here
/// stays shallow.
const REGEX_NEST_LIMIT: u32 = 100;

fn parse(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(pattern)
        .map_err(|e| reason(&e))
}

/// Fails with [`Error::InvalidRegex`] at `span` when `pattern` does not compile; otherwise
/// returns the names of its named groups, in order.
pub(crate) fn check(pattern: &str, span: Span) -> Result<Vec<String>, Error> {
    match parse(pattern) {
        Ok(hir) => {
            let mut names = Vec::new();
            collect(&hir, &mut names);
            Ok(names)
        }
        Err(reason) => Err(Error::InvalidRegex { reason, span }),
    }
}

/// The names of the named capture groups, in order; empty for an invalid pattern.
pub(crate) fn capture_names(pattern: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(hir) = parse(pattern) {
        collect(&hir, &mut names);
    }
    names
}

fn collect(hir: &Hir, names: &mut Vec<String>) {
    match hir.kind() {
        HirKind::Capture(cap) => {
            if let Some(name) = &cap.name {
                names.push(name.to_string());
            }
            collect(&cap.sub, names);
        }
        HirKind::Repetition(rep) => collect(&rep.sub, names),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().for_each(|h| collect(h, names))
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// regex-syntax renders errors over several lines with a caret diagram; the last line is the
/// reason.
fn reason(e: &regex_syntax::Error) -> String {
    let text = e.to_string();
    let reason = text
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_owned());
    reason.unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_in_order() {
        assert_eq!(
            capture_names(r"(?<a>x)(y)(?P<b>[(?<c>)])|\(?<d>"),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(check("(?<a>x", Span::default()).is_err());
    }
}
