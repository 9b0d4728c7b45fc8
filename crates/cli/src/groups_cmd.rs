//! `lookout groups` and `lookout streams`: what is stored, as tables or JSON.

use std::io::{self, Write};

use anyhow::Result;
use clap::Args;
use lookout_api::shapes::{
    DescribeLogGroupsRequest, DescribeLogGroupsResponse, DescribeLogStreamsRequest,
    DescribeLogStreamsResponse, LogGroup, LogStream,
};

use crate::client::Client;
use crate::term::{Style, human_bytes, iso_millis, write_table};

pub(crate) const GROUPS_EXAMPLES: &str = "Examples:
  lookout groups
  lookout groups --prefix /aws/lambda/ --json | jq -r '.[].logGroupName'
  LOOKOUT_ENDPOINT=http://10.0.0.5:4588 lookout groups";

pub(crate) const STREAMS_EXAMPLES: &str = "Examples:
  lookout streams /aws/lambda/orders
  lookout streams /aws/lambda/orders --prefix 2026/11/29/ --json";

/// Options of `lookout groups`.
#[derive(Args, Debug)]
pub(crate) struct GroupsArgs {
    /// Only groups whose name starts with this.
    #[arg(long)]
    prefix: Option<String>,
    /// One JSON array of DescribeLogGroups entries instead of a table.
    #[arg(long)]
    json: bool,
}

/// Options of `lookout streams`.
#[derive(Args, Debug)]
pub(crate) struct StreamsArgs {
    /// The log group.
    group: String,
    /// Only streams whose name starts with this.
    #[arg(long)]
    prefix: Option<String>,
    /// One JSON array of DescribeLogStreams entries instead of a table.
    #[arg(long)]
    json: bool,
}

/// Every log group (following pages).
pub(crate) fn all_groups(client: &Client, prefix: Option<&str>) -> Result<Vec<LogGroup>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page: DescribeLogGroupsResponse = client.call(
            "DescribeLogGroups",
            &DescribeLogGroupsRequest {
                log_group_name_prefix: prefix.map(str::to_string),
                next_token: token.take(),
                ..Default::default()
            },
        )?;
        out.extend(page.log_groups);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// Every stream of `group` (following pages).
pub(crate) fn all_streams(
    client: &Client,
    group: &str,
    prefix: Option<&str>,
) -> Result<Vec<LogStream>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page: DescribeLogStreamsResponse = client.call(
            "DescribeLogStreams",
            &DescribeLogStreamsRequest {
                log_group_name: Some(group.to_string()),
                log_stream_name_prefix: prefix.map(str::to_string),
                next_token: token.take(),
                ..Default::default()
            },
        )?;
        out.extend(page.log_streams);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

pub(crate) fn run_groups(client: &Client, args: GroupsArgs) -> Result<()> {
    let groups = all_groups(client, args.prefix.as_deref())?;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &groups)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                g.log_group_name.clone(),
                g.creation_time.map(iso_millis).unwrap_or_default(),
                g.retention_in_days
                    .map_or_else(|| "never expire".to_string(), |d| format!("{d} days")),
                human_bytes(g.stored_bytes.unwrap_or(0)),
            ]
        })
        .collect();
    write_table(
        &mut out,
        Style::for_stdout(),
        &["GROUP", "CREATED", "RETENTION", "STORED"],
        &rows,
    )?;
    Ok(())
}

pub(crate) fn run_streams(client: &Client, args: StreamsArgs) -> Result<()> {
    let streams = all_streams(client, &args.group, args.prefix.as_deref())?;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &streams)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = streams
        .iter()
        .map(|s| {
            vec![
                s.log_stream_name.clone(),
                s.first_event_timestamp.map(iso_millis).unwrap_or_default(),
                s.last_event_timestamp.map(iso_millis).unwrap_or_default(),
                s.last_ingestion_time.map(iso_millis).unwrap_or_default(),
            ]
        })
        .collect();
    write_table(
        &mut out,
        Style::for_stdout(),
        &["STREAM", "FIRST EVENT", "LAST EVENT", "LAST INGESTION"],
        &rows,
    )?;
    Ok(())
}
