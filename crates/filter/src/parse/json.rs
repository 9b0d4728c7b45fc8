//! JSON patterns (spec §5): `{ selector op value && ( ... ) || ... }`.

use super::{MAX_DEPTH, Quotas, cmp_op, value};
use crate::ast::{Condition, JsonExpr, JsonTest, Selector, Step};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, is_ws};

pub(super) fn parse(lx: &mut Lexer<'_>, quotas: &mut Quotas) -> Result<JsonExpr, ParseError> {
    lx.bump();
    let expr = or_expr(lx, quotas, 0)?;
    lx.skip_ws();
    if !lx.eat(b'}') {
        return Err(lx.expected("'&&', '||' or '}'"));
    }
    if !lx.at_end() {
        return Err(lx.expected("end of pattern"));
    }
    Ok(expr)
}

fn or_expr(lx: &mut Lexer<'_>, q: &mut Quotas, depth: usize) -> Result<JsonExpr, ParseError> {
    let mut items = vec![and_expr(lx, q, depth)?];
    loop {
        lx.skip_ws();
        if !lx.eat_str("||") {
            break;
        }
        items.push(and_expr(lx, q, depth)?);
    }
    Ok(if items.len() == 1 {
        items.swap_remove(0)
    } else {
        JsonExpr::Or(items)
    })
}

fn and_expr(lx: &mut Lexer<'_>, q: &mut Quotas, depth: usize) -> Result<JsonExpr, ParseError> {
    let mut items = vec![unary(lx, q, depth)?];
    loop {
        lx.skip_ws();
        if !lx.eat_str("&&") {
            break;
        }
        items.push(unary(lx, q, depth)?);
    }
    Ok(if items.len() == 1 {
        items.swap_remove(0)
    } else {
        JsonExpr::And(items)
    })
}

fn unary(lx: &mut Lexer<'_>, q: &mut Quotas, depth: usize) -> Result<JsonExpr, ParseError> {
    lx.skip_ws();
    if lx.peek() == Some(b'(') {
        if depth >= MAX_DEPTH {
            return Err(lx.expected("less deeply nested parentheses"));
        }
        lx.bump();
        let inner = or_expr(lx, q, depth + 1)?;
        lx.skip_ws();
        if !lx.eat(b')') {
            return Err(lx.expected("')'"));
        }
        return Ok(inner);
    }
    condition(lx, q).map(JsonExpr::Cond)
}

fn condition(lx: &mut Lexer<'_>, q: &mut Quotas) -> Result<Condition, ParseError> {
    let start = lx.pos;
    let selector = selector(lx, q)?;
    let spaced = lx.skip_ws();
    let test = if let Some(op) = cmp_op(lx)? {
        JsonTest::Compare(op, value(lx, q, op, bare_stop)?)
    } else if spaced && matches!(lx.peek(), Some(b'I' | b'N')) {
        keyword_test(lx)?
    } else {
        return Err(lx.expected("a comparison operator, IS or NOT EXISTS"));
    };
    Ok(Condition {
        selector,
        test,
        span: Span::new(start, lx.pos),
    })
}

/// A bare JSON value ends at whitespace or a structural character (spec §5.1).
fn bare_stop(b: u8) -> bool {
    is_ws(b) || matches!(b, b'(' | b')' | b'&' | b'|' | b'{' | b'}' | b'"')
}

fn keyword<'a>(lx: &mut Lexer<'a>) -> &'a str {
    lx.take_while(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; upper case only (spec §5.1, §8).
fn keyword_test(lx: &mut Lexer<'_>) -> Result<JsonTest, ParseError> {
    let at = lx.pos;
    let first = keyword(lx);
    let second_expected = match first {
        "IS" => "NULL, TRUE or FALSE",
        "NOT" => "EXISTS",
        _ => {
            lx.pos = at;
            return Err(lx.expected("a comparison operator, IS or NOT EXISTS"));
        }
    };
    let first_is = first == "IS";
    if !lx.skip_ws() {
        return Err(lx.expected(second_expected));
    }
    let at = lx.pos;
    let test = match (first_is, keyword(lx)) {
        (true, "NULL") => JsonTest::IsNull,
        (true, "TRUE") => JsonTest::IsTrue,
        (true, "FALSE") => JsonTest::IsFalse,
        (false, "EXISTS") => JsonTest::NotExists,
        _ => {
            lx.pos = at;
            return Err(lx.expected(second_expected));
        }
    };
    Ok(test)
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `$` followed by `.name`, `.*`, `[n]`, `[*]`, `.['key']` steps.
pub(crate) fn selector(lx: &mut Lexer<'_>, q: &mut Quotas) -> Result<Selector, ParseError> {
    let start = lx.pos;
    if !lx.eat(b'$') {
        return Err(lx.expected("a selector starting with '$'"));
    }
    let mut steps = Vec::new();
    loop {
        if lx.eat(b'.') {
            if lx.eat(b'*') {
                steps.push(Step::Wildcard);
            } else if lx.peek() == Some(b'[') {
                lx.bump();
                steps.push(Step::Key(bracket_key(lx)?));
            } else {
                let name = lx.take_while(is_name);
                if name.is_empty() {
                    return Err(lx.expected("a property name"));
                }
                steps.push(Step::Key(name.to_owned()));
            }
        } else if lx.eat(b'[') {
            if lx.eat(b'*') {
                steps.push(Step::Wildcard);
                if !lx.eat(b']') {
                    return Err(lx.expected("']'"));
                }
            } else if matches!(lx.peek(), Some(b'\'' | b'"')) {
                // Undocumented after a name (`$.a['b.c']`), accepted for robustness.
                steps.push(Step::Key(bracket_key(lx)?));
            } else {
                let digits = lx.take_while(|b| b.is_ascii_digit());
                let Ok(index) = digits.parse::<u32>() else {
                    return Err(lx.expected("an array index"));
                };
                steps.push(Step::Index(index));
                if !lx.eat(b']') {
                    return Err(lx.expected("']'"));
                }
            }
        } else {
            break;
        }
    }
    if steps.is_empty() {
        return Err(lx.expected("'.' or '[' after '$'"));
    }
    let selector = Selector {
        steps,
        span: Span::new(start, lx.pos),
    };
    match selector.wildcards() {
        0 => {}
        1 => q.wildcard_selector(selector.span)?,
        _ => {
            return Err(ParseError::TooManySelectorWildcards {
                span: selector.span,
            });
        }
    }
    Ok(selector)
}

/// `'key']` or `"key"]` after the `[`.
fn bracket_key(lx: &mut Lexer<'_>) -> Result<String, ParseError> {
    let Some(quote @ (b'\'' | b'"')) = lx.peek() else {
        return Err(lx.expected("a quoted key"));
    };
    lx.bump();
    let key = lx.take_while(|b| b != quote);
    if key.is_empty() || !lx.eat(quote) {
        return Err(lx.expected("a quoted key"));
    }
    if !lx.eat(b']') {
        return Err(lx.expected("']'"));
    }
    Ok(key.to_owned())
}
