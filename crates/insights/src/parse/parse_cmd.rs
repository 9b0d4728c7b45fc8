//! `parse [field] "glob" as a, b` and `parse [field] /regex/` (spec §6.10).

use super::Parser;
use crate::ast::{CommandKind, Parse, ParsePattern, Regex};
use crate::error::Error;
use crate::lexer::{Mode, Punct, Tok};

pub(super) fn parse(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let field = if p.at_field()? {
        Some(p.field("a field name")?)
    } else {
        None
    };
    let t = p.bump(Mode::Operand)?;
    let pattern = match t.tok {
        Tok::Str(glob) => {
            if p.eat_word("as", Mode::Operator)?.is_none() {
                let next = p.bump(Mode::Operator)?;
                return Err(p.unexpected(&next, "'as' after the parse pattern"));
            }
            let mut aliases = vec![p.ident("a name")?];
            while p.eat(Punct::Comma, Mode::Operator)?.is_some() {
                aliases.push(p.ident("a name")?);
            }
            let stars = glob.matches('*').count();
            if stars != aliases.len() {
                return Err(Error::GlobAliases {
                    stars,
                    aliases: aliases.len(),
                    span: t.span,
                });
            }
            ParsePattern::Glob {
                pattern: glob,
                span: t.span,
                aliases,
            }
        }
        Tok::Regex(pattern) => {
            if crate::regex::check(&pattern, t.span)?.is_empty() {
                return Err(Error::NoNamedGroups { span: t.span });
            }
            ParsePattern::Regex(Regex {
                pattern,
                span: t.span,
            })
        }
        _ => {
            let expected = if field.is_some() {
                "a quoted pattern or a regex"
            } else {
                "a field, a quoted pattern or a regex"
            };
            return Err(p.unexpected(&t, expected));
        }
    };
    Ok(CommandKind::Parse(Parse { field, pattern }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("parse.cases", include_str!("parse.cases"));
    }
}
