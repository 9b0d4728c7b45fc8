//! Features beyond the captures: `RUST_LOG`-style directives under the ALC floor, serde
//! values as nested JSON, `io::Write` and `MakeWriter` writers, local-time timestamps and
//! backtrace frames on errors.

use lookout_logger::LoggerBuilder;

use crate::util::run;

fn directive_run(env: &[(&str, &str)]) -> Vec<String> {
    let recs = run(
        LoggerBuilder::default().env_vars(env.iter().map(|&(k, v)| (k, v))),
        |_| {
            tracing::debug!(target: "app::db", "db debug");
            tracing::debug!(target: "app::dbx", "other module debug");
            tracing::info!(target: "app::http", "http info");
            tracing::info!(target: "hyper::client", "hyper info");
            tracing::warn!(target: "noisy", "noisy warn");
            tracing::info!(target: "noisy", "noisy info");
        },
    );
    recs.iter()
        .filter(|r| r["level"] != "WARN" || r["message"] == "noisy warn")
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn rust_log_directives_refine_per_target_but_never_beat_alc() {
    assert_eq!(
        directive_run(&[("X", "")]),
        ["http info", "noisy warn", "noisy info"],
        "defaults: INFO, hyper capped at WARN"
    );
    assert_eq!(
        directive_run(&[("RUST_LOG", "app::db=debug,hyper=info,noisy=warn")]),
        ["db debug", "http info", "hyper info", "noisy warn"]
    );
    // ALC WARN is a floor: RUST_LOG cannot bring DEBUG or INFO records back.
    assert_eq!(
        directive_run(&[
            ("RUST_LOG", "debug,app::db=trace,hyper=info"),
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        ]),
        ["noisy warn"]
    );
}

/// The records of [`directive_run`] logged through the `log` bridge instead of `tracing`.
#[cfg(feature = "log")]
fn log_directive_run(env: &[(&str, &str)]) -> Vec<String> {
    use lookout_logger::{CaptureWriter, LogBridge};
    use tracing_subscriber::layer::SubscriberExt;
    let out = CaptureWriter::new();
    let layer = LoggerBuilder::default()
        .env_vars(env.iter().map(|&(k, v)| (k, v)))
        .writer(out.clone())
        .build();
    let bridge = LogBridge::new(log::LevelFilter::Trace, Some(layer.clone()));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for (level, target, message) in [
            (log::Level::Debug, "app::db", "db debug"),
            (log::Level::Debug, "app::dbx", "other module debug"),
            (log::Level::Info, "app::http", "http info"),
            (log::Level::Info, "hyper::client", "hyper info"),
            (log::Level::Warn, "noisy", "noisy warn"),
            (log::Level::Info, "noisy", "noisy info"),
        ] {
            log::Log::log(
                &bridge,
                &log::Record::builder()
                    .level(level)
                    .target(target)
                    .args(format_args!("{message}"))
                    .build(),
            );
        }
    });
    out.lines()
        .iter()
        .map(|l| crate::util::Rec::parse(l))
        .filter(|r| r["level"] != "WARN" || r["message"] == "noisy warn")
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[cfg(feature = "log")]
#[test]
fn log_bridge_records_follow_the_same_per_target_directives() {
    for env in [
        &[("X", "")][..],
        &[("RUST_LOG", "app::db=debug,hyper=info,noisy=warn")],
        &[
            ("RUST_LOG", "debug,app::db=trace,hyper=info"),
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        ],
    ] {
        assert_eq!(log_directive_run(env), directive_run(env), "{env:?}");
    }
    assert_eq!(
        log_directive_run(&[("RUST_LOG", "app::db=debug,hyper=info,noisy=warn")]),
        ["db debug", "http info", "hyper info", "noisy warn"]
    );
}

#[cfg(feature = "serde")]
#[test]
fn serde_values_are_nested_json_on_events_and_spans() {
    #[derive(serde::Serialize)]
    struct Order {
        id: u32,
        items: Vec<&'static str>,
        total: f64,
    }
    let order = Order {
        id: 7,
        items: vec!["book", "pen \"blue\""],
        total: f64::NAN,
    };
    let recs = run(LoggerBuilder::default().env_vars([("X", "")]), |_| {
        let span = tracing::info_span!("checkout", cart = ?lookout_logger::json(&[1, 2]));
        let _g = span.enter();
        tracing::info!(order = ?lookout_logger::json(&order), plain = ?"text", "placed");
    });
    assert_eq!(recs[0]["order"]["items"][1], "pen \"blue\"");
    assert_eq!(recs[0]["order"]["id"], 7);
    assert!(
        recs[0]["order"]["total"].is_null(),
        "NaN becomes null inside JSON"
    );
    assert_eq!(recs[0]["cart"], serde_json::json!([1, 2]));
    assert_eq!(recs[0]["plain"], "\"text\"");
}

