//! Correlation ids: extraction from the incoming event by path, and propagation to the
//! next hop (HTTP headers, SQS/SNS message attributes, EventBridge detail) so that the next
//! function's logger resolves the same id.

use serde_json::Value;

use crate::error::Error;

/// Built-in paths for common event sources (same paths as Powertools Python/TypeScript,
/// plus SQS/SNS/S3/HTTP paths that read what [`propagation`] helpers write).
pub mod paths {
    /// API Gateway REST API (v1) proxy events.
    pub const API_GATEWAY_REST: &str = "requestContext.requestId";
    /// API Gateway HTTP API (v2) events.
    pub const API_GATEWAY_HTTP: &str = "requestContext.requestId";
    /// Lambda function URL events.
    pub const LAMBDA_FUNCTION_URL: &str = "requestContext.requestId";
    /// AppSync Lambda authorizer events.
    pub const APPSYNC_AUTHORIZER: &str = "requestContext.requestId";
    /// AppSync resolver events.
    pub const APPSYNC_RESOLVER: &str = r#"request.headers."x-amzn-trace-id""#;
    /// Application Load Balancer events.
    pub const APPLICATION_LOAD_BALANCER: &str = r#"headers."x-amzn-trace-id""#;
    /// VPC Lattice events.
    pub const VPC_LATTICE: &str = r#"headers."x-amzn-trace-id""#;
    /// EventBridge events (the event id).
    pub const EVENT_BRIDGE: &str = "id";
    /// S3 Object Lambda events.
    pub const S3_OBJECT_LAMBDA: &str = "xAmzRequestId";
    /// S3 notifications (the S3 request id of the first record).
    pub const S3: &str = r#"Records[0].responseElements."x-amz-request-id""#;
    /// SQS messages carrying the `x-correlation-id` attribute (first record).
    pub const SQS: &str = r#"Records[0].messageAttributes."x-correlation-id".stringValue"#;
    /// SNS notifications carrying the `x-correlation-id` attribute (first record).
    pub const SNS: &str = r#"Records[0].Sns.MessageAttributes."x-correlation-id".Value"#;
    /// Any HTTP event (API Gateway, ALB, function URL) whose caller sent `x-correlation-id`.
    pub const HTTP_HEADER: &str = r#"headers."x-correlation-id""#;
    /// EventBridge events whose producer put the id into `detail.correlation_id`.
    pub const EVENT_BRIDGE_DETAIL: &str = "detail.correlation_id";
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Name(String),
    Index(usize),
}

/// A parsed path into a JSON event: dotted names, `"quoted-names"` and `[n]` indexes
/// (a JMESPath subset). Name lookups below a `headers` object ignore case, because API
/// Gateway REST keeps header case while ALB and HTTP APIs lower-case them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationPath {
    source: String,
    segs: Vec<Seg>,
}

const MAX_SEGMENTS: usize = 64;

