//! The router end to end: dispatch, framing, errors and authentication without a socket, and
//! the AWS SDK for Rust over a loopback socket (module `sdk`).

// Test helpers outside `#[test]` functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::{Request, StatusCode};
use lookout_server::{AppState, Credentials, app};
use lookout_service::{Service, ServiceConfig};
use lookout_sigv4::{Canonicalization, Credentials as Keys, sign_request};
use tower::ServiceExt;

mod sdk;

const USERS: &str = r#"
[[users]]
name = "shipper"
access_key_id = "AKIDSHIPPER"
secret_access_key = "shipper-secret"
policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
  "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}'''

[[users]]
name = "admin"
access_key_id = "AKIDADMIN"
secret_access_key = "admin-secret"
policy = '''{"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
  {"Effect": "Deny", "Action": "logs:DeleteLogGroup", "Resource": "arn:aws:logs:*:*:log-group:/prod/*"}]}'''
"#;

struct Harness {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

fn harness(credentials: Option<&str>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(dir.path(), ServiceConfig::default()).unwrap();
    let creds = credentials.map(|c| Credentials::parse(c).unwrap());
    Harness {
        router: app(AppState::new(service, creds)),
        _dir: dir,
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A request signed like botocore does (host, content-type, x-amz-date, x-amz-target).
fn signed(op: &str, body: &str, key: Option<(&str, &str)>, time: i64) -> Request<Body> {
    let target = format!("Logs_20140328.{op}");
    let base = [
        ("host", "127.0.0.1:4588"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let mut b = Request::builder().method("POST").uri("/");
    for (k, v) in base {
        b = b.header(k, v);
    }
    if let Some((akid, secret)) = key {
        let keys = Keys {
            access_key_id: akid.into(),
            secret_access_key: secret.into(),
            session_token: None,
        };
        for (k, v) in sign_request(
            "POST",
            "/",
            "",
            &base,
            body.as_bytes(),
            "us-east-1",
            "logs",
            time,
            &keys,
            Canonicalization::default(),
        ) {
            b = b.header(k, v);
        }
    }
    b.body(Body::from(body.to_string())).unwrap()
}

async fn call(h: &Harness, req: Request<Body>) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let resp = h.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let v = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, v)
}

#[tokio::test]
async fn framing_and_errors() {
    let h = harness(None);
    let (s, headers, v) = call(
        &h,
        signed(
            "CreateLogGroup",
            r#"{"logGroupName":"/aws/lambda/a"}"#,
            None,
            now(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, serde_json::Value::Null);
    assert!(headers.contains_key("x-amzn-requestid"));
    assert!(headers.contains_key("date"));
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");

    let (s, headers, v) = call(
        &h,
        signed(
            "CreateLogGroup",
            r#"{"logGroupName":"/aws/lambda/a"}"#,
            None,
            now(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["__type"], "ResourceAlreadyExistsException");
    assert_eq!(
        headers["x-amzn-errortype"],
        "ResourceAlreadyExistsException"
    );

    let (s, _, v) = call(&h, signed("NoSuchOperation", "{}", None, now())).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("UnknownOperationException"))
    );
    let (s, _, v) = call(&h, signed("CreateLogGroup", "{not json", None, now())).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("SerializationException"))
    );
    let (_, _, v) = call(
        &h,
        signed("CreateLogGroup", r#"{"logGroupName": 7}"#, None, now()),
    )
    .await;
    assert_eq!(v["__type"], "SerializationException");
    let get = Request::builder()
        .uri("/anything")
        .body(Body::empty())
        .unwrap();
    let (_, _, v) = call(&h, get).await;
    assert_eq!(v["__type"], "UnknownOperationException");
    let big = format!(
        r#"{{"logGroupName":"{}"}}"#,
        "a".repeat(lookout_server::MAX_BODY_BYTES)
    );
    let (s, _, v) = call(&h, signed("CreateLogGroup", &big, None, now())).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidParameterException"))
    );
}

#[tokio::test]
async fn signatures_and_policies() {
    let h = harness(Some(USERS));
    let admin = Some(("AKIDADMIN", "admin-secret"));
    let shipper = Some(("AKIDSHIPPER", "shipper-secret"));
    let t = now();
    for g in ["/aws/lambda/orders", "/prod/db", "/app/x"] {
        let (s, _, v) = call(
            &h,
            signed(
                "CreateLogGroup",
                &format!(r#"{{"logGroupName":"{g}"}}"#),
                admin,
                t,
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // The shipper may create streams and put events under /aws/lambda/, nothing else.
    let stream = r#"{"logGroupName":"/aws/lambda/orders","logStreamName":"s"}"#;
    let (s, _, v) = call(&h, signed("CreateLogStream", stream, shipper, t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let put = format!(
        r#"{{"logGroupName":"/aws/lambda/orders","logStreamName":"s","logEvents":[{{"timestamp":{},"message":"hi"}}]}}"#,
        t * 1000
    );
    let (s, _, v) = call(&h, signed("PutLogEvents", &put, shipper, t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, v) = call(
        &h,
        signed(
            "CreateLogStream",
            r#"{"logGroupName":"/app/x","logStreamName":"s"}"#,
            shipper,
            t,
        ),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (StatusCode::FORBIDDEN, Some("AccessDeniedException"))
    );
    let (_, _, v) = call(&h, signed("DescribeLogGroups", "{}", shipper, t)).await;
    assert_eq!(v["__type"], "AccessDeniedException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("shipper is not authorized to perform: logs:DescribeLogGroups")
    );
    // Explicit deny wins over logs:*.
    let (_, _, v) = call(
        &h,
        signed("DeleteLogGroup", r#"{"logGroupName":"/prod/db"}"#, admin, t),
    )
    .await;
    assert_eq!(v["__type"], "AccessDeniedException");
    let (s, _, _) = call(
        &h,
        signed("DeleteLogGroup", r#"{"logGroupName":"/app/x"}"#, admin, t),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Unsigned, unknown key, wrong secret, expired, tampered.
    let (s, _, v) = call(&h, signed("DescribeLogGroups", "{}", None, t)).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("MissingAuthenticationTokenException")
        )
    );
    let (_, _, v) = call(
        &h,
        signed("DescribeLogGroups", "{}", Some(("AKIDNOBODY", "x")), t),
    )
    .await;
    assert_eq!(v["__type"], "UnrecognizedClientException");
    assert_eq!(
        v["message"],
        "The security token included in the request is invalid."
    );
    let (_, _, v) = call(
        &h,
        signed("DescribeLogGroups", "{}", Some(("AKIDADMIN", "wrong")), t),
    )
    .await;
    assert_eq!(v["__type"], "InvalidSignatureException");
    let (_, _, v) = call(&h, signed("DescribeLogGroups", "{}", admin, t - 3600)).await;
    assert_eq!(v["__type"], "InvalidSignatureException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired")
    );
    let mut req = signed("DescribeLogGroups", "{}", admin, t);
    *req.body_mut() = Body::from(r#"{"limit": 1}"#);
    let (_, _, v) = call(&h, req).await;
    assert_eq!(v["__type"], "InvalidSignatureException");
    let (s, _, v) = call(&h, signed("DescribeLogGroups", "{}", admin, t)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["logGroups"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_credentials_files_are_refused() {
    for bad in [
        "",
        "[[users]]\nname = \"x\"\n",
        "[[users]]\nname=\"a\"\naccess_key_id=\"K\"\nsecret_access_key=\"s\"\npolicy='{\"Statement\": []}'\nextra=1\n",
        "[[users]]\nname=\"a\"\naccess_key_id=\"K\"\nsecret_access_key=\"s\"\npolicy='not json'\n",
        "[[users]]\nname=\"a\"\naccess_key_id=\"K\"\nsecret_access_key=\"s\"\npolicy='{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}'\n[[users]]\nname=\"b\"\naccess_key_id=\"K\"\nsecret_access_key=\"t\"\npolicy='{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}'\n",
    ] {
        assert!(Credentials::parse(bad).is_err(), "{bad}");
    }
}
