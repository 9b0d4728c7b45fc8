//! The syntax tree of a query. Every node carries the byte [`Span`] of its source text;
//! `PartialEq` compares spans too, [`Query::without_spans`] zeroes them for comparing trees
//! that came from different texts.
//!
//! The tree is close to what a planner wants: `=~` is folded into [`ExprKind::Like`], `head`
//! and `tail` into [`CommandKind::Limit`], `a[1]` into the field path `a.1`, redundant
//! parentheses disappear, and every `fields`/`display`/`stats` item knows its output column
//! name ([`NamedExpr::name`]).

use std::borrow::Cow;

use crate::error::Span;

/// A parsed query: an optional `SOURCE` and one or more commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `SOURCE ...`, only ever first.
    pub source: Option<Source>,
    /// The commands in pipeline order.
    pub commands: Vec<Command>,
}

/// One command of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// What the command does.
    pub kind: CommandKind,
    /// From the command word to the end of its last token.
    pub span: Span,
}

/// The commands of the classic language (spec §6).
#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `fields e [as a], ...`
    Fields(Vec<NamedExpr>),
    /// `display e [as a], ...`
    Display(Vec<NamedExpr>),
    /// `filter predicate`
    Filter(Expr),
    /// `filterIndex field = literal` or `filterIndex field in [literals]` (checked here).
    FilterIndex(Expr),
    /// `stats aggregates [by groups]`
    Stats(Stats),
    /// `sort key [asc|desc], ...`
    Sort(Vec<SortKey>),
    /// `limit N` (also `head N`, `tail N`).
    Limit(u64),
    /// `parse [field] "glob" as a, ...` or `parse [field] /regex/`
    Parse(Parse),
    /// `dedup f, ...`
    Dedup(Vec<Field>),
    /// `unnest field into name`
    Unnest {
        /// The list-valued field.
        field: Field,
        /// The name each element gets.
        into: Ident,
    },
    /// `pattern expr`
    Pattern(Expr),
    /// `diff [previousDay|previousWeek|previousMonth]`
    Diff(Option<DiffPeriod>),
    /// `anomaly`
    Anomaly,
}

impl CommandKind {
    /// The command word as the printer writes it.
    pub fn keyword(&self) -> &'static str {
        match self {
            CommandKind::Fields(_) => "fields",
            CommandKind::Display(_) => "display",
            CommandKind::Filter(_) => "filter",
            CommandKind::FilterIndex(_) => "filterIndex",
            CommandKind::Stats(_) => "stats",
            CommandKind::Sort(_) => "sort",
            CommandKind::Limit(_) => "limit",
            CommandKind::Parse(_) => "parse",
            CommandKind::Dedup(_) => "dedup",
            CommandKind::Unnest { .. } => "unnest",
            CommandKind::Pattern(_) => "pattern",
            CommandKind::Diff(_) => "diff",
            CommandKind::Anomaly => "anomaly",
        }
    }
}

/// `stats` items: aggregate expressions and group keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Expressions with at least one aggregation each (checked by the binder, not here).
    pub aggregates: Vec<NamedExpr>,
    /// The `by` items; empty without `by`.
    pub by: Vec<NamedExpr>,
}

/// A `sort` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub expr: Expr,
    /// Direction; ascending when not written (spec §6.8).
    pub order: SortOrder,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// `asc`, the default.
    #[default]
    Asc,
    /// `desc`
    Desc,
}

/// The `parse` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Parse {
    /// The field parsed; `None` means `@message`.
    pub field: Option<Field>,
    /// Glob or regex.
    pub pattern: ParsePattern,
}

impl Parse {
    /// The field parsed, `@message` when none is written.
    pub fn source_field(&self) -> Cow<'_, str> {
        match &self.field {
            Some(f) => f.name(),
            None => Cow::Borrowed("@message"),
        }
    }
}

/// How `parse` extracts values.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePattern {
    /// `"literal * text *" as a, b`: as many aliases as `*` (checked here).
    Glob {
        /// The pattern, escapes resolved.
        pattern: String,
        /// Where the pattern string is.
        span: Span,
        /// One name per `*`, in order.
        aliases: Vec<Ident>,
    },
    /// `/regex with (?<named>groups)/`: at least one named group (checked here).
    Regex(Regex),
}

