//! Request and response members of the Logs Insights operations (StartQuery,
//! GetQueryResults, StopQuery, DescribeQueries, GetLogRecord, GetLogGroupFields), named as
//! in the botocore service model. Required inputs are `Option`s so a missing one gets AWS's
//! validation message; absent optional outputs are omitted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// StartQuery input. `startTime`/`endTime` are epoch **seconds**.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryRequest {
    /// `CWLI` (default), `SQL` or `PPL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_language: Option<String>,
    /// One group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Up to 50 groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_names: Option<Vec<String>>,
    /// Up to 50 names or ARNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifiers: Option<Vec<String>>,
    /// First second included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Last second included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// The query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
    /// Most rows returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// StartQuery output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryResponse {
    /// The new query's id.
    pub query_id: String,
}

/// Input naming one query (GetQueryResults, StopQuery).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdRequest {
    /// The query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
    /// Page token (GetQueryResults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 0–10,000 (GetQueryResults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<i64>,
}

/// One `{field, value}` of a result row.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultField {
    /// Column name.
    pub field: String,
    /// Rendered value.
    pub value: String,
}

/// Query statistics (all doubles).
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    /// Events that matched.
    pub records_matched: f64,
    /// Events read.
    pub records_scanned: f64,
    /// Events skipped by field indexes.
    pub estimated_records_skipped: f64,
    /// Bytes read.
    pub bytes_scanned: f64,
    /// Bytes skipped by field indexes.
    pub estimated_bytes_skipped: f64,
    /// Groups scanned.
    pub log_groups_scanned: f64,
}

/// GetQueryResults output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsResponse {
    /// `CWLI`.
    pub query_language: String,
    /// Rows.
    pub results: Vec<Vec<ResultField>>,
    /// Counters.
    pub statistics: QueryStatistics,
    /// Scheduled, Running, Complete, Failed, Cancelled, Timeout or Unknown.
    pub status: String,
    /// Next page, when more rows remain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// StopQuery output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StopQueryResponse {
    /// Whether the query was stopped.
    pub success: bool,
}

/// DescribeQueries input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesRequest {
    /// Only queries over this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Only queries with this status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Page size, 1–1,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Only queries in this language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_language: Option<String>,
}

/// A query as DescribeQueries lists it.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryInfo {
    /// `CWLI`.
    pub query_language: String,
    /// Id.
    pub query_id: String,
    /// The query text as submitted.
    pub query_string: String,
    /// Status.
    pub status: String,
    /// Submission time, epoch ms.
    pub create_time: i64,
    /// First group queried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Run time in ms, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_duration: Option<i64>,
    /// Bytes scanned, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<f64>,
}

/// DescribeQueries output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesResponse {
    /// Newest first.
    pub queries: Vec<QueryInfo>,
    /// Next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// GetLogRecord input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordRequest {
    /// An `@ptr` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_record_pointer: Option<String>,
    /// Unmask protected data (no data protection here: ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmask: Option<bool>,
}

/// GetLogRecord output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordResponse {
    /// Every field of the event.
    pub log_record: BTreeMap<String, String>,
}

/// GetLogGroupFields input. `time` is epoch **seconds**.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Centre of the sampled window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// Group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
}

/// A field and the share of sampled events that have it.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogGroupField {
    /// Field name.
    pub name: String,
    /// 0–100.
    pub percent: i64,
}

/// GetLogGroupFields output.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsResponse {
    /// Most common first.
    pub log_group_fields: Vec<LogGroupField>,
}
