use super::*;

#[test]
fn flattens_nested_objects_and_arrays() {
    let mut out = Flat::default();
    out.parse(r#" {"level":"ERROR","a":{"b":1.5,"c":[true,null]},"s":"x","n":-3,"e":1e2}"#);
    let got: Vec<(&str, &str)> = out.iter().map(|(p, v, _)| (p, v)).collect();
    assert_eq!(
        got,
        [
            ("level", "ERROR"),
            ("a.b", "1.5"),
            ("a.c.0", "true"),
            ("a.c.1", "null"),
            ("s", "x"),
            ("n", "-3"),
            ("e", "100.0"),
        ]
    );
    let kinds: Vec<Kind> = out.iter().map(|(_, _, k)| k).collect();
    assert_eq!(kinds[1], Kind::Number);
    assert_eq!(kinds[0], Kind::String);
    out.parse("plain text");
    assert!(out.is_empty());
    out.parse(r#"{"ok":1,"broken"#);
    assert!(
        out.is_empty(),
        "a message that fails to parse yields nothing"
    );
    out.parse(r#"{"a":"\u00e9\"","a":"last"}"#);
    assert_eq!(out.get("a"), Some("last"));
    assert_eq!(out.iter().next().map(|x| x.1), Some("é\""));
    assert_eq!(field_of(r#"{"x":{"y":"z"}}"#, "x.y").as_deref(), Some("z"));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let mut out = Flat::default();
    out.parse(&format!(r#"{{"d":{deep}}}"#));
    // Flattened down to MAX_DEPTH; below that the subtree is one compact JSON value.
    let (p, v, _) = out.iter().next().unwrap();
    assert_eq!(p.matches('.').count(), MAX_DEPTH - 1);
    assert!(v.starts_with("[[") && v.contains('1'));
    let wide: Vec<String> = (0..300).map(|i| format!("\"k{i}\":{i}")).collect();
    out.parse(&format!("{{{}}}", wide.join(",")));
    assert_eq!(out.iter().count(), MAX_FIELDS);
}

/// What the serde flattener alone makes of `message`.
fn by_serde(message: &str) -> Vec<(String, String, Kind)> {
    let mut flat = Flat::default();
    let trimmed = message.trim_start();
    if trimmed.starts_with('{') {
        flat.parse_serde(trimmed);
    }
    owned(&flat)
}

fn owned(flat: &Flat) -> Vec<(String, String, Kind)> {
    flat.iter()
        .map(|(p, v, k)| (p.to_owned(), v.to_owned(), k))
        .collect()
}

/// Checks `parse` against serde on `message`; true when the fast path took it.
fn agrees(flat: &mut Flat, message: &str) -> bool {
    flat.parse(message);
    assert_eq!(owned(flat), by_serde(message), "flattening {message:?}");
    let Some((keys, spans)) = flat.token_sources() else {
        return false;
    };
    let mut sources: Vec<&str> = keys
        .iter()
        .map(|&id| flat.paths().plain_key(id).unwrap())
        .chain(spans.iter().map(|&(a, b)| &message[a as usize..b as usize]))
        .chain(flat.fields().filter(|f| f.raw).map(|f| f.value))
        .collect();
    // Raw values are the message's own bytes.
    for f in flat.fields().filter(|f| f.raw) {
        assert!(message.contains(f.value), "{message:?}");
    }
    sources.sort_unstable();
    let mut from_spans: Vec<&str> = sources.into_iter().flat_map(crate::bloom::tokens).collect();
    let mut whole: Vec<&str> = crate::bloom::tokens(message).collect();
    from_spans.sort_unstable();
    from_spans.dedup();
    whole.sort_unstable();
    whole.dedup();
    assert_eq!(from_spans, whole, "token ranges of {message:?}");
    true
}

/// A small deterministic generator for the mutation tests.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn generator_messages(events: u64) -> Vec<String> {
    let cfg = lookout_testkit::GenConfig {
        events,
        seed: 42,
        ..Default::default()
    };
    lookout_testkit::Generator::new(cfg)
        .map(|e| e.message)
        .collect()
}

#[test]
fn fast_flattener_agrees_with_serde_on_generator_records() {
    let mut flat = Flat::default();
    let (mut json, mut fast) = (0, 0);
    for m in generator_messages(20_000) {
        json += usize::from(m.trim_start().starts_with('{'));
        fast += usize::from(agrees(&mut flat, &m));
    }
    // The fast path must carry the workload, not just agree by always giving up.
    assert!(
        json > 5_000 && fast * 100 >= json * 97,
        "fast {fast} of {json}"
    );
}

#[test]
fn fast_flattener_agrees_with_serde_on_adversarial_json() {
    let cases = [
        r#"{"a":"x\"y","b":"\\","c":"\/\b\f\n\r\t","d":"\u00e9\u0041\u20ac"}"#,
        r#"{"s":"\ud83d\ude00","lone":"\ud800"}"#,
        r#"{"k\"ey":1}"#,
        r#"{"a":"\q"}"#,
        r#"{"a":"\u12"}"#,
        r#"{"a":"tab	inside"}"#,
        "{\"a\":\"nul\u{0}\"}",
        "{\"a\":\"del\u{7f}\"}",
        r#"{"a":[1,[2,[3,{"b":[]}]],{}],"c":{"d":{"e":null}},"t":true,"f":false}"#,
        r#"{"a":1,"a":2,"a":{"b":3},"a.b":4}"#,
        r#"{"":1,"x":{"":2},"y":[[]]}"#,
        r#"  {"a" : 1 , "b"	:	[ 1 , 2 ] }  "#,
        "\u{a0}{\"a\":\"non-ascii whitespace before\"}",
        "\u{2003}\u{a0}{\"b\":1}",
        "\n\t {\"a\":1}\n",
        r#"{"a":1}x"#,
        r#"{"a":1,}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":[1 2]}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":tru}"#,
        r#"{"a":truex}"#,
        r#"{"a":nul}"#,
        r#"{"a":"unterminated}"#,
        r#"{"a":1"#,
        r#"{"a":{"b":1}"#,
        r#"{"a":1}}"#,
        r#"{}"#,
        r#"{"a":{}}"#,
        "{",
        "{\"",
        r#"{"deep":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}"#,
        r#"{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"x":1}}}}}}}}}}}}}}}}}"#,
        r#"{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"x":1}}}}}}}}}}}}}}}"#,
        r#"{"é":"ü","日本":"語","mixed":"a-b_c.d/e:f"}"#,
        r#"{"msg":"RequestId: 1a2b3c4d-5e6f END","id":"0123456789abcdef0123"}"#,
        "plain text line",
        "",
        "   ",
        "[1,2,3]",
    ];
    let mut flat = Flat::default();
    for c in cases {
        agrees(&mut flat, c);
    }
    // One number per message, so one that the fast path refuses hides no other.
    let numbers = [
        "0",
        "-0",
        "00",
        "01",
        "-01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e2",
        "1E2",
        "1e400",
        "-1e-7",
        "2.5e+3",
        "1.0",
        "0.10",
        "0.0",
        "-0.0",
        "123456789012345678",
        "1234567890123456789",
        "123456789012345678901234567890",
        "-9223372036854775808",
        "-92233720368547758090",
        "18446744073709551615",
        "18446744073709551616",
        "0.1",
        "0.00001",
        "0.000001",
        "0.0000012",
        "123456789.123456",
        "1234567890.5",
        "0.30000000000000004",
        "12.34",
        "-0.5",
        "3.14159",
        "999999999.999999",
        "0.0001234",
        "999999999999999.9",
        "100000000000000000000.5",
        "9007199254740993",
        "0.1e1",
        "5e-324",
        "1.7976931348623157e308",
    ];
    let mut fast = 0;
    for n in numbers {
        fast += usize::from(agrees(&mut flat, &format!(r#"{{"n":{n}}}"#)));
        agrees(&mut flat, &format!(r#"{{"n":[{n}],"m":{{"x":{n} }}}}"#));
    }
    assert!(fast >= 10, "fast path took {fast} numbers");
    // Exactly at and past the field limit, flat and nested.
    for n in [MAX_FIELDS - 1, MAX_FIELDS, MAX_FIELDS + 1] {
        let wide: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        agrees(&mut flat, &format!("{{{}}}", wide.join(",")));
        agrees(
            &mut flat,
            &format!("{{\"o\":{{{}}},\"z\":{{\"y\":{{}}}}}}", wide.join(",")),
        );
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        agrees(
            &mut flat,
            &format!("{{\"a\":[{}],\"b\":[[]]}}", items.join(",")),
        );
    }
}

#[test]
fn fast_flattener_agrees_with_serde_on_numbers() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut flat = Flat::default();
    let digits = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let mut fast = 0;
    for _ in 0..20_000 {
        let sign = if rng.below(4) == 0 { "-" } else { "" };
        let int = match rng.below(5) {
            0 => "0".to_owned(),
            _ => {
                let len = 1 + rng.below(20);
                digits(&mut rng, len)
            }
        };
        let frac = match rng.below(3) {
            0 => String::new(),
            _ => {
                let zeros = "0".repeat(rng.below(8));
                let len = 1 + rng.below(18);
                format!(".{zeros}{}", digits(&mut rng, len))
            }
        };
        let exp = match rng.below(8) {
            0 => format!("e{}", rng.below(30)),
            _ => String::new(),
        };
        let n = format!("{sign}{int}{frac}{exp}");
        fast += usize::from(agrees(&mut flat, &format!(r#"{{"n":{n},"s":"{n}"}}"#)));
    }
    assert!(fast > 5_000, "fast path took {fast} numbers");
}

#[test]
fn fast_flattener_agrees_with_serde_on_mutated_records() {
    const PALETTE: &[&str] = &[
        "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "9", ".", "e", "-", "+", " ", "\u{1}", "é",
        "t", "n", "u", "\n", "\\u00", "\\\"", "1.5", "[]", "{}", "\"\":",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut flat = Flat::default();
    let json: Vec<String> = generator_messages(3_000)
        .into_iter()
        .filter(|m| m.starts_with('{'))
        .collect();
    for round in 0..20_000 {
        let mut m = json[round % json.len()].clone();
        for _ in 0..1 + rng.below(3) {
            let mut at = rng.below(m.len() + 1);
            while !m.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => m.insert_str(at, PALETTE[rng.below(PALETTE.len())]),
                1 => {
                    let mut end = (at + 1 + rng.below(4)).min(m.len());
                    while !m.is_char_boundary(end) {
                        end -= 1;
                    }
                    m.replace_range(at..end, "");
                }
                _ => m.truncate(at),
            }
        }
        agrees(&mut flat, &m);
    }
}
