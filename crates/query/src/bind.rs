//! The binder: resolves function names and arities, checks where aggregations may appear,
//! gives every field name a slot in the row, and turns the syntax tree into [`Plan`] ops.

use std::collections::{HashMap, HashSet};

use lookout_insights::{
    BinaryOp, Command, CommandKind, Expr, ExprKind, Field, LikePattern, NamedExpr, ParsePattern,
    Period, Query, SortOrder, Source, Span, UnaryOp,
};

use crate::error::Error;
use crate::func::{AggFunc, Func, Resolved, lookup};
use crate::value::Value;

/// Field names of every row, in slot order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Slots {
    pub(crate) names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Slots {
    pub(crate) fn slot(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// Slots every plan has, in this order.
pub(crate) const TIMESTAMP: usize = 0;

/// A field read: its own slot, then (when that is null) prefixes holding a map or list to
/// navigate into, longest first (`item.sku` reads `sku` of the map in `item`).
#[derive(Debug, Clone)]
pub(crate) struct FieldRef {
    pub(crate) slot: usize,
    pub(crate) nav: Vec<(usize, Vec<String>)>,
}

/// `like` right-hand sides.
#[derive(Debug, Clone)]
pub(crate) enum Match {
    Sub(String),
    Re(regex::Regex),
}

/// A bound expression.
#[derive(Debug, Clone)]
pub(crate) enum BExpr {
    Lit(Value),
    Period(Period),
    Field(FieldRef),
    Neg(Box<BExpr>),
    Not(Box<BExpr>),
    And(Box<BExpr>, Box<BExpr>),
    Or(Box<BExpr>, Box<BExpr>),
    Cmp(BinaryOp, Box<BExpr>, Box<BExpr>),
    Arith(BinaryOp, Box<BExpr>, Box<BExpr>),
    Like {
        expr: Box<BExpr>,
        pat: Match,
        negated: bool,
    },
    In {
        expr: Box<BExpr>,
        list: Vec<BExpr>,
        negated: bool,
    },
    Call {
        f: Func,
        args: Vec<BExpr>,
        period: Option<Period>,
    },
    /// The finished value of aggregation `i` of the enclosing `stats`.
    Agg(usize),
}

/// One aggregation of a `stats`: function, argument (none for `count(*)`), percentile.
#[derive(Debug, Clone)]
pub(crate) struct AggSpec {
    pub(crate) f: AggFunc,
    pub(crate) arg: Option<BExpr>,
    pub(crate) p: f64,
}

/// A bound `stats`.
#[derive(Debug, Clone)]
pub(crate) struct StatsOp {
    pub(crate) by: Vec<(usize, BExpr)>,
    pub(crate) aggs: Vec<AggSpec>,
    /// Output items, evaluated in order over the group row (later ones may read earlier).
    pub(crate) outputs: Vec<(usize, BExpr)>,
}

impl StatsOp {
    /// Whether states built over disjoint rows merge into exactly the state of all rows,
    /// whatever the order: counts, distinct counts and percentiles (values sorted at the end).
    /// Sums and extremes are left out (float addition order, ties between equal values).
    pub(crate) fn mergeable(&self) -> bool {
        self.aggs
            .iter()
            .all(|a| matches!(a.f, AggFunc::Count | AggFunc::CountDistinct | AggFunc::Pct))
    }

    /// For `stats count(*), ... by bin(p)` with a fixed period of whole milliseconds and
    /// nothing else: the period, so rows can be counted straight off timestamps.
    pub(crate) fn count_by_bin(&self) -> Option<i64> {
        if !self
            .aggs
            .iter()
            .all(|a| a.f == AggFunc::Count && a.arg.is_none())
        {
            return None;
        }
        let [
            (
                _,
                BExpr::Call {
                    f: Func::Bin,
                    period: Some(p),
                    ..
                },
            ),
        ] = self.by.as_slice()
        else {
            return None;
        };
        let ms = p.amount * p.unit.fixed_millis()? as f64;
        (ms >= 1.0 && ms.fract() == 0.0 && ms < 9.0e15).then_some(ms as i64)
    }
}

/// A pipeline step.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Filter(BExpr),
    Eval(Vec<(usize, BExpr)>),
    Parse {
        src: BExpr,
        re: regex::Regex,
        /// Capture group index → slot.
        slots: Vec<(usize, usize)>,
    },
    Stats(Box<StatsOp>),
    Sort(Vec<(BExpr, SortOrder)>),
    Limit(usize),
    Dedup(Vec<BExpr>),
    Unnest {
        src: BExpr,
        into: usize,
    },
    Pattern {
        expr: BExpr,
        /// `@pattern`, `@ratio`, `@sampleCount`, `@severityLabel`.
        out: [usize; 4],
    },
    Diff {
        period: Option<lookout_insights::DiffPeriod>,
        /// `@pattern`, `@previousSampleCount`, `@sampleCount`, `@change`.
        out: [usize; 4],
    },
    Anomaly,
}

impl Op {
    /// Whether the op works row by row, so it can run while the scan streams.
    pub(crate) fn is_streaming(&self) -> bool {
        matches!(
            self,
            Op::Filter(_) | Op::Eval(_) | Op::Parse { .. } | Op::Unnest { .. }
        )
    }
}

/// What rows must be built with, from what the query reads before defining it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Needs {
    pub(crate) message: Option<usize>,
    pub(crate) log_stream: Option<usize>,
    pub(crate) log: Option<usize>,
    pub(crate) ingestion_time: Option<usize>,
    pub(crate) ptr: Option<usize>,
    /// Lambda platform fields by name.
    pub(crate) lambda: Vec<(String, usize)>,
    /// Discovered JSON field name → slot.
    pub(crate) json: crate::fx::FxMap<String, usize>,
}

