//! Structured JSON logging for AWS Lambda functions (and any other Rust service) with the
//! keys, order and types of [Powertools for AWS Lambda], as a [`tracing`] layer.
//!
//! User code logs with the ordinary `tracing` macros (and `log` macros through
//! [`LogBridge`] with the `log` feature). [`PowertoolsLayer`] turns every event into one
//! JSON line: `level`, `location`, `message`, `timestamp`, `service`, the Lambda context
//! keys (`cold_start`, `function_name`, `function_memory_size`, `function_arn`,
//! `function_request_id`), `correlation_id`, persistent, invocation, scoped and per-call
//! keys, the `error` object and `xray_trace_id`.
//!
//! - Levels TRACE..FATAL, resolved as `AWS_LAMBDA_LOG_LEVEL` (a floor) > code >
//!   `POWERTOOLS_LOG_LEVEL` > `LOG_LEVEL` > INFO; bad values give one WARN record.
//! - An invocation scope ([`InvocationContext`], opened for you by the `lambda` feature's
//!   [`lambda::LoggerLayer`]) carries request id, trace id,
//!   cold start, correlation id, invocation keys, the per-invocation sampling decision and
//!   the debug buffer, so concurrent invocations in one process never mix.
//! - Debug buffering ([`BufferConfig`]): records below the level are held per invocation
//!   and written only when something fails.
//! - Profiles ([`Profile`]) reproduce Powertools Python or TypeScript output key for key.
//! - `RUST_LOG`-style per-target directives ([`LoggerBuilder::directives`]) refine the level
//!   per module but never go below the ALC floor.
//! - Any `serde::Serialize` value as nested JSON with `json(&value)` (feature `serde`; the
//!   stable-Rust alternative to `tracing`'s unstable `valuable`).
//! - Destinations: stdout (default), [`BufferedWriter`], any `io::Write` ([`IoWriter`]) or
//!   `tracing-subscriber` `MakeWriter` ([`MakeWriterAdapter`]).
//! - Panics and handler errors carry backtrace frames when `RUST_BACKTRACE` (or
//!   [`LoggerBuilder::capture_backtraces`]) asks for them.
//!
//! Cost: a record is assembled in a per-thread buffer from pieces rendered ahead of time
//! (the static keys of the layer and of each invocation as one block, each callsite's field
//! keys and `location`, the timestamp's date part per second), with no allocation (once
//! the buffers have grown to the records' size) and no lock besides the writer's; a record
//! filtered out by level costs what `tracing`'s callsite cache costs (BENCHMARKS.md has the
//! figures).
//!
//! Where it differs from Powertools on purpose (the compat tests replay the Powertools
//! captures and assert each of these):
//! - The default profile fixes Powertools' rough edges: RFC 3339 UTC timestamps, a numeric
//!   `function_memory_size`, `WARN` and `FATAL`, one `error` object, the logged event under
//!   `event` (message `Lambda invocation event`), `sampling_rate` as a number and left out
//!   at 0. [`Profile::PowertoolsPython`] and [`Profile::PowertoolsTs`] keep the originals.
//! - A message is always a string, never decoded from JSON; a record without one has
//!   `"message": ""`. Non-finite floats are the strings `"NaN"`, `"Infinity"`,
//!   `"-Infinity"`, so a line is always valid JSON.
//! - A field or appended key with a reserved name never replaces the built-in key: it is
//!   kept as `field_<name>`, with one WARN record per name per process.
//! - `location` is `file:line`, a panic is FATAL at the panic site with a `thread` key,
//!   and an error's causes read `caused by: …` in `exception`.
//! - `correlation_id` always follows the invocation's context keys, whenever it was set,
//!   and a logged event carries the id of its own invocation.
//! - Invocation keys never outlive their invocation; the debug buffer belongs to the
//!   invocation and works without X-Ray; its eviction notice is a WARN record in the
//!   stream.
//! - Level values are case-insensitive; `TRACE` exists everywhere; a bad value is one WARN
//!   record, never a failed start; sampling never goes below the Advanced Logging Controls
//!   floor, and the floor's mismatch warning is a record too.
//!
//! ```
//! use lookout_logger::{CaptureWriter, Clock, InvocationContext, PowertoolsLayer};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let out = CaptureWriter::new();
//! let layer = PowertoolsLayer::builder()
//!     .service("payment")
//!     .writer(out.clone())
//!     .clock(Clock::FixedMicros(1_795_462_840_883_000))
//!     .env_vars([("POWERTOOLS_LOG_LEVEL", "INFO")])
//!     .build();
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     let invocation = InvocationContext::new("00000001-0000-4000-8000-000000000001")
//!         .function_name("payment-fn")
//!         .memory_mb(512)
//!         .correlation_id("apigw-req-0001")
//!         .span();
//!     let _entered = invocation.enter();
//!     tracing::info!(amount = 42.5, currency = "EUR", "Collecting payment");
//!     tracing::debug!("not printed at INFO");
//! });
//! let line: serde_json::Value = serde_json::from_str(&out.lines()[0]).unwrap();
//! assert_eq!(line["message"], "Collecting payment");
//! assert_eq!(line["timestamp"], "2026-11-23T19:40:40.883Z");
//! assert_eq!(line["cold_start"], true);
//! assert_eq!(line["function_memory_size"], 512);
//! assert_eq!(line["correlation_id"], "apigw-req-0001");
//! assert_eq!(line["amount"], 42.5);
//! assert_eq!(out.lines().len(), 1);
//! ```
//!
//! [Powertools for AWS Lambda]: https://docs.powertools.aws.dev/lambda/python/latest/core/logger/
// The feature-gated items are linked only where they exist; without the feature the
// names point at this page, which says which feature brings them.
#![cfg_attr(feature = "log", doc = "[`LogBridge`]: LogBridge")]
#![cfg_attr(not(feature = "log"), doc = "[`LogBridge`]: crate")]
#![cfg_attr(
    feature = "lambda",
    doc = "[`lambda::LoggerLayer`]: lambda::LoggerLayer"
)]
#![cfg_attr(not(feature = "lambda"), doc = "[`lambda::LoggerLayer`]: crate")]
#![deny(missing_docs)]

