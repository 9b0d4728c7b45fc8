//! Logs Insights: StartQuery runs a query in the background (tokio's blocking pool) and
//! GetQueryResults reports its status and rows; StopQuery, DescribeQueries, GetLogRecord and
//! GetLogGroupFields complete the set. Queries live in memory for [`RETENTION_MS`].

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lookout_api::queries::{
    DescribeQueriesRequest, DescribeQueriesResponse, GetLogGroupFieldsRequest,
    GetLogGroupFieldsResponse, GetLogRecordRequest, GetLogRecordResponse, GetQueryResultsResponse,
    LogGroupField, QueryIdRequest, QueryInfo, QueryStatistics, ResultField, StartQueryRequest,
    StartQueryResponse, StopQueryResponse,
};
use lookout_api::{ApiError, ErrorCode};
use lookout_query::{Output, Request};

use crate::validate::{bounded, group_from_identifier, group_name, one_group, required};
use crate::{Service, now_ms};

/// Queries scheduled or running at once per account (spec §11.7).
pub const MAX_CONCURRENT_QUERIES: usize = 100;
/// A query still running after this long stops with status `Timeout` (spec §11.1).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How often a running query refreshes the partial results GetQueryResults shows.
const PARTIAL_EVERY: Duration = Duration::from_millis(500);
/// Finished queries and their results are kept this long (spec §11.2).
pub const RETENTION_MS: i64 = 7 * 86_400_000;
/// Most finished queries kept regardless of age, so memory stays bounded.
const MAX_KEPT: usize = 1_000;
/// Groups per StartQuery.
const MAX_GROUPS: usize = 50;
/// Rows per GetQueryResults page.
const MAX_PAGE: i64 = 10_000;
/// The largest StartQuery `limit` (spec §6.9).
const MAX_LIMIT: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Running => "Running",
            Status::Complete => "Complete",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
            Status::Timeout => "Timeout",
        }
    }

    fn active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Running)
    }
}

#[derive(Debug)]
struct Entry {
    query_string: String,
    groups: Vec<String>,
    create_time: i64,
    status: Status,
    duration_ms: Option<i64>,
    output: Option<Output>,
    cancel: Arc<AtomicBool>,
}

/// The queries of one service.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Mutex<HashMap<String, Entry>>,
    counter: AtomicU64,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A UUID-shaped id, unique within the process.
    fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_i64(now_ms());
        let a = h.finish();
        h.write_u64(a);
        let b = h.finish();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// Keeps the partial results of a running query for GetQueryResults.
    fn partial(&self, id: &str, output: Output) {
        if let Some(e) = self.lock().get_mut(id)
            && e.status == Status::Running
        {
            e.output = Some(output);
        }
    }

    fn finish(&self, id: &str, status: Status, output: Option<Output>, started: Instant) {
        let mut entries = self.lock();
        if let Some(e) = entries.get_mut(id) {
            if e.status == Status::Cancelled {
                return;
            }
            e.status = status;
            e.output = output;
            e.duration_ms = Some(started.elapsed().as_millis() as i64);
        }
    }

    /// Drops finished queries past retention, and the oldest finished ones beyond the cap.
    fn prune(entries: &mut HashMap<String, Entry>, now: i64) {
        entries.retain(|_, e| e.status.active() || now - e.create_time < RETENTION_MS);
        if entries.len() > MAX_KEPT {
            let mut finished: Vec<(i64, String)> = entries
                .iter()
                .filter(|(_, e)| !e.status.active())
                .map(|(id, e)| (e.create_time, id.clone()))
                .collect();
            finished.sort();
            let excess = entries.len() - MAX_KEPT;
            for (_, id) in finished.into_iter().take(excess) {
                entries.remove(&id);
            }
        }
    }
}

fn query_error(e: lookout_query::Error, query: &str, account: &str) -> ApiError {
    match e.kind() {
        lookout_query::ErrorKind::Malformed => {
            let mut err = ApiError::new(ErrorCode::MalformedQuery, e.to_string());
            if let Some(ce) = e.compile_error(query) {
                err.message = ce.message.clone();
                let mut extra = serde_json::Map::new();
                extra.insert(
                    "queryCompileError".into(),
                    serde_json::json!({
                        "location": {
                            "startCharOffset": ce.start_char_offset,
                            "endCharOffset": ce.end_char_offset,
                        },
                        "message": ce.message,
                    }),
                );
                err.extra = Some(extra);
            }
            err
        }
        lookout_query::ErrorKind::InvalidParameter => ApiError::invalid(e.to_string()),
        lookout_query::ErrorKind::NotFound => match e {
            lookout_query::Error::GroupNotFound(g) => not_found(&g, account),
            _ => ApiError::group_not_found(),
        },
        lookout_query::ErrorKind::Cancelled | lookout_query::ErrorKind::Internal => {
            tracing::error!(error = %e, "query fault");
            ApiError::internal()
        }
    }
}

