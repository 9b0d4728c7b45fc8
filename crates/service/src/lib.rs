//! The CloudWatch Logs operations of Lookout as plain async Rust, over the storage engine.
//!
//! [`Service`] validates each request as AWS does (same error codes, AWS's messages), runs
//! it against a [`Store`] (blocking work goes to tokio's blocking pool), and shapes the
//! response. [`Service::invoke`] is the AWS JSON 1.1 operation table: an operation name and
//! a JSON body in, a JSON body (or none) out; the HTTP server only adds framing and
//! authentication.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use lookout_service::{Service, ServiceConfig};
//! use lookout_storage::{Store, StoreConfig};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Arc::new(Store::open(StoreConfig::new(dir.path())).unwrap());
//! let svc = Service::new(store, ServiceConfig::default());
//! svc.invoke("CreateLogGroup", br#"{"logGroupName":"/aws/lambda/orders"}"#).await.unwrap();
//! let out = svc.invoke("DescribeLogGroups", b"{}").await.unwrap().unwrap();
//! let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert_eq!(v["logGroups"][0]["logGroupName"], "/aws/lambda/orders");
//! # });
//! ```
#![deny(missing_docs)]

mod events;
mod groups;
mod queries;
mod streams;
mod tags;
mod tokens;
mod validate;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lookout_api::{ApiError, ErrorCode};
use lookout_model::Limits;
/// The store's write-path counters, for load tests over [`Service::store`].
pub use lookout_storage::WriteStats;
use lookout_storage::{StorageError, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Deployment settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Region in ARNs when the request does not name one.
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
    /// Limits; `limits.max_event_age_ms` of `i64::MAX` accepts events of any age.
    pub limits: Limits,
    /// Bytes of acknowledged events [`Service::open`] lets the memtable hold before it
    /// flushes them to segments (the store's `flush_bytes`; appends slow down past 1.5
    /// times this and wait at twice it).
    pub memtable_bytes: usize,
}

/// The server's memtable budget: a shipper's burst of several hundred MB (a million
/// CloudWatch-sized events) is absorbed while flushes run beside it instead of meeting
/// backpressure, for at most a few hundred MB of memory more than the store's default.
pub const DEFAULT_MEMTABLE_BYTES: usize = 256 << 20;

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            limits: Limits::default(),
            memtable_bytes: DEFAULT_MEMTABLE_BYTES,
        }
    }
}

/// The operations, over one store.
#[derive(Debug, Clone)]
pub struct Service {
    store: Arc<Store>,
    cfg: Arc<ServiceConfig>,
    queries: Arc<queries::Registry>,
}

/// Every operation [`Service::invoke`] serves.
pub const OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "TestMetricFilter",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "TagLogGroup",
    "UntagLogGroup",
    "ListTagsLogGroup",
    "StartQuery",
    "GetQueryResults",
    "StopQuery",
    "DescribeQueries",
    "GetLogRecord",
    "GetLogGroupFields",
];

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::Serialization,
            format!("the request body could not be read as the operation's input: {e}"),
        )
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Option<Vec<u8>>, ApiError> {
    serde_json::to_vec(value).map(Some).map_err(|e| {
        tracing::error!(error = %e, "response serialization failed");
        ApiError::internal()
    })
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Service {
    /// The service over `store`.
    pub fn new(store: Arc<Store>, cfg: ServiceConfig) -> Self {
        Self {
            store,
            cfg: Arc::new(cfg),
            queries: Arc::default(),
        }
    }

    /// Opens (or creates) the store in `dir` and the service over it.
    pub fn open(dir: &std::path::Path, cfg: ServiceConfig) -> Result<Self, StorageError> {
        let mut store_cfg = lookout_storage::StoreConfig::new(dir);
        store_cfg.flush_bytes = cfg.memtable_bytes;
        let store = Store::open(store_cfg)?;
        let report = store.recovery_report();
        if report.events_replayed > 0 || !report.problems.is_empty() {
            tracing::info!(
                events = report.events_replayed,
                batches = report.batches_replayed,
                problems = report.problems.len(),
                "recovered write-ahead log"
            );
        }
        for p in &report.problems {
            tracing::warn!(problem = %p, "recovery problem");
        }
        Ok(Self::new(Arc::new(store), cfg))
    }

    /// Persists what is in memory (the WAL already holds every acknowledged event; this
    /// makes the next start faster).
    pub async fn flush(&self) -> Result<(), ApiError> {
        self.blocking(|s| s.flush()).await
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs blocking storage work on tokio's blocking pool.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Store) -> Result<T, StorageError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => r.map_err(validate::storage),
            Err(e) => {
                tracing::error!(error = %e, "storage task failed");
                Err(ApiError::internal())
            }
        }
    }

    /// Runs `operation` on a JSON `body`: `Ok(None)` for operations with no output.
    pub async fn invoke(&self, operation: &str, body: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
        match operation {
            "CreateLogGroup" => self.create_log_group(decode(body)?).await.map(|()| None),
            "DeleteLogGroup" => self.delete_log_group(decode(body)?).await.map(|()| None),
            "DescribeLogGroups" => encode(&self.describe_log_groups(decode(body)?).await?),
            "CreateLogStream" => self.create_log_stream(decode(body)?).await.map(|()| None),
            "DeleteLogStream" => self.delete_log_stream(decode(body)?).await.map(|()| None),
            "DescribeLogStreams" => encode(&self.describe_log_streams(decode(body)?).await?),
            // The one large request: decoded by hand (messages unescaped in one pass).
            "PutLogEvents" => encode(
                &self
                    .put_log_events(lookout_api::decode_put_log_events(body)?)
                    .await?,
            ),
            "GetLogEvents" => encode(&self.get_log_events(decode(body)?).await?),
            "FilterLogEvents" => encode(&self.filter_log_events(decode(body)?).await?),
            "PutRetentionPolicy" => self
                .put_retention_policy(decode(body)?)
                .await
                .map(|()| None),
            "DeleteRetentionPolicy" => self
                .delete_retention_policy(decode(body)?)
                .await
                .map(|()| None),
            "TestMetricFilter" => encode(&self.test_metric_filter(decode(body)?)?),
            "TagResource" => self.tag_resource(decode(body)?).await.map(|()| None),
            "UntagResource" => self.untag_resource(decode(body)?).await.map(|()| None),
            "ListTagsForResource" => encode(&self.list_tags_for_resource(decode(body)?).await?),
            "TagLogGroup" => self.tag_log_group(decode(body)?).await.map(|()| None),
            "UntagLogGroup" => self.untag_log_group(decode(body)?).await.map(|()| None),
            "ListTagsLogGroup" => encode(&self.list_tags_log_group(decode(body)?).await?),
            "StartQuery" => encode(&self.start_query(decode(body)?).await?),
            "GetQueryResults" => encode(&self.get_query_results(decode(body)?)?),
            "StopQuery" => encode(&self.stop_query(decode(body)?)?),
            "DescribeQueries" => encode(&self.describe_queries(decode(body)?)?),
            "GetLogRecord" => encode(&self.get_log_record(decode(body)?).await?),
            "GetLogGroupFields" => encode(&self.get_log_group_fields(decode(body)?).await?),
            other => Err(ApiError::new(
                ErrorCode::UnknownOperation,
                format!("operation {other} is not supported by this server"),
            )),
        }
    }

    pub(crate) fn group_arn(&self, group: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{group}",
            self.cfg.region, self.cfg.account
        )
    }
}
