//! `*` wildcards in string literals (spec §5.2): anchored at both ends, every `*` matches any
//! run of characters.

use memchr::memmem::Finder;

#[derive(Debug, Clone)]
pub(crate) enum Glob {
    /// No `*`: whole-value equality.
    Exact(String),
    /// At least one `*`.
    Wild {
        prefix: String,
        suffix: String,
        middles: Vec<Finder<'static>>,
        /// Sum of all literal parts: a shorter value cannot match.
        min_len: usize,
    },
}

impl Glob {
    pub(crate) fn new(text: &str) -> Glob {
        let mut parts: Vec<&str> = text.split('*').collect();
        if parts.len() == 1 {
            return Glob::Exact(text.to_owned());
        }
        let suffix = parts.pop().unwrap_or("").to_owned();
        let prefix = if parts.is_empty() {
            String::new()
        } else {
            parts.remove(0).to_owned()
        };
        let middles: Vec<Finder<'static>> = parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| Finder::new(p.as_bytes()).into_owned())
            .collect();
        let min_len =
            prefix.len() + suffix.len() + middles.iter().map(|f| f.needle().len()).sum::<usize>();
        Glob::Wild {
            prefix,
            suffix,
            middles,
            min_len,
        }
    }

    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            Glob::Exact(text) => value == text,
            Glob::Wild {
                prefix,
                suffix,
                middles,
                min_len,
            } => {
                let v = value.as_bytes();
                if v.len() < *min_len
                    || !v.starts_with(prefix.as_bytes())
                    || !v.ends_with(suffix.as_bytes())
                {
                    return false;
                }
                let mut rest = &v[prefix.len()..v.len() - suffix.len()];
                for finder in middles {
                    match finder.find(rest) {
                        Some(at) => rest = &rest[at + finder.needle().len()..],
                        None => return false,
                    }
                }
                true
            }
        }
    }

    /// The longest literal part, which any matching value contains.
    pub(crate) fn longest_literal(&self) -> &[u8] {
        match self {
            Glob::Exact(text) => text.as_bytes(),
            Glob::Wild {
                prefix,
                suffix,
                middles,
                ..
            } => {
                let mut best = prefix.as_bytes();
                for part in middles
                    .iter()
                    .map(|f| f.needle())
                    .chain([suffix.as_bytes()])
                {
                    if part.len() > best.len() {
                        best = part;
                    }
                }
                best
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn anchored_wildcards() {
        let cases = [
            ("*/health", "/api/health", true),
            ("*/health", "/api/health/deep", false),
            ("*", "", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*.html*", "GET /index.html HTTP/1.0", true),
            ("4*", "404", true),
            ("4*", "200", false),
            ("Ev*ent", "Event", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("x", "x", true),
            ("x", "xx", false),
        ];
        for (glob, value, want) in cases {
            assert_eq!(Glob::new(glob).is_match(value), want, "{glob} vs {value}");
        }
    }
}
