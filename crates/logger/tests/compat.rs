//! Replays the scenarios of the Powertools Python captures through the layer in the
//! `powertools-python` profile and compares key order and value types record by record.
//! Every deliberate difference is asserted here, with its reason.

use std::error::Error;
use std::fmt;

use lookout_logger::{
    BufferConfig, CorrelationPath, Level, LoggerBuilder, Profile, correlation_paths,
};
use serde_json::{Value, json};

use crate::util::{Rec, compare, invocation, load, request_id, run, trace_header};

fn python() -> LoggerBuilder {
    LoggerBuilder::default()
        .profile(Profile::PowertoolsPython)
        .service("payment")
        .env_vars([("TZ", "UTC")])
}

#[derive(Debug)]
struct ZeroDivisionError;

impl fmt::Display for ZeroDivisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("division by zero")
    }
}

impl Error for ZeroDivisionError {}

fn api_event(n: u32) -> Value {
    json!({
        "resource": "/pay", "path": "/pay", "httpMethod": "POST",
        "headers": {"x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793"},
        "requestContext": {"requestId": format!("apigw-req-{n:04}"), "stage": "prod"},
        "body": "{\"amount\": 42.5}"
    })
}

fn basic(builder: LoggerBuilder) -> Vec<Rec> {
    let path = CorrelationPath::parse(correlation_paths::API_GATEWAY_REST).unwrap();
    run(builder, |h| {
        for n in 1..=2 {
            let event = api_event(n);
            let span = invocation(n)
                .correlation_id(path.find(&event).unwrap())
                .span();
            let _g = span.enter();
            lookout_logger::log_event(&event);
            // Python's append_keys outlives the invocation: that is a persistent key here.
            h.append_key("order_id", "ord-1001");
            h.append_key("customer_tier", "gold");
            tracing::info!(amount = 42.5, currency = "EUR", "Collecting payment");
            tracing::debug!("suppressed at INFO");
            tracing::warn!(latency_ms = 812, "slow dependency");
            let e = ZeroDivisionError;
            tracing::error!(error = &e as &dyn Error, "Payment failed");
            tracing::error!("explicit error without exception info");
        }
    })
}

#[test]
fn basic_matches_key_for_key() {
    let ours = basic(python());
    assert_eq!(
        compare("basic", &load("powertools-python-basic.jsonl"), &ours, &[]),
        10
    );
    // The event is the message in the Python shape.
    assert_eq!(
        ours[0]["message"]["requestContext"]["requestId"],
        "apigw-req-0001"
    );
}

#[test]
fn basic_with_numeric_memory_matches_plain_context_capture() {
    let ours = basic(python().memory_size_as_string(false));
    let n = compare(
        "basic-plaincontext",
        &load("powertools-python-basic-plaincontext.jsonl"),
        &ours,
        &[],
    );
    assert_eq!(n, 10);
}

#[test]
fn default_profile_differs_only_where_documented() {
    let ours = basic(
        LoggerBuilder::default()
            .service("payment")
            .env_vars([("TZ", "UTC")]),
    );
    let py = load("powertools-python-basic.jsonl");
    assert_eq!(ours.len(), py.len());
    for (o, p) in ours.iter().zip(&py) {
        // RFC 3339 UTC with milliseconds instead of Python's local-time shape.
        let ts = o["timestamp"].as_str().unwrap();
        assert!(
            ts.len() == 24 && ts.ends_with('Z') && &ts[10..11] == "T",
            "{ts}"
        );
        // Numeric memory size; WARN spelling; the event under `event`, message a string.
        assert_eq!(o["function_memory_size"], 512);
        let level = p["level"].as_str().unwrap().replace("WARNING", "WARN");
        assert_eq!(o["level"], level.as_str());
        assert!(o["message"].is_string());
        // One `error` object instead of exception/exception_name/stack_trace.
        if p.get("exception").is_some() {
            assert_eq!(o["error"]["name"], "ZeroDivisionError");
            assert_eq!(o["error"]["message"], "division by zero");
            assert!(o.get("exception").is_none());
        }
    }
    assert_eq!(
        ours[0]["event"]["requestContext"]["requestId"],
        "apigw-req-0001"
    );
    assert_eq!(ours[0]["message"], "Lambda invocation event");
}