/// `diff` comparison window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffPeriod {
    /// `previousDay`
    PreviousDay,
    /// `previousWeek`
    PreviousWeek,
    /// `previousMonth`
    PreviousMonth,
}

impl DiffPeriod {
    /// The word as the printer writes it.
    pub fn keyword(self) -> &'static str {
        match self {
            DiffPeriod::PreviousDay => "previousDay",
            DiffPeriod::PreviousWeek => "previousWeek",
            DiffPeriod::PreviousMonth => "previousMonth",
        }
    }
}

/// `SOURCE ...` (spec §6.14).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Which log groups.
    pub selection: SourceSelection,
    /// From `SOURCE` to the end of its last token.
    pub span: Span,
}

/// The two spellings of `SOURCE`.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSelection {
    /// `logGroups(namePrefix: [...], accountIdentifiers: [...], class: [...])`.
    LogGroups(Vec<SourceArg>),
    /// The rewritten form DescribeQueries shows: `"group" "group" [START=... END=...]`.
    Named {
        /// Log group names.
        groups: Vec<String>,
        /// `START=` and `END=`, when written.
        range: Option<(TimeBound, TimeBound)>,
    },
}

/// One `key: ['value', ...]` argument of `logGroups(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceArg {
    /// Which argument.
    pub key: SourceKey,
    /// The strings, in order.
    pub values: Vec<String>,
    /// From the key to the closing `]`.
    pub span: Span,
}

/// The argument names of `logGroups(...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKey {
    /// `namePrefix`
    NamePrefix,
    /// `accountIdentifiers` (also spelled `accountIdentifier`).
    AccountIdentifiers,
    /// `class`
    Class,
}

impl SourceKey {
    /// The key as the printer writes it.
    pub fn keyword(self) -> &'static str {
        match self {
            SourceKey::NamePrefix => "namePrefix",
            SourceKey::AccountIdentifiers => "accountIdentifiers",
            SourceKey::Class => "class",
        }
    }
}

/// A `START=` / `END=` value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBound {
    /// Epoch milliseconds.
    Absolute(i64),
    /// Relative to the query start: `-3600s`, `0s`.
    Relative {
        /// Written with a leading `-`.
        negative: bool,
        /// The period.
        period: Period,
    },
}

/// An expression with its output column name: `fields`, `display` and `stats` items.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    /// The expression.
    pub expr: Expr,
    /// `as alias`, when written.
    pub alias: Option<Ident>,
    /// The output column name (spec §8.1): the alias; else a bare field's name (backticks
    /// removed); else the expression's source text as typed.
    pub name: String,
    /// The expression and its alias.
    pub span: Span,
}

impl NamedExpr {
    /// An item built by code rather than parsed: an unaliased expression is named by its
    /// canonical printed form.
    pub fn new(expr: Expr, alias: Option<Ident>) -> Self {
        let name = match (&alias, &expr.kind) {
            (Some(a), _) => a.name.clone(),
            (None, ExprKind::Field(f)) => f.name().into_owned(),
            (None, _) => expr.to_string(),
        };
        let span = match &alias {
            Some(a) => expr.span.to(a.span),
            None => expr.span,
        };
        NamedExpr {
            expr,
            alias,
            name,
            span,
        }
    }
}

/// A name given by the query: an alias, a function name, an `unnest ... into` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name, backticks removed, segments joined with `.`.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A field reference: `@message`, `level`, `items.0.sku`, `` `x-correlation-id` ``,
/// ``json.`user.id` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The dot-separated segments, backticks removed; `a[1]` is `["a", "1"]`. A leading `@`
    /// belongs to the first segment.
    pub path: Vec<String>,
    /// Where.
    pub span: Span,
}

impl Field {
    /// The flattened name (`identity.caller`), as discovered JSON fields are keyed.
    pub fn name(&self) -> Cow<'_, str> {
        match self.path.as_slice() {
            [one] => Cow::Borrowed(one.as_str()),
            _ => Cow::Owned(self.path.join(".")),
        }
    }
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Its source text, including any parentheses around it.
    pub span: Span,
}

