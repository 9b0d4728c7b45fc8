//! Running a bound plan: scan each group with the pushed-down predicates, build rows, stream
//! them through the leading row-wise ops into the first blocking op (stats, sort, limit,
//! dedup, ...), then run the rest in memory over the (bounded) rows it produced.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use lookout_insights::SortOrder;
use lookout_storage::{Scan, ScanBatch, Store, StreamSelector};

use crate::bind::{BExpr, Op, Plan};
use crate::error::Error;
use crate::eval::{Ctx, eval};
use crate::fx::FxSet;
use crate::plan::{Pushdown, RowCheck};
use crate::row::{Event, Row, build, build_into, is_lambda_group};
use crate::stats::StatsState;
use crate::value::{GroupKey, Value, sort_cmp};

/// Rows returned when neither the query nor the request sets a limit (spec §6.9).
pub const DEFAULT_ROWS: usize = 10_000;
/// Most rows a query may hold in memory between steps when no `limit` bounds them (a
/// `dedup`, or a `sort` followed by a `filter`, over a huge window); beyond it the query fails
/// instead of exhausting memory.
pub const MAX_BUFFERED_ROWS: usize = 2_000_000;
/// Bytes counted per event on top of its message (spec U17).
const EVENT_OVERHEAD: u64 = 26;

/// What a query runs over.
#[derive(Debug, Clone)]
pub struct Request {
    /// Log groups, already resolved.
    pub groups: Vec<String>,
    /// First included timestamp, epoch ms.
    pub start_ms: i64,
    /// Last included timestamp, epoch ms.
    pub end_ms: i64,
    /// The StartQuery `limit`, when given.
    pub limit: Option<usize>,
    /// Account id for `@log`.
    pub account: String,
    /// Query start, epoch seconds (`now()`).
    pub now_secs: i64,
}

/// Query statistics as GetQueryResults reports them (spec §11.2).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Statistics {
    /// Events that passed the filters before the first aggregation or ordering step.
    pub records_matched: f64,
    /// Events the scans read.
    pub records_scanned: f64,
    /// Bytes of the events read: message bytes plus 26 per event.
    pub bytes_scanned: f64,
    /// Log groups scanned.
    pub log_groups_scanned: f64,
}

/// A finished query: rows of `(field, value)` in GetQueryResults order, `@ptr` last on rows
/// that stand for one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The rows.
    pub rows: Vec<Vec<(String, String)>>,
    /// The counters.
    pub statistics: Statistics,
}

struct Runner<'a, 'p> {
    store: &'a Store,
    plan: &'a Plan,
    pushdown: Pushdown,
    check: RowCheck,
    req: &'a Request,
    cancel: &'a dyn Fn() -> bool,
    stats: Statistics,
    cap: usize,
    progress: Option<Progress<'p>>,
}

/// Partial results while a query runs: GetQueryResults shows them while the query is
/// `Running`, as CloudWatch does for long queries.
pub struct Progress<'a> {
    /// Least time between two snapshots.
    pub every: Duration,
    /// Receives each snapshot: the rows the query would give over the events scanned so far
    /// (none for a query with two `stats`, whose first must finish first), and the counters
    /// so far.
    pub sink: &'a mut dyn FnMut(Output),
}

pub(crate) fn run(
    store: &Store,
    plan: &Plan,
    req: &Request,
    cancel: &dyn Fn() -> bool,
    progress: Option<Progress<'_>>,
) -> Result<Output, Error> {
    let cap = req.limit.unwrap_or(if plan.has_limit {
        lookout_insights::MAX_LIMIT as usize
    } else {
        DEFAULT_ROWS
    });
    let pushdown = crate::plan::pushdown(plan);
    let diff = plan.ops.iter().position(|op| matches!(op, Op::Diff { .. }));
    let mut r = Runner {
        store,
        plan,
        check: RowCheck::new(&pushdown),
        pushdown,
        req,
        cancel,
        stats: Statistics::default(),
        cap,
        // A diff scans two windows; its partial rows would mean nothing.
        progress: progress.filter(|_| diff.is_none()),
    };
    let rows = match diff {
        Some(d) => {
            let cur = r.collect(&plan.ops[..d], req.start_ms, req.end_ms)?;
            let Op::Diff { period, out } = &plan.ops[d] else {
                return Err(Error::InvalidParameter("diff position".into()));
            };
            let (ps, pe) = crate::pattern::previous_window(req.start_ms, req.end_ms, *period);
            let prev = r.collect(&plan.ops[..d], ps, pe)?;
            let msg = plan.slots.get("@message");
            let rows = crate::pattern::diff(&cur, &prev, msg, *out, plan.slots.len());
            apply_all(&plan.ops[d + 1..], rows, &r.ctx(), plan.slots.len(), cancel)?
        }
        None => r.collect(&plan.ops, req.start_ms, req.end_ms)?,
    };
    Ok(Output {
        rows: render(plan, req, cap, rows),
        statistics: r.stats,
    })
}