fn not_found(group: &str, account: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("Log group '{group}' does not exist for account ID '{account}'"),
    )
}

fn unknown_query() -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound, "Query does not exist.")
}

fn page_token(token: Option<String>) -> Result<usize, ApiError> {
    match token {
        None => Ok(0),
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid("The specified nextToken is not valid.")),
    }
}

impl Service {
    pub(crate) async fn start_query(
        &self,
        req: StartQueryRequest,
    ) -> Result<StartQueryResponse, ApiError> {
        if let Some(lang) = &req.query_language
            && lang != "CWLI"
        {
            return Err(ApiError::invalid(format!(
                "query language {lang} is not supported; use CWLI"
            )));
        }
        let query = required(req.query_string, "queryString")?;
        let start = required(req.start_time, "startTime")?;
        let end = required(req.end_time, "endTime")?;
        let limit = req
            .limit
            .map(|l| bounded(Some(l), "limit", 1, MAX_LIMIT, l))
            .transpose()?;
        let account = self.cfg.account.clone();
        let compiled =
            lookout_query::compile(&query).map_err(|e| query_error(e, &query, &account))?;
        let named = [
            req.log_group_name.is_some(),
            req.log_group_names.is_some(),
            req.log_group_identifiers.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        let (mut start_ms, mut end_ms) = (
            start.saturating_mul(1000),
            end.saturating_mul(1000).saturating_add(999),
        );
        let groups: Vec<String> = match compiled.source() {
            Some(source) => {
                if named > 0 {
                    return Err(ApiError::invalid(
                        "a query that starts with SOURCE cannot also name log groups",
                    ));
                }
                let source = source.clone();
                let now = now_ms();
                let (groups, range) = self
                    .blocking_query(
                        move |s| lookout_query::resolve_source(s, &source, now),
                        &query,
                    )
                    .await?;
                if let Some((s, e)) = range {
                    (start_ms, end_ms) = (s, e);
                }
                groups
            }
            None => {
                if named != 1 {
                    return Err(ApiError::invalid(
                        "exactly one of logGroupName, logGroupNames and logGroupIdentifiers must be given",
                    ));
                }
                let mut out = Vec::new();
                if let Some(g) = req.log_group_name {
                    out.push(group_name(&g, "logGroupName")?.as_str().to_owned());
                }
                for g in req.log_group_names.unwrap_or_default() {
                    out.push(group_name(&g, "logGroupNames")?.as_str().to_owned());
                }
                for id in req.log_group_identifiers.unwrap_or_default() {
                    if id.ends_with('*') {
                        return Err(ApiError::invalid(
                            "logGroupIdentifiers must not end with '*'",
                        ));
                    }
                    out.push(group_from_identifier(&id)?.as_str().to_owned());
                }
                if out.is_empty() || out.len() > MAX_GROUPS {
                    return Err(ApiError::invalid(format!(
                        "a query needs 1 to {MAX_GROUPS} log groups, found {}",
                        out.len()
                    )));
                }
                out.dedup();
                out
            }
        };
        if end_ms < start_ms {
            return Err(ApiError::invalid(
                "endTime must be greater than or equal to startTime",
            ));
        }
        // Unknown groups fail StartQuery itself, as AWS does.
        for g in &groups {
            let name = g.clone();
            let exists = self.blocking(move |s| s.group(&name).map(|_| ())).await;
            if exists.is_err() {
                return Err(not_found(g, &account));
            }
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let id = self.queries.new_id();
        {
            let mut entries = self.queries.lock();
            Registry::prune(&mut entries, now_ms());
            let active = entries.values().filter(|e| e.status.active()).count();
            if active >= MAX_CONCURRENT_QUERIES {
                return Err(ApiError::new(
                    ErrorCode::LimitExceeded,
                    "Account max number of concurrent queries reached",
                ));
            }
            entries.insert(
                id.clone(),
                Entry {
                    query_string: query.clone(),
                    groups: groups.clone(),
                    create_time: now_ms(),
                    status: Status::Scheduled,
                    duration_ms: None,
                    output: None,
                    cancel: cancel.clone(),
                },
            );
        }
        let request = Request {
            groups,
            start_ms,
            end_ms,
            limit: limit.map(|l| l as usize),
            account,
            now_secs: now_ms() / 1000,
        };
        let store = self.store.clone();
        let registry = self.queries.clone();
        let qid = id.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let deadline = started + QUERY_TIMEOUT;
            if let Some(e) = registry.lock().get_mut(&qid)
                && e.status == Status::Scheduled
            {
                e.status = Status::Running;
            }
            let stop = || cancel.load(Ordering::Relaxed) || Instant::now() > deadline;
            let progress = lookout_query::Progress {
                every: PARTIAL_EVERY,
                sink: &mut |out| registry.partial(&qid, out),
            };
            match compiled.run_with_progress(&store, &request, &stop, progress) {
                Ok(out) => registry.finish(&qid, Status::Complete, Some(out), started),
                Err(lookout_query::Error::Cancelled) if Instant::now() > deadline => {
                    registry.finish(&qid, Status::Timeout, None, started)
                }
                Err(lookout_query::Error::Cancelled) => {
                    registry.finish(&qid, Status::Cancelled, None, started)
                }
                Err(e) => {
                    tracing::warn!(query_id = %qid, error = %e, "query failed");
                    registry.finish(&qid, Status::Failed, None, started)
                }
            }
        });
        Ok(StartQueryResponse { query_id: id })
    }