/// Expression kinds (spec §3, §5).
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A field reference.
    Field(Field),
    /// A decimal literal (never negative: `-1` is [`UnaryOp::Neg`] of `1`).
    Number(f64),
    /// A string literal, escapes resolved.
    String(String),
    /// A regex literal.
    Regex(Regex),
    /// A time period such as `5m`.
    Period(Period),
    /// `[a, b, ...]`
    List(Vec<Expr>),
    /// `name(args)`; names are resolved (case-insensitively) by the binder.
    Call(Call),
    /// `*`, only as the sole argument of a call: `count(*)`.
    Star,
    /// `-x`, `not x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `x [not] like "text"`, `x [not] like /re/`, `x =~ /re/`
    Like {
        /// The value tested.
        expr: Box<Expr>,
        /// Substring or regex.
        pattern: LikePattern,
        /// `not like`
        negated: bool,
    },
    /// `x [not] in [a, b, ...]`
    In {
        /// The value tested.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `not in`
        negated: bool,
    },
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name as written.
    pub name: Ident,
    /// The arguments; `count(*)` has one [`ExprKind::Star`].
    pub args: Vec<Expr>,
}

/// The right-hand side of `like`.
#[derive(Debug, Clone, PartialEq)]
pub enum LikePattern {
    /// `like "text"`: case-sensitive substring.
    Substring(String),
    /// `like /re/` or `=~ /re/`: unanchored regex search.
    Regex(Regex),
}

/// A regex literal; compiles with the `regex` crate (checked here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    /// The pattern between the slashes, with `\/` turned into `/`.
    pub pattern: String,
    /// The literal including its slashes.
    pub span: Span,
}

/// A time period: amount and unit (`5m`, `1.5h`, `100ms`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// How many units; finite and not negative.
    pub amount: f64,
    /// Which unit.
    pub unit: TimeUnit,
}

/// Period units (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `ms`
    Millisecond,
    /// `s`
    Second,
    /// `m`
    Minute,
    /// `h`
    Hour,
    /// `d`
    Day,
    /// `w`
    Week,
    /// `mo`
    Month,
    /// `q`
    Quarter,
    /// `y`
    Year,
}

impl TimeUnit {
    /// The shortest spelling, as the printer writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Millisecond => "ms",
            TimeUnit::Second => "s",
            TimeUnit::Minute => "m",
            TimeUnit::Hour => "h",
            TimeUnit::Day => "d",
            TimeUnit::Week => "w",
            TimeUnit::Month => "mo",
            TimeUnit::Quarter => "q",
            TimeUnit::Year => "y",
        }
    }

    /// Milliseconds per unit for the fixed-length units; `None` for month, quarter and year,
    /// which follow the calendar.
    pub fn fixed_millis(self) -> Option<i64> {
        match self {
            TimeUnit::Millisecond => Some(1),
            TimeUnit::Second => Some(1_000),
            TimeUnit::Minute => Some(60_000),
            TimeUnit::Hour => Some(3_600_000),
            TimeUnit::Day => Some(86_400_000),
            TimeUnit::Week => Some(604_800_000),
            TimeUnit::Month | TimeUnit::Quarter | TimeUnit::Year => None,
        }
    }

    /// Parses a unit spelling, case-insensitively (`min`, `Hours`, `qtr`, ...).
    pub fn from_word(word: &str) -> Option<TimeUnit> {
        let w = word.to_ascii_lowercase();
        let unit = match w.as_str() {
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => TimeUnit::Millisecond,
            "s" | "sec" | "secs" | "second" | "seconds" => TimeUnit::Second,
            "m" | "min" | "mins" | "minute" | "minutes" => TimeUnit::Minute,
            "h" | "hr" | "hrs" | "hour" | "hours" => TimeUnit::Hour,
            "d" | "day" | "days" => TimeUnit::Day,
            "w" | "week" | "weeks" => TimeUnit::Week,
            "mo" | "mon" | "mons" | "month" | "months" => TimeUnit::Month,
            "q" | "qtr" | "qtrs" | "quarter" | "quarters" => TimeUnit::Quarter,
            "y" | "yr" | "yrs" | "year" | "years" => TimeUnit::Year,
            _ => return None,
        };
        Some(unit)
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `not`
    Not,
}