/// Result rows as GetQueryResults gives them, `@ptr` last on event rows.
fn render(plan: &Plan, req: &Request, cap: usize, rows: Vec<Row>) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(rows.len().min(cap));
    for row in rows.into_iter().take(cap) {
        let mut fields = Vec::with_capacity(plan.columns.len() + 1);
        for (name, fr) in &plan.columns {
            if let Some(v) = crate::eval::field(fr, &row).render() {
                fields.push((name.clone(), v));
            }
        }
        if let Some(ev) = &row.ev {
            let group = req.groups.get(ev.group as usize).map_or("", String::as_str);
            fields.push((
                "@ptr".to_owned(),
                crate::ptr::encode(group, &ev.stream, ev.ts, ev.seq),
            ));
        }
        out.push(fields);
    }
    out
}

/// Most rows a collector may hold for a partial snapshot to be taken of it.
const MAX_SNAPSHOT_ROWS: usize = 100_000;

/// Rows and counters over what one scan has seen so far (see [`Progress`]).
struct Snapshots<'p, 'a> {
    progress: &'p mut Progress<'a>,
    last: Instant,
    plan: &'p Plan,
    req: &'p Request,
    cap: usize,
    rest: &'p [Op],
    /// Counters of earlier scans of this query.
    base: Statistics,
}

impl Snapshots<'_, '_> {
    fn due(&self) -> bool {
        self.last.elapsed() >= self.progress.every
    }