#[test]
fn keys_scoped_invocation_and_thread_keys() {
    let ours = run(python().memory_size_as_string(false), |_| {
        {
            let span = invocation(1).span();
            let _g = span.enter();
            lookout_logger::append_key("persisted_from_inv1", "yes");
            tracing::info!("inv1 after append_keys");
            // Child loggers are unnecessary: every event goes through the same layer.
            tracing::info!("child logger line (shares parent keys/handler)");
            lookout_logger::remove_key("persisted_from_inv1");
            tracing::info!("inv1 after remove_keys");
            lookout_logger::append_key("persisted_from_inv1", "again");
            {
                let scoped = tracing::info_span!("context", scoped = "only-inside");
                let _s = scoped.enter();
                tracing::info!("inside append_context_keys");
            }
            tracing::info!("after append_context_keys block");
            // Thread-local keys are a span entered in that thread only.
            for worker in 0..2u32 {
                let parent = tracing::Span::current();
                let dispatch = tracing::dispatcher::get_default(Clone::clone);
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        let _p = parent.enter();
                        let key = format!("t{worker}");
                        let t = tracing::info_span!("thread", thread_key = key.as_str());
                        let _t = t.enter();
                        tracing::info!(worker, "from worker thread");
                    })
                })
                .join()
                .unwrap();
            }
            tracing::info!("main thread after workers (thread-safe keys not visible)");
            lookout_logger::set_correlation_id("manual-corr-1");
            tracing::info!("after set_correlation_id");
        }
        let span = invocation(2).span();
        let _g = span.enter();
        // Invocation keys never survive the invocation (Python needs clear_state=True).
        let keys = json!([
            "cold_start",
            "function_arn",
            "function_memory_size",
            "function_name",
            "function_request_id",
            "level",
            "location",
            "message",
            "sampling_rate",
            "service",
            "timestamp"
        ]);
        lookout_logger::append_key("current_keys", keys);
        tracing::info!("inv2 with clear_state=True: inv1 keys gone");
    });
    // Deviation: `correlation_id` has one place, right after the invocation's context keys,
    // whenever it is set. Python appends it like any key, so there it follows the keys
    // appended before `set_correlation_id` (record 8). A fixed place keeps a function's
    // lines in one shape whatever order its handler calls things in.
    let mut reference = load("powertools-python-keys.jsonl");
    let keys = &mut reference[8].keys;
    let at = keys.iter().position(|k| k == "correlation_id").unwrap();
    let id = keys.remove(at);
    let after = keys
        .iter()
        .position(|k| k == "function_request_id")
        .unwrap();
    keys.insert(after + 1, id);
    assert_eq!(compare("keys", &reference, &ours, &[]), 10);
}

#[derive(Debug)]
struct KeyError;

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'card'")
    }
}

impl Error for KeyError {}

#[derive(Debug)]
struct PaymentDeclined {
    source: KeyError,
}

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}

