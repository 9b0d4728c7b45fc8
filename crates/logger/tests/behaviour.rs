//! Behaviour the spec requires beyond the captures: concurrency, value typing, reserved
//! keys, record size, profiles, level caps, text and pretty modes.

use lookout_logger::{Clock, InvocationContext, Level, LoggerBuilder, Profile};
use serde_json::Value;

use crate::util::{Rec, compare, invocation, load, request_id, run};

#[test]
fn concurrent_invocations_never_mix_keys() {
    let recs = run(LoggerBuilder::default().env_vars([("X", "")]), |_| {
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let threads: Vec<_> = (1..=4u32)
            .map(|n| {
                let dispatch = dispatch.clone();
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        let span = invocation(n).correlation_id(format!("corr-{n}")).span();
                        let _g = span.enter();
                        lookout_logger::append_key("worker", n);
                        for i in 0..50 {
                            tracing::info!(i, "step");
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
    assert_eq!(recs.len(), 200);
    let cold: Vec<&Rec> = recs.iter().filter(|r| r["cold_start"] == true).collect();
    assert_eq!(cold.len(), 50, "exactly one invocation is the cold start");
    for r in &recs {
        let n = r["worker"].as_u64().unwrap() as u32;
        assert_eq!(r["function_request_id"], request_id(n));
        assert_eq!(r["correlation_id"], format!("corr-{n}"));
        assert_eq!(r["xray_trace_id"], format!("1-6743a1b0-{n:024x}"));
    }
}

#[test]
fn invocation_keys_and_correlation_never_leak_but_persistent_keys_do() {
    let recs = run(LoggerBuilder::default().env_vars([("X", "")]), |h| {
        {
            let span = invocation(1).span();
            let _g = span.enter();
            lookout_logger::append_key("per_invocation", 1);
            lookout_logger::set_correlation_id("c-1");
            h.append_key("persistent", "yes");
            tracing::info!("one");
        }
        let span = invocation(2).span();
        let _g = span.enter();
        tracing::info!("two");
        assert_eq!(lookout_logger::correlation_id(), None);
        assert_eq!(lookout_logger::request_id(), Some(request_id(2)));
    });
    assert_eq!(recs[0]["per_invocation"], 1);
    assert_eq!(recs[0]["correlation_id"], "c-1");
    assert!(recs[1].get("per_invocation").is_none());
    assert!(recs[1].get("correlation_id").is_none());
    assert_eq!(recs[1]["persistent"], "yes");
    assert_eq!(recs[1]["cold_start"], false);
}

#[test]
fn values_keep_their_types_and_output_is_always_valid_json() {
    let recs = run(LoggerBuilder::default().env_vars([("X", "")]), |_| {
        let big: u128 = 1_180_591_620_717_411_303_424;
        let err = std::io::Error::other("disk full");
        tracing::info!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            neg_inf = f64::NEG_INFINITY,
            big_int = big,
            i64_min = i64::MIN,
            empty_str = "",
            false_val = false,
            zero = 0,
            float = 0.1,
            unicode = "héllo ✓",
            debug = ?vec![1, 2],
            display = %"shown",
            control = "a\u{0}b\u{1b}",
            "multi\nline\tmessage with \"quotes\" and \\ backslash"
        );
        tracing::warn!(error = &err as &dyn std::error::Error, "io failed");
        tracing::info!(level = "user level", message2 = 1, "reserved");
        tracing::info!(level = "again", "reserved twice");
    });
    let r = &recs[0];
    assert_eq!(r["nan"], "NaN");
    assert_eq!(r["inf"], "Infinity");
    assert_eq!(r["neg_inf"], "-Infinity");
    assert!(
        r.raw.contains("\"big_int\":1180591620717411303424,"),
        "{}",
        r.raw
    );
    assert_eq!(r["i64_min"], i64::MIN);
    assert_eq!(r["empty_str"], "");
    assert_eq!(r["false_val"], false);
    assert_eq!(r["zero"], 0);
    assert_eq!(r["float"], 0.1);
    assert_eq!(r["unicode"], "héllo ✓");
    assert_eq!(r["debug"], "[1, 2]");
    assert_eq!(r["display"], "shown");
    assert_eq!(r["control"], "a\u{0}b\u{1b}");
    assert_eq!(
        r["message"],
        "multi\nline\tmessage with \"quotes\" and \\ backslash"
    );
    assert_eq!(recs[1]["error"]["name"], "io::Error");
    assert_eq!(recs[1]["error"]["message"], "disk full");
    // Reserved name: renamed, built-in kept, one warning per name per process.
    assert_eq!(recs[2]["level"], "INFO");
    assert_eq!(recs[2]["field_level"], "user level");
    let warnings: Vec<&Rec> = recs
        .iter()
        .filter(|r| r.get("renamed_to").is_some())
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0]["level"], "WARN");
    assert_eq!(recs.last().unwrap()["field_level"], "again");
}

#[test]
fn values_capture_types_that_rust_can_express() {
    // The scalar extras of Powertools Python's values capture keep their JSON types.
    let py = load("powertools-python-values.jsonl");
    let extras = &py[8];
    let recs = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsPython)
            .service("payment")
            .env_vars([("X", "")]),
        |_| {
            let big: u128 = 1_180_591_620_717_411_303_424;
            tracing::info!(
                naive_date = "2026-11-23",
                price = "9.99",
                id = "00000000-0000-0000-0000-000000000001",
                unicode = "héllo ✓",
                big_int = big,
                empty_str = "",
                false_val = false,
                zero = 0,
                "unserializable extras"
            );
        },
    );
    for key in [
        "naive_date",
        "price",
        "id",
        "unicode",
        "big_int",
        "empty_str",
        "false_val",
        "zero",
    ] {
        assert_eq!(recs[0][key], extras[key], "{key}");
    }
}

