//! Runs the example function binary against a Lambda Runtime API served by this test on
//! 127.0.0.1 and checks what it prints on stdout and what it posts back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a panic is a failed assertion"
)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Invocation {
    request_id: String,
    trace: String,
    payload: String,
}

#[derive(Debug, Clone)]
struct Posted {
    kind: String,
    request_id: String,
    error_type: Option<String>,
    body: String,
}

fn invocation(n: u32, action: &str) -> Invocation {
    let body = json!({"amount": 42.5, "action": action}).to_string();
    let event = json!({
        "resource": "/pay", "path": "/pay", "httpMethod": "POST",
        "headers": {"x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793", "X-Api-Key": "secret-key"},
        "requestContext": {"requestId": format!("apigw-req-{n:04}"), "stage": "prod"},
        "body": body,
    });
    Invocation {
        request_id: format!("{n:08}-0000-4000-8000-{n:012}"),
        trace: format!("Root=1-6743a1b0-{n:024x};Parent={n:016x};Sampled=1"),
        payload: event.to_string(),
    }
}

/// Method, path, lower-cased headers and body of one request.
type Request = (String, String, Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP/1.1 request.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((method, path, headers, body))
}

fn respond(w: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(body);
    let _ = w.flush();
}

/// Serves `/next`, `/response` and `/error` (Runtime API 2018-06-01) until the queue is
/// drained; answers are sent to `posted`.
fn serve(
    listener: TcpListener,
    queue: Arc<Mutex<VecDeque<Invocation>>>,
    posted: mpsc::Sender<Posted>,
) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let queue = queue.clone();
        let posted = posted.clone();
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            while let Some((method, path, headers, body)) = read_request(&mut reader) {
                if method == "GET" && path.ends_with("/runtime/invocation/next") {
                    let next = queue.lock().unwrap().pop_front();
                    let Some(inv) = next else {
                        // No more work: hold the long poll until the test kills the process.
                        let _ = reader.read(&mut [0u8; 1]);
                        return;
                    };
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis()
                        + 30_000;
                    respond(
                        &mut writer,
                        "200 OK",
                        &[
                            ("content-type", "application/json".into()),
                            ("lambda-runtime-aws-request-id", inv.request_id.clone()),
                            ("lambda-runtime-deadline-ms", deadline.to_string()),
                            (
                                "lambda-runtime-invoked-function-arn",
                                "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn".into(),
                            ),
                            ("lambda-runtime-trace-id", inv.trace.clone()),
                        ],
                        inv.payload.as_bytes(),
                    );
                } else if method == "POST" && path.contains("/runtime/invocation/") {
                    let segs: Vec<&str> = path.split('/').collect();
                    let kind = segs.last().copied().unwrap_or_default().to_owned();
                    let request_id = segs
                        .get(segs.len().wrapping_sub(2))
                        .copied()
                        .unwrap_or_default()
                        .to_owned();
                    let error_type = headers
                        .iter()
                        .find(|(k, _)| k == "lambda-runtime-function-error-type")
                        .map(|(_, v)| v.clone());
                    // Recorded before the answer: the runtime may post the next invocation's
                    // result on another connection (another thread here) right after it.
                    let _ = posted.send(Posted {
                        kind,
                        request_id,
                        error_type,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#);
                } else {
                    respond(&mut writer, "404 Not Found", &[], b"{}");
                }
            }
        });
    }
}

