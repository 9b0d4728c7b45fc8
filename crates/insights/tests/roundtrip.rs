//! Print → parse round trips over generated trees: every tree the generator builds (one
//! that the parser could have produced) prints to a query that parses back to it.

use lookout_insights::{
    BinaryOp, Call, Command, CommandKind, DiffPeriod, Expr, ExprKind, Field, Ident, LikePattern,
    NamedExpr, Parse, ParsePattern, Period, Query, Regex, SortKey, SortOrder, Source, SourceArg,
    SourceKey, SourceSelection, Span, Stats, TimeBound, TimeUnit, UnaryOp, parse,
};
use proptest::prelude::*;
use proptest::sample::select;

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Span::default(),
    }
}

/// Names that print bare, with backticks, with `@`, or collide with keywords.
fn field() -> impl Strategy<Value = Field> {
    let first = select(vec![
        "a",
        "level",
        "@message",
        "@timestamp",
        "x-correlation-id",
        "@aws:tag",
        "desc",
        "IN",
        "_b",
        "A1",
        "1a",
        "@1a",
        "a.b",
        "é",
        "#x",
        "|",
        "@",
    ]);
    let later = select(vec!["0", "b", "user.id", "c-d", "12", "desc", "x y"]);
    (first, prop::collection::vec(later, 0..3)).prop_map(|(first, rest)| {
        let mut path = vec![first.to_owned()];
        path.extend(rest.into_iter().map(str::to_owned));
        Field {
            path,
            span: Span::default(),
        }
    })
}

fn alias() -> impl Strategy<Value = Ident> {
    select(vec![
        "n", "@t", "my col", "a.b", "desc", "x-y.z", "a..b", "@a.b", "a.desc", "As",
    ])
    .prop_map(ident)
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..100_000).prop_map(f64::from),
        (0u32..100_000).prop_map(|n| f64::from(n) / 1000.0),
        Just(1e21),
        Just(123_456_789_012_345_680.0),
    ]
}

fn period() -> impl Strategy<Value = Period> {
    let unit = select(vec![
        TimeUnit::Millisecond,
        TimeUnit::Second,
        TimeUnit::Minute,
        TimeUnit::Hour,
        TimeUnit::Day,
        TimeUnit::Week,
        TimeUnit::Month,
        TimeUnit::Quarter,
        TimeUnit::Year,
    ]);
    (select(vec![0.0, 1.0, 5.0, 1.5, 100.0]), unit)
        .prop_map(|(amount, unit)| Period { amount, unit })
}

fn regex() -> impl Strategy<Value = Regex> {
    select(vec![
        "ERROR",
        "(?i)time/out",
        r"\d+",
        r"(?<x>\w+)/(?P<y>.)",
        "[/]",
        r"a\\/",
        r"^(START|END)\s",
        "",
    ])
    .prop_map(|p| Regex {
        pattern: p.to_owned(),
        span: Span::default(),
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        field().prop_map(|f| expr(ExprKind::Field(f))),
        number().prop_map(|n| expr(ExprKind::Number(n))),
        any::<String>().prop_map(|s| expr(ExprKind::String(s))),
        regex().prop_map(|r| expr(ExprKind::Regex(r))),
        period().prop_map(|p| expr(ExprKind::Period(p))),
    ]
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    select(vec![
        BinaryOp::Or,
        BinaryOp::And,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Mod,
        BinaryOp::Pow,
    ])
}

fn any_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        let call_name = select(vec!["count", "bin", "f", "isPresent", "COUNT", "jsonParse"]);
        prop_oneof![
            2 => (select(vec![UnaryOp::Neg, UnaryOp::Not]), inner.clone())
                .prop_map(|(op, e)| expr(ExprKind::Unary(op, Box::new(e)))),
            6 => (binary_op(), inner.clone(), inner.clone())
                .prop_map(|(op, l, r)| expr(ExprKind::Binary(op, Box::new(l), Box::new(r)))),
            1 => (inner.clone(), any::<String>(), any::<bool>()).prop_map(|(e, s, negated)| expr(
                ExprKind::Like {
                    expr: Box::new(e),
                    pattern: LikePattern::Substring(s),
                    negated,
                }
            )),
            1 => (inner.clone(), regex(), any::<bool>()).prop_map(|(e, r, negated)| expr(
                ExprKind::Like {
                    expr: Box::new(e),
                    pattern: LikePattern::Regex(r),
                    negated,
                }
            )),
            1 => (
                inner.clone(),
                prop::collection::vec(inner.clone(), 0..3),
                any::<bool>()
            )
                .prop_map(|(e, list, negated)| expr(ExprKind::In {
                    expr: Box::new(e),
                    list,
                    negated,
                })),
            2 => (
                call_name.clone(),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(name, args)| expr(ExprKind::Call(Call {
                    name: ident(name),
                    args,
                }))),
            1 => call_name.prop_map(|name| expr(ExprKind::Call(Call {
                name: ident(name),
                args: vec![expr(ExprKind::Star)],
            }))),
            1 => prop::collection::vec(inner, 0..3).prop_map(|items| expr(ExprKind::List(items))),
        ]
    })
}

fn named() -> impl Strategy<Value = NamedExpr> {
    (any_expr(), prop::option::of(alias())).prop_map(|(e, a)| NamedExpr::new(e, a))
}

fn named_list() -> impl Strategy<Value = Vec<NamedExpr>> {
    prop::collection::vec(named(), 1..4)
}

fn literal() -> impl Strategy<Value = Expr> {
    prop_oneof![
        any::<String>().prop_map(|s| expr(ExprKind::String(s))),
        number().prop_map(|n| expr(ExprKind::Number(n))),
        number().prop_map(|n| expr(ExprKind::Unary(
            UnaryOp::Neg,
            Box::new(expr(ExprKind::Number(n)))
        ))),
    ]
}

