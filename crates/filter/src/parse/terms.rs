//! Term patterns (spec §4): words, quoted phrases and regexes with `?` / `-` prefixes.

use super::Quotas;
use crate::ast::{Prefix, RegexLit, Term, TermAtom};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, is_word};

pub(super) fn parse(lx: &mut Lexer<'_>, quotas: &mut Quotas) -> Result<Vec<Term>, ParseError> {
    let mut terms = Vec::new();
    loop {
        lx.skip_ws();
        if lx.at_end() {
            return Ok(terms);
        }
        let start = lx.pos;
        let prefix = if lx.eat(b'?') {
            Prefix::Optional
        } else if lx.eat(b'-') {
            Prefix::Exclude
        } else {
            Prefix::Include
        };
        // The archived docs once wrote `"ERROR" - "Exiting"`; accepting a gap costs nothing.
        if prefix != Prefix::Include {
            lx.skip_ws();
        }
        let atom = match lx.peek() {
            Some(b'"') => TermAtom::Phrase(lx.quoted()?.0),
            Some(b'%') => {
                let (body, span) = lx.regex()?;
                crate::regex::compile(body, span.start + 1)?;
                quotas.regex(span)?;
                TermAtom::Regex(RegexLit {
                    body: body.to_owned(),
                })
            }
            Some(b) if is_word(b) => TermAtom::Word(lx.take_while(is_word).to_owned()),
            None | Some(b'?' | b'-') => return Err(lx.expected("a term")),
            Some(_) => return Err(lx.invalid_char()),
        };
        terms.push(Term {
            prefix,
            atom,
            span: Span::new(start, lx.pos),
        });
    }
}
