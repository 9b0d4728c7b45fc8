//! Expressions (spec §3) by precedence climbing: one loop over binding powers instead of
//! one function per level, which keeps the recursion per bracket level to three frames
//! (debug builds spend kilobytes per frame).
//!
//! Every nesting step (parentheses, brackets, calls, prefix operators, and each link of an
//! operator chain) enters a depth level, so the height of any tree, and with it the
//! recursion of the printer, `Drop` and `PartialEq`, stays below twice [`MAX_DEPTH`].
//!
//! [`MAX_DEPTH`]: crate::MAX_DEPTH

use super::Parser;
use crate::ast::{BinaryOp, Call, Expr, ExprKind, Field, Ident, LikePattern, Regex, UnaryOp};
use crate::error::{Error, Span};
use crate::lexer::{self, Mode, Punct, Tok, Token};

/// Binding powers, loosest first; `not` and unary minus bind their operand at `NOT` and
/// `NEG`, comparisons are non-associative, `^` is right-associative over a unary operand.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const ADD: u8 = 5;
const MUL: u8 = 6;
const NEG: u8 = 7;
const POW: u8 = 8;

/// An infix operator as seen in the token stream.
enum Infix {
    Binary(BinaryOp),
    Like { negated: bool },
    In { negated: bool },
    Match,
}

impl Infix {
    fn power(&self) -> u8 {
        match self {
            Infix::Binary(BinaryOp::Or) => OR,
            Infix::Binary(BinaryOp::And) => AND,
            Infix::Binary(BinaryOp::Add | BinaryOp::Sub) => ADD,
            Infix::Binary(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod) => MUL,
            Infix::Binary(BinaryOp::Pow) => POW,
            Infix::Binary(_) | Infix::Like { .. } | Infix::In { .. } | Infix::Match => CMP,
        }
    }
}