fn filter_index() -> impl Strategy<Value = CommandKind> {
    prop_oneof![
        (field(), literal()).prop_map(|(f, v)| CommandKind::FilterIndex(expr(ExprKind::Binary(
            BinaryOp::Eq,
            Box::new(expr(ExprKind::Field(f))),
            Box::new(v)
        )))),
        (field(), prop::collection::vec(literal(), 0..3)).prop_map(|(f, list)| {
            CommandKind::FilterIndex(expr(ExprKind::In {
                expr: Box::new(expr(ExprKind::Field(f))),
                list,
                negated: false,
            }))
        }),
    ]
}

fn parse_cmd() -> impl Strategy<Value = CommandKind> {
    let glob = (
        prop::collection::vec("[^*]{0,6}", 1..4),
        prop::collection::vec(alias(), 3),
    )
        .prop_map(|(parts, aliases)| {
            let stars = parts.len() - 1;
            ParsePattern::Glob {
                pattern: parts.join("*"),
                span: Span::default(),
                aliases: aliases.into_iter().take(stars.max(1)).collect(),
            }
        })
        .prop_filter("one alias per star", |p| match p {
            ParsePattern::Glob {
                pattern, aliases, ..
            } => pattern.matches('*').count() == aliases.len(),
            ParsePattern::Regex(_) => true,
        });
    let regex = select(vec![r"(?<a>\d+)", r"x=(?P<b>[^/]+)/(?<c>.*)"]).prop_map(|p| {
        ParsePattern::Regex(Regex {
            pattern: p.to_owned(),
            span: Span::default(),
        })
    });
    (prop::option::of(field()), prop_oneof![glob, regex])
        .prop_map(|(field, pattern)| CommandKind::Parse(Parse { field, pattern }))
}

fn command() -> impl Strategy<Value = CommandKind> {
    prop_oneof![
        named_list().prop_map(CommandKind::Fields),
        named_list().prop_map(CommandKind::Display),
        any_expr().prop_map(CommandKind::Filter),
        filter_index(),
        (named_list(), prop::collection::vec(named(), 0..3))
            .prop_map(|(aggregates, by)| CommandKind::Stats(Stats { aggregates, by })),
        prop::collection::vec(
            (any_expr(), select(vec![SortOrder::Asc, SortOrder::Desc]))
                .prop_map(|(expr, order)| SortKey { expr, order }),
            1..3
        )
        .prop_map(CommandKind::Sort),
        (1u64..=100_000).prop_map(CommandKind::Limit),
        parse_cmd(),
        (field(), alias()).prop_map(|(field, into)| CommandKind::Unnest { field, into }),
        any_expr().prop_map(CommandKind::Pattern),
        prop::option::of(select(vec![
            DiffPeriod::PreviousDay,
            DiffPeriod::PreviousWeek,
            DiffPeriod::PreviousMonth
        ]))
        .prop_map(CommandKind::Diff),
        Just(CommandKind::Anomaly),
    ]
}

fn source() -> impl Strategy<Value = Source> {
    let key = select(vec![
        SourceKey::NamePrefix,
        SourceKey::AccountIdentifiers,
        SourceKey::Class,
    ]);
    let arg =
        (key, prop::collection::vec(any::<String>(), 1..3)).prop_map(|(key, values)| SourceArg {
            key,
            values,
            span: Span::default(),
        });
    let bound = prop_oneof![
        (0i64..i64::MAX).prop_map(TimeBound::Absolute),
        (any::<bool>(), period())
            .prop_map(|(negative, period)| TimeBound::Relative { negative, period }),
    ];
    let selection = prop_oneof![
        prop::collection::vec(arg, 0..3).prop_map(SourceSelection::LogGroups),
        (
            prop::collection::vec(any::<String>(), 1..3),
            prop::option::of((bound.clone(), bound))
        )
            .prop_map(|(groups, range)| SourceSelection::Named { groups, range }),
    ];
    selection.prop_map(|selection| Source {
        selection,
        span: Span::default(),
    })
}

/// A query that obeys the pipeline rules: one `stats` at most, `dedup` only at the end
/// followed by limits.
fn query() -> impl Strategy<Value = Query> {
    (
        prop::option::of(source()),
        prop::collection::vec(command(), 1..5),
        prop::option::of(prop::collection::vec(field(), 1..3)),
        prop::collection::vec(1u64..10, 0..2),
    )
        .prop_map(|(source, kinds, dedup, limits)| {
            let mut seen_stats = false;
            let mut commands: Vec<Command> = Vec::new();
            for kind in kinds {
                if matches!(kind, CommandKind::Stats(_)) {
                    if seen_stats {
                        continue;
                    }
                    seen_stats = true;
                }
                commands.push(Command {
                    kind,
                    span: Span::default(),
                });
            }
            if let Some(fields) = dedup {
                let tail = std::iter::once(CommandKind::Dedup(fields))
                    .chain(limits.into_iter().map(CommandKind::Limit));
                commands.extend(tail.map(|kind| Command {
                    kind,
                    span: Span::default(),
                }));
            }
            Query { source, commands }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_trees_print_and_parse_back(q in query()) {
        let printed = q.to_string();
        let again = parse(&printed).map_err(|e| {
            TestCaseError::fail(format!("{printed:?} does not parse: {e}"))
        })?;
        prop_assert_eq!(again.without_spans(), q, "printed as {:?}", printed);
        prop_assert_eq!(again.to_string(), printed);
    }
}