mod appended;
mod clock;
mod config;
mod correlation;
mod direct;
mod error;
mod errors;
mod invocation;
mod json;
mod layer;
mod level;
#[cfg(feature = "log")]
mod log_bridge;
mod panic;
mod record;
mod render;
mod scope;
mod template;
mod timestamp;
#[cfg(feature = "serde")]
mod values;
mod writer;

#[cfg(feature = "lambda")]
pub mod lambda;

pub use config::{BufferConfig, LoggerBuilder, Profile};
pub use correlation::{CorrelationPath, paths as correlation_paths, propagation};
pub use error::{Error, ErrorKind};
pub use invocation::{
    InvocationContext, append_key, clear_buffer, correlation_id, flush_buffer, log_event,
    remove_key, request_id, set_correlation_id, trace_id,
};
pub use layer::{LoggerHandle, PowertoolsLayer};
pub use level::Level;
#[cfg(feature = "log")]
pub use log_bridge::LogBridge;
pub use panic::install_panic_hook;
pub use timestamp::{Clock, TimestampFormat};
#[cfg(feature = "serde")]
pub use values::{Json, json};
pub use writer::{
    BufferedWriter, CaptureWriter, DiscardWriter, IoWriter, MakeWriterAdapter, RecordWriter,
    StdoutWriter,
};

#[doc(hidden)]
pub use tracing as __tracing;

/// Logs a FATAL record (`tracing` has no FATAL level: this is an ERROR event with a marker
/// the layer recognises). Same syntax as `tracing::error!`.
#[macro_export]
macro_rules! fatal {
    ($($arg:tt)+) => {
        $crate::__tracing::error!(target: "lookout_logger::fatal", __lookout_fatal = true, $($arg)+)
    };
}

/// Reads the environment, installs `registry().with(layer)` as the global default
/// subscriber, the panic hook and (with the `log` feature) the `log` bridge.
pub fn init() -> Result<LoggerHandle, Error> {
    init_with(LoggerBuilder::default())
}

/// [`init`] with settings from code.
pub fn init_with(builder: LoggerBuilder) -> Result<LoggerHandle, Error> {
    use tracing_subscriber::layer::SubscriberExt;
    let layer = builder.build();
    let handle = layer.handle();
    #[cfg(feature = "log")]
    let bridge = LogBridge::new(layer.log_level_filter(), Some(layer.clone()));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).map_err(|_| Error::SubscriberAlreadySet)?;
    #[cfg(feature = "log")]
    bridge.install()?;
    install_panic_hook();
    Ok(handle)
}