impl Error for PaymentDeclined {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[test]
fn exceptions_with_cause_chain() {
    let ours = run(python(), |_| {
        // No Lambda context in this capture, only the trace id.
        let span = lookout_logger::InvocationContext::unit_of_work()
            .trace_header(trace_header(1))
            .span();
        let _g = span.enter();
        let e = PaymentDeclined { source: KeyError };
        tracing::error!(error = &e as &dyn Error, "charge failed");
        tracing::error!(error = &e as &dyn Error, "error() with exc_info=True");
        tracing::warn!(error = &e as &dyn Error, "warning() with exc_info=e");
        tracing::info!("info() without exc_info inside except");
        tracing::info!(
            exception = "supplied by caller",
            exception_name = "MyName",
            "custom exception keys"
        );
        tracing::error!("exception() outside any except block");
    });
    let mut py = load("powertools-python-exceptions.jsonl");
    // Deviation: a caller's `exception`/`exception_name` keys do not replace the built-in
    // error keys; they are renamed `field_…` and one WARN record per name says so.
    py[4] = Rec::parse(
        &py[4]
            .raw
            .replace("\"exception\":\"supplied", "\"field_exception\":\"supplied")
            .replace(
                "\"exception_name\":\"MyName",
                "\"field_exception_name\":\"MyName",
            ),
    );
    let warnings: Vec<&Rec> = ours
        .iter()
        .filter(|r| r["message"] == "a log key used a reserved name and was renamed")
        .collect();
    assert_eq!(warnings.len(), 2);
    assert_eq!(warnings[0]["key"], "exception");
    let ours: Vec<Rec> = ours
        .iter()
        .filter(|r| r["level"] != "WARNING" || r.get("key").is_none())
        .cloned()
        .collect();
    // Deviation: PEP 678 notes have no Rust counterpart.
    assert_eq!(compare("exceptions", &py, &ours, &["exception_notes"]), 6);
    let text = ours[0]["exception"].as_str().unwrap();
    assert_eq!(
        text,
        "PaymentDeclined: card declined\ncaused by: KeyError: 'card'"
    );
    assert_eq!(ours[0]["stack_trace"]["type"], "PaymentDeclined");
    assert_eq!(ours[0]["stack_trace"]["value"], "card declined");
}

#[test]
fn correlation_paths_for_every_built_in_source() {
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "API_GATEWAY_REST",
            correlation_paths::API_GATEWAY_REST,
            json!({"requestContext": {"requestId": "rest-req-id-1"}}),
        ),
        (
            "API_GATEWAY_HTTP",
            correlation_paths::API_GATEWAY_HTTP,
            json!({"requestContext": {"requestId": "http-req-id-2"}}),
        ),
        (
            "LAMBDA_FUNCTION_URL",
            correlation_paths::LAMBDA_FUNCTION_URL,
            json!({"requestContext": {"requestId": "furl-req-id-3"}}),
        ),
        (
            "APPLICATION_LOAD_BALANCER",
            correlation_paths::APPLICATION_LOAD_BALANCER,
            json!({"headers": {"x-amzn-trace-id": "Root=1-58337262-36d228ad5d99923122bbe354"}}),
        ),
        (
            "EVENT_BRIDGE",
            correlation_paths::EVENT_BRIDGE,
            json!({"id": "eb-event-id-5"}),
        ),
        (
            "APPSYNC_RESOLVER",
            correlation_paths::APPSYNC_RESOLVER,
            json!({"request": {"headers": {"x-amzn-trace-id": "Root=1-appsync-6"}}}),
        ),
        (
            "S3_OBJECT_LAMBDA",
            correlation_paths::S3_OBJECT_LAMBDA,
            json!({"xAmzRequestId": "s3ol-req-7"}),
        ),
        (
            "VPC_LATTICE",
            correlation_paths::VPC_LATTICE,
            json!({"headers": {"x-amzn-trace-id": "Root=1-lattice-8"}}),
        ),
        (
            "custom path headers.my_request_id",
            "headers.my_request_id",
            json!({"headers": {"my_request_id": "custom-9"}}),
        ),
        (
            "path missing in event",
            correlation_paths::API_GATEWAY_REST,
            json!({"headers": {}}),
        ),
    ];
    let ours = run(python().memory_size_as_string(false), |_| {
        for (i, (case, path, event)) in cases.iter().enumerate() {
            let n = i as u32 + 1;
            let mut ctx = invocation(n);
            if let Some(id) = CorrelationPath::parse(path).unwrap().find(event) {
                ctx = ctx.correlation_id(id);
            }
            let span = ctx.span();
            let _g = span.enter();
            tracing::info!(case, path, "correlation case");
        }
    });
    assert_eq!(
        compare(
            "correlation",
            &load("powertools-python-correlation.jsonl"),
            &ours,
            &[]
        ),
        10
    );
}

fn sampling(builder: LoggerBuilder, decisions: &[bool], invocations: u32) -> Vec<Rec> {
    run(
        builder
            .sampling_sequence(decisions.iter().copied())
            .memory_size_as_string(false),
        |_| {
            for n in 1..=invocations {
                let span = invocation(n).span();
                let _g = span.enter();
                tracing::debug!("debug line (emitted only when this invocation was sampled)");
                tracing::info!("info line");
            }
        },
    )
}