impl Needs {
    /// Whether rows need the raw message.
    pub(crate) fn reads_message(&self) -> bool {
        self.message.is_some() || !self.lambda.is_empty() || !self.json.is_empty()
    }
}

/// A bound query, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) ops: Vec<Op>,
    pub(crate) columns: Vec<(String, FieldRef)>,
    pub(crate) slots: Slots,
    pub(crate) needs: Needs,
    pub(crate) has_limit: bool,
    pub(crate) source: Option<Source>,
    /// Fields `filterIndex` commands test: only groups with an index on each are scanned.
    pub(crate) index_fields: Vec<String>,
}

/// Fields every Standard-class group has an index on (spec §6.6); Lookout has no custom
/// index policies, so these are the only indexed fields.
pub(crate) const DEFAULT_INDEXES: &[&str] = &[
    "@logStream",
    "@aws.region",
    "@aws.account",
    "@source.log",
    "traceId",
    "severityText",
];

impl Plan {
    /// Whether a `filterIndex` names a field no group has an index on, so no group is scanned.
    pub(crate) fn unindexed(&self) -> bool {
        self.index_fields
            .iter()
            .any(|f| !DEFAULT_INDEXES.contains(&f.as_str()))
    }
}

/// The field of a `filterIndex` expression (`field = literal` or `field in [...]`).
fn index_field(e: &lookout_insights::Expr) -> Option<String> {
    let field = match &e.kind {
        ExprKind::Binary(_, l, _) => l,
        ExprKind::In { expr, .. } => expr,
        _ => return None,
    };
    match &field.kind {
        ExprKind::Field(f) => Some(f.name().into_owned()),
        _ => None,
    }
}

const LAMBDA_FIELDS: &[&str] = &[
    "@requestId",
    "@type",
    "@duration",
    "@billedDuration",
    "@memorySize",
    "@maxMemoryUsed",
    "@initDuration",
    "@xrayTraceId",
    "@xraySegmentId",
];