    fn emit(&mut self, collector: Option<Collector<'_>>, tally: &Tally) {
        self.last = Instant::now();
        let ctx = Ctx {
            now_secs: self.req.now_secs,
            aggs: &[],
        };
        let second_stats = self
            .rest
            .iter()
            .skip(1)
            .any(|op| matches!(op, Op::Stats(_)));
        let rows = match collector {
            Some(c) if !second_stats && c.buffered() <= MAX_SNAPSHOT_ROWS => {
                let width = self.plan.slots.len();
                let (rows, rest) = settle(c, self.rest, width, &ctx);
                apply_all(rest, rows, &ctx, width, &|| false)
                    .map(|rows| render(self.plan, self.req, self.cap, rows))
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let mut statistics = self.base;
        tally.add_to(&mut statistics);
        (self.progress.sink)(Output { rows, statistics });
    }
}

/// Where the scanned rows go: the first blocking op's state.
#[derive(Clone)]
enum Collector<'a> {
    Stats(StatsState<'a>),
    /// The first `k` rows in `keys` order then implicit order.
    TopK {
        k: usize,
        keys: Vec<(BExpr, SortOrder)>,
        rows: Vec<(Vec<Value>, Row)>,
    },
}

/// Implicit order (spec §6.1): newest first; ties by group, stream, then newest sequence.
fn implicit(a: &Row, b: &Row) -> Ordering {
    match (&a.ev, &b.ev) {
        (Some(x), Some(y)) => {
            y.ts.cmp(&x.ts)
                .then(x.group.cmp(&y.group))
                .then_with(|| x.stream.cmp(&y.stream))
                .then(y.seq.cmp(&x.seq))
        }
        _ => Ordering::Equal,
    }
}

fn key_cmp(a: &[Value], b: &[Value], keys: &[(BExpr, SortOrder)]) -> Ordering {
    for ((x, y), (_, order)) in a.iter().zip(b).zip(keys) {
        let o = match (
            x.is_null() || matches!(x, Value::Json(_)),
            y.is_null() || matches!(y, Value::Json(_)),
        ) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => match order {
                SortOrder::Asc => sort_cmp(x, y),
                SortOrder::Desc => sort_cmp(y, x),
            },
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl Runner<'_, '_> {
    fn ctx(&self) -> Ctx<'static> {
        Ctx {
            now_secs: self.req.now_secs,
            aggs: &[],
        }
    }

    /// Runs `ops` over the events of the window and returns the rows they produce.
    fn collect(&mut self, ops: &[Op], start: i64, end: i64) -> Result<Vec<Row>, Error> {
        let b = ops
            .iter()
            .position(|op| !op.is_streaming())
            .unwrap_or(ops.len());
        let (streaming, rest) = ops.split_at(b);
        let mut collector = match rest.first() {
            Some(Op::Stats(s)) => Collector::Stats(StatsState::new(s)),
            Some(Op::Sort(keys)) => {
                let bounded = rest[1..].iter().all(|op| {
                    matches!(
                        op,
                        Op::Eval(_) | Op::Parse { .. } | Op::Limit(_) | Op::Anomaly
                    )
                });
                let mut k = if bounded { self.cap } else { usize::MAX };
                for op in &rest[1..] {
                    if let Op::Limit(n) = op {
                        k = k.min(*n);
                    }
                }
                Collector::TopK {
                    k,
                    keys: keys.clone(),
                    rows: Vec::new(),
                }
            }
            Some(Op::Limit(n)) => Collector::TopK {
                k: *n,
                keys: Vec::new(),
                rows: Vec::new(),
            },
            None => Collector::TopK {
                k: self.cap,
                keys: Vec::new(),
                rows: Vec::new(),
            },
            Some(_) => Collector::TopK {
                k: usize::MAX,
                keys: Vec::new(),
                rows: Vec::new(),
            },
        };
        self.scan_into(streaming, rest, start, end, &mut collector)?;
        let width = self.plan.slots.len();
        let ctx = self.ctx();
        let (rows, rest) = settle(collector, rest, width, &ctx);
        apply_all(rest, rows, &ctx, width, self.cancel)
    }

    fn scan_into(
        &mut self,
        streaming: &[Op],
        rest: &[Op],
        start: i64,
        end: i64,
        collector: &mut Collector,
    ) -> Result<(), Error> {
        if self.plan.unindexed() {
            // No group has an index on a `filterIndex` field: none is scanned (spec §6.6).
            return Ok(());
        }
        let mut snaps = self.progress.as_mut().map(|progress| Snapshots {
            progress,
            last: Instant::now(),
            plan: self.plan,
            req: self.req,
            cap: self.cap,
            rest,
            base: self.stats,
        });
        let env = Env {
            store: self.store,
            plan: self.plan,
            pushdown: &self.pushdown,
            check: &self.check,
            req: self.req,
            streaming,
            start,
            end,
        };
        let groups = &self.req.groups;
        let inplace = streaming.iter().all(|op| !matches!(op, Op::Unnest { .. }));
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_WORKERS)
            .min(groups.len());
        let mut tally = Tally::default();
        match &mut *collector {
            // Groups scan on several threads, each into its own stats state, merged at the
            // end; only for aggregations whose merge is exact and order-free.
            Collector::Stats(main) if inplace && workers > 1 && main.op.mergeable() => {
                let op = main.op;
                let next = AtomicUsize::new(0);
                let stop = AtomicBool::new(false);
                // For partial results, each worker publishes its state after every group.
                let published: Vec<Mutex<Option<(StatsState<'_>, Tally)>>> = if snaps.is_some() {
                    (0..workers).map(|_| Mutex::new(None)).collect()
                } else {
                    Vec::new()
                };
                let work = |w: usize,
                            cancel: &dyn Fn() -> bool,
                            snap: &mut dyn FnMut(&Collector<'_>, &Tally)|
                 -> Result<(Collector<'_>, Tally), Error> {
                    let mut c = Collector::Stats(StatsState::new(op));
                    let mut t = Tally::default();
                    loop {
                        let gi = next.fetch_add(1, AtomicOrdering::Relaxed);
                        let Some(group) = groups.get(gi) else { break };
                        if let Collector::Stats(s) = &mut c {
                            s.origin = gi as u32;
                        }
                        if let Err(e) = env.scan_group(gi, group, &mut c, &mut t, cancel, snap) {
                            stop.store(true, AtomicOrdering::Relaxed);
                            return Err(e);
                        }
                        if let (Some(slot), Collector::Stats(s)) = (published.get(w), &c) {
                            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((s.clone(), t));
                        }
                    }
                    Ok((c, t))
                };
                // The main worker's snapshots merge what every worker has published.
                let mut merged_snap = || {
                    let Some(sn) = snaps.as_mut().filter(|sn| sn.due()) else {
                        return;
                    };
                    let mut state = StatsState::new(op);
                    let mut tally = Tally::default();
                    for slot in &published {
                        if let Some((s, t)) = &*slot.lock().unwrap_or_else(|e| e.into_inner()) {
                            state.merge(s.clone());
                            tally.add(t);
                        }
                    }
                    sn.emit(Some(Collector::Stats(state)), &tally);
                };
                let results: Vec<Result<(Collector<'_>, Tally), Error>> =
                    std::thread::scope(|scope| {
                        let helpers: Vec<_> = (1..workers)
                            .map(|w| {
                                let work = &work;
                                let stop = &stop;
                                scope.spawn(move || {
                                    work(w, &|| stop.load(AtomicOrdering::Relaxed), &mut |_, _| {})
                                })
                            })
                            .collect();
                        // Only this thread may call the caller's cancel check and take
                        // snapshots; helpers watch `stop`.
                        let cancel = self.cancel;
                        let mine = work(
                            0,
                            &|| {
                                if cancel() {
                                    stop.store(true, AtomicOrdering::Relaxed);
                                }
                                stop.load(AtomicOrdering::Relaxed)
                            },
                            &mut |_, _| merged_snap(),
                        );
                        while helpers.iter().any(|h| !h.is_finished()) {
                            if cancel() {
                                stop.store(true, AtomicOrdering::Relaxed);
                            }
                            merged_snap();
                            #[allow(
                                clippy::disallowed_methods,
                                reason = "queries run on blocking threads, never in async code"
                            )]
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        let mut all = vec![mine];
                        for h in helpers {
                            all.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                        }
                        all
                    });
                // A real failure wins over the cancellations it caused in other workers.
                let mut failure: Option<Error> = None;
                for r in results {
                    match r {
                        Ok((Collector::Stats(part), t)) => {
                            main.merge(part);
                            tally.add(&t);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            if failure
                                .as_ref()
                                .is_none_or(|f| matches!(f, Error::Cancelled))
                            {
                                failure = Some(e);
                            }
                        }
                    }
                }
                if let Some(e) = failure {
                    return Err(e);
                }
            }
            _ => {
                let cancel = self.cancel;
                let mut snap = |c: &Collector<'_>, t: &Tally| {
                    if let Some(sn) = snaps.as_mut().filter(|sn| sn.due()) {
                        sn.emit(Some(c.clone()), t);
                    }
                };
                for (gi, group) in groups.iter().enumerate() {
                    env.scan_group(gi, group, collector, &mut tally, cancel, &mut snap)?;
                }
            }
        }
        tally.add_to(&mut self.stats);
        Ok(())
    }
}

fn apply_all(
    ops: &[Op],
    mut rows: Vec<Row>,
    ctx: &Ctx<'_>,
    width: usize,
    cancel: &dyn Fn() -> bool,
) -> Result<Vec<Row>, Error> {
    for op in ops {
        if cancel() {
            return Err(Error::Cancelled);
        }
        rows = match op {
            Op::Filter(_) | Op::Eval(_) | Op::Parse { .. } | Op::Unnest { .. } => {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    push(row, std::slice::from_ref(op), ctx, &mut |r| out.push(r));
                }
                out
            }
            Op::Stats(s) => {
                let mut st = StatsState::new(s);
                for row in &rows {
                    st.add(row, ctx);
                }
                st.finish(width, ctx)
            }
            Op::Sort(keys) => {
                let mut keyed: Vec<(Vec<Value>, Row)> = rows
                    .into_iter()
                    .map(|r| (keys.iter().map(|(e, _)| eval(e, &r, ctx)).collect(), r))
                    .collect();
                keyed.sort_by(|a, b| key_cmp(&a.0, &b.0, keys));
                keyed.into_iter().map(|(_, r)| r).collect()
            }
            Op::Limit(n) => {
                rows.truncate(*n);
                rows
            }
            Op::Dedup(fields) => {
                let mut seen: FxSet<Vec<GroupKey>> = FxSet::default();
                rows.retain(|r| {
                    let vals: Vec<Value> = fields.iter().map(|f| eval(f, r, ctx)).collect();
                    if vals.iter().any(Value::is_null) {
                        return true;
                    }
                    seen.insert(vals.iter().map(Value::group_key).collect())
                });
                rows
            }
            Op::Pattern { expr, out } => crate::pattern::patterns(&rows, expr, ctx, *out, width),
            Op::Diff { .. } | Op::Anomaly => rows,
        };
    }
    Ok(rows)
}

/// Finishes the first blocking op's state into rows, and returns the ops still to run over
/// them.
fn settle<'o>(
    collector: Collector<'_>,
    rest: &'o [Op],
    width: usize,
    ctx: &Ctx<'_>,
) -> (Vec<Row>, &'o [Op]) {
    match collector {
        Collector::Stats(state) => (state.finish(width, ctx), rest.get(1..).unwrap_or_default()),
        Collector::TopK { k, keys, mut rows } => {
            rows.sort_by(|a, b| key_cmp(&a.0, &b.0, &keys).then_with(|| implicit(&a.1, &b.1)));
            rows.truncate(k);
            let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
            // A sort or limit barrier has been applied; other barriers run in memory.
            let rest = match rest.first() {
                Some(Op::Sort(_) | Op::Limit(_)) => &rest[1..],
                _ => rest,
            };
            (rows, rest)
        }
    }
}