impl CorrelationPath {
    /// Parses a path.
    pub fn parse(path: &str) -> Result<Self, Error> {
        let err = |reason| Error::InvalidPath {
            path: path.to_owned(),
            reason,
        };
        if path.len() > 1024 {
            return Err(err("path longer than 1024 bytes"));
        }
        let b = path.as_bytes();
        let mut segs = Vec::new();
        let mut i = 0;
        let mut expect_name = true;
        while i < b.len() {
            if segs.len() >= MAX_SEGMENTS {
                return Err(err("more than 64 segments"));
            }
            match b[i] {
                b'[' => {
                    let end = path[i..]
                        .find(']')
                        .map(|e| e + i)
                        .ok_or_else(|| err("unclosed '['"))?;
                    let n = path[i + 1..end]
                        .trim()
                        .parse()
                        .map_err(|_| err("index is not a number"))?;
                    segs.push(Seg::Index(n));
                    i = end + 1;
                    expect_name = false;
                }
                b'.' if !expect_name => {
                    i += 1;
                    expect_name = true;
                    if i == b.len() {
                        return Err(err("path ends with '.'"));
                    }
                }
                b'"' if expect_name => {
                    let mut name = String::new();
                    let mut j = i + 1;
                    let mut closed = false;
                    let mut chars = path[j..].char_indices();
                    while let Some((off, c)) = chars.next() {
                        match c {
                            '"' => {
                                j += off + 1;
                                closed = true;
                                break;
                            }
                            '\\' => match chars.next() {
                                Some((_, e)) => name.push(e),
                                None => return Err(err("dangling escape")),
                            },
                            c => name.push(c),
                        }
                    }
                    if !closed {
                        return Err(err("unclosed quote"));
                    }
                    segs.push(Seg::Name(name));
                    i = j;
                    expect_name = false;
                }
                c if expect_name
                    && (c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'-') =>
                {
                    let start = i;
                    while i < b.len()
                        && (b[i].is_ascii_alphanumeric()
                            || b[i] == b'_'
                            || b[i] == b'$'
                            || b[i] == b'-')
                    {
                        i += 1;
                    }
                    segs.push(Seg::Name(path[start..i].to_owned()));
                    expect_name = false;
                }
                _ => return Err(err("unexpected character")),
            }
        }
        if segs.is_empty() {
            return Err(err("empty path"));
        }
        Ok(Self {
            source: path.to_owned(),
            segs,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Replaces the value at the path (if present) with `"***"`; returns whether it did.
    /// Used to mask secrets before an event is logged.
    pub fn redact(&self, event: &mut Value) -> bool {
        let mut cur = event;
        let mut parent_is_headers = false;
        for seg in &self.segs {
            let next = match (seg, cur) {
                (Seg::Index(n), Value::Array(a)) => a.get_mut(*n),
                (Seg::Name(k), Value::Object(m)) => {
                    let key = if m.contains_key(k) {
                        Some(k.clone())
                    } else if parent_is_headers {
                        m.keys().find(|name| name.eq_ignore_ascii_case(k)).cloned()
                    } else {
                        None
                    };
                    match key {
                        Some(key) => m.get_mut(&key),
                        None => None,
                    }
                }
                _ => None,
            };
            let Some(next) = next else {
                return false;
            };
            cur = next;
            parent_is_headers = matches!(seg, Seg::Name(k) if k.eq_ignore_ascii_case("headers") || k.eq_ignore_ascii_case("multiValueHeaders"));
        }
        *cur = Value::String("***".to_owned());
        true
    }

    /// Resolves the path in `event`. Strings come back as they are; other non-null values
    /// as their JSON text.
    pub fn find(&self, event: &Value) -> Option<String> {
        let mut cur = event;
        let mut parent_is_headers = false;
        for seg in &self.segs {
            cur = match (seg, cur) {
                (Seg::Index(n), Value::Array(a)) => a.get(*n)?,
                (Seg::Name(k), Value::Object(m)) => match m.get(k) {
                    Some(v) => v,
                    None if parent_is_headers => m
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v)?,
                    None => return None,
                },
                _ => return None,
            };
            parent_is_headers = matches!(seg, Seg::Name(k) if k.eq_ignore_ascii_case("headers") || k.eq_ignore_ascii_case("multiValueHeaders"));
        }
        match cur {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// Helpers that carry the current correlation id to the next hop.
pub mod propagation {
    use serde_json::{Value, json};

    /// Header (HTTP) and message attribute (SQS/SNS) name used for propagation.
    pub const CORRELATION_HEADER: &str = "x-correlation-id";

    /// `("x-correlation-id", id)` for the current invocation, to add to an outbound HTTP
    /// request; `None` outside an invocation or without a correlation id.
    pub fn http_header() -> Option<(&'static str, String)> {
        crate::invocation::correlation_id().map(|id| (CORRELATION_HEADER, id))
    }

    /// Adds the header to any header collection that can be extended with name/value
    /// pairs. Returns whether a correlation id was present.
    pub fn inject_http_headers<H>(headers: &mut H) -> bool
    where
        H: Extend<(String, String)>,
    {
        match http_header() {
            Some((k, v)) => {
                headers.extend([(k.to_owned(), v)]);
                true
            }
            None => false,
        }
    }

    /// Message attributes for SQS `SendMessage` / SNS `Publish`
    /// (`{"x-correlation-id": {"DataType": "String", "StringValue": id}}`), merged into
    /// `attributes` when it is an object. Returns whether a correlation id was present.
    pub fn inject_message_attributes(attributes: &mut Value) -> bool {
        let Some(id) = crate::invocation::correlation_id() else {
            return false;
        };
        if !attributes.is_object() {
            *attributes = json!({});
        }
        if let Some(m) = attributes.as_object_mut() {
            m.insert(
                CORRELATION_HEADER.to_owned(),
                json!({"DataType": "String", "StringValue": id}),
            );
        }
        true
    }

    /// Puts the id into an EventBridge `detail` object as `correlation_id` (read back by
    /// [`paths::EVENT_BRIDGE_DETAIL`](crate::correlation_paths::EVENT_BRIDGE_DETAIL)).
    pub fn inject_event_detail(detail: &mut Value) -> bool {
        let Some(id) = crate::invocation::correlation_id() else {
            return false;
        };
        if let Some(m) = detail.as_object_mut() {
            m.insert("correlation_id".to_owned(), Value::String(id));
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, v: &Value) -> Option<String> {
        CorrelationPath::parse(path).unwrap().find(v)
    }

    #[test]
    fn built_in_paths_resolve() {
        let rest = json!({"requestContext": {"requestId": "rest-1"}});
        assert_eq!(
            find(paths::API_GATEWAY_REST, &rest).as_deref(),
            Some("rest-1")
        );
        let alb =
            json!({"headers": {"X-Amzn-Trace-Id": "Root=1-58337262-36d228ad5d99923122bbe354"}});
        assert_eq!(
            find(paths::APPLICATION_LOAD_BALANCER, &alb).as_deref(),
            Some("Root=1-58337262-36d228ad5d99923122bbe354")
        );
        let sqs = json!({"Records": [{"messageAttributes": {"x-correlation-id": {"stringValue": "c-1", "dataType": "String"}}}]});
        assert_eq!(find(paths::SQS, &sqs).as_deref(), Some("c-1"));
        let sns = json!({"Records": [{"Sns": {"MessageAttributes": {"x-correlation-id": {"Type": "String", "Value": "c-2"}}}}]});
        assert_eq!(find(paths::SNS, &sns).as_deref(), Some("c-2"));
        let s3 =
            json!({"Records": [{"responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"}}]});
        assert_eq!(find(paths::S3, &s3).as_deref(), Some("C3D13FE58DE4C810"));
        assert_eq!(find("id", &json!({"id": 42})).as_deref(), Some("42"));
        assert_eq!(find("a.b", &json!({"a": {"b": null}})), None);
        assert_eq!(find(paths::API_GATEWAY_REST, &json!({"x": 1})), None);
        assert_eq!(
            find("a[1]", &json!({"a": [1, {"k": "v"}]})).as_deref(),
            Some("{\"k\":\"v\"}")
        );
    }

    #[test]
    fn redaction_masks_values_and_ignores_missing_paths() {
        let mut ev = json!({"headers": {"Authorization": "Bearer x"}, "body": {"card": [1, 2]}});
        assert!(
            CorrelationPath::parse("headers.authorization")
                .unwrap()
                .redact(&mut ev)
        );
        assert!(
            CorrelationPath::parse("body.card[1]")
                .unwrap()
                .redact(&mut ev)
        );
        assert!(
            !CorrelationPath::parse("body.missing.x")
                .unwrap()
                .redact(&mut ev)
        );
        assert_eq!(
            ev,
            json!({"headers": {"Authorization": "***"}, "body": {"card": [1, "***"]}})
        );
    }

    #[test]
    fn case_only_ignored_below_headers() {
        assert_eq!(find("Id", &json!({"id": "x"})), None);
        assert_eq!(
            find(
                "headers.x-correlation-id",
                &json!({"headers": {"X-Correlation-Id": "h"}})
            )
            .as_deref(),
            Some("h")
        );
    }

    #[test]
    fn bad_paths_are_errors_not_panics() {
        for p in [
            "", "a.", ".a", "a..b", "a[", "a[x]", "\"a", "a b", "a.\"b\\", "[0",
        ] {
            let e = CorrelationPath::parse(p).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{p}");
        }
        assert!(CorrelationPath::parse(&"a.".repeat(100)).is_err());
    }
}
