//! Request and response members of the operations Lookout serves, named as in the botocore
//! service model (`logs/2014-03-28`). Required members are `Option`s here so that a missing
//! one produces AWS's validation message instead of a deserialization error; absent
//! optional output members are omitted, never `null`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Tags of a resource.
pub type Tags = BTreeMap<String, String>;

/// CreateLogGroup input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// KMS key ARN (stored and echoed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Initial tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// STANDARD, INFREQUENT_ACCESS or DELIVERY.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// Deletion protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
}

/// Input naming one log group (DeleteLogGroup, DeleteRetentionPolicy, ListTagsLogGroup).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
}

/// DescribeLogGroups input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsRequest {
    /// Name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name_prefix: Option<String>,
    /// Case-sensitive substring of the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name_pattern: Option<String>,
    /// Names or ARNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifiers: Option<Vec<String>>,
    /// Group class filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 1–50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// A log group as DescribeLogGroups returns it.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogGroup {
    /// Name.
    pub log_group_name: String,
    /// Creation time, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    /// Retention policy; absent means never expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i64>,
    /// Number of metric filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_filter_count: Option<i64>,
    /// ARN with the trailing `:*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Stored bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<i64>,
    /// KMS key ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Group class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    /// ARN without the trailing `:*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
    /// Deletion protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
}

/// DescribeLogGroups output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsResponse {
    /// One page of groups in name order.
    pub log_groups: Vec<LogGroup>,
    /// Present iff more pages follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// CreateLogStream and DeleteLogStream input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Stream name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
}

/// DescribeLogStreams input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsRequest {
    /// Group name (or `log_group_identifier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// Stream name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name_prefix: Option<String>,
    /// `LogStreamName` (default) or `LastEventTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
    /// Reverse order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descending: Option<bool>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 1–50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// A log stream as DescribeLogStreams returns it.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogStream {
    /// Name.
    pub log_stream_name: String,
    /// Creation time, epoch ms.
    pub creation_time: i64,
    /// Oldest event time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<i64>,
    /// Newest event time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<i64>,
    /// Latest ingestion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<i64>,
    /// Deprecated sequence token, still read by old shippers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_sequence_token: Option<String>,
    /// ARN.
    pub arn: String,
    /// Deprecated; AWS returns 0.
    pub stored_bytes: i64,
}

/// DescribeLogStreams output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsResponse {
    /// One page of streams.
    pub log_streams: Vec<LogStream>,
    /// Present iff more pages follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One event of a PutLogEvents batch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputLogEvent {
    /// Epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// The message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// PutLogEvents input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Stream name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// The batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_events: Option<Vec<InputLogEvent>>,
    /// Accepted and ignored, as AWS does now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_token: Option<String>,
}

/// Which events of a batch were refused for their time.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLogEventsInfo {
    /// First index of the too-new suffix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_new_log_event_start_index: Option<i64>,
    /// Last index of the too-old prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_old_log_event_end_index: Option<i64>,
    /// Last index of the prefix older than the retention.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_log_event_end_index: Option<i64>,
}

/// PutLogEvents output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsResponse {
    /// Deprecated, still read by old shippers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_sequence_token: Option<String>,
    /// Present only when something was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_log_events_info: Option<RejectedLogEventsInfo>,
}

/// GetLogEvents input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    /// Group name (or `log_group_identifier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// Stream name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// Inclusive, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Exclusive, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// A forward or backward token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 1–10,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Oldest first when there is no token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_from_head: Option<bool>,
}

/// An event as GetLogEvents returns it.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEvent {
    /// Epoch ms.
    pub timestamp: i64,
    /// The message.
    pub message: String,
    /// Epoch ms.
    pub ingestion_time: i64,
}

/// GetLogEvents output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsResponse {
    /// Oldest first.
    pub events: Vec<OutputLogEvent>,
    /// Always present.
    pub next_forward_token: String,
    /// Always present.
    pub next_backward_token: String,
}

