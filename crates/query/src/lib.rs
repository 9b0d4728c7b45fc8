//! Logs Insights execution for Lookout: binds the syntax tree of `lookout-insights`, plans
//! what the storage scan can check itself, and runs the query over [`Store::scan`] batches.
//!
//! - [`compile`] parses and binds a query into a [`CompiledQuery`], or fails with an
//!   [`Error`] whose [`Error::kind`] picks the wire code (`MalformedQueryException` for
//!   unknown functions, wrong argument counts, aggregations outside `stats`, a `stats`
//!   without aggregation, and every parser error) and whose [`Error::compile_error`] gives the
//!   `queryCompileError` location.
//! - [`CompiledQuery::run`] executes over a [`Request`] (groups, inclusive time window, row
//!   limit) and returns an [`Output`]: rows of `(field, value)` strings in GetQueryResults
//!   order with `@ptr` last, and [`Statistics`].
//! - [`log_record`] resolves an `@ptr` (GetLogRecord), [`log_group_fields`] samples field
//!   presence (GetLogGroupFields), [`resolve_source`] turns `SOURCE` into group names.
//!
//! - [`CompiledQuery::run_with_progress`] also hands out partial results (rows and counters
//!   over the events scanned so far) while it runs, for GetQueryResults while `Running`.
//!
//! Execution: leading `filter` equalities on `@logStream`, `@requestId` and JSON fields and
//! `@message like "text"` become storage predicates (block pruning); a JSON string equality
//! also skips, in every group kind, each event whose message has neither the literal nor a
//! backslash before decoding it; `filterIndex` on a field without a (default) index scans no
//! group; rows are built with only
//! the fields the query reads before defining them (no message is decoded for
//! `stats count(*) by bin(5m)`); row-wise commands stream; `stats` keeps one accumulator
//! set per group and `sort`/`limit` keep the top k rows, so memory is bounded by the
//! result, not the scan.
//!
//! ```
//! use lookout_model::{InputEvent, LogGroupName, LogStreamName};
//! use lookout_query::{compile, Request};
//! use lookout_storage::{Store, StoreConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(StoreConfig::new(dir.path()))?;
//! let group = LogGroupName::new("/app/api")?;
//! store.create_group(&group, Default::default(), 0)?;
//! store.create_stream("/app/api", &LogStreamName::new("s")?, 0)?;
//! let events = [r#"{"level":"ERROR"}"#, r#"{"level":"INFO"}"#, r#"{"level":"ERROR"}"#];
//! let events = events.iter().enumerate().map(|(i, m)| InputEvent {
//!     timestamp: 1_000 + i as i64, message: m.to_string(),
//! }).collect();
//! store.append("/app/api", "s", events)?;
//!
//! let q = compile("stats count(*) as n by level | sort n desc")?;
//! let req = Request {
//!     groups: vec!["/app/api".into()], start_ms: 0, end_ms: 10_000, limit: None,
//!     account: "123456789012".into(), now_secs: 0,
//! };
//! let out = q.run(&store, &req, &|| false)?;
//! assert_eq!(out.rows[0], [("level".to_string(), "ERROR".to_string()), ("n".into(), "2".into())]);
//! assert_eq!(out.statistics.records_scanned, 3.0);
//!
//! let err = compile("fields nosuch(@message)").unwrap_err();
//! assert_eq!(err.kind(), lookout_query::ErrorKind::Malformed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod agg;
mod bind;
mod error;
mod eval;
mod exec;
mod explain;
mod func;
mod fx;
mod json;
mod json_fast;
mod pattern;
mod plan;
mod ptr;
mod record;
mod row;
mod stats;
mod time;
mod value;

pub use error::{Error, ErrorKind};
pub use exec::{DEFAULT_ROWS, MAX_BUFFERED_ROWS, Output, Progress, Request, Statistics};
pub use ptr::{EventPointer, decode as decode_pointer};
pub use record::{
    FIELD_SAMPLE, MAX_SOURCE_GROUPS, SourceSelection, log_group_fields, log_record, resolve_source,
};

use lookout_storage::Store;

/// A parsed and bound query.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    plan: bind::Plan,
}

/// Parses and binds `query`.
pub fn compile(query: &str) -> Result<CompiledQuery, Error> {
    let parsed = lookout_insights::parse(query)?;
    let plan = bind::bind(&parsed)?;
    Ok(CompiledQuery { plan })
}

impl CompiledQuery {
    /// The query's `SOURCE`, when it starts with one.
    pub fn source(&self) -> Option<&lookout_insights::Source> {
        self.plan.source.as_ref()
    }

    /// The plan as text: scan streams and pushed-down predicates, the fields rows carry, the
    /// steps (the first blocking one marked `collect:`) and the output columns.
    pub fn explain(&self) -> String {
        explain::explain(&self.plan)
    }

    /// Output columns in order (before `@ptr`).
    pub fn columns(&self) -> Vec<&str> {
        self.plan.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Runs the query; `cancel` is polled between storage batches and stops the run with
    /// [`Error::Cancelled`].
    pub fn run(
        &self,
        store: &Store,
        req: &Request,
        cancel: &dyn Fn() -> bool,
    ) -> Result<Output, Error> {
        if req.end_ms < req.start_ms {
            return Err(Error::InvalidParameter(
                "the end time of the query is before its start time".to_owned(),
            ));
        }
        exec::run(store, &self.plan, req, cancel, None)
    }

    /// [`CompiledQuery::run`], also handing [`Progress::sink`] partial results at most every
    /// [`Progress::every`] while it scans (from the calling thread, between storage batches).
    pub fn run_with_progress(
        &self,
        store: &Store,
        req: &Request,
        cancel: &dyn Fn() -> bool,
        progress: Progress<'_>,
    ) -> Result<Output, Error> {
        if req.end_ms < req.start_ms {
            return Err(Error::InvalidParameter(
                "the end time of the query is before its start time".to_owned(),
            ));
        }
        exec::run(store, &self.plan, req, cancel, Some(progress))
    }
}