struct Binder {
    slots: Slots,
    /// Every name some command defines: prefixes that may hold maps to navigate.
    defined_anywhere: HashSet<String>,
    /// Names defined by commands bound so far.
    defined: HashSet<String>,
    /// After the first `stats`, reads of undefined names never reach the event.
    after_stats: bool,
    /// Names read from the event.
    inputs: HashSet<String>,
}

/// Context of an expression: where aggregations may appear.
struct AggCtx<'a> {
    aggs: &'a mut Vec<AggSpec>,
    inside: bool,
}

pub(crate) fn bind(q: &Query) -> Result<Plan, Error> {
    let mut b = Binder {
        slots: Slots::default(),
        defined_anywhere: HashSet::new(),
        defined: HashSet::new(),
        after_stats: false,
        inputs: HashSet::new(),
    };
    b.slots.slot("@timestamp");
    for cmd in &q.commands {
        for name in defines(cmd) {
            b.defined_anywhere.insert(name);
        }
    }
    let mut ops = Vec::with_capacity(q.commands.len());
    let mut has_limit = false;
    let mut index_fields = Vec::new();
    for cmd in &q.commands {
        if matches!(cmd.kind, CommandKind::Limit(_)) {
            has_limit = true;
        }
        if let CommandKind::FilterIndex(e) = &cmd.kind {
            index_fields.extend(index_field(e));
        }
        ops.push(b.command(cmd)?);
        for name in defines(cmd) {
            b.defined.insert(name);
        }
    }
    let mut columns = Vec::new();
    for name in output_columns(&q.commands) {
        let path: Vec<String> = name.split('.').map(str::to_owned).collect();
        let field = Field {
            path,
            span: Span::default(),
        };
        let r = b.field(&field, &name);
        columns.push((name, r));
    }
    let needs = b.needs();
    Ok(Plan {
        ops,
        columns,
        slots: b.slots,
        needs,
        has_limit,
        source: q.source.clone(),
        index_fields,
    })
}

/// Names a command creates or overwrites.
fn defines(cmd: &Command) -> Vec<String> {
    match &cmd.kind {
        CommandKind::Fields(items) | CommandKind::Display(items) => {
            items.iter().map(|i| i.name.clone()).collect()
        }
        CommandKind::Stats(s) => {
            s.by.iter()
                .chain(&s.aggregates)
                .map(|i| i.name.clone())
                .collect()
        }
        CommandKind::Parse(p) => match &p.pattern {
            ParsePattern::Glob { aliases, .. } => aliases.iter().map(|a| a.name.clone()).collect(),
            ParsePattern::Regex(r) => regex::Regex::new(&r.pattern)
                .map(|re| re.capture_names().flatten().map(str::to_owned).collect())
                .unwrap_or_default(),
        },
        CommandKind::Unnest { into, .. } => vec![into.name.clone()],
        CommandKind::Pattern(_) => PATTERN_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
        CommandKind::Diff(_) => DIFF_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
        _ => Vec::new(),
    }
}

const PATTERN_FIELDS: [&str; 4] = ["@pattern", "@ratio", "@sampleCount", "@severityLabel"];
const DIFF_FIELDS: [&str; 4] = [
    "@pattern",
    "@previousSampleCount",
    "@sampleCount",
    "@change",
];