#[test]
fn sampling_decided_per_invocation() {
    // The draws of the capture (Python's RNG seeded with 7): invocations 1, 2, 4, 6, 7.
    let drawn = [true, true, false, true, false, true, true, false];
    let env = sampling(
        python().env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.5")]),
        &drawn,
        8,
    );
    assert_eq!(
        compare(
            "sampling-env-0.5",
            &load("powertools-python-sampling-env-0.5.jsonl"),
            &env,
            &[]
        ),
        13
    );
    let ctor = sampling(python().sample_rate(0.5), &drawn, 8);
    assert_eq!(
        compare(
            "sampling-ctor-0.5",
            &load("powertools-python-sampling-ctor-0.5.jsonl"),
            &ctor,
            &[]
        ),
        13
    );
    let all = sampling(
        python().env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "1")]),
        &[true],
        2,
    );
    assert_eq!(
        compare(
            "sampling-env-1",
            &load("powertools-python-sampling-env-1.jsonl"),
            &all,
            &[]
        ),
        4
    );
    let none = sampling(
        python().env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0")]),
        &[true],
        2,
    );
    assert_eq!(
        compare(
            "sampling-env-0",
            &load("powertools-python-sampling-env-0.jsonl"),
            &none,
            &[]
        ),
        2
    );
    // Default profile: the rate is always a number and absent when 0.
    let default = sampling(
        LoggerBuilder::default().env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.5")]),
        &drawn,
        2,
    );
    assert_eq!(default[0]["sampling_rate"], 0.5);
    let zero = sampling(
        LoggerBuilder::default().env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0")]),
        &drawn,
        1,
    );
    assert!(zero[0].get("sampling_rate").is_none());
}

/// The buffering handler: debug #1, info, debug #2, then per mode.
fn buffering(builder: LoggerBuilder, with_trace: bool, modes: &[&str]) -> Vec<Rec> {
    run(builder.memory_size_as_string(false), |_| {
        for (i, mode) in modes.iter().enumerate() {
            let n = i as u32 + 1;
            let mut ctx = lookout_logger::InvocationContext::new(request_id(n))
                .function_name("payment-fn")
                .memory_mb(512)
                .function_arn(crate::util::ARN);
            if with_trace {
                ctx = ctx.trace_header(trace_header(n));
            }
            let span = ctx.span();
            let _g = span.enter();
            lookout_logger::append_key("mode", *mode);
            tracing::debug!("buffered debug #1");
            tracing::info!("info line");
            tracing::debug!("buffered debug #2");
            match *mode {
                "error_log" => tracing::error!("error log triggers flush"),
                // What the Lambda integration does when the handler returns an error.
                "raise" => lookout_logger::flush_buffer(),
                "manual_flush" => lookout_logger::flush_buffer(),
                _ => {}
            }
        }
    })
}

fn buffer(max_bytes: usize) -> BufferConfig {
    BufferConfig {
        max_bytes,
        buffer_at: Level::Debug,
        flush_on_error_log: true,
        flush_on_handler_error: true,
    }
}

#[test]
fn buffering_flushes_on_error_handler_error_and_explicit_flush() {
    let modes = ["ok", "error_log", "raise", "manual_flush"];
    let ours = buffering(python().buffer(buffer(10_240)), true, &modes);
    assert_eq!(
        compare(
            "buffering",
            &load("powertools-python-buffering.jsonl"),
            &ours,
            &[]
        ),
        11
    );
    // Flushed records keep the timestamp and location of their creation.
    assert!(ours[2]["location"].as_str().unwrap().contains("compat.rs"));
}

#[test]
fn buffering_works_without_a_trace_id() {
    let modes = ["ok", "error_log", "raise", "manual_flush"];
    let ours = buffering(python().buffer(buffer(10_240)), false, &modes);
    // Deviation: Python keys the buffer by the X-Ray trace id and silently drops it
    // without one; ours belongs to the invocation, so the capture plus the flushed DEBUG
    // records is what we print.
    let debug: Vec<&Rec> = ours.iter().filter(|r| r["level"] == "DEBUG").collect();
    assert_eq!(debug.len(), 6);
    let rest: Vec<Rec> = ours
        .iter()
        .filter(|r| r["level"] != "DEBUG")
        .cloned()
        .collect();
    assert_eq!(
        compare(
            "buffering-no-trace-id",
            &load("powertools-python-buffering-no-trace-id.jsonl"),
            &rest,
            &[]
        ),
        5
    );
}

