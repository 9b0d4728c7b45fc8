//! The state of one `stats` while rows stream in: one accumulator set per group key.

use std::cmp::Ordering;

use crate::agg::Acc;
use crate::bind::{BExpr, StatsOp, TIMESTAMP};
use crate::eval::{Ctx, eval};
use crate::fx::FxMap;
use crate::row::Row;
use crate::value::{GroupKey, Value, sort_cmp};

/// One group: its hash key, its key values as first seen, the index of the log group they
/// were first seen in (so merged worker states keep the sequential scan's choice), and the
/// accumulators.
#[derive(Debug, Clone)]
struct Group {
    key: Vec<GroupKey>,
    vals: Vec<Value>,
    origin: u32,
    accs: Vec<Acc>,
}

/// Groups of one `stats`.
#[derive(Debug, Clone)]
pub(crate) struct StatsState<'a> {
    pub(crate) op: &'a StatsOp,
    groups: Vec<Group>,
    /// Group index by key, for every key except the text keys of a one-key `stats`.
    index: FxMap<Vec<GroupKey>, usize>,
    /// With exactly one `by` expression: group index by text key, looked up with the row's
    /// borrowed string so a row of an existing group allocates nothing.
    text: FxMap<String, usize>,
    /// Log group index of the rows being added.
    pub(crate) origin: u32,
    key: Vec<GroupKey>,
}

impl<'a> StatsState<'a> {
    pub(crate) fn new(op: &'a StatsOp) -> Self {
        let mut s = StatsState {
            op,
            groups: Vec::new(),
            index: FxMap::default(),
            text: FxMap::default(),
            origin: 0,
            key: Vec::new(),
        };
        if op.by.is_empty() {
            // One row even over zero input rows (spec U10).
            s.insert(Vec::new(), Vec::new(), 0);
        }
        s
    }

    fn one_key(&self) -> bool {
        self.op.by.len() == 1
    }

    fn find(&self, key: &[GroupKey]) -> Option<usize> {
        match key {
            [GroupKey::Text(t)] if self.one_key() => self.text.get(t.as_str()).copied(),
            _ => self.index.get(key).copied(),
        }
    }

    fn insert(&mut self, key: Vec<GroupKey>, vals: Vec<Value>, origin: u32) -> usize {
        let i = self.groups.len();
        match key.as_slice() {
            [GroupKey::Text(t)] if self.one_key() => {
                self.text.insert(t.clone(), i);
            }
            _ => {
                self.index.insert(key.clone(), i);
            }
        }
        let accs = self.op.aggs.iter().map(Acc::new).collect();
        self.groups.push(Group {
            key,
            vals,
            origin,
            accs,
        });
        i
    }

    /// Adds `n` rows whose only group key is the time bin `bin` (see
    /// [`StatsOp::count_by_bin`]).
    pub(crate) fn add_bin(&mut self, bin: i64, n: u64) {
        let key = [GroupKey::Ts(bin)];
        let i = match self.find(&key) {
            Some(i) => i,
            None => self.insert(key.to_vec(), vec![Value::Ts(bin)], self.origin),
        };
        if let Some(g) = self.groups.get_mut(i) {
            for acc in &mut g.accs {
                acc.add_count(n);
            }
        }
    }

    /// The row's string for a one-key `stats` whose key is a field holding a string: what
    /// evaluating the key would return, borrowed.
    fn text_key<'r>(&self, row: &'r Row) -> Option<&'r str> {
        let [(_, BExpr::Field(r))] = self.op.by.as_slice() else {
            return None;
        };
        match row.vals.get(r.slot) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn add(&mut self, row: &Row, ctx: &Ctx<'_>) {
        let i = match self.text_key(row) {
            Some(t) => match self.text.get(t) {
                Some(&i) => i,
                None => self.insert(
                    vec![GroupKey::Text(t.to_owned())],
                    vec![Value::Str(t.to_owned())],
                    self.origin,
                ),
            },
            None => {
                // A scratch key: a row of an existing group copies nothing into the map; the
                // key values are evaluated again only for a new group.
                let mut key = std::mem::take(&mut self.key);
                key.clear();
                for (_, e) in &self.op.by {
                    key.push(eval(e, row, ctx).into_group_key());
                }
                let i = match self.find(&key) {
                    Some(i) => i,
                    None => {
                        let vals = self.op.by.iter().map(|(_, e)| eval(e, row, ctx)).collect();
                        self.insert(key.clone(), vals, self.origin)
                    }
                };
                self.key = key;
                i
            }
        };
        let Some(g) = self.groups.get_mut(i) else {
            return;
        };
        let ts = match row.vals.get(TIMESTAMP) {
            Some(v) => v.as_num().map_or(0, |t| t as i64),
            None => 0,
        };
        for (spec, acc) in self.op.aggs.iter().zip(g.accs.iter_mut()) {
            let v = spec.arg.as_ref().map(|e| eval(e, row, ctx));
            acc.add(v, ts);
        }
    }

    /// Folds in a worker's state over other log groups (see [`StatsOp::mergeable`]).
    pub(crate) fn merge(&mut self, other: StatsState<'_>) {
        for g in other.groups {
            match self.find(&g.key) {
                Some(i) => {
                    if let Some(mine) = self.groups.get_mut(i) {
                        if g.origin < mine.origin {
                            mine.vals = g.vals;
                            mine.origin = g.origin;
                        }
                        for (a, b) in mine.accs.iter_mut().zip(g.accs) {
                            a.merge(b);
                        }
                    }
                }
                None => {
                    let i = self.insert(g.key, g.vals, g.origin);
                    if let Some(mine) = self.groups.get_mut(i) {
                        mine.accs = g.accs;
                    }
                }
            }
        }
    }

    pub(crate) fn finish(self, width: usize, ctx: &Ctx<'_>) -> Vec<Row> {
        let mut groups = self.groups;
        // Keys that compare equal (a number and a timestamp of the same value) fall back to
        // their hash key, so the order never depends on the map's.
        groups.sort_by(|a, b| {
            for (x, y) in a.vals.iter().zip(&b.vals) {
                let o = sort_cmp(x, y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.key.cmp(&b.key)
        });
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let mut row = Row::empty(width);
            for ((slot, _), v) in self.op.by.iter().zip(g.vals) {
                row.set(*slot, v);
            }
            let aggs: Vec<Value> = g.accs.into_iter().map(Acc::finish).collect();
            let actx = Ctx {
                now_secs: ctx.now_secs,
                aggs: &aggs,
            };
            for (slot, e) in &self.op.outputs {
                let v = eval(e, &row, &actx);
                row.set(*slot, v);
            }
            out.push(row);
        }
        out
    }
}
