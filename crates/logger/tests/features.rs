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
