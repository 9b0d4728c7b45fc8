//! The fast record assembly (static keys pre-joined, pieces written in profile order) and
//! the general one (named entries, used when keys are reordered) must print the same bytes.
//! Naming the profile's own first key as the configured order selects the general path
//! without changing the expected order.

use lookout_logger::{
    BufferConfig, CaptureWriter, Clock, InvocationContext, LoggerBuilder, Profile, fatal,
};
use tracing_subscriber::layer::SubscriberExt;

use crate::util::invocation;

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card \"declined\"")
    }
}

impl std::error::Error for Declined {}

fn scenario() {
    tracing::info!(outside = true, "no invocation");
    let span = invocation(1).correlation_id("corr-1").span();
    let _g = span.enter();
    tracing::info!(
        order_id = "ord-1001",
        amount = 42.5,
        currency = "EUR",
        customer_tier = "gold",
        attempt = 3,
        "Collecting payment"
    );
    lookout_logger::append_key("tenant", "acme");
    lookout_logger::append_key("order_id", "from-invocation");
    let scoped = tracing::info_span!("db", table = "orders", attempt = 1);
    {
        let _s = scoped.enter();
        tracing::warn!(attempt = 2, level = "reserved", "inside a span");
        tracing::debug!(hidden = 1, "below the level");
    }
    tracing::info!(
        text = "quote \" and \\ and \n newline \u{1} é ✓",
        big = u64::MAX,
        neg = -7i64,
        nan = f64::NAN,
        "esc\taped"
    );
    let e = Declined;
    tracing::error!(error = &e as &dyn std::error::Error, "failed");
    fatal!(code = 9, "fatal");
    lookout_logger::log_event(&serde_json::json!({"a": [1, 2, {"b": null}]}));
    tracing::info!("");
}

fn lines(builder: LoggerBuilder) -> Vec<String> {
    let out = CaptureWriter::new();
    let layer = builder
        .writer(out.clone())
        .clock(Clock::FixedMicros(1_795_462_840_883_123))
        .key("persistent", 1)
        .env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.5")])
        .sampling_sequence([false])
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), scenario);
    out.lines()
}

#[test]
fn fast_and_general_assembly_print_the_same_bytes() {
    let cases = [
        (Profile::Powertools, "level"),
        (Profile::PowertoolsPython, "level"),
        (Profile::PowertoolsTs, "level"),
        (Profile::Lambda, "timestamp"),
    ];
    for (profile, first) in cases {
        let fast = lines(LoggerBuilder::default().profile(profile));
        let general = lines(LoggerBuilder::default().profile(profile).key_order([first]));
        assert!(fast.len() >= 9, "{profile:?}: {fast:#?}");
        assert_eq!(fast, general, "{profile:?}");
        for l in &fast {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}

#[test]
fn buffered_and_unit_of_work_records_agree_too() {
    let run = |b: LoggerBuilder| {
        let out = CaptureWriter::new();
        let layer = b
            .writer(out.clone())
            .clock(Clock::FixedMicros(7))
            .buffer(BufferConfig::default())
            .env_vars([("X", "")])
            .build();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let span = InvocationContext::unit_of_work()
                .correlation_id("job-7")
                .span();
            let _g = span.enter();
            tracing::debug!(step = 1, "held");
            tracing::error!("flushes");
        });
        out.lines()
    };
    let fast = run(LoggerBuilder::default());
    let general = run(LoggerBuilder::default().key_order(["level"]));
    assert_eq!(fast.len(), 2);
    assert_eq!(fast, general);
}

/// Records the direct path writes field by field (no persistent or invocation keys), and
/// the ones it must hand to the general path (errors, reserved or repeated names, marker
/// fields, a message that is not the first field, oversized records).
fn direct_scenario() {
    tracing::info!(outside = true, "no invocation");
    tracing::info!(only = 1);
    let span = invocation(1).correlation_id("corr \"1\"").span();
    let _g = span.enter();
    tracing::info!(
        order_id = "ord-1001",
        amount = 42.5,
        currency = "EUR",
        customer_tier = "gold",
        attempt = 3,
        "Collecting payment"
    );
    let who = "wörld";
    tracing::warn!(
        n = -7i64,
        big = u64::MAX,
        wide = u128::MAX,
        neg = i128::MIN,
        "hello {who}"
    );
    tracing::info!(
        text = "quote \" and \\ and \n newline \u{1} \u{7f} é ✓",
        nan = f64::NAN,
        inf = f64::NEG_INFINITY,
        tiny = 1e-7,
        huge = 1e300,
        third = 1.0 / 3.0,
        yes = true,
        shown = %"display \"text\"",
        dbg = ?Some("x"),
        bytes = &b"\x00\xffab"[..],
        "esc\taped"
    );
    tracing::info!(message = "message as a str field", k = 1);
    tracing::info!("just a message");
    tracing::info!(empty = "", "");
    tracing::info!("weird \"key\"" = 1, "quoted name");
    tracing::info!(level = "reserved", "renamed");
    tracing::info!(k = 1, k = 2, "repeated");
    let e = Declined;
    tracing::error!(error = &e as &dyn std::error::Error, "failed");
    tracing::error!(err = "text", "failed as text");
    fatal!(code = 9, "fatal");
    tracing::info!(big = "x".repeat(3000).as_str(), "oversized");
    let scoped = tracing::info_span!("db", table = "orders");
    let _s = scoped.enter();
    tracing::info!(attempt = 2, "inside a span");
}

fn direct_lines(builder: LoggerBuilder, direct: bool) -> Vec<String> {
    let out = CaptureWriter::new();
    let layer = builder
        .writer(out.clone())
        .clock(Clock::FixedMicros(1_795_462_840_883_123))
        .max_record_bytes(2048)
        .direct_rendering(direct)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), direct_scenario);
    out.lines()
}

#[test]
fn direct_and_general_rendering_print_the_same_bytes() {
    let envs: [&[(&str, &str)]; 2] = [
        &[("X", "")],
        &[
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.5"),
            ("POWERTOOLS_SERVICE_NAME", "svc\"1"),
        ],
    ];
    for profile in [
        Profile::Powertools,
        Profile::PowertoolsPython,
        Profile::PowertoolsTs,
        Profile::Lambda,
    ] {
        for env in envs {
            for location in [true, false] {
                let b = || {
                    LoggerBuilder::default()
                        .profile(profile)
                        .location(location)
                        .sampling_sequence([false])
                        .env_vars(env.iter().copied())
                };
                let direct = direct_lines(b(), true);
                let general = direct_lines(b(), false);
                assert!(direct.len() >= 15, "{profile:?}: {direct:#?}");
                assert_eq!(direct, general, "{profile:?} {env:?} location={location}");
                for l in &direct {
                    assert!(l.len() <= 2048, "{l}");
                    serde_json::from_str::<serde_json::Value>(l).unwrap();
                }
            }
        }
    }
}
