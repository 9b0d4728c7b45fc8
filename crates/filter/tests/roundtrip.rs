//! Print → parse → print is stable on generated syntax trees (STYLE habit 4).

use lookout_filter::{
    Ast, CmpOp, Condition, Entry, FieldExpr, JsonExpr, JsonTest, Prefix, RegexLit, Selector, Span,
    Step, Term, TermAtom, Value,
};
use proptest::prelude::*;

/// Bodies from the documented regex subset.
const REGEXES: &[&str] = &[
    "a+b",
    "^x|y$",
    "[0-9]{2,}",
    "\\d\\s\\w",
    "[^a-c]?",
    "\\x28ab\\x29",
    "a{,3}",
    "colou?r",
    "1\\.2\\.3",
];

fn regex() -> impl Strategy<Value = RegexLit> {
    prop::sample::select(REGEXES).prop_map(|b| RegexLit { body: b.to_owned() })
}

/// Any text, biased towards the characters the printer must quote or escape.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            1 => prop::sample::select(vec![
                '"', '\\', ' ', '*', '%', '(', ')', '&', '|', '{', '}', '[', ']', ',', '=', '!',
                '<', '>', '$', '.', '-', '?', '\t', '\n', '\'', 'é', '1', '+',
            ]),
        ],
        0..8,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn number() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "0", "12", "-3.5", "+1e+3", ".5", "5.", "1E-2", "400", "-0",
    ])
    .prop_map(|t| Value::Num(t.to_owned(), t.parse().unwrap()))
}

fn value(op: CmpOp) -> BoxedStrategy<Value> {
    if op.is_ordering() {
        number().boxed()
    } else {
        prop_oneof![
            3 => text().prop_filter("bare null is rejected", |t| t != "null").prop_map(Value::Str),
            1 => number(),
            1 => regex().prop_map(Value::Regex),
        ]
        .boxed()
    }
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ])
}

fn terms() -> impl Strategy<Value = Ast> {
    let prefix = prop::sample::select(vec![Prefix::Include, Prefix::Exclude, Prefix::Optional]);
    let atom = prop_oneof![
        3 => "[A-Za-z0-9_]{1,8}".prop_map(TermAtom::Word),
        3 => text().prop_map(TermAtom::Phrase),
        1 => regex().prop_map(TermAtom::Regex),
    ];
    prop::collection::vec((prefix, atom), 1..6).prop_map(|items| {
        Ast::Terms(
            items
                .into_iter()
                .map(|(prefix, atom)| Term {
                    prefix,
                    atom,
                    span: Span::default(),
                })
                .collect(),
        )
    })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => "[A-Za-z0-9_-]{1,6}".prop_map(Step::Key),
        1 => text()
            .prop_filter("key must be printable", |k| {
                !(k.is_empty() || k.contains('\'') && k.contains('"'))
            })
            .prop_map(Step::Key),
        2 => (0u32..1000).prop_map(Step::Index),
        1 => Just(Step::Wildcard),
    ]
}

fn condition() -> impl Strategy<Value = JsonExpr> {
    let selector = prop::collection::vec(step(), 1..5).prop_map(|steps| Selector {
        steps,
        span: Span::default(),
    });
    let test = prop_oneof![
        4 => op().prop_flat_map(|op| value(op).prop_map(move |v| JsonTest::Compare(op, v))),
        1 => prop::sample::select(vec![
            JsonTest::IsNull,
            JsonTest::IsTrue,
            JsonTest::IsFalse,
            JsonTest::NotExists,
        ]),
    ];
    (selector, test).prop_map(|(selector, test)| {
        JsonExpr::Cond(Condition {
            selector,
            test,
            span: Span::default(),
        })
    })
}

fn json() -> impl Strategy<Value = Ast> {
    condition()
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(JsonExpr::And),
                prop::collection::vec(inner, 2..4).prop_map(JsonExpr::Or),
            ]
        })
        .prop_map(Ast::Json)
}

fn field_expr() -> impl Strategy<Value = FieldExpr> {
    let leaf = prop_oneof![
        1 => Just(FieldExpr::Exists),
        4 => op().prop_flat_map(|op| value(op).prop_map(move |v| FieldExpr::Compare(op, v))),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(FieldExpr::And),
            prop::collection::vec(inner, 2..4).prop_map(FieldExpr::Or),
        ]
    })
}

fn space() -> impl Strategy<Value = Ast> {
    let entry = prop_oneof![
        1 => Just(None),
        4 => field_expr().prop_map(Some),
    ];
    (
        prop::collection::vec(entry, 0..6),
        prop::option::of(0usize..6),
    )
        .prop_map(|(entries, ellipsis)| {
            let mut out: Vec<Entry> = entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| match e {
                    None => Entry::Blank,
                    Some(expr) => Entry::Field {
                        name: format!("f{i}"),
                        expr,
                        span: Span::default(),
                    },
                })
                .collect();
            if let Some(at) = ellipsis {
                out.insert(at.min(out.len()), Entry::Ellipsis);
            }
            // One blank field alone has no text of its own: `[]` is the no-field form.
            if out == [Entry::Blank] {
                out.clear();
            }
            Ast::Space(out)
        })
}

fn ast() -> impl Strategy<Value = Ast> {
    prop_oneof![terms(), json(), space()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn print_parse_print_is_stable(ast in ast()) {
        let printed = ast.to_string();
        match lookout_filter::parse(&printed) {
            Ok(parsed) => {
                prop_assert_eq!(parsed.without_spans(), ast.clone(), "printed as {:?}", printed);
                prop_assert_eq!(parsed.to_string(), printed);
            }
            // Generated trees may break quotas the grammar cannot express (three regexes,
            // four wildcard selectors, over-long text); nothing else may fail.
            Err(e) => prop_assert!(
                matches!(
                    e.kind(),
                    lookout_filter::ErrorKind::TooManyRegexes
                        | lookout_filter::ErrorKind::TooManyWildcardSelectors
                        | lookout_filter::ErrorKind::TooManySelectorWildcards
                        | lookout_filter::ErrorKind::TooLong
                ),
                "{:?} printed as {:?} does not parse: {}", ast, printed, e
            ),
        }
    }
}

#[test]
fn single_blank_entry_prints_as_no_entries() {
    // `[]` is the no-field form; one blank field alone has no text of its own.
    assert_eq!(Ast::Space(vec![Entry::Blank]).to_string(), "[]");
}
