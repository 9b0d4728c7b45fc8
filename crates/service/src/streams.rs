//! Log streams: create, delete, describe.

use lookout_api::shapes::{
    DescribeLogStreamsRequest, DescribeLogStreamsResponse, LogStream, LogStreamRequest,
};
use lookout_api::{ApiError, ErrorCode, Violations};
use lookout_storage::StreamRecord;

use crate::validate::{bounded, group_and_stream, one_group, stream_name};
use crate::{Service, now_ms, tokens};

impl Service {
    pub(crate) async fn create_log_stream(&self, req: LogStreamRequest) -> Result<(), ApiError> {
        let (group, stream) = group_and_stream(req.log_group_name, req.log_stream_name)?;
        let now = now_ms();
        self.blocking(move |s| s.create_stream(group.as_str(), &stream, now).map(|_| ()))
            .await
    }

    pub(crate) async fn delete_log_stream(&self, req: LogStreamRequest) -> Result<(), ApiError> {
        let (group, stream) = group_and_stream(req.log_group_name, req.log_stream_name)?;
        let g = {
            let n = group.as_str().to_string();
            self.blocking(move |s| s.group(&n)).await?
        };
        if g.deletion_protection {
            return Err(ApiError::new(
                ErrorCode::Validation,
                "Log group deletion protection is enabled. Disable deletion protection before deleting log streams.",
            ));
        }
        self.blocking(move |s| s.delete_stream(group.as_str(), stream.as_str()))
            .await
    }

    pub(crate) async fn describe_log_streams(
        &self,
        req: DescribeLogStreamsRequest,
    ) -> Result<DescribeLogStreamsResponse, ApiError> {
        let group = one_group(req.log_group_name, req.log_group_identifier)?;
        let limit = bounded(req.limit, "limit", 1, 50, 50)? as usize;
        let by_time = match req.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                let mut v = Violations::new();
                v.add(
                    "orderBy",
                    Some(other),
                    "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
                );
                return Err(v
                    .finish()
                    .err()
                    .unwrap_or_else(|| ApiError::invalid("invalid orderBy")));
            }
        };
        if by_time && req.log_stream_name_prefix.is_some() {
            return Err(ApiError::invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        if let Some(p) = &req.log_stream_name_prefix {
            stream_name(p, "logStreamNamePrefix")?;
        }
        let descending = req.descending.unwrap_or(false);
        let tag = match (by_time, descending) {
            (false, false) => "n",
            (false, true) => "nd",
            (true, false) => "t",
            (true, true) => "td",
        };
        let after = match &req.next_token {
            Some(t) => Some(tokens::decode_name(tag, t)?),
            None => None,
        };
        let prefix = req.log_stream_name_prefix.clone();
        let gname = group.as_str().to_string();
        let (page, more) = if tag == "n" {
            // Name order ascending is the catalogue's own order: page straight through it.
            let (mut rows, after) = (Vec::new(), after);
            let rows_more = self
                .blocking(move |s| {
                    let got =
                        s.list_streams(&gname, prefix.as_deref(), after.as_deref(), limit + 1)?;
                    Ok(got)
                })
                .await?;
            let more = rows_more.len() > limit;
            rows.extend(rows_more.into_iter().take(limit));
            (rows, more)
        } else {
            // Other orders sort the whole group; the token is the sort key of the last row.
            let mut all = self
                .blocking(move |s| {
                    let mut out = Vec::new();
                    let mut cursor: Option<String> = None;
                    loop {
                        let page =
                            s.list_streams(&gname, prefix.as_deref(), cursor.as_deref(), 1000)?;
                        let done = page.len() < 1000;
                        cursor = page.last().map(|r| r.name.clone());
                        out.extend(page);
                        if done {
                            return Ok(out);
                        }
                    }
                })
                .await?;
            let key = |r: &StreamRecord| sort_key(r, by_time);
            all.sort_by_cached_key(key);
            if descending {
                all.reverse();
            }
            let start = match &after {
                Some(pos) => all
                    .iter()
                    .position(|r| &key(r) == pos)
                    .map(|i| i + 1)
                    .unwrap_or_else(|| {
                        // The row was deleted since: resume at the first row past its key.
                        all.iter()
                            .position(|r| {
                                if descending {
                                    &key(r) < pos
                                } else {
                                    &key(r) > pos
                                }
                            })
                            .unwrap_or(all.len())
                    }),
                None => 0,
            };
            let rest: Vec<StreamRecord> = all.into_iter().skip(start).collect();
            let more = rest.len() > limit;
            (rest.into_iter().take(limit).collect(), more)
        };
        let next_token = if more {
            page.last()
                .map(|r| tokens::encode_name(tag, &sort_key(r, by_time)))
        } else {
            None
        };
        let log_streams = page
            .into_iter()
            .map(|r| LogStream {
                arn: format!("{}:log-stream:{}", self.group_arn(group.as_str()), r.name),
                creation_time: r.creation_time,
                first_event_timestamp: r.first_event,
                last_event_timestamp: r.last_event,
                last_ingestion_time: r.last_ingestion,
                upload_sequence_token: Some(format!(
                    "{:056}",
                    r.last_ingestion.unwrap_or(r.creation_time).max(0)
                )),
                stored_bytes: 0,
                log_stream_name: r.name,
            })
            .collect();
        Ok(DescribeLogStreamsResponse {
            log_streams,
            next_token,
        })
    }
}

/// The sort key as a string that orders like the key: streams without events sort as
/// oldest, ties by name.
fn sort_key(r: &StreamRecord, by_time: bool) -> String {
    if by_time {
        let t = (i128::from(r.last_event.unwrap_or(i64::MIN)) - i128::from(i64::MIN)) as u64;
        format!("{t:020}:{}", r.name)
    } else {
        r.name.clone()
    }
}
