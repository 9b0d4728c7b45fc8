//! API behaviour the case files cannot express: AWS error messages, spans, metric outputs,
//! pushdown hints, hostile messages. Fuzz findings are added at the bottom, named after the
//! input that found them.

use lookout_filter::{ErrorKind, Operation, ParseError, Pattern, Step, Value};

fn err(pattern: &str) -> ParseError {
    match Pattern::parse(pattern) {
        Ok(p) => panic!("{pattern:?} was accepted as {:?}", p.ast()),
        Err(e) => e,
    }
}

#[test]
fn aws_messages_per_operation() {
    let e = err("{ $.a = 1");
    assert_eq!(e.kind(), ErrorKind::UnclosedJson);
    assert_eq!(
        e.aws_message(),
        "If a filter pattern starts with '{' it must end with '}'"
    );

    let e = err("{ status = \"401\" }");
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.aws_message(), "Invalid filter pattern");
    assert_eq!(
        e.aws_message_for(Operation::MetricFilter),
        "Invalid metric filter pattern"
    );

    let e = err("ERR*");
    assert_eq!(e.kind(), ErrorKind::InvalidCharacter);
    assert_eq!(e.aws_message(), "Invalid filter pattern");
    assert_eq!(
        e.aws_message_for(Operation::MetricFilter),
        "Invalid character(s) in term '*'"
    );
    assert_eq!(e.span().start, 3);

    assert_eq!(err("%(a)%").aws_message(), "Invalid character(s) in term");
    assert_eq!(
        err("%[abc%").aws_message(),
        "Failed to compile regular expression."
    );
    assert_eq!(
        err("{ $.a[*].b[*] = 1 }").aws_message(),
        "Your filter pattern has a JSON path selector that exceeds the maximum of 1 wildcard \
         allowed per json selector."
    );
    assert_eq!(
        err("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }").aws_message(),
        "Your input has exceeded the maximum of 3 JSON wildcard selectors allowed per filter \
         pattern."
    );
    assert_eq!(
        err("%a% %b% %c%").aws_message(),
        "Your input has exceeded the maximum of 2 regular expressions per filter pattern."
    );
    assert_eq!(err("[word, word]").aws_message(), "Duplicate field 'word'");
    assert_eq!(
        err("[..., status, ...]").aws_message(),
        "Duplicate field '...'"
    );
    let long = "x".repeat(1025);
    assert_eq!(
        err(&long).aws_message(),
        format!(
            "1 validation error detected: Value '{long}' at 'filterPattern' failed to satisfy \
             constraint: Member must have length less than or equal to 1024"
        )
    );
    assert_eq!(
        err("{ $.v > \"Alpha\" }").aws_message_for(Operation::MetricFilter),
        "Invalid character(s) in term '\"Alpha\"'"
    );
}

#[test]
fn display_messages_are_lowercase_without_period() {
    for pattern in [
        "{ $.a = 1",
        "{ a = 1 }",
        "ERR*",
        "%(%",
        "%[a%",
        "[a, a]",
        "\"x",
    ] {
        let text = err(pattern).to_string();
        assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
        assert!(!text.ends_with('.'), "{text}");
    }
}

#[test]
fn spans_point_at_the_offence() {
    let pattern = "{ $.a = 1 && $.b == 2 }";
    let e = err(pattern);
    assert_eq!(e.span().start, pattern.find("==").unwrap() + 1);
    let e = err("ERROR email@host");
    assert_eq!(e.span().start, 11);
}