/// Binary operators, loosest first within each group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^` (right-associative)
    Pow,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
        }
    }

    /// Whether this is one of `= != < <= > >=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

impl Expr {
    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Field(_)
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Regex(_)
            | ExprKind::Period(_)
            | ExprKind::Star => {}
            ExprKind::List(items) => items.iter().for_each(|e| e.walk(f)),
            ExprKind::Call(call) => call.args.iter().for_each(|e| e.walk(f)),
            ExprKind::Unary(_, e) | ExprKind::Like { expr: e, .. } => e.walk(f),
            ExprKind::Binary(_, l, r) => {
                l.walk(f);
                r.walk(f);
            }
            ExprKind::In { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
        }
    }

    /// Every field this expression reads, in source order.
    pub fn fields(&self) -> Vec<&Field> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Field(field) = &e.kind {
                out.push(field);
            }
        });
        out
    }

    fn clear_spans(&mut self) {
        self.span = Span::default();
        match &mut self.kind {
            ExprKind::Field(f) => f.span = Span::default(),
            ExprKind::Regex(r) => r.span = Span::default(),
            ExprKind::Number(_) | ExprKind::String(_) | ExprKind::Period(_) | ExprKind::Star => {}
            ExprKind::List(items) => items.iter_mut().for_each(Expr::clear_spans),
            ExprKind::Call(call) => {
                call.name.span = Span::default();
                call.args.iter_mut().for_each(Expr::clear_spans);
            }
            ExprKind::Unary(_, e) => e.clear_spans(),
            ExprKind::Binary(_, l, r) => {
                l.clear_spans();
                r.clear_spans();
            }
            ExprKind::Like { expr, pattern, .. } => {
                expr.clear_spans();
                if let LikePattern::Regex(r) = pattern {
                    r.span = Span::default();
                }
            }
            ExprKind::In { expr, list, .. } => {
                expr.clear_spans();
                list.iter_mut().for_each(Expr::clear_spans);
            }
        }
    }
}

impl NamedExpr {
    fn clear_spans(&mut self) {
        self.span = Span::default();
        self.expr.clear_spans();
        if let Some(a) = &mut self.alias {
            a.span = Span::default();
        }
    }
}

impl Query {
    /// A copy with every span zeroed, for comparing trees parsed from different texts.
    pub fn without_spans(&self) -> Query {
        let mut q = self.clone();
        if let Some(source) = &mut q.source {
            source.span = Span::default();
            if let SourceSelection::LogGroups(args) = &mut source.selection {
                for arg in args {
                    arg.span = Span::default();
                }
            }
        }
        for cmd in &mut q.commands {
            cmd.span = Span::default();
            match &mut cmd.kind {
                CommandKind::Fields(items) | CommandKind::Display(items) => {
                    items.iter_mut().for_each(NamedExpr::clear_spans)
                }
                CommandKind::Filter(e) | CommandKind::FilterIndex(e) | CommandKind::Pattern(e) => {
                    e.clear_spans()
                }
                CommandKind::Stats(stats) => {
                    stats.aggregates.iter_mut().for_each(NamedExpr::clear_spans);
                    stats.by.iter_mut().for_each(NamedExpr::clear_spans);
                }
                CommandKind::Sort(keys) => keys.iter_mut().for_each(|k| k.expr.clear_spans()),
                CommandKind::Parse(p) => {
                    if let Some(f) = &mut p.field {
                        f.span = Span::default();
                    }
                    match &mut p.pattern {
                        ParsePattern::Glob { span, aliases, .. } => {
                            *span = Span::default();
                            aliases.iter_mut().for_each(|a| a.span = Span::default());
                        }
                        ParsePattern::Regex(r) => r.span = Span::default(),
                    }
                }
                CommandKind::Dedup(fields) => {
                    fields.iter_mut().for_each(|f| f.span = Span::default())
                }
                CommandKind::Unnest { field, into } => {
                    field.span = Span::default();
                    into.span = Span::default();
                }
                CommandKind::Limit(_) | CommandKind::Diff(_) | CommandKind::Anomaly => {}
            }
        }
        q
    }
}