/// Output columns (spec §6.2–6.4): the union of `fields` names, replaced by the last
/// `display`, reset by `stats` and `pattern`; `@timestamp, @message` when nothing names any.
fn output_columns(commands: &[Command]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let mut display: Option<Vec<String>> = None;
    let mut named = false;
    let add = |cols: &mut Vec<String>, n: &str| {
        if !cols.iter().any(|c| c == n) {
            cols.push(n.to_owned());
        }
    };
    for cmd in commands {
        match &cmd.kind {
            CommandKind::Fields(items) => {
                named = true;
                for i in items {
                    add(&mut cols, &i.name);
                }
            }
            CommandKind::Display(items) => {
                named = true;
                let mut d = Vec::new();
                for i in items {
                    add(&mut d, &i.name);
                }
                display = Some(d);
            }
            CommandKind::Stats(s) => {
                named = true;
                display = None;
                cols.clear();
                for i in s.by.iter().chain(&s.aggregates) {
                    add(&mut cols, &i.name);
                }
            }
            CommandKind::Pattern(_) | CommandKind::Diff(_) => {
                named = true;
                display = None;
                let fields: &[&str] = if matches!(cmd.kind, CommandKind::Pattern(_)) {
                    &PATTERN_FIELDS
                } else {
                    &DIFF_FIELDS
                };
                cols = fields.iter().map(|s| (*s).to_owned()).collect();
            }
            _ => {}
        }
    }
    if !named {
        return vec!["@timestamp".to_owned(), "@message".to_owned()];
    }
    display.unwrap_or(cols)
}

impl Binder {
    fn needs(&mut self) -> Needs {
        let mut needs = Needs::default();
        let mut inputs: Vec<&String> = self.inputs.iter().collect();
        inputs.sort();
        for name in inputs {
            let Some(slot) = self.slots.get(name) else {
                continue;
            };
            match name.as_str() {
                "@timestamp" => {}
                "@message" => needs.message = Some(slot),
                "@logStream" => needs.log_stream = Some(slot),
                "@log" => needs.log = Some(slot),
                "@ingestionTime" => needs.ingestion_time = Some(slot),
                "@ptr" => needs.ptr = Some(slot),
                n if LAMBDA_FIELDS.contains(&n) => needs.lambda.push((n.to_owned(), slot)),
                n if !n.starts_with('@') || n.starts_with("@@") => {
                    needs.json.insert(n.to_owned(), slot);
                }
                _ => {}
            }
        }
        needs
    }

    fn field(&mut self, f: &Field, name: &str) -> FieldRef {
        let slot = self.slots.slot(name);
        let reads_event = !self.defined.contains(name) && !self.after_stats;
        if reads_event {
            self.inputs.insert(name.to_owned());
        }
        let mut nav = Vec::new();
        for k in (1..f.path.len()).rev() {
            let prefix = f.path[..k].join(".");
            if self.defined_anywhere.contains(&prefix) || self.inputs.contains(&prefix) {
                nav.push((self.slots.slot(&prefix), f.path[k..].to_vec()));
            }
        }
        FieldRef { slot, nav }
    }