    /// Runs blocking query-crate work, mapping its errors for `query`.
    async fn blocking_query<T, F>(&self, f: F, query: &str) -> Result<T, ApiError>
    where
        F: FnOnce(&lookout_storage::Store) -> Result<T, lookout_query::Error> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => r.map_err(|e| query_error(e, query, &self.cfg.account)),
            Err(e) => {
                tracing::error!(error = %e, "query task failed");
                Err(ApiError::internal())
            }
        }
    }

    pub(crate) fn get_query_results(
        &self,
        req: QueryIdRequest,
    ) -> Result<GetQueryResultsResponse, ApiError> {
        let id = required(req.query_id, "queryId")?;
        let from = page_token(req.next_token)?;
        let size = bounded(req.max_items, "maxItems", 0, MAX_PAGE, MAX_PAGE)?;
        let size = if size == 0 { MAX_PAGE } else { size } as usize;
        let entries = self.queries.lock();
        let e = entries.get(&id).ok_or_else(unknown_query)?;
        let mut resp = GetQueryResultsResponse {
            query_language: "CWLI".into(),
            status: e.status.as_str().into(),
            ..Default::default()
        };
        if let Some(out) = &e.output {
            let s = out.statistics;
            resp.statistics = QueryStatistics {
                records_matched: s.records_matched,
                records_scanned: s.records_scanned,
                bytes_scanned: s.bytes_scanned,
                log_groups_scanned: s.log_groups_scanned,
                ..Default::default()
            };
            let end = from.saturating_add(size).min(out.rows.len());
            resp.results = out
                .rows
                .get(from.min(end)..end)
                .unwrap_or_default()
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|(f, v)| ResultField {
                            field: f.clone(),
                            value: v.clone(),
                        })
                        .collect()
                })
                .collect();
            if end < out.rows.len() {
                resp.next_token = Some(end.to_string());
            }
        }
        Ok(resp)
    }

    pub(crate) fn stop_query(&self, req: QueryIdRequest) -> Result<StopQueryResponse, ApiError> {
        let id = required(req.query_id, "queryId")?;
        let mut entries = self.queries.lock();
        let e = entries.get_mut(&id).ok_or_else(unknown_query)?;
        if !e.status.active() {
            return Err(ApiError::invalid(format!(
                "Query {id} is not running; its status is {}",
                e.status.as_str()
            )));
        }
        e.cancel.store(true, Ordering::Relaxed);
        e.status = Status::Cancelled;
        Ok(StopQueryResponse { success: true })
    }

    pub(crate) fn describe_queries(
        &self,
        req: DescribeQueriesRequest,
    ) -> Result<DescribeQueriesResponse, ApiError> {
        let max = bounded(req.max_results, "maxResults", 1, 1000, 1000)? as usize;
        let from = page_token(req.next_token)?;
        if let Some(lang) = &req.query_language
            && lang != "CWLI"
        {
            return Ok(DescribeQueriesResponse::default());
        }
        let group = match req.log_group_name {
            Some(g) => Some(group_name(&g, "logGroupName")?.as_str().to_owned()),
            None => None,
        };
        let entries = self.queries.lock();
        let mut list: Vec<(&String, &Entry)> = entries
            .iter()
            .filter(|(_, e)| group.as_ref().is_none_or(|g| e.groups.contains(g)))
            .filter(|(_, e)| req.status.as_deref().is_none_or(|s| s == e.status.as_str()))
            .collect();
        list.sort_by(|a, b| b.1.create_time.cmp(&a.1.create_time).then(a.0.cmp(b.0)));
        let total = list.len();
        let queries = list
            .into_iter()
            .skip(from)
            .take(max)
            .map(|(id, e)| QueryInfo {
                query_language: "CWLI".into(),
                query_id: id.clone(),
                query_string: e.query_string.clone(),
                status: e.status.as_str().into(),
                create_time: e.create_time,
                log_group_name: e.groups.first().cloned(),
                query_duration: e.duration_ms,
                bytes_scanned: e.output.as_ref().map(|o| o.statistics.bytes_scanned),
            })
            .collect();
        let next = from.saturating_add(max);
        Ok(DescribeQueriesResponse {
            queries,
            next_token: (next < total).then(|| next.to_string()),
        })
    }

    pub(crate) async fn get_log_record(
        &self,
        req: GetLogRecordRequest,
    ) -> Result<GetLogRecordResponse, ApiError> {
        let ptr = required(req.log_record_pointer, "logRecordPointer")?;
        let account = self.cfg.account.clone();
        let q = ptr.clone();
        let fields = self
            .blocking_query(move |s| lookout_query::log_record(s, &ptr, &account), &q)
            .await?;
        Ok(GetLogRecordResponse {
            log_record: fields.into_iter().collect::<BTreeMap<_, _>>(),
        })
    }

    pub(crate) async fn get_log_group_fields(
        &self,
        req: GetLogGroupFieldsRequest,
    ) -> Result<GetLogGroupFieldsResponse, ApiError> {
        let group = one_group(req.log_group_name, req.log_group_identifier)?;
        // The sampled window: time ± 8 minutes, or the last 15 minutes.
        let (start, end) = match req.time {
            Some(t) => {
                let ms = t.saturating_mul(1000);
                (ms - 8 * 60_000, ms + 8 * 60_000)
            }
            None => {
                let now = now_ms();
                (now - 15 * 60_000, now + 1)
            }
        };
        let name = group.as_str().to_owned();
        let mut fields = self
            .blocking_query(
                move |s| lookout_query::log_group_fields(s, &name, Some(start), Some(end)),
                "",
            )
            .await?;
        fields.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(GetLogGroupFieldsResponse {
            log_group_fields: fields
                .into_iter()
                .map(|(name, percent)| LogGroupField {
                    name,
                    percent: i64::from(percent),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::{Service, ServiceConfig};

    async fn call(svc: &Service, op: &str, body: Value) -> Result<Value, lookout_api::ApiError> {
        let out = svc.invoke(op, body.to_string().as_bytes()).await?;
        Ok(out.map_or(Value::Null, |b| serde_json::from_slice(&b).unwrap()))
    }

    async fn results(svc: &Service, id: &str) -> Value {
        for _ in 0..500 {
            let r = call(svc, "GetQueryResults", json!({ "queryId": id }))
                .await
                .unwrap();
            if r["status"] != "Running" && r["status"] != "Scheduled" {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("query {id} did not finish");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn query_lifecycle_through_invoke() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServiceConfig::default();
        cfg.limits.max_event_age_ms = i64::MAX;
        let svc = Service::open(dir.path(), cfg).unwrap();
        call(&svc, "CreateLogGroup", json!({"logGroupName": "/app/q"}))
            .await
            .unwrap();
        call(
            &svc,
            "CreateLogStream",
            json!({"logGroupName": "/app/q", "logStreamName": "s"}),
        )
        .await
        .unwrap();
        let events: Vec<Value> = (0..5)
            .map(|i| json!({"timestamp": 1_000_000 + i, "message": format!("{{\"n\":{i}}}")}))
            .collect();
        call(
            &svc,
            "PutLogEvents",
            json!({"logGroupName": "/app/q", "logStreamName": "s", "logEvents": events}),
        )
        .await
        .unwrap();

        let start = json!({"logGroupName": "/app/q", "startTime": 0, "endTime": 2000,
            "queryString": "fields n | filter n >= 3 | sort n desc"});
        let id = call(&svc, "StartQuery", start).await.unwrap()["queryId"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = results(&svc, &id).await;
        assert_eq!(r["status"], "Complete");
        assert_eq!(r["results"].as_array().unwrap().len(), 2);
        assert_eq!(r["results"][0][0], json!({"field": "n", "value": "4"}));
        assert_eq!(r["statistics"]["recordsScanned"], 5.0);
        let ptr = r["results"][0][1]["value"].as_str().unwrap();
        let rec = call(&svc, "GetLogRecord", json!({"logRecordPointer": ptr}))
            .await
            .unwrap();
        assert_eq!(rec["logRecord"]["@message"], "{\"n\":4}");
        assert_eq!(rec["logRecord"]["@timestamp"], "1000004");

        let page = call(
            &svc,
            "GetQueryResults",
            json!({"queryId": id, "maxItems": 1}),
        )
        .await
        .unwrap();
        assert_eq!(page["nextToken"], "1");
        let stop = call(&svc, "StopQuery", json!({"queryId": id}))
            .await
            .unwrap_err();
        assert_eq!(stop.code.as_str(), "InvalidParameterException");
        let listed = call(&svc, "DescribeQueries", json!({})).await.unwrap();
        assert_eq!(listed["queries"][0]["queryId"], id.as_str());
        assert_eq!(listed["queries"][0]["status"], "Complete");
        let fields = call(
            &svc,
            "GetLogGroupFields",
            json!({"logGroupName": "/app/q", "time": 1000}),
        )
        .await
        .unwrap();
        assert!(
            fields["logGroupFields"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "n", "percent": 100}))
        );
    }

    /// While a query runs, GetQueryResults shows its latest partial results and counters;
    /// once it has ended, snapshots no longer replace the results.
    #[tokio::test]
    async fn partial_results_while_running() {
        let dir = tempfile::tempdir().unwrap();
        let svc = Service::open(dir.path(), ServiceConfig::default()).unwrap();
        let id = "00000000-0000-4000-a000-000000000000".to_owned();
        svc.queries.lock().insert(
            id.clone(),
            super::Entry {
                query_string: "stats count(*) as n".into(),
                groups: vec!["/app/q".into()],
                create_time: crate::now_ms(),
                status: super::Status::Running,
                duration_ms: None,
                output: None,
                cancel: Default::default(),
            },
        );
        let empty = call(&svc, "GetQueryResults", json!({ "queryId": id }))
            .await
            .unwrap();
        assert_eq!(empty["status"], "Running");
        assert_eq!(empty["results"], json!([]));
        let partial = |n: &str, scanned: f64| lookout_query::Output {
            rows: vec![vec![("n".to_owned(), n.to_owned())]],
            statistics: lookout_query::Statistics {
                records_matched: scanned,
                records_scanned: scanned,
                bytes_scanned: 30.0 * scanned,
                log_groups_scanned: 1.0,
            },
        };
        svc.queries.partial(&id, partial("7", 7.0));
        let r = call(&svc, "GetQueryResults", json!({ "queryId": id }))
            .await
            .unwrap();
        assert_eq!(r["status"], "Running");
        assert_eq!(r["results"], json!([[{"field": "n", "value": "7"}]]));
        assert_eq!(r["statistics"]["recordsScanned"], 7.0);
        assert_eq!(r["statistics"]["bytesScanned"], 210.0);
        svc.queries.finish(
            &id,
            super::Status::Complete,
            Some(partial("9", 9.0)),
            std::time::Instant::now(),
        );
        svc.queries.partial(&id, partial("8", 8.0));
        let r = call(&svc, "GetQueryResults", json!({ "queryId": id }))
            .await
            .unwrap();
        assert_eq!(r["status"], "Complete");
        assert_eq!(r["results"], json!([[{"field": "n", "value": "9"}]]));
    }

    #[tokio::test]
    async fn bad_queries_and_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let svc = Service::open(dir.path(), ServiceConfig::default()).unwrap();
        call(&svc, "CreateLogGroup", json!({"logGroupName": "/app/q"}))
            .await
            .unwrap();
        let base = |q: &str| json!({"logGroupName": "/app/q", "startTime": 0, "endTime": 1, "queryString": q});
        let e = call(
            &svc,
            "StartQuery",
            base("fields @timestamp | explode @message"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code.as_str(), "MalformedQueryException");
        let body: Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(body["queryCompileError"]["location"]["startCharOffset"], 20);
        let e = call(&svc, "StartQuery", base("fields nosuch(@message)"))
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "MalformedQueryException");
        let mut missing = base("fields @message");
        missing["logGroupName"] = json!("/app/none");
        let e = call(&svc, "StartQuery", missing).await.unwrap_err();
        assert_eq!(e.code.as_str(), "ResourceNotFoundException");
        let mut both = base("fields @message");
        both["logGroupNames"] = json!(["/app/q"]);
        let e = call(&svc, "StartQuery", both).await.unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidParameterException");
        let e = call(&svc, "GetQueryResults", json!({"queryId": "nope"}))
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "ResourceNotFoundException");
        let e = call(&svc, "GetLogRecord", json!({"logRecordPointer": "garbage"}))
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidParameterException");
    }
}