#[test]
fn buffering_eviction_is_signalled_in_the_stream() {
    // Size the buffer so that one debug record fits and the second evicts the first, as
    // in the capture (our records are longer than Python's accounting).
    let probe = buffering(python().buffer(buffer(10_240)), true, &["manual_flush"]);
    let one = probe[1].raw.len() + 1;
    let ours = buffering(
        python().buffer(buffer(one + one / 2)),
        true,
        &["ok", "error_log"],
    );
    // Deviation: the eviction notice is a WARN record in the JSON stream, not a
    // Python warning on stderr.
    let notice: Vec<&Rec> = ours
        .iter()
        .filter(|r| r.get("evicted_records").is_some())
        .collect();
    assert_eq!(notice.len(), 1, "{ours:#?}");
    assert_eq!(notice[0]["level"], "WARNING");
    assert_eq!(notice[0]["evicted_records"], "1");
    assert_eq!(notice[0]["function_request_id"], request_id(2));
    let rest: Vec<Rec> = ours
        .iter()
        .filter(|r| r.get("evicted_records").is_none())
        .cloned()
        .collect();
    assert_eq!(
        compare(
            "buffering-eviction",
            &load("powertools-python-buffering-eviction.jsonl"),
            &rest,
            &[]
        ),
        4
    );
}

#[test]
fn buffering_oversize_records_are_written_immediately() {
    let ours = buffering(python().buffer(buffer(100)), true, &["ok", "error_log"]);
    let n = compare(
        "buffering-oversize",
        &load("powertools-python-buffering-oversize-record.jsonl"),
        &ours,
        &[],
    );
    assert_eq!(n, 7);
}

/// Levels that get out under an environment, in Python spelling, with the start-up
/// warnings the layer wrote.
fn emitted(env: &str) -> (String, Vec<String>) {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut ctor = None;
    for pair in env.split_whitespace() {
        let (k, v) = pair.split_once('=').unwrap();
        if k == "CTOR_LEVEL" {
            ctor = Some(match v {
                "DEBUG" => Level::Debug,
                "ERROR" => Level::Error,
                other => panic!("{other}"),
            });
        } else {
            vars.push((k.into(), v.into()));
        }
    }
    let mut b = python().env_vars(vars).memory_size_as_string(false);
    if let Some(l) = ctor {
        b = b.level(l);
    }
    let recs = run(b, |_| {
        let span = invocation(1).span();
        let _g = span.enter();
        tracing::trace!("probe");
        tracing::debug!("probe");
        tracing::info!("probe");
        tracing::warn!("probe");
        tracing::error!("probe");
        lookout_logger::fatal!("probe");
    });
    let levels: Vec<&str> = recs
        .iter()
        .filter(|r| r["message"] == "probe")
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    let warnings = recs
        .iter()
        .filter(|r| r["message"] != "probe")
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect();
    (levels.join(","), warnings)
}

#[test]
fn level_precedence_matches_python_except_documented_fixes() {
    let cases = load("powertools-python-level-precedence.jsonl");
    let mut compared = 0;
    for c in &cases {
        let env = c["env"].as_str().unwrap();
        let (got, warnings) = emitted(env);
        let python = c["emitted_levels"].as_str().unwrap();
        let expected = match c["case"].as_str().unwrap() {
            // TRACE means TRACE (Python maps ALC TRACE to NOTSET and ends up at WARNING).
            "ALC TRACE" => "DEBUG,DEBUG,INFO,WARNING,ERROR,CRITICAL",
            // Env values are case-insensitive: lower-case `warn` is honoured.
            "ALC lowercase warn (unknown key)" => "WARNING,ERROR,CRITICAL",
            // TRACE exists (printed as DEBUG in the Python profile) instead of crashing.
            "POWERTOOLS_LOG_LEVEL=TRACE" => "DEBUG,DEBUG,INFO,WARNING,ERROR,CRITICAL",
            // A bad value never aborts start-up: one WARN record and the default level.
            "POWERTOOLS_LOG_LEVEL=bogus" => {
                assert_eq!(warnings.len(), 1, "{warnings:?}");
                "INFO,WARNING,ERROR,CRITICAL"
            }
            // Sampling never goes below the ALC floor (Lambda would drop those records).
            "ALC WARN + sample rate 1" => "WARNING,ERROR,CRITICAL",
            _ => python,
        };
        assert_eq!(got, expected, "{}", c["case"]);
        let python_warned = !c["warning"].as_str().unwrap().is_empty();
        let we_warned = warnings
            .iter()
            .any(|w| w.contains("Advanced Logging Controls"));
        assert_eq!(python_warned, we_warned, "{}: {warnings:?}", c["case"]);
        compared += 1;
    }
    assert_eq!(compared, 18);
}