    fn command(&mut self, cmd: &Command) -> Result<Op, Error> {
        let op = match &cmd.kind {
            CommandKind::Fields(items) | CommandKind::Display(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let e = self.expr(&item.expr, None)?;
                    out.push((self.slots.slot(&item.name), e));
                }
                Op::Eval(out)
            }
            CommandKind::Filter(e) | CommandKind::FilterIndex(e) => Op::Filter(self.expr(e, None)?),
            CommandKind::Stats(s) => {
                let op = self.stats(&s.aggregates, &s.by, cmd.span)?;
                self.after_stats = true;
                self.defined.clear();
                op
            }
            CommandKind::Sort(keys) => {
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    out.push((self.expr(&k.expr, None)?, k.order));
                }
                Op::Sort(out)
            }
            CommandKind::Limit(n) => Op::Limit(usize::try_from(*n).unwrap_or(usize::MAX)),
            CommandKind::Parse(p) => {
                let name = p.source_field();
                let field = p.field.clone().unwrap_or_else(|| Field {
                    path: vec!["@message".to_owned()],
                    span: cmd.span,
                });
                let src = BExpr::Field(self.field(&field, &name));
                let (pattern, span, names): (String, Span, Vec<String>) = match &p.pattern {
                    ParsePattern::Glob {
                        pattern,
                        span,
                        aliases,
                    } => (
                        glob_regex(pattern),
                        *span,
                        aliases.iter().map(|a| a.name.clone()).collect(),
                    ),
                    ParsePattern::Regex(r) => (r.pattern.clone(), r.span, Vec::new()),
                };
                let re = compile(&pattern, span)?;
                let mut slots = Vec::new();
                if names.is_empty() {
                    for (i, n) in re.capture_names().enumerate() {
                        if let Some(n) = n {
                            slots.push((i, self.slots.slot(n)));
                        }
                    }
                } else {
                    for (i, n) in names.iter().enumerate() {
                        slots.push((i + 1, self.slots.slot(n)));
                    }
                }
                Op::Parse { src, re, slots }
            }
            CommandKind::Dedup(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    out.push(BExpr::Field(self.field(f, &f.name())));
                }
                Op::Dedup(out)
            }
            CommandKind::Unnest { field, into } => {
                let src = BExpr::Field(self.field(field, &field.name()));
                Op::Unnest {
                    src,
                    into: self.slots.slot(&into.name),
                }
            }
            CommandKind::Pattern(e) => {
                let expr = self.expr(e, None)?;
                Op::Pattern {
                    expr,
                    out: PATTERN_FIELDS.map(|n| self.slots.slot(n)),
                }
            }
            CommandKind::Diff(period) => {
                let m = Field {
                    path: vec!["@message".to_owned()],
                    span: cmd.span,
                };
                self.field(&m, "@message");
                Op::Diff {
                    period: *period,
                    out: DIFF_FIELDS.map(|n| self.slots.slot(n)),
                }
            }
            CommandKind::Anomaly => Op::Anomaly,
        };
        Ok(op)
    }

    fn stats(
        &mut self,
        aggregates: &[NamedExpr],
        by: &[NamedExpr],
        span: Span,
    ) -> Result<Op, Error> {
        let mut by_out = Vec::with_capacity(by.len());
        for item in by {
            let e = self.expr(&item.expr, None)?;
            by_out.push((self.slots.slot(&item.name), e));
        }
        let mut aggs = Vec::new();
        let mut outputs = Vec::with_capacity(aggregates.len());
        let mut earlier: Vec<&str> = Vec::new();
        for item in aggregates {
            let before = aggs.len();
            // Earlier aliases of this stats are read from the output row, not the event.
            let saved = self.defined.clone();
            let saved_after = self.after_stats;
            for n in &earlier {
                self.defined.insert((*n).to_owned());
            }
            let mut ctx = AggCtx {
                aggs: &mut aggs,
                inside: false,
            };
            let e = self.expr(&item.expr, Some(&mut ctx));
            self.defined = saved;
            self.after_stats = saved_after;
            let e = e?;
            let reads_earlier = item
                .expr
                .fields()
                .iter()
                .any(|f| earlier.contains(&f.name().as_ref()));
            if aggs.len() == before && !reads_earlier {
                return Err(Error::bind(
                    format!(
                        "stats item '{}' has no aggregation function such as count() or sum()",
                        item.name
                    ),
                    item.expr.span,
                ));
            }
            outputs.push((self.slots.slot(&item.name), e));
            earlier.push(&item.name);
        }
        if aggs.is_empty() {
            return Err(Error::bind(
                "stats needs at least one aggregation function",
                span,
            ));
        }
        Ok(Op::Stats(Box::new(StatsOp {
            by: by_out,
            aggs,
            outputs,
        })))
    }

    fn expr(&mut self, e: &Expr, mut agg: Option<&mut AggCtx<'_>>) -> Result<BExpr, Error> {
        let b = match &e.kind {
            ExprKind::Field(f) => BExpr::Field(self.field(f, &f.name())),
            ExprKind::Number(n) => BExpr::Lit(Value::Num(*n)),
            ExprKind::String(s) => BExpr::Lit(Value::Str(s.clone())),
            ExprKind::Regex(r) => BExpr::Lit(Value::Str(r.pattern.clone())),
            ExprKind::Period(p) => BExpr::Period(*p),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.expr(i, agg.as_deref_mut())?);
                }
                // A list is only meaningful on the right of `in`; elsewhere it is null.
                drop(out);
                BExpr::Lit(Value::Null)
            }
            ExprKind::Star => {
                return Err(Error::bind("'*' is only allowed in count(*)", e.span));
            }
            ExprKind::Unary(op, x) => {
                let x = Box::new(self.expr(x, agg)?);
                match op {
                    UnaryOp::Neg => BExpr::Neg(x),
                    UnaryOp::Not => BExpr::Not(x),
                }
            }
            ExprKind::Binary(op, l, r) => {
                let l = Box::new(self.expr(l, agg.as_deref_mut())?);
                let r = Box::new(self.expr(r, agg)?);
                match op {
                    BinaryOp::And => BExpr::And(l, r),
                    BinaryOp::Or => BExpr::Or(l, r),
                    op if op.is_comparison() => BExpr::Cmp(*op, l, r),
                    op => BExpr::Arith(*op, l, r),
                }
            }
            ExprKind::Like {
                expr,
                pattern,
                negated,
            } => {
                let x = Box::new(self.expr(expr, agg)?);
                let pat = match pattern {
                    LikePattern::Substring(s) => Match::Sub(s.clone()),
                    LikePattern::Regex(r) => Match::Re(compile(&r.pattern, r.span)?),
                };
                BExpr::Like {
                    expr: x,
                    pat,
                    negated: *negated,
                }
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let x = Box::new(self.expr(expr, agg.as_deref_mut())?);
                let mut out = Vec::with_capacity(list.len());
                for i in list {
                    out.push(self.expr(i, agg.as_deref_mut())?);
                }
                BExpr::In {
                    expr: x,
                    list: out,
                    negated: *negated,
                }
            }
            ExprKind::Call(call) => {
                let name = &call.name.name;
                let Some((resolved, min, max)) = lookup(name) else {
                    return Err(Error::bind(
                        format!("unknown function '{name}'"),
                        call.name.span,
                    ));
                };
                let is_star = matches!(
                    call.args.as_slice(),
                    [Expr {
                        kind: ExprKind::Star,
                        ..
                    }]
                );
                let argc = call.args.len();
                if argc < min || argc > max {
                    let want = if min == max {
                        format!("{min}")
                    } else if max == usize::MAX {
                        format!("at least {min}")
                    } else {
                        format!("{min} to {max}")
                    };
                    return Err(Error::bind(
                        format!("function '{name}' takes {want} arguments, found {argc}"),
                        e.span,
                    ));
                }
                match resolved {
                    Resolved::Agg(f) => {
                        let Some(ctx) = agg else {
                            return Err(Error::bind(
                                format!("aggregation function '{name}' is only allowed in stats"),
                                call.name.span,
                            ));
                        };
                        if ctx.inside {
                            return Err(Error::bind(
                                format!(
                                    "aggregation function '{name}' cannot be nested in another"
                                ),
                                call.name.span,
                            ));
                        }
                        if is_star && f != AggFunc::Count {
                            return Err(Error::bind(
                                format!("'*' is only allowed in count(*), not in '{name}'"),
                                e.span,
                            ));
                        }
                        let mut inner = AggCtx {
                            aggs: ctx.aggs,
                            inside: true,
                        };
                        let arg = match call.args.first() {
                            Some(a) if !is_star => Some(self.expr(a, Some(&mut inner))?),
                            _ => None,
                        };
                        let mut p = 0.0;
                        if f == AggFunc::Pct {
                            p = match call.args.get(1).map(|a| &a.kind) {
                                Some(ExprKind::Number(x)) if *x <= 100.0 => *x,
                                _ => {
                                    return Err(Error::bind(
                                        "pct takes a percentile from 0 to 100 as its second argument",
                                        e.span,
                                    ));
                                }
                            };
                        }
                        ctx.aggs.push(AggSpec { f, arg, p });
                        BExpr::Agg(ctx.aggs.len() - 1)
                    }
                    Resolved::Scalar(f) => {
                        if is_star {
                            return Err(Error::bind(
                                format!("'*' is only allowed in count(*), not in '{name}'"),
                                e.span,
                            ));
                        }
                        self.scalar_call(f, name, &call.args, e.span, agg)?
                    }
                }
            }
        };
        Ok(b)
    }

    fn scalar_call(
        &mut self,
        f: Func,
        name: &str,
        args: &[Expr],
        span: Span,
        mut agg: Option<&mut AggCtx<'_>>,
    ) -> Result<BExpr, Error> {
        let period_arg = match f {
            Func::Bin => Some(0),
            Func::DateFloor | Func::DateCeil => Some(1),
            _ => None,
        };
        let mut period = None;
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if Some(i) == period_arg {
                match a.kind {
                    ExprKind::Period(p) => period = Some(p),
                    _ => {
                        return Err(Error::bind(
                            format!("function '{name}' expects a time period such as 5m"),
                            a.span,
                        ));
                    }
                }
                continue;
            }
            out.push(self.expr(a, agg.as_deref_mut())?);
        }
        if f == Func::Bin {
            let ts = Field {
                path: vec!["@timestamp".to_owned()],
                span,
            };
            out.push(BExpr::Field(self.field(&ts, "@timestamp")));
        }
        Ok(BExpr::Call {
            f,
            args: out,
            period,
        })
    }
}

