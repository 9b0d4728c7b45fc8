//! Term patterns (spec §4.2–4.3): case-sensitive substrings of the raw message, no
//! tokenisation.

use memchr::memmem::Finder;
use regex::Regex;

use crate::ast::{Prefix, Term, TermAtom};
use crate::error::ParseError;

// Few needles per pattern, read for every message: keep finders inline, not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Needle {
    Text(Finder<'static>),
    Regex(Regex),
}

impl Needle {
    fn found(&self, msg: &str) -> bool {
        match self {
            Needle::Text(f) => f.find(msg.as_bytes()).is_some(),
            Needle::Regex(r) => r.is_match(msg),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TermsMatcher {
    include: Vec<Needle>,
    exclude: Vec<Needle>,
    optional: Vec<Needle>,
}

impl TermsMatcher {
    pub(crate) fn new(terms: &[Term]) -> Result<TermsMatcher, ParseError> {
        let mut m = TermsMatcher {
            include: Vec::new(),
            exclude: Vec::new(),
            optional: Vec::new(),
        };
        for term in terms {
            let needle = match &term.atom {
                TermAtom::Word(t) | TermAtom::Phrase(t) => {
                    Needle::Text(Finder::new(t.as_bytes()).into_owned())
                }
                TermAtom::Regex(r) => Needle::Regex(crate::regex::compile(&r.body, 0)?),
            };
            match term.prefix {
                Prefix::Include => m.include.push(needle),
                Prefix::Exclude => m.exclude.push(needle),
                Prefix::Optional => m.optional.push(needle),
            }
        }
        // Long needles are rarer, so checking them first rejects most messages in one pass.
        let len = |n: &Needle| match n {
            Needle::Text(f) => f.needle().len(),
            Needle::Regex(_) => 0,
        };
        m.include.sort_by_key(|n| std::cmp::Reverse(len(n)));
        Ok(m)
    }

    pub(crate) fn matches(&self, msg: &str) -> bool {
        if self.include.is_empty() && self.exclude.is_empty() {
            // Only `?` terms: OR. (No terms at all cannot reach here: that is match-all.)
            return self.optional.iter().any(|n| n.found(msg));
        }
        self.include.iter().all(|n| n.found(msg)) && !self.exclude.iter().any(|n| n.found(msg))
    }
}