#[test]
fn oversized_records_are_truncated_not_dropped() {
    let recs = run(
        LoggerBuilder::default()
            .max_record_bytes(2048)
            .env_vars([("X", "")]),
        |_| {
            let long = "x".repeat(10_000);
            tracing::info!(payload = long.as_str(), small = 1, "big");
        },
    );
    assert!(recs[0].raw.len() < 2048, "{}", recs[0].raw.len());
    assert_eq!(recs[0]["truncated"], true);
    assert_eq!(recs[0]["small"], 1);
    assert!(recs[0]["payload"].as_str().unwrap().starts_with("xxxx"));
}

#[test]
fn alc_floor_beats_sampling_and_third_party_targets_are_capped() {
    let recs = run(
        LoggerBuilder::default().env_vars([
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "1"),
        ]),
        |_| {
            let span = invocation(1).span();
            let _g = span.enter();
            tracing::debug!("dropped");
            tracing::info!("dropped");
            tracing::warn!("kept");
        },
    );
    let msgs: Vec<&str> = recs
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["kept"]);
    // The invocation span exists at WARN, so WARN records still carry the request id.
    assert_eq!(recs[0]["function_request_id"], request_id(1));

    let recs = run(
        LoggerBuilder::default()
            .level(Level::Debug)
            .env_vars([("X", "")]),
        |_| {
            tracing::debug!(target: "hyper::proto", "connection chatter");
            tracing::warn!(target: "hyper::proto", "connection reset");
            tracing::debug!(target: "hyperloop", "user crate named like a prefix");
            tracing::debug!("user debug");
        },
    );
    let msgs: Vec<&str> = recs
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "connection reset",
            "user crate named like a prefix",
            "user debug"
        ]
    );
}

#[test]
fn fatal_macro_and_profiles() {
    let fixed = Clock::FixedMicros(1_795_462_840_883_123);
    let emit = || {
        let span = invocation(1).correlation_id("c").span();
        let _g = span.enter();
        lookout_logger::fatal!(code = 7, "cannot continue");
    };
    let d = run(
        LoggerBuilder::default().clock(fixed).env_vars([("X", "")]),
        |_| emit(),
    );
    assert_eq!(d[0]["level"], "FATAL");
    assert_eq!(d[0]["timestamp"], "2026-11-23T19:40:40.883Z");
    let ts = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsTs)
            .clock(fixed)
            .env_vars([("X", "")]),
        |_| emit(),
    );
    assert_eq!(ts[0]["level"], "CRITICAL");
    let py = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsPython)
            .clock(fixed)
            .env_vars([("X", "")]),
        |_| emit(),
    );
    assert_eq!(py[0]["level"], "CRITICAL");
    assert_eq!(py[0]["timestamp"], "2026-11-23 19:40:40,883+0000");
    let lambda = run(
        LoggerBuilder::default()
            .profile(Profile::Lambda)
            .clock(fixed)
            .env_vars([("X", "")]),
        |_| emit(),
    );
    assert_eq!(
        lambda[0].keys,
        [
            "timestamp",
            "level",
            "message",
            "requestId",
            "correlation_id",
            "code"
        ]
    );
    let micros = run(
        LoggerBuilder::default()
            .clock(fixed)
            .timestamp_format(lookout_logger::TimestampFormat::Rfc3339Micros)
            .env_vars([("X", "")]),
        |_| emit(),
    );
    assert_eq!(micros[0]["timestamp"], "2026-11-23T19:40:40.883123Z");
}