impl Parser<'_> {
    /// A whole expression.
    pub(crate) fn expr(&mut self) -> Result<Expr, Error> {
        self.expr_bp(0)
    }

    /// An expression whose operators all bind at least as tightly as `min`.
    fn expr_bp(&mut self, min: u8) -> Result<Expr, Error> {
        let mut lhs = self.prefix(min)?;
        let mut levels = 0;
        let mut after_cmp = false;
        while let Some(op) = self.infix()? {
            let power = op.power();
            if power < min || (power == CMP && after_cmp) {
                break;
            }
            let at = self.bump(Mode::Operator)?.span;
            self.enter(at)?;
            levels += 1;
            lhs = self.infix_rest(op, power, lhs)?;
            after_cmp = power == CMP;
        }
        self.leave(levels);
        Ok(lhs)
    }

    /// After an infix operator: its right-hand side.
    fn infix_rest(&mut self, op: Infix, power: u8, lhs: Expr) -> Result<Expr, Error> {
        Ok(match op {
            Infix::Binary(op) => {
                let right = match op {
                    BinaryOp::Pow => NEG,
                    _ => power + 1,
                };
                let rhs = self.expr_bp(right)?;
                binary(op, lhs, rhs)
            }
            Infix::Like { negated } => {
                if negated {
                    self.bump(Mode::Operator)?;
                }
                self.like_rest(lhs, negated)?
            }
            Infix::In { negated } => {
                if negated {
                    self.bump(Mode::Operator)?;
                }
                self.in_rest(lhs, negated)?
            }
            Infix::Match => {
                let r = self.bump(Mode::Operand)?;
                let Tok::Regex(pattern) = r.tok else {
                    return Err(self.unexpected(&r, "a regex after '=~'"));
                };
                let regex = regex_literal(pattern, r.span)?;
                like(lhs, LikePattern::Regex(regex), false, r.span)
            }
        })
    }

    /// The operator at the cursor, if any. `not` here must be followed by `like` or `in`.
    fn infix(&mut self) -> Result<Option<Infix>, Error> {
        let t = self.peek(Mode::Operator)?;
        let op = match &t.tok {
            Tok::Punct(p) => match p {
                Punct::Eq => BinaryOp::Eq,
                Punct::Ne => BinaryOp::Ne,
                Punct::Lt => BinaryOp::Lt,
                Punct::Le => BinaryOp::Le,
                Punct::Gt => BinaryOp::Gt,
                Punct::Ge => BinaryOp::Ge,
                Punct::Plus => BinaryOp::Add,
                Punct::Minus => BinaryOp::Sub,
                Punct::Star => BinaryOp::Mul,
                Punct::Slash => BinaryOp::Div,
                Punct::Percent => BinaryOp::Mod,
                Punct::Caret => BinaryOp::Pow,
                Punct::Match => return Ok(Some(Infix::Match)),
                _ => return Ok(None),
            },
            Tok::Name { .. } if t.is_word("or") => BinaryOp::Or,
            Tok::Name { .. } if t.is_word("and") => BinaryOp::And,
            Tok::Name { .. } if t.is_word("like") => {
                return Ok(Some(Infix::Like { negated: false }));
            }
            Tok::Name { .. } if t.is_word("in") => return Ok(Some(Infix::In { negated: false })),
            Tok::Name { .. } if t.is_word("not") => {
                let end = t.span.end;
                let after = lexer::lex(self.src, end, Mode::Operator)?;
                if after.is_word("like") {
                    return Ok(Some(Infix::Like { negated: true }));
                }
                if after.is_word("in") {
                    return Ok(Some(Infix::In { negated: true }));
                }
                return Err(self.unexpected(&after, "'like' or 'in' after 'not'"));
            }
            _ => return Ok(None),
        };
        Ok(Some(Infix::Binary(op)))
    }

    /// A primary, or a prefix operator and its operand. `not` is only allowed where a
    /// predicate may start (spec §3: it binds looser than comparisons).
    fn prefix(&mut self, min: u8) -> Result<Expr, Error> {
        if min <= NOT
            && let Some(at) = self.eat_word("not", Mode::Operand)?
        {
            self.enter(at)?;
            let operand = self.expr_bp(NOT)?;
            self.leave(1);
            return Ok(unary(UnaryOp::Not, at, operand));
        }
        if let Some(at) = self.eat(Punct::Minus, Mode::Operand)? {
            self.enter(at)?;
            let operand = self.expr_bp(NEG)?;
            self.leave(1);
            return Ok(unary(UnaryOp::Neg, at, operand));
        }
        self.primary()
    }

    /// After `[not] like`: a string or a regex.
    fn like_rest(&mut self, lhs: Expr, negated: bool) -> Result<Expr, Error> {
        let t = self.bump(Mode::Operand)?;
        let pattern = match t.tok {
            Tok::Str(s) => LikePattern::Substring(s),
            Tok::Regex(pattern) => LikePattern::Regex(regex_literal(pattern, t.span)?),
            _ => return Err(self.unexpected(&t, "a string or a regex after 'like'")),
        };
        Ok(like(lhs, pattern, negated, t.span))
    }

    /// After `[not] in`: a bracketed list.
    fn in_rest(&mut self, lhs: Expr, negated: bool) -> Result<Expr, Error> {
        let t = self.bump(Mode::Operand)?;
        if !t.is(Punct::LBracket) {
            return Err(self.unexpected(&t, "a list such as [\"a\", \"b\"] after 'in'"));
        }
        let list = self.list_rest(t.span)?;
        let span = lhs.span.to(Span::new(t.span.start, self.end()));
        Ok(Expr {
            kind: ExprKind::In {
                expr: Box::new(lhs),
                list,
                negated,
            },
            span,
        })
    }

    // The recursion runs expr_bp → prefix → primary → paren_rest → expr_bp; each arm that
    // is not on that path lives in its own function so that debug-build frames stay small.
    fn primary(&mut self) -> Result<Expr, Error> {
        let t = self.bump(Mode::Operand)?;
        match t.tok {
            Tok::Punct(Punct::LParen) => self.paren_rest(t.span),
            Tok::Punct(Punct::LBracket) => self.list_expr_rest(t.span),
            Tok::Name { .. } => self.name_rest(t),
            _ => self.literal(t),
        }
    }

    fn paren_rest(&mut self, open: Span) -> Result<Expr, Error> {
        self.enter(open)?;
        let mut inner = self.expr()?;
        self.expect(Punct::RParen, Mode::Operator, "')'")?;
        self.leave(1);
        // The parentheses belong to the node's text (column names, error spans).
        inner.span = Span::new(open.start, self.end());
        Ok(inner)
    }

    fn list_expr_rest(&mut self, open: Span) -> Result<Expr, Error> {
        let items = self.list_rest(open)?;
        Ok(Expr {
            kind: ExprKind::List(items),
            span: Span::new(open.start, self.end()),
        })
    }

    /// A field, or a call when a plain name is followed by `(` (a space between is accepted,
    /// spec §3).
    fn name_rest(&mut self, t: Token) -> Result<Expr, Error> {
        let span = t.span;
        let Tok::Name { path, plain } = t.tok else {
            return Err(self.unexpected(&t, "an expression"));
        };
        if plain && lexer::is_keyword(&path[0]) {
            let t = Token {
                tok: Tok::Name { path, plain },
                span,
            };
            return Err(self.unexpected(&t, "an expression"));
        }
        if plain && self.peek(Mode::Operator)?.is(Punct::LParen) {
            let name = path.into_iter().next().unwrap_or_default();
            return self.call_rest(Ident { name, span });
        }
        Ok(Expr {
            kind: ExprKind::Field(Field { path, span }),
            span,
        })
    }

    fn literal(&mut self, t: Token) -> Result<Expr, Error> {
        let span = t.span;
        let kind = match t.tok {
            Tok::Number(n) => ExprKind::Number(n),
            Tok::Str(s) => ExprKind::String(s),
            Tok::Regex(pattern) => ExprKind::Regex(regex_literal(pattern, span)?),
            Tok::Period(p) => ExprKind::Period(p),
            _ => return Err(self.unexpected(&t, "an expression")),
        };
        Ok(Expr { kind, span })
    }

    /// After a function name: `( [ "*" | expr { "," expr } ] )`.
    fn call_rest(&mut self, name: Ident) -> Result<Expr, Error> {
        let open = self.expect(Punct::LParen, Mode::Operator, "'('")?;
        self.enter(open)?;
        let mut args = Vec::new();
        if let Some(star) = self.eat(Punct::Star, Mode::Operand)? {
            args.push(Expr {
                kind: ExprKind::Star,
                span: star,
            });
            self.expect(Punct::RParen, Mode::Operator, "')' after '*'")?;
        } else if self.eat(Punct::RParen, Mode::Operand)?.is_none() {
            args.push(self.expr()?);
            while self.eat(Punct::Comma, Mode::Operator)?.is_some() {
                args.push(self.expr()?);
            }
            self.expect(Punct::RParen, Mode::Operator, "',' or ')'")?;
        }
        self.leave(1);
        let span = Span::new(name.span.start, self.end());
        Ok(Expr {
            kind: ExprKind::Call(Call { name, args }),
            span,
        })
    }

    /// After `[`: `[ expr { "," expr } ] "]"`.
    fn list_rest(&mut self, open: Span) -> Result<Vec<Expr>, Error> {
        self.enter(open)?;
        let mut items = Vec::new();
        if self.eat(Punct::RBracket, Mode::Operand)?.is_none() {
            items.push(self.expr()?);
            while self.eat(Punct::Comma, Mode::Operator)?.is_some() {
                items.push(self.expr()?);
            }
            self.expect(Punct::RBracket, Mode::Operator, "',' or ']'")?;
        }
        self.leave(1);
        Ok(items)
    }
}

/// Checks a regex literal with the engine's parser so that a bad one is a compile error with
/// a precise location (spec §12) rather than a failure at execution.
pub(crate) fn regex_literal(pattern: String, span: Span) -> Result<Regex, Error> {
    crate::regex::check(&pattern, span)?;
    Ok(Regex { pattern, span })
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
        span,
    }
}

fn unary(op: UnaryOp, at: Span, operand: Expr) -> Expr {
    let span = at.to(operand.span);
    Expr {
        kind: ExprKind::Unary(op, Box::new(operand)),
        span,
    }
}

fn like(lhs: Expr, pattern: LikePattern, negated: bool, end: Span) -> Expr {
    let span = lhs.span.to(end);
    Expr {
        kind: ExprKind::Like {
            expr: Box::new(lhs),
            pattern,
            negated,
        },
        span,
    }
}

/// A string or number literal (a negative number is `-` applied to one), as `filterIndex`
/// requires.
pub(crate) fn is_literal(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::String(_) | ExprKind::Number(_))
        || matches!(&e.kind, ExprKind::Unary(UnaryOp::Neg, inner) if matches!(inner.kind, ExprKind::Number(_)))
}
