//! Recursive-descent parser: the pipeline and shared helpers here, one module per command
//! kind beside it, expressions in `expr`.

mod dedup;
mod expr;
mod fields;
mod filter;
mod limit;
mod ml;
mod parse_cmd;
mod sort;
mod source;
mod stats;
mod unnest;

use crate::ast::{Command, CommandKind, Field, Ident, NamedExpr, Query};
use crate::error::{Error, Span};
use crate::lexer::{self, Mode, Punct, Tok, Token};
use crate::{MAX_DEPTH, MAX_QUERY_CHARS};

/// Command words AWS knows (error texts, newer guides) that v1 does not implement; they are
/// reported as unsupported rather than unknown so that adding them later changes no message.
const RESERVED_COMMANDS: &[&str] = &[
    "search",
    "order",
    "where",
    "lookup",
    "join",
    "expand",
    "relevantfields",
    "addtotals",
    "logcompare",
];

/// Parses a whole query, then checks the pipeline rules.
pub(crate) fn parse_query(src: &str) -> Result<Query, Error> {
    if src.len() > MAX_QUERY_CHARS {
        let chars = src.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(Error::TooLong {
                chars,
                max: MAX_QUERY_CHARS,
                span: Span::new(0, src.len()),
            });
        }
    }
    let mut p = Parser::new(src);
    let source = if p.peek(Mode::Operand)?.is_word("source") {
        let source = source::source(&mut p)?;
        let t = p.bump(Mode::Operator)?;
        if !t.is(Punct::Pipe) {
            return Err(p.unexpected(&t, "'|' after SOURCE"));
        }
        Some(source)
    } else {
        None
    };
    let mut commands = Vec::new();
    loop {
        commands.push(p.command()?);
        let t = p.bump(Mode::Operator)?;
        match t.tok {
            Tok::Eof => break,
            Tok::Punct(Punct::Pipe) => {}
            _ => return Err(p.unexpected(&t, "'|' or the end of the query")),
        }
    }
    let query = Query { source, commands };
    crate::validate::check(&query)?;
    Ok(query)
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    /// End of the last consumed token.
    pos: usize,
    depth: usize,
    /// The next token, lexed in the given mode at `pos`.
    peeked: Option<(Mode, Token)>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
            peeked: None,
        }
    }

    /// The next token without consuming it. Tokens other than `/...` read the same in both
    /// modes, so a cached one is reused across modes.
    pub(crate) fn peek(&mut self, mode: Mode) -> Result<&Token, Error> {
        let reusable = match &self.peeked {
            Some((m, t)) => {
                *m == mode || !matches!(t.tok, Tok::Regex(_) | Tok::Punct(Punct::Slash))
            }
            None => false,
        };
        if !reusable {
            let t = lexer::lex(self.src, self.pos, mode)?;
            self.peeked = Some((mode, t));
        }
        match &self.peeked {
            Some((_, t)) => Ok(t),
            None => Err(cache_empty(self.src)),
        }
    }

    /// Consumes and returns the next token.
    pub(crate) fn bump(&mut self, mode: Mode) -> Result<Token, Error> {
        self.peek(mode)?;
        match self.peeked.take() {
            Some((_, t)) => {
                self.pos = t.span.end;
                Ok(t)
            }
            None => Err(cache_empty(self.src)),
        }
    }

    /// Consumes the punctuation `p` if it is next.
    pub(crate) fn eat(&mut self, p: Punct, mode: Mode) -> Result<Option<Span>, Error> {
        if self.peek(mode)?.is(p) {
            return Ok(Some(self.bump(mode)?.span));
        }
        Ok(None)
    }

    /// Consumes the punctuation `p` or fails with `expected`.
    pub(crate) fn expect(
        &mut self,
        p: Punct,
        mode: Mode,
        expected: &'static str,
    ) -> Result<Span, Error> {
        let t = self.bump(mode)?;
        if t.is(p) {
            Ok(t.span)
        } else {
            Err(self.unexpected(&t, expected))
        }
    }

    /// Consumes the keyword `word` (case-insensitive) if it is next.
    pub(crate) fn eat_word(&mut self, word: &str, mode: Mode) -> Result<Option<Span>, Error> {
        if self.peek(mode)?.is_word(word) {
            return Ok(Some(self.bump(mode)?.span));
        }
        Ok(None)
    }

    /// The end of the last consumed token.
    pub(crate) fn end(&self) -> usize {
        self.pos
    }

    pub(crate) fn text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// A syntax error at `t`.
    pub(crate) fn unexpected(&self, t: &Token, expected: &'static str) -> Error {
        let found = match &t.tok {
            Tok::Eof => "end of query".to_owned(),
            Tok::Name { plain: true, path } if lexer::is_keyword(&path[0]) => {
                format!("keyword '{}'", path[0])
            }
            _ => {
                let text = self.text(t.span);
                match text.char_indices().nth(40) {
                    Some((cut, _)) => format!("'{}...'", &text[..cut]),
                    None => format!("'{text}'"),
                }
            }
        };
        Error::Syntax {
            expected,
            found,
            span: t.span,
        }
    }

    /// Enters one nesting level; fails past [`MAX_DEPTH`].
    pub(crate) fn enter(&mut self, at: Span) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_DEPTH,
                span: at,
            });
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    fn command(&mut self) -> Result<Command, Error> {
        let t = self.bump(Mode::Operand)?;
        let Some(word) = t.word() else {
            return Err(self.unexpected(&t, "a command"));
        };
        let lower = word.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "fields" => fields::fields(self)?,
            "display" => fields::display(self)?,
            "filter" => filter::filter(self)?,
            "filterindex" => filter::filter_index(self)?,
            "stats" => stats::stats(self)?,
            "sort" => sort::sort(self)?,
            "limit" | "head" | "tail" => limit::limit(self)?,
            "parse" => parse_cmd::parse(self)?,
            "dedup" => dedup::dedup(self)?,
            "unnest" => unnest::unnest(self)?,
            "pattern" => ml::pattern(self)?,
            "diff" => ml::diff(self)?,
            "anomaly" => CommandKind::Anomaly,
            "source" => {
                return Err(Error::Pipeline {
                    message: "the SOURCE command must come first".to_owned(),
                    span: t.span,
                });
            }
            _ => {
                return Err(Error::UnknownCommand {
                    name: word.to_owned(),
                    reserved: RESERVED_COMMANDS.contains(&lower.as_str()),
                    span: t.span,
                });
            }
        };
        Ok(Command {
            kind,
            span: Span::new(t.span.start, self.pos),
        })
    }

    /// `named_expr { "," named_expr }`
    pub(crate) fn named_list(&mut self) -> Result<Vec<NamedExpr>, Error> {
        let mut items = vec![self.named_expr()?];
        while self.eat(Punct::Comma, Mode::Operator)?.is_some() {
            items.push(self.named_expr()?);
        }
        Ok(items)
    }

    /// `expr [ "as" ident ]`, named per spec §8.1.
    pub(crate) fn named_expr(&mut self) -> Result<NamedExpr, Error> {
        let expr = self.expr()?;
        let alias = match self.eat_word("as", Mode::Operator)? {
            Some(_) => Some(self.ident("a name after 'as'")?),
            None => None,
        };
        let name = match (&alias, &expr.kind) {
            (Some(a), _) => a.name.clone(),
            (None, crate::ast::ExprKind::Field(f)) => f.name().into_owned(),
            (None, _) => self.text(expr.span).to_owned(),
        };
        let span = match &alias {
            Some(a) => expr.span.to(a.span),
            None => expr.span,
        };
        Ok(NamedExpr {
            expr,
            alias,
            name,
            span,
        })
    }

    /// A name the query defines (alias, `into` target): any field-shaped name but a keyword.
    pub(crate) fn ident(&mut self, expected: &'static str) -> Result<Ident, Error> {
        let field = self.field(expected)?;
        Ok(Ident {
            name: field.name().into_owned(),
            span: field.span,
        })
    }

    /// A field reference where only a field may stand (`dedup`, `parse`, `unnest`).
    pub(crate) fn field(&mut self, expected: &'static str) -> Result<Field, Error> {
        let t = self.bump(Mode::Operand)?;
        match t.tok {
            Tok::Name { path, plain } if !(plain && lexer::is_keyword(&path[0])) => {
                Ok(Field { path, span: t.span })
            }
            _ => Err(self.unexpected(&t, expected)),
        }
    }

    /// Whether the next token is a field name (not a keyword).
    pub(crate) fn at_field(&mut self) -> Result<bool, Error> {
        Ok(match &self.peek(Mode::Operand)?.tok {
            Tok::Name { path, plain } => !(*plain && lexer::is_keyword(&path[0])),
            _ => false,
        })
    }
}

/// The cache is filled right before it is read; reaching this would be a parser bug, which
/// is reported as an error rather than a panic because the input is untrusted.
fn cache_empty(src: &str) -> Error {
    Error::Lexical {
        reason: "internal parser error: token cache empty".to_owned(),
        span: Span::new(0, src.len()),
    }
}
