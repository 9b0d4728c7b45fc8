//! Cost of one Powertools-shaped record (10 context keys + 5 fields, the line Powertools
//! Python's own benchmark emits) through lookout-logger to a discarding and to a buffered
//! writer, the cost of a record suppressed by level, and tracing-subscriber's JSON formatter
//! on the same event in the same run; also the record with one persistent and one
//! invocation key appended. Run with `cargo bench -p lookout-logger --bench logger`.
//!
//! The layer is installed as the process-wide default subscriber, as
//! `lookout_logger::init` does in a function; a scoped default (`set_default`) costs a
//! record tens of nanoseconds more in `tracing`'s dispatch. One process has one global
//! default, so its writer is switched between discarding and buffering by a relaxed atomic
//! load per record, which is counted against the figures. tracing-subscriber's formatter
//! runs under a scoped default over it (under 1% of its cost).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a wrong record shape must abort the benchmark run"
)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lookout_logger::{
    BufferedWriter, CaptureWriter, DiscardWriter, InvocationContext, PowertoolsLayer, RecordWriter,
};
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;

#[allow(
    dead_code,
    reason = "the bench uses the tests' capture loading and key order, not the rest"
)]
#[path = "../tests/util.rs"]
mod util;

const REQUEST_ID: &str = "00000001-0000-4000-8000-000000000001";
const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn";
const TRACE: &str = "Root=1-6743a1b0-000000000000000000000001;Parent=0000000000000001;Sampled=1";

/// An invocation before the measured one, so that the measured one is warm.
const FIRST_REQUEST_ID: &str = "00000000-0000-4000-8000-000000000000";

fn invocation() -> tracing::Span {
    invocation_with(REQUEST_ID)
}

fn invocation_with(request_id: &str) -> tracing::Span {
    InvocationContext::new(request_id)
        .function_name("payment-fn")
        .memory_mb(512)
        .function_arn(ARN)
        .trace_header(TRACE)
        .span()
}

fn emit() {
    tracing::info!(
        order_id = "ord-1001",
        amount = 42.5,
        currency = "EUR",
        customer_tier = "gold",
        attempt = 3,
        "Collecting payment"
    );
}

fn suppressed() {
    tracing::debug!(
        order_id = "ord-1001",
        amount = 42.5,
        currency = "EUR",
        customer_tier = "gold",
        attempt = 3,
        "Collecting payment"
    );
}

fn ours(writer: impl RecordWriter) -> impl tracing::Subscriber + Send + Sync {
    let layer = PowertoolsLayer::builder()
        .service("bench-probe")
        .writer(writer)
        .env_vars([("POWERTOOLS_LOG_LEVEL", "INFO")])
        .build();
    tracing_subscriber::registry().with(layer)
}

/// Checks the benchmarked record is the line Powertools Python's own benchmark printed
/// (`sample_line` of its capture): the same 16 keys in the same order, the same values
/// except `location` and `timestamp`. So the timing is of the right work.
fn check_shape() {
    let out = CaptureWriter::new();
    tracing::subscriber::with_default(ours(out.clone()), || {
        // The capture's line is from a warm invocation.
        drop(invocation_with(FIRST_REQUEST_ID).entered());
        let span = invocation();
        let _g = span.enter();
        emit();
        suppressed();
    });
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "suppressed record was written");
    let capture = std::fs::read_to_string(util::data_dir().join("powertools-python-bench.json"))
        .expect("the Powertools Python bench capture");
    let capture: serde_json::Value = serde_json::from_str(&capture).expect("valid JSON");
    let sample = util::Rec::parse(capture["sample_line"].as_str().expect("sample_line"));
    let ours = util::Rec::parse(&lines[0]);
    assert_eq!(ours.keys, sample.keys, "{}", lines[0]);
    for k in &sample.keys {
        if k != "location" && k != "timestamp" {
            assert_eq!(ours[k], sample[k], "value of {k}: {}", lines[0]);
        }
    }
}

/// The process-wide layer's writer: discards records, or batches them in a 64 KiB
/// [`BufferedWriter`] over a sink, as the running benchmark asks.
struct SwitchWriter {
    buffered: BufferedWriter<std::io::Sink>,
    buffering: AtomicBool,
}

impl RecordWriter for SwitchWriter {
    fn write_record(&self, record: &[u8]) {
        if self.buffering.load(Ordering::Relaxed) {
            self.buffered.write_record(record);
        } else {
            DiscardWriter.write_record(record);
        }
    }

    // The layer hands records over this way; forwarding it keeps the buffered case what a
    // `BufferedWriter` given to the layer directly does (the record joins the batch uncopied).
    fn write_record_vec(&self, record: &mut Vec<u8>) {
        if self.buffering.load(Ordering::Relaxed) {
            self.buffered.write_record_vec(record);
        } else {
            DiscardWriter.write_record_vec(record);
        }
    }
}

fn bench(c: &mut Criterion) {
    check_shape();
    let mut g = c.benchmark_group("logger");
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));

    let writer = Arc::new(SwitchWriter {
        buffered: BufferedWriter::new(std::io::sink(), 64 * 1024),
        buffering: AtomicBool::new(false),
    });
    let layer = PowertoolsLayer::builder()
        .service("bench-probe")
        .writer(Arc::clone(&writer))
        .env_vars([("POWERTOOLS_LOG_LEVEL", "INFO")])
        .build();
    let handle = layer.handle();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("no other global subscriber in the bench");
    {
        // A warm invocation, as in Powertools' own benchmark.
        drop(invocation_with(FIRST_REQUEST_ID).entered());
        let span = invocation();
        let _g = span.enter();
        g.bench_function("lookout_record_discard", |b| b.iter(emit));
        g.bench_function("lookout_suppressed_debug", |b| b.iter(suppressed));
        writer.buffering.store(true, Ordering::Relaxed);
        g.bench_function("lookout_record_buffered", |b| b.iter(emit));
        writer.buffering.store(false, Ordering::Relaxed);
        // Last: the keys stay on the layer and the invocation.
        handle.append_key("region", "eu-west-1");
        lookout_logger::append_key("tenant", "acme");
        g.bench_function("lookout_record_keys_discard", |b| b.iter(emit));
    }
    {
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::sink);
        let sub = tracing_subscriber::registry()
            .with(fmt)
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        let _d = tracing::subscriber::set_default(sub);
        let span = tracing::info_span!(
            "invocation",
            service = "bench-probe",
            cold_start = false,
            function_name = "payment-fn",
            function_memory_size = 512,
            function_arn = ARN,
            function_request_id = REQUEST_ID,
            xray_trace_id = "1-6743a1b0-000000000000000000000001"
        );
        let _g = span.enter();
        g.bench_function("tracing_subscriber_json_record", |b| b.iter(emit));
        g.bench_function("tracing_subscriber_json_suppressed_debug", |b| {
            b.iter(suppressed)
        });
    }
    g.finish();
    black_box(());
}

criterion_group!(benches, bench);
criterion_main!(benches);