#[test]
fn any_io_write_or_make_writer_can_be_the_destination() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Shared::default();
    let for_make = sink.clone();
    for writer in [
        Box::new(lookout_logger::IoWriter::new(sink.clone()))
            as Box<dyn lookout_logger::RecordWriter>,
        Box::new(lookout_logger::MakeWriterAdapter::new(move || {
            for_make.clone()
        })),
    ] {
        let layer = LoggerBuilder::default()
            .writer(writer)
            .env_vars([("X", "")])
            .build();
        tracing::subscriber::with_default(
            tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer),
            || tracing::info!(n = 1, "to a writer"),
        );
    }
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for l in lines {
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(l).unwrap()["n"],
            1
        );
    }
}

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for Declined {}

#[inline(never)]
fn charge_card() {
    let e = Declined;
    tracing::error!(error = &e as &dyn std::error::Error, "payment failed");
}

#[test]
fn error_records_carry_backtrace_frames_when_enabled() {
    use lookout_logger::Profile;

    let recs = run(
        LoggerBuilder::default()
            .capture_backtraces(true)
            .env_vars([("X", "")]),
        |_| charge_card(),
    );
    let stack = recs[0]["error"]["stack"].as_array().unwrap();
    assert!(!stack.is_empty());
    assert!(
        stack
            .iter()
            .all(|f| !f.as_str().unwrap().starts_with("lookout_logger::")),
        "{stack:?}"
    );
    assert!(
        stack
            .iter()
            .any(|f| f.as_str().unwrap().contains("charge_card")),
        "{stack:?}"
    );

    let recs = run(
        LoggerBuilder::default()
            .profile(Profile::PowertoolsPython)
            .capture_backtraces(true)
            .env_vars([("X", "")]),
        |_| charge_card(),
    );
    let frames = recs[0]["stack_trace"]["frames"].as_array().unwrap();
    let ours = frames
        .iter()
        // An inlined frame named from line tables alone carries no module path.
        .find(|f| {
            let name = f["function"].as_str().unwrap();
            name == "charge_card" || name.ends_with("::charge_card")
        })
        .unwrap();
    assert!(
        ours["file"].as_str().unwrap().ends_with("features.rs"),
        "{ours}"
    );
    assert!(ours["line"].as_u64().unwrap() > 0);
    assert!(
        recs[0]["exception"]
            .as_str()
            .unwrap()
            .contains("stack backtrace:")
    );

    // Off (and RUST_BACKTRACE unset in the test environment or not): no forced capture.
    let recs = run(LoggerBuilder::default().env_vars([("X", "")]), |_| {
        charge_card()
    });
    if std::env::var_os("RUST_BACKTRACE").is_none()
        && std::env::var_os("RUST_LIB_BACKTRACE").is_none()
    {
        assert!(recs[0]["error"].get("stack").is_none());
    }
}

/// The timestamp of one record at 2026-11-23T19:40:40.883Z with `TZ` given through the
/// layer's environment, and the warnings of that layer.
fn stamp_with_tz(tz: &str, format: lookout_logger::TimestampFormat) -> (String, Vec<String>) {
    let recs = run(
        LoggerBuilder::default()
            .timestamp_format(format)
            .clock(lookout_logger::Clock::FixedMicros(1_795_462_840_883_000))
            .env_vars([("TZ", tz)]),
        |_| tracing::info!("stamped"),
    );
    let stamped = recs.iter().find(|r| r["message"] == "stamped").unwrap();
    let warnings = recs
        .iter()
        .filter(|r| r["level"] == "WARN")
        .map(|r| r["variable"].as_str().unwrap_or("").to_owned())
        .collect();
    (stamped["timestamp"].as_str().unwrap().to_owned(), warnings)
}

#[test]
fn tz_from_the_layer_environment_sets_the_local_time_zone() {
    use lookout_logger::TimestampFormat::{Python, Rfc3339Millis, Rfc3339MillisLocal};
    let ok = |tz, format| {
        let (stamp, warnings) = stamp_with_tz(tz, format);
        assert!(warnings.is_empty(), "{tz}: {warnings:?}");
        stamp
    };
    // POSIX rules need no zoneinfo files: India (+05:30), US Eastern in winter (-05:00).
    assert_eq!(
        ok("IST-5:30", Rfc3339MillisLocal),
        "2026-11-24T01:10:40.883+05:30"
    );
    assert_eq!(
        ok("EST5EDT,M3.2.0,M11.1.0", Rfc3339MillisLocal),
        "2026-11-23T14:40:40.883-05:00"
    );
    assert_eq!(ok("IST-5:30", Python), "2026-11-24 01:10:40,883+0530");
    // Lambda's own setting.
    assert_eq!(
        ok(":UTC", Rfc3339MillisLocal),
        "2026-11-23T19:40:40.883+00:00"
    );
    // The UTC formats ignore TZ.
    assert_eq!(ok("IST-5:30", Rfc3339Millis), "2026-11-23T19:40:40.883Z");
    if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        assert_eq!(
            ok("Europe/Berlin", Rfc3339MillisLocal),
            "2026-11-23T20:40:40.883+01:00"
        );
    }
    // A zone that does not exist: one warning naming TZ, UTC timestamps.
    let (stamp, warnings) = stamp_with_tz("No/Such_Zone", Rfc3339MillisLocal);
    assert_eq!(stamp, "2026-11-23T19:40:40.883+00:00");
    assert_eq!(warnings, ["TZ"]);
}