/// Most threads one query scans with.
const MAX_WORKERS: usize = 4;

/// Counters of one scan (or one worker's share of it).
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    matched: u64,
    bytes: u64,
    scanned: u64,
    groups: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.matched += o.matched;
        self.bytes += o.bytes;
        self.scanned += o.scanned;
        self.groups += o.groups;
    }

    fn add_to(&self, s: &mut Statistics) {
        s.records_scanned += self.scanned as f64;
        s.log_groups_scanned += self.groups as f64;
        s.records_matched += self.matched as f64;
        s.bytes_scanned += self.bytes as f64;
    }
}

/// What every scan worker shares (all of it `Sync`, unlike the caller's cancel check).
#[derive(Clone, Copy)]
struct Env<'a> {
    store: &'a Store,
    plan: &'a Plan,
    pushdown: &'a Pushdown,
    check: &'a RowCheck,
    req: &'a Request,
    streaming: &'a [Op],
    start: i64,
    end: i64,
}

impl Env<'_> {
    /// Scans group `gi` through the streaming ops into `collector`.
    fn scan_group(
        &self,
        gi: usize,
        group: &str,
        collector: &mut Collector,
        tally: &mut Tally,
        cancel: &dyn Fn() -> bool,
        snap: &mut dyn FnMut(&Collector<'_>, &Tally),
    ) -> Result<(), Error> {
        let plan = self.plan;
        let streaming = self.streaming;
        let needs = &plan.needs;
        let width = plan.slots.len();
        let ctx = Ctx {
            now_secs: self.req.now_secs,
            aggs: &[],
        };
        let streams = match &self.pushdown.streams {
            Some(names) => StreamSelector::Names(names.clone()),
            None => StreamSelector::All,
        };
        let mut cancelled = false;
        let mut too_many = false;
        // Rows feeding a stats are consumed at once: one row buffer serves every event.
        let inplace = streaming.iter().all(|op| !matches!(op, Op::Unnest { .. }));
        let bins = match &*collector {
            Collector::Stats(s) if streaming.is_empty() => s.op.count_by_bin(),
            _ => None,
        };
        let mut scratch = Row::empty(width);
        let mut memos: Vec<ParseMemo> = streaming.iter().map(|_| ParseMemo::default()).collect();
        let Tally {
            matched,
            bytes,
            scanned,
            groups,
        } = tally;
        let lambda = is_lambda_group(group);
        let scan = Scan {
            streams,
            start: Some(self.start),
            end: Some(self.end.saturating_add(1)),
            predicates: self.pushdown.predicates(lambda),
            fields: Vec::new(),
            messages: needs.reads_message(),
            ingestion_times: needs.ingestion_time.is_some(),
            keys: true,
        };
        if let (Some(step_ms), Collector::Stats(stats)) = (bins, &mut *collector) {
            // Counting by bin with nothing before the stats: the storage counts blocks that
            // lie inside the range from their per-minute histograms without decoding them
            // and scans only the rest, so no batch reaches this engine.
            if cancel() {
                return Err(Error::Cancelled);
            }
            let counts = match self.store.count_by_bin(group, &scan, step_ms) {
                Ok(counts) => counts,
                Err(e) if e.kind() == lookout_storage::ErrorKind::NotFound => {
                    return Err(Error::GroupNotFound(group.to_owned()));
                }
                Err(e) => return Err(e.into()),
            };
            let total: u64 = counts.iter().map(|&(_, n)| n).sum();
            for (bin, n) in counts {
                stats.add_bin(bin, n);
            }
            *bytes += EVENT_OVERHEAD * total;
            *matched += total;
            *scanned += total;
            *groups += 1;
            return Ok(());
        }
        let account = self.req.account.as_str();
        let mut seen = 0u64;
        let mut sink = |batch: ScanBatch| {
            if cancel() {
                cancelled = true;
                return ControlFlow::Break(());
            }
            snap(
                &*collector,
                &Tally {
                    matched: *matched,
                    bytes: *bytes,
                    // Events of this group so far count before its scan reports them.
                    scanned: *scanned + seen,
                    groups: *groups,
                },
            );
            seen += batch.len() as u64;
            for i in 0..batch.len() {
                let message = batch
                    .messages
                    .as_ref()
                    .and_then(|m| m.get(i))
                    .map(String::as_str);
                *bytes += EVENT_OVERHEAD + message.map_or(0, |m| m.len() as u64);
                if !self.check.may_match(message) {
                    continue;
                }
                let ev = Event {
                    group: gi as u32,
                    group_name: group,
                    stream: &batch.stream,
                    ts: batch.timestamps[i],
                    seq: batch.seqs.get(i).copied().unwrap_or(0),
                    ingestion_time: batch.ingestion_times.get(i).copied(),
                    message,
                };
                if let (true, Collector::Stats(stats)) = (inplace, &mut *collector) {
                    build_into(&mut scratch, &ev, needs, account, lambda, false);
                    if streaming
                        .iter()
                        .zip(memos.iter_mut())
                        .all(|(op, memo)| step(op, &mut scratch, &ctx, memo))
                    {
                        *matched += 1;
                        stats.add(&scratch, &ctx);
                    }
                    continue;
                }
                let row = build(&ev, needs, width, account, lambda);
                push(row, streaming, &ctx, &mut |row| {
                    *matched += 1;
                    collector.add(row, &ctx);
                });
            }
            if collector.buffered() > MAX_BUFFERED_ROWS {
                too_many = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        };
        let st = match self.store.scan(group, &scan, &mut sink) {
            Ok(st) => st,
            Err(e) if e.kind() == lookout_storage::ErrorKind::NotFound => {
                return Err(Error::GroupNotFound(group.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        *scanned += st.events;
        *groups += 1;
        if cancelled {
            return Err(Error::Cancelled);
        }
        if too_many {
            return Err(Error::InvalidParameter(format!(
                "the query would hold more than {MAX_BUFFERED_ROWS} rows in memory; \
                 narrow the time range, add a filter, or sort with a limit"
            )));
        }
        Ok(())
    }
}

/// The last input of a `parse` and its capture ranges: `parse @log ...` sees one value per
/// log group, so its regex runs once per group instead of once per event.
#[derive(Default)]
struct ParseMemo {
    input: Option<String>,
    /// One per output slot; empty when the pattern did not match.
    caps: Vec<Option<(usize, usize)>>,
}

/// Runs one row-wise op other than `unnest` in place; `false` when a filter drops the row.
fn step(op: &Op, row: &mut Row, ctx: &Ctx<'_>, memo: &mut ParseMemo) -> bool {
    match op {
        Op::Filter(e) => return eval(e, row, ctx).truthy(),
        Op::Eval(items) => {
            for (slot, e) in items {
                let v = eval(e, row, ctx);
                row.set(*slot, v);
            }
        }
        Op::Parse { src, re, slots } => {
            // A field holding a string is read in place; anything else is evaluated.
            let text: Option<Cow<'_, str>> = match src {
                BExpr::Field(r) if matches!(row.vals.get(r.slot), Some(Value::Str(_))) => {
                    match row.vals.get(r.slot) {
                        Some(Value::Str(s)) => Some(Cow::Borrowed(s.as_str())),
                        _ => None,
                    }
                }
                _ => {
                    let v = eval(src, row, ctx);
                    v.as_text().map(|t| Cow::Owned(t.into_owned()))
                }
            };
            let Some(text) = text else {
                for (_, slot) in slots {
                    row.set(*slot, Value::Null);
                }
                return true;
            };
            if memo.input.as_deref() == Some(text.as_ref()) {
                drop(text);
            } else {
                memo.caps.clear();
                if let Some(c) = re.captures(&text) {
                    memo.caps.extend(
                        slots
                            .iter()
                            .map(|(g, _)| c.get(*g).map(|m| (m.start(), m.end()))),
                    );
                }
                memo.input = Some(text.into_owned());
            }
            let input = memo.input.as_deref().unwrap_or_default();
            for (i, (_, slot)) in slots.iter().enumerate() {
                match memo.caps.get(i).copied().flatten() {
                    Some((a, b)) => row.set_text(*slot, &[input.get(a..b).unwrap_or_default()]),
                    None => row.set(*slot, Value::Null),
                }
            }
        }
        _ => {}
    }
    true
}

/// Runs row-wise ops on one row; `sink` receives what comes out (none, one, or several rows
/// after `unnest`).
fn push(mut row: Row, ops: &[Op], ctx: &Ctx<'_>, sink: &mut dyn FnMut(Row)) {
    for (i, op) in ops.iter().enumerate() {
        if let Op::Unnest { src, into } = op {
            let items: Vec<Value> = match eval(src, &row, ctx) {
                Value::Null => Vec::new(),
                Value::Json(j) => match j.as_array() {
                    Some(a) => a.iter().map(Value::from_json_ref).collect(),
                    None => vec![Value::Json(j.clone())],
                },
                other => vec![other],
            };
            for item in items {
                let mut r = row.clone();
                r.set(*into, item);
                push(r, &ops[i + 1..], ctx, sink);
            }
            return;
        }
        if !step(op, &mut row, ctx, &mut ParseMemo::default()) {
            return;
        }
    }
    sink(row);
}

impl Collector<'_> {
    /// Rows held.
    fn buffered(&self) -> usize {
        match self {
            Collector::Stats(_) => 0,
            Collector::TopK { rows, .. } => rows.len(),
        }
    }

    fn add(&mut self, row: Row, ctx: &Ctx<'_>) {
        match self {
            Collector::Stats(s) => s.add(&row, ctx),
            Collector::TopK { k, keys, rows } => {
                if *k == 0 {
                    return;
                }
                let kv = keys.iter().map(|(e, _)| eval(e, &row, ctx)).collect();
                rows.push((kv, row));
                // Amortised top-k: trim to k whenever the buffer doubles.
                if *k != usize::MAX && rows.len() >= k.saturating_mul(2).max(1024) {
                    let keys = &*keys;
                    rows.sort_by(|a, b| {
                        key_cmp(&a.0, &b.0, keys).then_with(|| implicit(&a.1, &b.1))
                    });
                    rows.truncate(*k);
                }
            }
        }
    }
}
