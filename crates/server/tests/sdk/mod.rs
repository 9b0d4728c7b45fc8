//! The AWS SDK for Rust (`aws-sdk-cloudwatchlogs`) against a real server on a loopback
//! socket, every request SigV4-signed by the SDK and checked by the server.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs as cwl;
use cwl::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use cwl::error::ProvideErrorMetadata;
use cwl::types::InputLogEvent;
use lookout_server::{AppState, Credentials, app};
use lookout_service::{Service, ServiceConfig};

use super::USERS;

/// A server on 127.0.0.1:0 that stops when dropped.
struct Running {
    endpoint: String,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(credentials: Option<&str>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), ServiceConfig::default()).unwrap();
    let creds = credentials.map(|c| Credentials::parse(c).unwrap());
    let router = app(AppState::new(service, creds));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running {
        endpoint,
        task,
        _dir: dir,
    }
}

fn client(endpoint: &str, key: &str, secret: &str) -> cwl::Client {
    let conf = cwl::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SdkCredentials::new(
            key,
            secret,
            None,
            None,
            "lookout-tests",
        ))
        .endpoint_url(endpoint)
        // Plain HTTP on loopback: no TLS stack needed.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(cwl::config::retry::RetryConfig::disabled())
        .build();
    cwl::Client::from_conf(conf)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_signed_workflow() {
    let server = start(Some(USERS)).await;
    let c = client(&server.endpoint, "AKIDADMIN", "admin-secret");
    let group = "/aws/lambda/sdk";

    c.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    for i in 0..5 {
        c.create_log_group()
            .log_group_name(format!("/aws/lambda/sdk-extra-{i}"))
            .send()
            .await
            .unwrap();
    }
    c.put_retention_policy()
        .log_group_name(group)
        .retention_in_days(7)
        .send()
        .await
        .unwrap();

    // The SDK's paginator follows nextToken to the end.
    let groups: Vec<_> = c
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/sdk")
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(groups.len(), 6);
    let ours = groups
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .unwrap();
    assert_eq!(ours.retention_in_days(), Some(7));
    assert!(ours.arn().unwrap().starts_with("arn:aws:logs:us-east-1:"));

    c.create_log_stream()
        .log_group_name(group)
        .log_stream_name("2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    let t0 = now_ms() - 60_000;
    let mut put = c
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef");
    for i in 0..30 {
        let level = if i % 3 == 0 { "ERROR" } else { "INFO" };
        put = put.log_events(
            InputLogEvent::builder()
                .timestamp(t0 + i)
                .message(format!(r#"{{"level":"{level}","n":{i}}}"#))
                .build()
                .unwrap(),
        );
    }
    let r = put.send().await.unwrap();
    assert!(r.rejected_log_events_info().is_none());

    let got = c
        .get_log_events()
        .log_group_name(group)
        .log_stream_name("2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let ts: Vec<i64> = got.events().iter().filter_map(|e| e.timestamp()).collect();
    assert_eq!(ts, (0..30).map(|i| t0 + i).collect::<Vec<_>>());

    let pages: Vec<_> = c
        .filter_log_events()
        .log_group_name(group)
        .filter_pattern(r#"{ $.level = "ERROR" }"#)
        .limit(3)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(pages.len() >= 4, "3 events a page: {} pages", pages.len());
    assert!(pages.last().unwrap().next_token().is_none());
    let errors: Vec<_> = pages.iter().flat_map(|p| p.events()).collect();
    assert_eq!(errors.len(), 10);
    assert!(
        errors
            .iter()
            .all(|e| e.message().unwrap().contains("ERROR"))
    );

    let arn = ours.log_group_arn().unwrap().to_string();
    c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "payments")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("payments")
    );

    let missing = c
        .get_log_events()
        .log_group_name(group)
        .log_stream_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert_eq!(
        missing.message(),
        Some("The specified log stream does not exist.")
    );

    c.delete_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_rejections() {
    let server = start(Some(USERS)).await;

    let wrong = client(&server.endpoint, "AKIDADMIN", "not-the-secret");
    let err = wrong.describe_log_groups().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));

    let unknown = client(&server.endpoint, "AKIDNOBODY", "x");
    let err = unknown.describe_log_groups().send().await.unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));

    let shipper = client(&server.endpoint, "AKIDSHIPPER", "shipper-secret");
    let err = shipper.describe_log_groups().send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(
        err.message()
            .unwrap()
            .contains("not authorized to perform: logs:DescribeLogGroups")
    );

    // Allowed actions on an allowed resource succeed.
    let admin = client(&server.endpoint, "AKIDADMIN", "admin-secret");
    admin
        .create_log_group()
        .log_group_name("/aws/lambda/shipped")
        .send()
        .await
        .unwrap();
    shipper
        .create_log_stream()
        .log_group_name("/aws/lambda/shipped")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    shipper
        .put_log_events()
        .log_group_name("/aws/lambda/shipped")
        .log_stream_name("s")
        .log_events(
            InputLogEvent::builder()
                .timestamp(now_ms())
                .message("hello")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}