/// FilterLogEvents input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsRequest {
    /// Group name (or `log_group_identifier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Group name or ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_identifier: Option<String>,
    /// 1–100 stream names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_names: Option<Vec<String>>,
    /// Stream name prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name_prefix: Option<String>,
    /// Inclusive, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Inclusive, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Filter pattern; empty matches everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
    /// Page token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 1–10,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Deprecated and ignored: results are always interleaved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interleaved: Option<bool>,
}

/// An event as FilterLogEvents returns it.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    /// Stream name.
    pub log_stream_name: String,
    /// Epoch ms.
    pub timestamp: i64,
    /// The message.
    pub message: String,
    /// Epoch ms.
    pub ingestion_time: i64,
    /// Stable 56-digit id.
    pub event_id: String,
}

/// A searched stream (deprecated member, always empty).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchedLogStream {
    /// Stream name.
    pub log_stream_name: String,
    /// Whether it was fully searched.
    pub searched_completely: bool,
}

/// FilterLogEvents output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsResponse {
    /// Matching events in time order across streams.
    pub events: Vec<FilteredLogEvent>,
    /// Deprecated: always empty.
    pub searched_log_streams: Vec<SearchedLogStream>,
    /// Present iff more results may exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// PutRetentionPolicy input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRetentionPolicyRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// One of the allowed day counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i64>,
}

/// TestMetricFilter input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterRequest {
    /// The pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
    /// 1–50 messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_event_messages: Option<Vec<String>>,
}

/// One matching message of TestMetricFilter.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterMatchRecord {
    /// 1-based index in the input.
    pub event_number: i64,
    /// The message.
    pub event_message: String,
    /// `$name` / `$.path` → extracted value.
    pub extracted_values: BTreeMap<String, String>,
}

/// TestMetricFilter output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterResponse {
    /// Matching messages.
    pub matches: Vec<MetricFilterMatchRecord>,
}

/// TagResource input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    /// Log group ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// Tags to add or overwrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

/// UntagResource input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest {
    /// Log group ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// Keys to remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_keys: Option<Vec<String>>,
}

/// ListTagsForResource input.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceRequest {
    /// Log group ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
}

/// TagLogGroup input (legacy).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagLogGroupRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Tags to add or overwrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

/// UntagLogGroup input (legacy).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagLogGroupRequest {
    /// Group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Keys to remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// ListTagsForResource output.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    /// The tags.
    pub tags: Tags,
}

/// ListTagsLogGroup output (legacy).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsLogGroupResponse {
    /// The tags.
    pub tags: Tags,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::*;

    /// Clients send these shapes; AWS rejects `null` members, so absent ones must be left out.
    #[test]
    fn absent_request_members_are_left_out() {
        fn empty<T: Default + Serialize>() -> String {
            serde_json::to_string(&T::default()).unwrap_or_default()
        }
        let bodies = [
            empty::<CreateLogGroupRequest>(),
            empty::<LogGroupRequest>(),
            empty::<DescribeLogGroupsRequest>(),
            empty::<LogStreamRequest>(),
            empty::<DescribeLogStreamsRequest>(),
            empty::<PutLogEventsRequest>(),
            empty::<InputLogEvent>(),
            empty::<GetLogEventsRequest>(),
            empty::<FilterLogEventsRequest>(),
            empty::<PutRetentionPolicyRequest>(),
            empty::<TestMetricFilterRequest>(),
            empty::<TagResourceRequest>(),
            empty::<UntagResourceRequest>(),
            empty::<ListTagsForResourceRequest>(),
            empty::<TagLogGroupRequest>(),
            empty::<UntagLogGroupRequest>(),
            empty::<StartQueryRequest>(),
            empty::<QueryIdRequest>(),
            empty::<DescribeQueriesRequest>(),
            empty::<GetLogRecordRequest>(),
            empty::<GetLogGroupFieldsRequest>(),
        ];
        for b in bodies {
            assert_eq!(b, "{}");
        }
    }
}
