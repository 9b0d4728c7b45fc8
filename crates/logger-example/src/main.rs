//! Example Lambda function: a payment handler on `lambda_runtime` whose logs are
//! Powertools-shaped JSON from `lookout-logger`.
//!
//! The event is an API Gateway REST proxy event whose body says what to do:
//! `{"amount": 42.5, "action": "pay" | "decline" | "panic"}`. Debug records are buffered
//! per invocation and only written when the invocation fails.

use std::fmt;

use lambda_runtime::{LambdaEvent, service_fn};
use lookout_logger::lambda::LoggerLayer;
use lookout_logger::{BufferConfig, LoggerBuilder, correlation_paths};
use serde_json::{Value, json};
use tower::Layer;

/// The card was declined; carries the processor's reason as its source.
#[derive(Debug)]
struct PaymentDeclined {
    source: ProcessorError,
}

#[derive(Debug)]
struct ProcessorError(&'static str);

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for PaymentDeclined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for ProcessorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ProcessorError {}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let body: Value = event
        .payload
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    let amount = body.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
    let action = body.get("action").and_then(Value::as_str).unwrap_or("pay");
    lookout_logger::append_key(
        "order_id",
        format!("ord-{}", event.context.request_id.len()),
    );
    tracing::debug!(action, "validating payment request");
    tracing::info!(amount, currency = "EUR", "Collecting payment");
    log::info!("card network reached through the log crate");
    match action {
        "decline" => Err(Box::new(PaymentDeclined {
            source: ProcessorError("insufficient funds"),
        })),
        "panic" => panic!("card reader exploded"),
        _ => Ok(json!({"status": "paid", "amount": amount})),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lookout_logger::init_with(LoggerBuilder::default().buffer(BufferConfig::default()))?;
    let logging = LoggerLayer::new()
        .correlation_id_path(correlation_paths::API_GATEWAY_REST)?
        .redact_event_paths([r#"headers."x-api-key""#])?;
    lambda_runtime::run(logging.layer(service_fn(handler))).await
}