#[test]
fn typescript_profile_matches_typescript_capture_order() {
    let ts = load("powertools-ts-basic.jsonl");
    let recs = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsTs)
            .service("payment")
            .memory_size_as_string(true)
            .env_vars([("X", "")]),
        |h| {
            for n in 1..=2u32 {
                let event = serde_json::json!({"resource": "/pay", "path": "/pay", "httpMethod": "POST",
                    "headers": {"x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793"},
                    "requestContext": {"requestId": format!("apigw-req-{n:04}"), "stage": "prod"},
                    "body": "{\"amount\": 42.5}"});
                let span = invocation(n)
                    .correlation_id(format!("apigw-req-{n:04}"))
                    .span();
                let _g = span.enter();
                lookout_logger::log_event(&event);
                h.append_key("order_id", "ord-1001");
                h.append_key("customer_tier", "gold");
                tracing::info!(amount = 42.5, currency = "EUR", "Collecting payment");
                tracing::warn!(latency_ms = 812, "slow dependency");
                tracing::error!(
                    error = &std::io::Error::other("x") as &dyn std::error::Error,
                    "Payment failed"
                );
                tracing::error!("explicit error without exception info");
            }
        },
    );
    // Deviation: the event record carries the invocation's correlation id. TS logs it
    // before resolving it: the first invocation's shows none, the second's the first
    // invocation's id (in the place where ours has the current one).
    let ts: Vec<Rec> = ts
        .iter()
        .enumerate()
        .map(|(i, r)| match i {
            0 => Rec::parse(&r.raw.replace(
                ",\"event\":",
                ",\"correlation_id\":\"apigw-req-0001\",\"event\":",
            )),
            5 => {
                let stale = "\"correlation_id\":\"apigw-req-0001\",";
                assert!(r.raw.contains(stale), "{}", r.raw);
                Rec::parse(
                    &r.raw
                        .replace(stale, "\"correlation_id\":\"apigw-req-0002\","),
                )
            }
            _ => r.clone(),
        })
        .collect();
    // Key order, types and exact values (`error` objects compare by type).
    assert_eq!(compare("ts-basic", &ts, &recs, &[]), 10);
}

#[test]
fn configured_key_order_pretty_and_text_modes() {
    let recs = run(
        LoggerBuilder::default()
            .key_order(["message", "order_id"])
            .env_vars([("X", "")]),
        |_| {
            tracing::info!(order_id = "o-1", "hello");
        },
    );
    assert_eq!(&recs[0].keys[..3], ["message", "order_id", "level"]);

    let out = lookout_logger::CaptureWriter::new();
    let layer = LoggerBuilder::default()
        .writer(out.clone())
        .env_vars([("POWERTOOLS_DEV", "true")])
        .build();
    tracing::subscriber::with_default(
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer),
        || {
            tracing::info!(n = 1, "pretty");
        },
    );
    let text = out.contents();
    assert!(text.starts_with("{\n    \"level\": \"INFO\",\n"), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["n"], 1);

    let out = lookout_logger::CaptureWriter::new();
    let layer = LoggerBuilder::default()
        .writer(out.clone())
        .text_when_lambda_format_is_text(true)
        .clock(Clock::FixedMicros(0))
        .env_vars([("AWS_LAMBDA_LOG_FORMAT", "Text")])
        .build();
    tracing::subscriber::with_default(
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer),
        || {
            let span = InvocationContext::new("req-1").span();
            let _g = span.enter();
            tracing::info!(n = 1, "line\none");
        },
    );
    assert_eq!(
        out.contents(),
        "[INFO]\t1970-01-01T00:00:00.000Z\treq-1\tline\\none n=1\n"
    );
}

/// A reference record rebuilt from its keys in written order, after `edit`.
fn rebuild(r: &Rec, edit: impl FnOnce(&mut Vec<(String, Value)>)) -> Rec {
    let mut pairs: Vec<(String, Value)> =
        r.keys.iter().map(|k| (k.clone(), r[k].clone())).collect();
    edit(&mut pairs);
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
        .collect();
    Rec::parse(&format!("{{{}}}", body.join(",")))
}

/// Sets `key` to `value` in place, or inserts it after `after`.
fn put(pairs: &mut Vec<(String, Value)>, key: &str, value: Value, after: &str) {
    if let Some(p) = pairs.iter_mut().find(|(k, _)| k == key) {
        p.1 = value;
    } else {
        let at = pairs.iter().position(|(k, _)| k == after).unwrap() + 1;
        pairs.insert(at, (key.to_owned(), value));
    }
}

