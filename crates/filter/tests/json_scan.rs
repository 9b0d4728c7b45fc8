//! The JSON scanner's fast paths: clean messages (no backslash, no control character), the
//! substring prefilter when the message has escapes, duplicate keys, nesting, and a
//! differential property test against serde_json on generated documents with every kind of
//! escape.

use lookout_filter::Pattern;
use proptest::prelude::*;
use serde_json::Value as J;

fn matches(pattern: &str, msg: &str) -> bool {
    Pattern::parse(pattern).unwrap().matches(msg)
}

#[test]
fn escaped_values_and_keys_match_their_decoded_text() {
    let eq = r#"{ $.level = "INFO" }"#;
    assert!(matches(eq, r#"{"level":"INFO"}"#));
    // `\u` escapes hide both the key and the value from a raw substring search.
    assert!(matches(eq, r#"{"lev\u0065l":"INFO"}"#));
    assert!(matches(eq, r#"{"level":"\u0049NFO"}"#));
    assert!(matches(eq, r#"{"level":"IN\u0046O","m":"a\nb"}"#));
    assert!(matches(eq, r#"{"m":"tab\there","level":"INFO"}"#));
    assert!(!matches(eq, r#"{"level":"INFO\n"}"#));
    assert!(!matches(eq, r#"{"level":"\u0049NF0"}"#));
    // Short escapes elsewhere keep the prefilter exact: no "INFO" means no match.
    assert!(!matches(eq, r#"{"level":"WARN","m":"quote \" INF O"}"#));
    // A literal with a slash, written escaped in the message.
    assert!(matches(
        r#"{ $.path = "/v1/orders" }"#,
        r#"{"path":"\/v1\/orders","x":"\n"}"#
    ));
    assert!(matches(r#"{ $.q = "a\"b" }"#, r#"{"q":"a\"b"}"#));
    assert!(matches(
        r#"{ $.u = "é🚀" }"#,
        r#"{"u":"\u00e9\ud83d\ude80"}"#
    ));
    assert!(matches(r#"{ $.u = "é🚀" }"#, r#"{"u":"é🚀"}"#));
}

#[test]
fn an_escaped_backslash_before_u_is_not_a_unicode_escape() {
    let p = r#"{ $.level = "INFO" }"#;
    assert!(matches(p, r#"{"path":"C:\\users","level":"INFO"}"#));
    assert!(!matches(p, r#"{"path":"C:\\users","level":"INF"}"#));
}

#[test]
fn invalid_documents_never_match() {
    let p = r#"{ $.level = "INFO" }"#;
    for msg in [
        "{\"level\":\"INFO\"",
        "{\"level\":\"INFO\"}}",
        "{\"level\":\"INFO\",}",
        "{\"level\":\"IN\u{1}FO\"}",
        "{\"level\":\"INFO\",\"m\":\"raw\nnewline\"}",
        "{\"level\":\"INFO\",\"m\":\"bad \\x escape\"}",
        "{\"level\":\"INFO\",\"m\":\"short \\u12\"}",
        "{\"level\":\"INFO\",\"n\":01}",
        "{\"level\":\"INFO\",\"n\":1.}",
        "{\"level\":\"INFO\",\"t\":tru}",
        "{\"level\":\"INFO\",\"a\":[1,2}",
        "{\"level\":\"INFO\" \"b\":1}",
        "{\"level\":\"INFO\",\"unterminated",
    ] {
        assert!(!matches(p, msg), "{msg:?}");
    }
}

#[test]
fn whitespace_and_pretty_printing_are_accepted() {
    let p = r#"{ $.a.b[1] = "x" }"#;
    let pretty = "{\n  \"a\": {\n    \"b\": [\"w\",\t\"x\"]\r\n  }\n}\n";
    assert!(matches(p, pretty));
    assert!(matches(p, r#"  {"a":{"b":["w","x"]}}  "#));
}

#[test]
fn duplicate_keys_take_the_last_value_at_every_level() {
    let p = r#"{ $.level = "INFO" }"#;
    assert!(matches(p, r#"{"level":"WARN","level":"INFO"}"#));
    assert!(!matches(p, r#"{"level":"INFO","level":"WARN"}"#));
    assert!(!matches(p, r#"{"lev\u0065l":"INFO","level":"WARN"}"#));
    let nested = r#"{ $.a.b = 1 }"#;
    assert!(!matches(nested, r#"{"a":{"b":1},"a":{"c":1}}"#));
    assert!(matches(nested, r#"{"a":{"c":1},"a":{"b":1}}"#));
    assert!(matches(nested, r#"{"a":{"b":2,"b":1}}"#));
}

#[test]
fn nested_objects_arrays_and_wildcards() {
    let msg = r#"{"req":{"items":[{"sku":"A","n":1},{"sku":"B","n":5}],"tags":{"x":"1","y":"2"}},"skip":{"deep":[[[{"sku":"B"}]]]}}"#;
    assert!(matches(r#"{ $.req.items[1].sku = "B" }"#, msg));
    assert!(!matches(r#"{ $.req.items[0].sku = "B" }"#, msg));
    assert!(matches(r#"{ $.req.items[*].n > 4 }"#, msg));
    assert!(!matches(r#"{ $.req.items[*].n > 5 }"#, msg));
    assert!(matches(r#"{ $.req.tags.* = "2" }"#, msg));
    assert!(matches(r#"{ $.req.nope NOT EXISTS }"#, msg));
    assert!(matches(
        r#"{ $.req.items[*].sku = "A" && $.req.tags.x = 1 }"#,
        msg
    ));
    // A top-level array.
    assert!(matches(r#"{ $[1].k = "v" }"#, r#"[{"k":"w"},{"k":"v"}]"#));
}

#[test]
fn numbers_compare_numerically_with_escapes_elsewhere() {
    let p = "{ $.duration_ms > 1000 }";
    assert!(matches(p, r#"{"duration_ms":1000.5,"m":"a\nb"}"#));
    assert!(matches(p, r#"{"durati\u006fn_ms":2e3}"#));
    assert!(!matches(p, r#"{"duration_ms":"2000"}"#));
    assert!(!matches(
        p,
        r#"{"duration_ms":999,"m":"\"duration_ms\": 5000"}"#
    ));
}

/// One JSON string as the message writes it: each character raw, as a short escape, or as
/// a `\u` escape (surrogate pairs beyond the BMP).
fn encode(s: &str, how: &[u8]) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let choice = how.get(i).copied().unwrap_or(0) % 3;
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            _ => None,
        };
        let must_escape = matches!(c, '"' | '\\') || (c as u32) < 0x20;
        match (choice, short) {
            (0, _) if !must_escape => out.push(c),
            (1, Some(esc)) => out.push_str(esc),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "INFO", "IN", "FO", "\"", "\\", "/", "\n", "\t", "é", "🚀", "x",
        ]),
        0..4,
    )
    .prop_map(|parts| parts.concat())
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["level", "a", "b", "lev"]).prop_map(str::to_owned)
}

/// A member's value: a string, or an object of string members.
type Member = (String, Result<String, Vec<(String, String)>>);

/// A document as (key, value) members, possibly with duplicate keys and one nested object.
fn doc() -> impl Strategy<Value = Vec<Member>> {
    let leaf = (key(), text()).prop_map(|(k, v)| (k, v));
    let value = prop_oneof![
        text().prop_map(Ok),
        prop::collection::vec(leaf, 0..3).prop_map(Err),
    ];
    prop::collection::vec((key(), value), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The matcher agrees with serde_json (whose maps also keep the last duplicate) on every
    /// generated document and encoding.
    #[test]
    fn equality_agrees_with_serde_json(
        members in doc(),
        how in prop::collection::vec(any::<u8>(), 64),
        want in prop::sample::select(vec!["INFO", "\"", "/", "é🚀", "IN\nFO", ""]),
        nested in any::<bool>(),
    ) {
        let mut msg = String::from("{");
        let mut k = 0;
        let mut enc = |s: &str| {
            k += 1;
            encode(s, &how[(k * 7) % 48..])
        };
        for (i, (key, value)) in members.iter().enumerate() {
            if i > 0 {
                msg.push(',');
            }
            msg.push_str(&enc(key));
            msg.push(':');
            match value {
                Ok(s) => msg.push_str(&enc(s)),
                Err(inner) => {
                    msg.push('{');
                    for (j, (ik, iv)) in inner.iter().enumerate() {
                        if j > 0 {
                            msg.push(',');
                        }
                        msg.push_str(&enc(ik));
                        msg.push(':');
                        msg.push_str(&enc(iv));
                    }
                    msg.push('}');
                }
            }
        }
        msg.push('}');
        let parsed: J = serde_json::from_str(&msg).unwrap();
        let (path, found) = if nested {
            ("$.a.level", parsed.get("a").and_then(|a| a.get("level")))
        } else {
            ("$.level", parsed.get("level"))
        };
        let expected = found.and_then(J::as_str) == Some(want);
        let literal = serde_json::to_string(want).unwrap();
        let pattern = format!("{{ {path} = {literal} }}");
        let Ok(p) = Pattern::parse(&pattern) else {
            // Not every literal is a valid filter-pattern string; nothing to compare then.
            return Ok(());
        };
        prop_assert_eq!(p.matches(&msg), expected, "{} on {}", pattern, msg);
    }
}
