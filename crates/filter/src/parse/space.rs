//! Space-delimited patterns (spec §6): `[name, name = value, ..., name > 10 || name < 5]`.

use super::{MAX_DEPTH, Quotas, cmp_op, value};
use crate::ast::{Entry, FieldExpr};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, is_word, is_ws};

pub(super) fn parse(lx: &mut Lexer<'_>, quotas: &mut Quotas) -> Result<Vec<Entry>, ParseError> {
    lx.bump();
    let mut entries = Vec::new();
    let mut names: Vec<String> = Vec::new();
    lx.skip_ws();
    if lx.eat(b']') {
        return end(lx, entries);
    }
    loop {
        lx.skip_ws();
        let start = lx.pos;
        let entry = if matches!(lx.peek(), Some(b',' | b']')) {
            Entry::Blank
        } else if lx.eat_str("...") {
            if entries.iter().any(|e| matches!(e, Entry::Ellipsis)) {
                return Err(ParseError::DuplicateField {
                    name: "...".to_owned(),
                    span: Span::new(start, lx.pos),
                });
            }
            Entry::Ellipsis
        } else {
            let mut name = None;
            let expr = or_expr(lx, quotas, &mut name, 0)?;
            let span = Span::new(start, lx.pos);
            let name = name.unwrap_or_default();
            if names.contains(&name) {
                return Err(ParseError::DuplicateField { name, span });
            }
            names.push(name.clone());
            Entry::Field { name, expr, span }
        };
        entries.push(entry);
        lx.skip_ws();
        if lx.eat(b',') {
            continue;
        }
        if lx.eat(b']') {
            return end(lx, entries);
        }
        return Err(lx.expected("',' or ']'"));
    }
}

fn end(lx: &mut Lexer<'_>, entries: Vec<Entry>) -> Result<Vec<Entry>, ParseError> {
    if lx.at_end() {
        Ok(entries)
    } else {
        Err(lx.expected("end of pattern"))
    }
}

type Name = Option<String>;

fn or_expr(
    lx: &mut Lexer<'_>,
    q: &mut Quotas,
    n: &mut Name,
    d: usize,
) -> Result<FieldExpr, ParseError> {
    let mut items = vec![and_expr(lx, q, n, d)?];
    loop {
        lx.skip_ws();
        if !lx.eat_str("||") {
            break;
        }
        items.push(and_expr(lx, q, n, d)?);
    }
    Ok(if items.len() == 1 {
        items.swap_remove(0)
    } else {
        FieldExpr::Or(items)
    })
}

fn and_expr(
    lx: &mut Lexer<'_>,
    q: &mut Quotas,
    n: &mut Name,
    d: usize,
) -> Result<FieldExpr, ParseError> {
    let mut items = vec![atom(lx, q, n, d)?];
    loop {
        lx.skip_ws();
        if !lx.eat_str("&&") {
            break;
        }
        items.push(atom(lx, q, n, d)?);
    }
    Ok(if items.len() == 1 {
        items.swap_remove(0)
    } else {
        FieldExpr::And(items)
    })
}

fn atom(
    lx: &mut Lexer<'_>,
    q: &mut Quotas,
    n: &mut Name,
    d: usize,
) -> Result<FieldExpr, ParseError> {
    lx.skip_ws();
    if lx.peek() == Some(b'(') {
        if d >= MAX_DEPTH {
            return Err(lx.expected("less deeply nested parentheses"));
        }
        lx.bump();
        let inner = or_expr(lx, q, n, d + 1)?;
        lx.skip_ws();
        if !lx.eat(b')') {
            return Err(lx.expected("')'"));
        }
        return Ok(inner);
    }
    let at = lx.pos;
    let name = lx.take_while(is_word);
    if name.is_empty() {
        return Err(lx.expected("a field name"));
    }
    match n {
        None => *n = Some(name.to_owned()),
        // Every condition of an entry must be about that entry's field (spec §6.1).
        Some(first) if first != name => {
            lx.pos = at;
            return Err(lx.expected("the entry's own field name"));
        }
        Some(_) => {}
    }
    lx.skip_ws();
    match cmp_op(lx)? {
        Some(op) => Ok(FieldExpr::Compare(op, value(lx, q, op, bare_stop)?)),
        None => Ok(FieldExpr::Exists),
    }
}

/// A bare field value ends at whitespace, `,`, `]`, `&`, `|`, `(`, `)` (spec §6.1).
fn bare_stop(b: u8) -> bool {
    is_ws(b) || matches!(b, b',' | b']' | b'&' | b'|' | b'(' | b')')
}