/// A glob as a regex (spec §6.10): literal text escaped, each `*` a lazy capture except a
/// trailing one, which is greedy; unanchored.
fn glob_regex(glob: &str) -> String {
    let mut out = String::from("(?s)");
    let parts: Vec<&str> = glob.split('*').collect();
    for (i, part) in parts.iter().enumerate() {
        out.push_str(&regex::escape(part));
        if i + 1 < parts.len() {
            let last = i + 2 == parts.len() && parts[i + 1].is_empty();
            out.push_str(if last { "(.*)" } else { "(.*?)" });
        }
    }
    out
}

fn compile(pattern: &str, span: Span) -> Result<regex::Regex, Error> {
    regex::Regex::new(pattern)
        .map_err(|e| Error::bind(format!("invalid regular expression: {e}"), span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        let parsed = lookout_insights::parse(q).map_err(|e| e.to_string());
        match parsed.and_then(|p| bind(&p).map_err(|e| e.to_string())) {
            Ok(_) => String::new(),
            Err(e) => e,
        }
    }

    #[test]
    fn binder_rejects_what_the_parser_leaves() {
        assert!(err("fields nosuch(x)").contains("unknown function 'nosuch'"));
        assert!(err("fields strlen(a, b)").contains("takes 1 arguments"));
        assert!(err("fields count(*)").contains("only allowed in stats"));
        assert!(err("stats x by y").contains("no aggregation"));
        assert!(err("stats sum(count(*))").contains("nested"));
        assert!(err("stats count(*) by bin(x)").contains("time period"));
        assert_eq!(err("stats max(a) as m, m * 2 as d"), "");
    }

    #[test]
    fn globs_become_lazy_regexes() {
        assert_eq!(glob_regex("a * b *"), "(?s)a (.*?) b (.*)");
        assert_eq!(glob_regex("[*] x"), r"(?s)\[(.*?)\] x");
    }

    #[test]
    fn only_fields_read_before_definition_come_from_events() {
        let q = lookout_insights::parse("stats count(*) as n by bin(5m) | filter n > 1")
            .map_err(|e| e.to_string());
        let plan = q.and_then(|q| bind(&q).map_err(|e| e.to_string()));
        let Ok(plan) = plan else {
            panic!("query should bind");
        };
        assert!(!plan.needs.reads_message());
    }
}
