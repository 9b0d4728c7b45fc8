//! Integration with `lambda_runtime`: a tower layer around the handler service that opens
//! the invocation scope, resolves the correlation id, logs the event when asked, logs
//! handler errors as one structured record, flushes the debug buffer on failure and the
//! writer before the response is posted.
//!
//! ```no_run
//! use lambda_runtime::{LambdaEvent, service_fn};
//! use lookout_logger::lambda::LoggerLayer;
//! use lookout_logger::correlation_paths;
//! use tower::Layer;
//!
//! async fn handler(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, lambda_runtime::Error> {
//!     tracing::info!(order_id = "ord-1001", "Collecting payment");
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     lookout_logger::init()?;
//!     let layer = LoggerLayer::new().correlation_id_path(correlation_paths::API_GATEWAY_REST)?;
//!     lambda_runtime::run(layer.layer(service_fn(handler))).await
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use lambda_runtime::{Diagnostic, LambdaEvent};
use tracing::Instrument;

use crate::correlation::CorrelationPath;
use crate::errors;
use crate::invocation::{self, InvocationContext};
use crate::layer::{self, SUPPRESS_RUNTIME_ERRORS};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Tower layer for `lambda_runtime` handler services. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct LoggerLayer {
    correlation: Option<CorrelationPath>,
    log_event: Option<bool>,
    quiet_handler_errors: bool,
    redact: Vec<CorrelationPath>,
}

impl LoggerLayer {
    /// A layer with no correlation path; the event is logged when
    /// `POWERTOOLS_LOGGER_LOG_EVENT` is true.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves the correlation id from the event at this path (see
    /// [`correlation_paths`](crate::correlation_paths)).
    pub fn correlation_id_path(mut self, path: &str) -> Result<Self, crate::Error> {
        self.correlation = Some(CorrelationPath::parse(path)?);
        Ok(self)
    }

    /// Logs the incoming event as the first record of each invocation (overrides
    /// `POWERTOOLS_LOGGER_LOG_EVENT`).
    pub fn log_event(mut self, on: bool) -> Self {
        self.log_event = Some(on);
        self
    }

    /// Masks the values at these paths (same syntax as correlation id paths) with `"***"`
    /// in the logged event; the handler still receives the original event.
    pub fn redact_event_paths<I, P>(mut self, paths: I) -> Result<Self, crate::Error>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        for p in paths {
            self.redact.push(CorrelationPath::parse(p.as_ref())?);
        }
        Ok(self)
    }

    /// Whether a handler error is logged as an `Invocation failed` ERROR record (default on).
    pub fn log_handler_error(mut self, on: bool) -> Self {
        self.quiet_handler_errors = !on;
        self
    }
}

impl<S> tower::Layer<S> for LoggerLayer {
    type Service = LoggerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SUPPRESS_RUNTIME_ERRORS.store(true, std::sync::atomic::Ordering::Relaxed);
        crate::install_panic_hook();
        LoggerService {
            inner,
            cfg: self.clone(),
        }
    }
}

/// The service produced by [`LoggerLayer`].
#[derive(Clone, Debug)]
pub struct LoggerService<S> {
    inner: S,
    cfg: LoggerLayer,
}

/// A handler failure as reported to the Runtime API: the short error type name (not the
/// `Box<dyn Error>` type path the stock runtime reports) and the message.
pub struct HandlerError {
    name: String,
    message: String,
    source: BoxError,
}

impl HandlerError {
    /// Short type name of the error.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The original error.
    pub fn source(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.source
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: e.name,
            error_message: e.message,
        }
    }
}

fn error_name<E>(e: &(dyn StdError + 'static)) -> String {
    match errors::short_type_name(std::any::type_name::<E>()) {
        Some((_, name)) if name != "String" && name != "str" => name.to_owned(),
        _ => errors::dyn_name(e),
    }
}

impl<S, A, R> tower::Service<LambdaEvent<A>> for LoggerService<S>
where
    S: tower::Service<LambdaEvent<A>, Response = R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    A: serde::Serialize,
    R: Send + 'static,
{
    type Response = R;
    type Error = HandlerError;
    type Future = Pin<Box<dyn Future<Output = Result<R, HandlerError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), HandlerError>> {
        self.inner.poll_ready(cx).map_err(|e| {
            let e: BoxError = e.into();
            HandlerError {
                name: error_name::<S::Error>(&*e),
                message: e.to_string(),
                source: e,
            }
        })
    }

    fn call(&mut self, event: LambdaEvent<A>) -> Self::Future {
        let log_event = self
            .cfg
            .log_event
            .or_else(|| layer::with_layer(|l| l.env_log_event()).flatten())
            .unwrap_or(false);
        let json = if self.cfg.correlation.is_some() || log_event {
            serde_json::to_value(&event.payload).ok()
        } else {
            None
        };
        let ctx = &event.context;
        let mut scope = InvocationContext::new(ctx.request_id.clone())
            .function_name(ctx.env_config.function_name.clone())
            .memory_mb(i64::from(ctx.env_config.memory))
            .function_arn(ctx.invoked_function_arn.clone())
            .function_version(ctx.env_config.version.clone());
        if let Some(t) = &ctx.tenant_id {
            scope = scope.tenant_id(t.clone());
        }
        if let Some(t) = &ctx.xray_trace_id {
            scope = scope.trace_header(t.clone());
        }
        if let (Some(path), Some(v)) = (&self.cfg.correlation, &json)
            && let Some(id) = path.find(v)
        {
            scope = scope.correlation_id(id);
        }
        let span = scope.span();
        let fut = {
            let _entered = span.enter();
            if log_event && let Some(v) = &json {
                if self.cfg.redact.is_empty() {
                    invocation::log_event(v);
                } else {
                    let mut masked = v.clone();
                    for p in &self.cfg.redact {
                        p.redact(&mut masked);
                    }
                    invocation::log_event(&masked);
                }
            }
            self.inner.call(event)
        };
        let log_errors = !self.cfg.quiet_handler_errors;
        Box::pin(async move {
            let result = fut.instrument(span.clone()).await;
            let out = match result {
                Ok(r) => Ok(r),
                Err(e) => {
                    let e: BoxError = e.into();
                    let name = error_name::<S::Error>(&*e);
                    let _entered = span.enter();
                    if log_errors {
                        let err: &(dyn StdError + 'static) = &*e;
                        // Where the failure surfaced, when RUST_BACKTRACE (or the layer's
                        // `capture_backtraces`) asks for it: std errors carry no backtrace
                        // of their own on stable Rust.
                        let force = layer::with_layer(|l| l.shared.cfg.backtraces).unwrap_or(false);
                        let backtrace = errors::capture_text(force);
                        tracing::error!(
                            target: "lookout_logger::lambda",
                            __lookout_error_name = name.as_str(),
                            __lookout_backtrace = backtrace.as_str(),
                            error = err,
                            "Invocation failed"
                        );
                    }
                    if layer::with_layer(|l| l.flush_on_handler_error()).unwrap_or(false) {
                        invocation::flush_buffer();
                    }
                    Err(HandlerError {
                        name,
                        message: e.to_string(),
                        source: e,
                    })
                }
            };
            // The environment may be frozen as soon as the response is posted.
            layer::with_layer(|l| l.flush_writer());
            out
        })
    }
}