#[test]
fn metric_outputs_json() {
    let p = Pattern::parse("{ $.latency = * }")
        .unwrap()
        .with_outputs(&["$.latency", "$.service", "$.missing", "1", "$.tags[1]"])
        .unwrap();
    let ex = p
        .extract(r#"{"latency": 50, "service": "a\"b", "tags": ["x", "y"]}"#)
        .unwrap();
    assert_eq!(ex.output_number(0), Some(50.0));
    assert_eq!(ex.output(1), Some("a\"b"));
    assert_eq!(ex.output_number(1), None);
    assert_eq!(ex.output(2), None);
    assert_eq!(ex.output_number(3), Some(1.0));
    assert_eq!(ex.output(4), Some("y"));
    assert!(
        ex.values().is_empty(),
        "JSON patterns report no extracted values"
    );
    assert!(p.extract(r#"{"service": "a"}"#).is_none());
}

#[test]
fn metric_outputs_space_delimited() {
    let p = Pattern::parse("[ip, user, ..., status, bytes]")
        .unwrap()
        .with_outputs(&["$bytes", "$3", "$status", "$9"])
        .unwrap();
    let ex = p
        .extract("1.2.3.4 - frank [10/Oct/2000] \"GET / HTTP/1.0\" 404 512")
        .unwrap();
    assert_eq!(ex.output_number(0), Some(512.0));
    assert_eq!(ex.output(1), Some("frank"));
    assert_eq!(ex.output(2), Some("404"));
    assert_eq!(ex.output(3), None);
}

#[test]
fn metric_outputs_must_fit_the_pattern() {
    let e = Pattern::parse("ERROR")
        .unwrap()
        .with_outputs(&["$.latency"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DimensionsUnsupported);
    assert_eq!(
        e.aws_message(),
        "The specified filter pattern does not support dimensions"
    );
    assert!(
        Pattern::parse("ERROR")
            .unwrap()
            .with_outputs(&["1"])
            .is_ok()
    );
    assert!(
        Pattern::parse("{ $.a = 1 }")
            .unwrap()
            .with_outputs(&["$name"])
            .is_err()
    );
    assert!(
        Pattern::parse("[a]")
            .unwrap()
            .with_outputs(&["$.a"])
            .is_err()
    );
    assert!(
        Pattern::parse("[a]")
            .unwrap()
            .with_outputs(&["length"])
            .is_err()
    );
    assert!(
        Pattern::parse("[a]")
            .unwrap()
            .with_outputs(&["$0"])
            .is_err()
    );
}

#[test]
fn term_extract_is_empty() {
    let p = Pattern::parse("ERROR").unwrap();
    assert_eq!(
        p.extract("ERROR x").unwrap().values(),
        &[] as &[(String, String)]
    );
    assert!(p.extract("INFO").is_none());
}

#[test]
fn pushdown_required_substrings() {
    let p = Pattern::parse("ERROR \"disk full\" -DEBUG ?ignored").unwrap();
    assert_eq!(
        p.required_substrings(),
        vec![vec!["ERROR".to_owned()], vec!["disk full".to_owned()]]
    );
    let p = Pattern::parse("?ERROR ?WARN").unwrap();
    assert_eq!(
        p.required_substrings(),
        vec![vec!["ERROR".to_owned(), "WARN".to_owned()]]
    );
    let p = Pattern::parse("?ERROR ?%WARN%").unwrap();
    assert!(
        p.required_substrings().is_empty(),
        "a regex alternative guarantees no substring"
    );
    let p = Pattern::parse("[w1 = ERROR, w2 = *disk*]").unwrap();
    assert_eq!(
        p.required_substrings(),
        vec![vec!["ERROR".to_owned()], vec!["disk".to_owned()]]
    );
    assert!(
        Pattern::parse("{ $.a = \"x\" }")
            .unwrap()
            .required_substrings()
            .is_empty()
    );
}

#[test]
fn pushdown_json_equalities() {
    let p = Pattern::parse(
        "{ $.level = \"ERROR\" && $.a.b[0] = 400 && ($.x = 1 || $.y = 2) && $.w = \"x*\" }",
    )
    .unwrap();
    let eq = p.json_equalities();
    assert_eq!(eq.len(), 2);
    assert_eq!(eq[0].flat_name(), "level");
    assert_eq!(eq[0].value, Value::Str("ERROR".to_owned()));
    assert_eq!(
        eq[1].path,
        vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]
    );
    assert_eq!(eq[1].flat_name(), "a.b.0");
    assert!(matches!(eq[1].value, Value::Num(_, n) if n == 400.0));
}

#[test]
fn hostile_messages_do_not_overflow_or_hang() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let p = Pattern::parse("{ $.a.a.a.a = 1 }").unwrap();
    assert!(!p.matches(&deep));
    assert!(!p.matches(&deep_obj));
    let p = Pattern::parse("{ $[0][0][0] NOT EXISTS }").unwrap();
    assert!(!p.matches(&deep), "[[[...]]] has $[0][0][0]");
    let unbalanced = "[".repeat(100_000);
    assert!(!p.matches(&unbalanced));
    let many = format!("{{{}\"z\":1}}", "\"k\":1,".repeat(50_000));
    assert!(
        Pattern::parse("{ $.* = 2 }")
            .unwrap()
            .matches(&many.replace("\"z\":1", "\"z\":2"))
    );
    let spaces = "a ".repeat(100_000);
    assert!(
        Pattern::parse("[..., x = b]")
            .unwrap()
            .matches(&format!("{spaces}b"))
    );
}

#[test]
fn deep_pattern_nesting_is_refused_not_overflowed() {
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(300), ")".repeat(300));
    assert_eq!(err(&deep).kind(), ErrorKind::Syntax);
    let ok = format!("{{ {}$.a = 1{} }}", "(".repeat(60), ")".repeat(60));
    assert!(Pattern::parse(&ok).unwrap().matches(r#"{"a":1}"#));
}

#[test]
fn pattern_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pattern>();
}