#[test]
fn example_function_logs_powertools_records_against_a_local_runtime_api() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let actions = ["pay", "decline", "panic", "pay"];
    let queue: VecDeque<Invocation> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| invocation(i as u32 + 1, a))
        .collect();
    let queue = Arc::new(Mutex::new(queue));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve(listener, queue, tx));

    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout-logger-example"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "payment-fn")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef",
        )
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/payment-fn")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("POWERTOOLS_SERVICE_NAME", "payment")
        .env("POWERTOOLS_LOGGER_LOG_EVENT", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });

    let mut posts = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while posts.len() < actions.len() && Instant::now() < deadline {
        if let Ok(p) = rx.recv_timeout(Duration::from_millis(200)) {
            posts.push(p);
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let out = reader.join().unwrap();
    assert_eq!(
        posts.len(),
        actions.len(),
        "runtime answered {posts:?}\nstdout:\n{out}"
    );

    // What went back to the Runtime API.
    assert_eq!(posts[0].kind, "response");
    assert_eq!(
        serde_json::from_str::<Value>(&posts[0].body).unwrap()["status"],
        "paid"
    );
    assert_eq!(posts[1].kind, "error");
    assert_eq!(posts[1].request_id, "00000002-0000-4000-8000-000000000002");
    // lambda_runtime always sends the header as "unhandled"; the body carries our type.
    assert!(posts[1].error_type.is_some());
    let err: Value = serde_json::from_str(&posts[1].body).unwrap();
    assert_eq!(err["errorType"], "PaymentDeclined", "{err}");
    assert_eq!(err["errorMessage"], "card declined");
    assert_eq!(posts[2].kind, "error");
    assert_eq!(posts[3].kind, "response");

    // What went to stdout: only JSON records, each inside its invocation.
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |n: u32| -> Vec<&Value> {
        let id = format!("{n:08}-0000-4000-8000-{n:012}");
        records
            .iter()
            .filter(|r| r["function_request_id"] == id.as_str())
            .collect()
    };
    assert_eq!(
        records
            .iter()
            .filter(|r| r.get("function_request_id").is_none())
            .count(),
        0,
        "records outside an invocation:\n{out}"
    );
    for n in 1..=4u32 {
        let recs = of(n);
        assert!(!recs.is_empty(), "no records for invocation {n}\n{out}");
        let first = recs[0];
        assert_eq!(first["message"], "Lambda invocation event", "{out}");
        assert_eq!(first["event"]["headers"]["X-Api-Key"], "***", "{out}");
        assert!(!out.contains("secret-key"));
        assert_eq!(
            first["event"]["requestContext"]["requestId"],
            format!("apigw-req-{n:04}")
        );
        for r in &recs {
            assert_eq!(r["service"], "payment");
            assert_eq!(r["function_name"], "payment-fn");
            assert_eq!(r["function_memory_size"], 512);
            assert_eq!(
                r["function_arn"],
                "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn"
            );
            assert_eq!(r["cold_start"], n == 1);
            assert_eq!(r["correlation_id"], format!("apigw-req-{n:04}"));
            assert_eq!(r["xray_trace_id"], format!("1-6743a1b0-{n:024x}"));
            let ts = r["timestamp"].as_str().unwrap();
            assert!(
                ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
                "{ts}"
            );
        }
        let messages: Vec<&str> = recs
            .iter()
            .map(|r| r["message"].as_str().unwrap_or(""))
            .collect();
        let levels: Vec<&str> = recs.iter().map(|r| r["level"].as_str().unwrap()).collect();
        match actions[n as usize - 1] {
            "pay" => {
                // The buffered debug record is dropped on success.
                assert_eq!(
                    messages,
                    [
                        "Lambda invocation event",
                        "Collecting payment",
                        "card network reached through the log crate"
                    ],
                    "{out}"
                );
                assert_eq!(levels, ["INFO", "INFO", "INFO"]);
                assert_eq!(recs[1]["amount"], 42.5);
                assert_eq!(recs[1]["order_id"], "ord-36");
                assert!(
                    recs[1]["location"]
                        .as_str()
                        .unwrap()
                        .starts_with("crates/logger-example/src/main.rs:")
                );
                assert!(
                    recs[2]["location"]
                        .as_str()
                        .unwrap()
                        .starts_with("crates/logger-example/src/main.rs:")
                );
                assert!(
                    recs[0].get("order_id").is_none(),
                    "invocation key leaked: {out}"
                );
            }
            "decline" => {
                // The handler error flushes the buffered debug record before the error record.
                assert_eq!(
                    messages,
                    [
                        "Lambda invocation event",
                        "Collecting payment",
                        "card network reached through the log crate",
                        "validating payment request",
                        "Invocation failed"
                    ],
                    "{out}"
                );
                assert_eq!(levels[3], "DEBUG");
                let e = &recs[4]["error"];
                assert_eq!(recs[4]["level"], "ERROR");
                assert_eq!(e["name"], "PaymentDeclined", "{out}");
                assert_eq!(e["message"], "card declined");
                assert_eq!(e["causes"][0]["name"], "ProcessorError");
                assert_eq!(e["causes"][0]["message"], "insufficient funds");
            }
            "panic" => {
                let fatal = recs
                    .iter()
                    .find(|r| r["level"] == "FATAL")
                    .expect("no FATAL record");
                assert_eq!(fatal["message"], "card reader exploded");
                assert!(
                    fatal["location"]
                        .as_str()
                        .unwrap()
                        .starts_with("crates/logger-example/src/main.rs:")
                );
                assert_eq!(fatal["error"]["name"], "Panic");
                assert!(
                    messages.contains(&"validating payment request"),
                    "buffer not flushed on panic: {out}"
                );
                assert_eq!(
                    records
                        .iter()
                        .filter(|r| r["message"] == "user handler panicked")
                        .count(),
                    0
                );
            }
            _ => unreachable!(),
        }
    }
}