#[test]
fn typescript_level_precedence_except_documented_fixes() {
    let cases = load("powertools-ts-level-precedence.jsonl");
    for c in &cases {
        let env = c["env"].as_str().unwrap();
        let mut vars: Vec<(String, String)> = Vec::new();
        let mut b = LoggerBuilder::default().profile(Profile::PowertoolsTs);
        for pair in env.split_whitespace() {
            let (k, v) = pair.split_once('=').unwrap();
            if k == "CTOR_LEVEL" {
                b = b.level(Level::Debug);
            } else {
                vars.push((k.into(), v.into()));
            }
        }
        let recs = run(b.env_vars(vars), |_| {
            let span = invocation(1).span();
            let _g = span.enter();
            tracing::trace!("probe");
            tracing::debug!("probe");
            tracing::info!("probe");
            tracing::warn!("probe");
            tracing::error!("probe");
            lookout_logger::fatal!("probe");
        });
        let got: Vec<&str> = recs
            .iter()
            .filter(|r| r["message"] == "probe")
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        let got = got.join(",");
        let ts = c["emitted"].as_str().unwrap();
        let expected = match c["case"].as_str().unwrap() {
            // Env values are case-insensitive and accept the Python spelling (TS ignores
            // both and stays at INFO).
            "POWERTOOLS_LOG_LEVEL lowercase" | "POWERTOOLS_LOG_LEVEL=WARNING (Python spelling)" => {
                "WARN,ERROR,CRITICAL"
            }
            // Sampling never asks for a level, so no mismatch record; the floor holds.
            "ALC WARN + sample rate 1" => "WARN,ERROR,CRITICAL",
            _ => ts,
        };
        assert_eq!(got, expected, "{}", c["case"]);
    }
}

#[test]
fn rust_runtime_level_bugs_are_fixed() {
    // lambda_runtime's default subscriber lets RUST_LOG=debug beat ALC WARN and does not
    // know FATAL (falls back to INFO); the derived capture shows both.
    let runtime = load("lambda-rust-runtime-level-precedence.jsonl");
    let case = |env: &str| runtime.iter().find(|r| r["env"] == env).unwrap();
    assert!(
        case("AWS_LAMBDA_LOG_LEVEL=WARN RUST_LOG=debug")["lines_per_level_app_only"]["DEBUG"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        case("AWS_LAMBDA_LOG_LEVEL=FATAL")["lines_per_level_app_only"]["INFO"]
            .as_u64()
            .unwrap()
            > 0
    );
    let levels = |vars: &[(&str, &str)]| -> String {
        let recs = run(
            LoggerBuilder::default().env_vars(vars.iter().copied()),
            |_| {
                let span = invocation(1).span();
                let _g = span.enter();
                tracing::debug!("probe");
                tracing::info!("probe");
                tracing::warn!("probe");
                tracing::error!("probe");
                lookout_logger::fatal!("probe");
            },
        );
        // Start-up warnings (RUST_LOG losing to ALC) come before any invocation.
        let probes: Vec<_> = recs.iter().filter(|r| r["message"] == "probe").collect();
        for r in &probes {
            // Every record, at every level, carries the request id.
            assert_eq!(r["function_request_id"], request_id(1));
        }
        probes
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(
        levels(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")]),
        "WARN,ERROR,FATAL"
    );
    assert_eq!(levels(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]), "FATAL");
    assert_eq!(levels(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]), "ERROR,FATAL");
}

#[test]
fn panic_outside_an_invocation_is_one_structured_record() {
    lookout_logger::install_panic_hook();
    let ours = run(python(), |_| {
        tracing::info!("module init");
        let r = std::panic::catch_unwind(|| panic!("init-time failure outside the handler"));
        assert!(r.is_err());
    });
    let py = load("powertools-python-uncaught-init.jsonl");
    assert_eq!(ours.len(), py.len());
    assert_eq!(
        compare("uncaught-init (first)", &py[..1], &ours[..1], &[]),
        1
    );
    let (p, o) = (&py[1], &ours[1]);
    // Deviation: a panic is FATAL (CRITICAL in this profile), not ERROR, its location is
    // the panic site, and the thread name is added.
    assert_eq!(o["level"], "CRITICAL");
    assert!(o["location"].as_str().unwrap().contains("compat.rs:"));
    assert_eq!(o["message"], p["message"]);
    assert_eq!(o["exception_name"], "Panic");
    assert!(o["thread"].is_string());
    let mut ours_keys = o.keys.clone();
    ours_keys.retain(|k| k != "thread");
    assert_eq!(ours_keys, p.keys);
}
