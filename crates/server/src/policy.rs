//! IAM-style policies: which actions on which resources a user may perform.
//!
//! The subset of IAM that matters for a log server: statements with `Effect` `Allow` or
//! `Deny`, `Action` and `Resource` as a string or a list, `*` and `?` wildcards. An explicit
//! `Deny` wins over any `Allow`; anything not allowed is denied.

use serde::Deserialize;

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StatementList {
    One(RawStatement),
    Many(Vec<RawStatement>),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawStatement {
    effect: String,
    action: Option<OneOrMany>,
    resource: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicy {
    statement: StatementList,
}

/// `*` matches any run of characters (also `:` and `/`, as in IAM), `?` one character.
/// Action names compare case-insensitively, as IAM does; resources exactly.
pub(crate) fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Iterative matcher with single-star backtracking: linear in practice, no recursion.
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Policy {
    /// Parses a policy document (JSON).
    pub fn parse(json: &str) -> Result<Self, String> {
        let raw: RawPolicy =
            serde_json::from_str(json).map_err(|e| format!("invalid policy document: {e}"))?;
        let list = match raw.statement {
            StatementList::One(s) => vec![s],
            StatementList::Many(v) => v,
        };
        let mut statements = Vec::with_capacity(list.len());
        for s in list {
            let allow = match s.effect.as_str() {
                "Allow" => true,
                "Deny" => false,
                other => {
                    return Err(format!(
                        "invalid policy Effect {other:?}: expected Allow or Deny"
                    ));
                }
            };
            let actions = s.action.map(OneOrMany::into_vec).unwrap_or_default();
            let resources = s.resource.map(OneOrMany::into_vec).unwrap_or_default();
            if actions.is_empty() || resources.is_empty() {
                return Err("every policy statement needs an Action and a Resource".into());
            }
            statements.push(Statement {
                allow,
                actions,
                resources,
            });
        }
        Ok(Self { statements })
    }

    /// Whether `action` (`logs:PutLogEvents`) on `resource` (an ARN) is allowed.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let mut allowed = false;
        for s in &self.statements {
            let applies = s.actions.iter().any(|a| wildcard_match(a, action, true))
                && s.resources
                    .iter()
                    .any(|r| wildcard_match(r, resource, false));
            if applies {
                if !s.allow {
                    return false;
                }
                allowed = true;
            }
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("logs:*", "logs:PutLogEvents", true));
        assert!(wildcard_match("logs:put*", "logs:PutLogEvents", true));
        assert!(!wildcard_match("logs:Get*", "logs:PutLogEvents", true));
        assert!(wildcard_match(
            "arn:aws:logs:*:*:log-group:/aws/lambda/*",
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:log-stream:s",
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:logs:*:*:log-group:/aws/lambda/*",
            "arn:aws:logs:us-east-1:1:log-group:/app/x",
            false
        ));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(!wildcard_match("a?c", "ac", false));
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match(&"*a".repeat(50), &"a".repeat(60), false));
        assert!(!wildcard_match(&"*a".repeat(50), &"b".repeat(60), false));
    }

    #[test]
    fn deny_wins_and_default_denies() {
        let p = Policy::parse(r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["logs:DeleteLogGroup"], "Resource": "arn:aws:logs:*:*:log-group:/prod/*"}]}"#).unwrap();
        assert!(p.allows("logs:DeleteLogGroup", "arn:aws:logs:r:a:log-group:/dev/x"));
        assert!(!p.allows("logs:DeleteLogGroup", "arn:aws:logs:r:a:log-group:/prod/x"));
        let p = Policy::parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}}"#,
        )
        .unwrap();
        assert!(!p.allows("logs:CreateLogGroup", "x"));
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [
            "",
            "{}",
            r#"{"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Resource": "*"}]}"#,
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }
}