#[cfg(feature = "serde")]
#[test]
fn values_replayed_record_by_record() {
    #[derive(Debug)]
    struct Custom;
    #[derive(Debug)]
    enum Color {
        Red,
    }
    let ours = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsPython)
            .service("payment")
            .env_vars([("X", "")]),
        |h| {
            // Python took the trace id from the environment, outside a handler. Here it
            // comes with an invocation, which adds its request id (`function_request_id`).
            let span = lookout_logger::InvocationContext::new("values")
                .trace_header(crate::util::trace_header(1))
                .span();
            let _g = span.enter();
            tracing::info!("{}", r#"{"dict_message": true, "n": [1, 2, 3]}"#);
            tracing::info!("{}", r#"{"json_string_message": "gets decoded"}"#);
            tracing::info!("[1, 2, 3]");
            tracing::info!("true");
            tracing::info!("user {} paid {} {}", "alice", 5, "EUR");
            tracing::info!("{}", 12345);
            tracing::info!("{:?}", ["list", "message"]);
            tracing::info!("");
            let big: u128 = 1_180_591_620_717_411_303_424;
            tracing::info!(
                when = %"2026-11-23 12:00:00+00:00",
                naive_date = "2026-11-23",
                tags = ?std::collections::BTreeSet::from(["only-one"]),
                raw = &b"\x00\x01hi"[..],
                price = "9.99",
                obj = ?Custom,
                color = ?Color::Red,
                id = "00000000-0000-0000-0000-000000000001",
                tuple = ?lookout_logger::json(&(1, "a")),
                nested_none = ?lookout_logger::json(&serde_json::json!({"x": null})),
                unicode = "héllo ✓",
                big_int = big,
                nan = f64::NAN,
                inf = f64::INFINITY,
                empty_str = "",
                false_val = false,
                zero = 0,
                "unserializable extras"
            );
            tracing::info!(
                level = "DEBUG",
                location = "elsewhere",
                timestamp = "yesterday",
                service = "other",
                "override reserved keys via kwargs"
            );
            h.append_key("service", "overridden-service");
            h.append_key("cold_start", "not-bool");
            tracing::info!("after append_keys(service=...)");
            tracing::info!("multi\nline\tmessage with \"quotes\" and \\ backslash");
        },
    );
    // Reserved names warn once each per process, in the order first used.
    let (warnings, ours): (Vec<Rec>, Vec<Rec>) = ours
        .into_iter()
        .partition(|r| r.get("renamed_to").is_some());
    let warned: Vec<&str> = warnings
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        warned,
        ["level", "location", "timestamp", "service", "cold_start"]
    );

    let py = load("powertools-python-values.jsonl");
    let mut reference = Vec::new();
    for (i, r) in py.iter().enumerate() {
        let rec = match i {
            // Deviation: a message is always a string; Python decodes one that parses as
            // JSON and keeps a non-string message's type (spec §2.5).
            0..=3 | 5 | 6 => rebuild(r, |p| {
                let text = match &r["message"] {
                    Value::Bool(b) => b.to_string(),
                    _ if i == 6 => "[\"list\", \"message\"]".to_owned(),
                    v => v.to_string().replace(":", ": ").replace(",", ", "),
                };
                put(p, "message", Value::from(text), "location");
            }),
            // Deviation: a record without a message has `"message": ""` (spec §2.5).
            7 => rebuild(r, |p| put(p, "message", Value::from(""), "location")),
            // Deviation: reserved names neither replace the built-in keys nor vanish: they
            // are kept as `field_<name>` (spec §2.7). Python drops `level`, `location` and
            // `timestamp` and lets `service` through.
            9 => rebuild(r, |p| {
                put(p, "service", Value::from("payment"), "timestamp");
                for (k, v) in [
                    ("field_level", "DEBUG"),
                    ("field_location", "elsewhere"),
                    ("field_timestamp", "yesterday"),
                    ("field_service", "other"),
                ] {
                    let before = p.len() - 1; // xray_trace_id stays last
                    p.insert(before, (k.to_owned(), Value::from(v)));
                }
            }),
            // Python's stdlib raises `KeyError` into the caller for an extra key named
            // `message` or `asctime`: in Rust a field named `message` is the message and
            // `asctime` means nothing, so no call fails and there is nothing to replay.
            10 | 11 => continue,
            // Deviation: appended keys with reserved names are renamed as well.
            12 | 13 => rebuild(r, |p| {
                put(p, "service", Value::from("payment"), "timestamp");
                p.retain(|(k, _)| k != "cold_start");
                let before = p.len() - 1;
                p.insert(
                    before,
                    ("field_service".into(), Value::from("overridden-service")),
                );
                p.insert(
                    before + 1,
                    ("field_cold_start".into(), Value::from("not-bool")),
                );
            }),
            _ => r.clone(),
        };
        // The invocation that carries the trace id also carries its request id.
        reference.push(rebuild(&rec, |p| {
            put(p, "function_request_id", Value::from("values"), "service")
        }));
    }
    assert_eq!(compare("values", &reference, &ours, &[]), 12);
    // Messages compare by value too.
    for (p, o) in reference.iter().zip(&ours) {
        assert_eq!(p["message"], o["message"]);
    }
}
