//! Limits and hostile inputs: nothing may panic, hang or overflow the stack, and limits
//! report the right error.

use lookout_insights::{ErrorKind, MAX_DEPTH, MAX_QUERY_CHARS, parse};

fn round_trip(query: &str) {
    let q = parse(query).unwrap_or_else(|e| panic!("{query:.80}...: {e}"));
    let printed = q.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("printed form fails: {e}"));
    assert_eq!(again.without_spans(), q.without_spans());
    let _ = format!("{q:#}");
}

#[test]
fn length_limit_counts_characters() {
    let at_limit = format!("fields a{}", " ".repeat(MAX_QUERY_CHARS - 8));
    assert!(parse(&at_limit).is_ok());
    let over = format!("{at_limit} ");
    let err = parse(&over).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLong);
    assert_eq!(err.kind().aws_code(), "InvalidParameterException");
    // 9,000 two-byte characters are 18,000 bytes but within the limit.
    let wide = format!("filter a = \"{}\"", "é".repeat(9_000));
    assert!(wide.len() > MAX_QUERY_CHARS);
    round_trip(&wide);
}

#[test]
fn nesting_limit_applies_to_every_kind_of_nesting() {
    let nest = |open: &str, close: &str, n: usize| {
        format!("filter {}a{}", open.repeat(n), close.repeat(n))
    };
    let chain = |op: &str, n: usize| format!("filter a{}", format!(" {op} a").repeat(n));
    let cases = [
        (nest("(", ")", MAX_DEPTH), nest("(", ")", MAX_DEPTH + 1)),
        (nest("f(", ")", MAX_DEPTH), nest("f(", ")", MAX_DEPTH + 1)),
        (nest("[", "]", MAX_DEPTH), nest("[", "]", MAX_DEPTH + 1)),
        (nest("-", "", MAX_DEPTH), nest("-", "", MAX_DEPTH + 1)),
        (nest("not ", "", MAX_DEPTH), nest("not ", "", MAX_DEPTH + 1)),
        (chain("+", MAX_DEPTH), chain("+", MAX_DEPTH + 1)),
        (chain("or", MAX_DEPTH), chain("or", MAX_DEPTH + 1)),
        (chain("^", MAX_DEPTH), chain("^", MAX_DEPTH + 1)),
    ];
    for (ok, too_deep) in cases {
        round_trip(&ok);
        let err = parse(&too_deep).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooDeep, "{too_deep:.40}: {err}");
    }
}

/// The deepest trees the limits allow, parsed, printed, compared and dropped on a thread
/// with half the default test stack (2 MiB).
#[test]
fn deepest_accepted_trees_fit_a_small_stack() {
    let half = MAX_DEPTH / 2;
    let queries = vec![
        // Chains and brackets share the budget; this mixes both up to the limit.
        format!(
            "fields {}a{}{} as x",
            "f((".repeat(half / 2),
            " * a".repeat(half - 1),
            "))".repeat(half / 2)
        ),
        format!(
            "filter {}a{}",
            "not -(".repeat(MAX_DEPTH / 3),
            ")".repeat(MAX_DEPTH / 3)
        ),
        format!(
            "stats count(*) by {}1{}",
            "[(".repeat(half),
            ")]".repeat(half)
        ),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            for q in &queries {
                round_trip(q);
            }
        })
        .unwrap();
    worker.join().unwrap();
}

#[test]
fn hostile_inputs_are_errors_not_panics() {
    let inputs = [
        "\u{0}",
        "fields \u{feff}a",
        "fields a[",
        "fields a[1",
        "fields a[x]",
        "fields a.`",
        "fields @`",
        "filter /",
        "filter a like /\\",
        "filter a = \"\\",
        "parse @message /(?<a>/",
        "parse @message /(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x/",
        "limit 18446744073709551616",
        "SOURCE \"g\" START=99999999999999999999 END=0s | fields a",
        "SOURCE",
        "fields a |||",
        "stats count(*) | stats count(*) by bin(5m)",
        "fields 1e5",
        "fields 0x10",
        "fields .5",
    ];
    for input in inputs {
        let err = parse(input).expect_err(input);
        let ce = err.compile_error(input);
        assert!(
            ce.start_char_offset <= ce.end_char_offset,
            "{input:?}: {err}"
        );
        assert!(
            ce.end_char_offset <= input.chars().count(),
            "{input:?}: {err}"
        );
        assert!(!ce.message.is_empty());
    }
}
