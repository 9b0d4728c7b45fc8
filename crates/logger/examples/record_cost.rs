//! Emits N Powertools-shaped records so an instruction counter (callgrind) can measure the
//! per-record cost: run once with N=0 and once with N=2000 and divide the difference.
//!
//! `cargo run --release -p lookout-logger --example record_cost -- <lookout|global|buffered|keys|keys-general|suppressed|fmt> <N>`
//!
//! `keys` is the `lookout` record plus one persistent key (`LoggerHandle::append_key`) and
//! one invocation key (`append_key`); `keys-general` renders it with the direct path
//! switched off, for comparison. `global` is the `lookout` record with the layer installed
//! as the process-wide default, as `lookout_logger::init` does, instead of a scoped one;
//! `buffered` is `global` writing into a 64 KiB [`BufferedWriter`] over a sink, as the
//! criterion bench's buffered case does.

use lookout_logger::{BufferedWriter, DiscardWriter, InvocationContext, PowertoolsLayer};
use tracing_subscriber::layer::SubscriberExt;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "lookout".into());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let emit = || {
        tracing::info!(
            order_id = "ord-1001",
            amount = 42.5,
            currency = "EUR",
            customer_tier = "gold",
            attempt = 3,
            "Collecting payment"
        )
    };
    let debug = || {
        tracing::debug!(
            order_id = "ord-1001",
            amount = 42.5,
            currency = "EUR",
            customer_tier = "gold",
            attempt = 3,
            "Collecting payment"
        )
    };
    let run = |f: &dyn Fn()| {
        // Warm-up so lazy initialisation is not counted.
        for _ in 0..20 {
            f();
        }
        for _ in 0..n {
            f();
        }
    };
    let ours = || {
        let builder = PowertoolsLayer::builder()
            .service("bench-probe")
            .env_vars([("POWERTOOLS_LOG_LEVEL", "INFO")])
            .direct_rendering(mode != "keys-general");
        let layer = if mode == "buffered" {
            builder
                .writer(BufferedWriter::new(std::io::sink(), 64 * 1024))
                .build()
        } else {
            builder.writer(DiscardWriter).build()
        };
        if mode.starts_with("keys") {
            layer.handle().append_key("region", "eu-west-1");
        }
        tracing_subscriber::registry().with(layer)
    };
    let span = || {
        InvocationContext::new("00000001-0000-4000-8000-000000000001")
            .function_name("payment-fn")
            .memory_mb(512)
            .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:payment-fn")
            .trace_header(
                "Root=1-6743a1b0-000000000000000000000001;Parent=0000000000000001;Sampled=1",
            )
            .span()
    };
    match mode.as_str() {
        "global" | "buffered" => {
            // The layer as `lookout_logger::init` installs it: the process-wide default.
            if tracing::subscriber::set_global_default(ours()).is_err() {
                return;
            }
            let s = span();
            let _g = s.enter();
            run(&emit)
        }
        "lookout" | "keys" | "keys-general" | "suppressed" => {
            tracing::subscriber::with_default(ours(), || {
                let s = span();
                let _g = s.enter();
                if mode.starts_with("keys") {
                    lookout_logger::append_key("tenant", "acme");
                }
                if mode == "suppressed" {
                    run(&debug)
                } else {
                    run(&emit)
                }
            })
        }
        _ => {
            let fmt = tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(std::io::sink);
            let sub = tracing_subscriber::registry()
                .with(fmt)
                .with(tracing_subscriber::filter::LevelFilter::INFO);
            tracing::subscriber::with_default(sub, || {
                let s = tracing::info_span!(
                    "invocation",
                    service = "bench-probe",
                    cold_start = false,
                    function_name = "payment-fn",
                    function_memory_size = 512,
                    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn",
                    function_request_id = "00000001-0000-4000-8000-000000000001",
                    xray_trace_id = "1-6743a1b0-000000000000000000000001"
                );
                let _g = s.enter();
                run(&emit)
            })
        }
    }
}
