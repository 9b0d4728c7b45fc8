#![no_main]
//! Arbitrary correlation paths, events, messages and key/value strings through the logger:
//! nothing may panic, every record must be one line of valid JSON within the size limit, and
//! the direct rendering path must print the same bytes as the general renderer.

use libfuzzer_sys::fuzz_target;
use lookout_logger::{
    CaptureWriter, Clock, CorrelationPath, InvocationContext, LoggerBuilder, Profile,
};
use tracing_subscriber::layer::SubscriberExt;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\n');
    let path = parts.next().unwrap_or("");
    let event = parts.next().unwrap_or("");
    let message = parts.next().unwrap_or("");
    // Key names are never truncated (only values are), so a record can only be held to the
    // size limit when names are of sane length (16 control characters escape to 96 bytes).
    let key: String = parts.next().unwrap_or("k").chars().take(16).collect();
    let key = key.as_str();
    let value = parts.next().unwrap_or("");

    let profile = match mode & 3 {
        0 => Profile::Powertools,
        1 => Profile::PowertoolsPython,
        2 => Profile::PowertoolsTs,
        _ => Profile::Lambda,
    };
    // Large enough for every built-in key of a record with all values cut to nothing.
    let max = 1024 + usize::from(mode >> 2) * 64;
    let run = |direct: bool| {
        let out = CaptureWriter::new();
        let layer = LoggerBuilder::default()
            .profile(profile)
            .max_record_bytes(max)
            .writer(out.clone())
            .clock(Clock::FixedMicros(1_795_462_840_883_123))
            .direct_rendering(direct)
            .env_vars([("X", "")])
            .build();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let mut ctx = InvocationContext::new(value)
                .trace_header(key)
                .function_name(message);
            let parsed: Option<serde_json::Value> = serde_json::from_str(event).ok();
            if let (Ok(p), Some(ev)) = (CorrelationPath::parse(path), &parsed) {
                if let Some(id) = p.find(ev) {
                    ctx = ctx.correlation_id(id);
                }
            }
            let span = ctx.span();
            let _g = span.enter();
            // Written field by field by the direct path (no keys appended yet).
            tracing::info!(k = key, v = value, f = (mode as f64) / 7.0, "{message}");
            if let Some(ev) = &parsed {
                lookout_logger::log_event(ev);
            }
            lookout_logger::append_key(key, value);
            let scoped = tracing::info_span!("scope", v = value);
            let _s = scoped.enter();
            tracing::info!(k = key, f = (mode as f64) / 3.0, "{message}");
            tracing::error!(error = value, "{message}{message}");
        });
        out.contents()
    };
    let all = run(true);
    // The direct path must print exactly what the general renderer prints.
    assert_eq!(all, run(false), "direct and general rendering differ");
    for line in all.lines() {
        assert!(
            line.len() < max,
            "record of {} bytes over {max}",
            line.len()
        );
        serde_json::from_str::<serde_json::Value>(line).expect("record is valid JSON");
    }
});
