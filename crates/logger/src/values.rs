//! Structured field values on stable Rust. `tracing`'s own route (`valuable`) needs the
//! `tracing_unstable` cfg, so instead [`json`] wraps any `serde::Serialize` value in a
//! `Debug` implementation that announces itself to the layer, which then prints the value
//! as nested JSON instead of a string:
//!
//! ```
//! # use lookout_logger::{CaptureWriter, PowertoolsLayer};
//! # use tracing_subscriber::layer::SubscriberExt;
//! #[derive(serde::Serialize)]
//! struct Order { id: u32, items: Vec<&'static str> }
//!
//! # let out = CaptureWriter::new();
//! # let layer = PowertoolsLayer::builder().writer(out.clone()).env_vars([("X", "")]).build();
//! # tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//! let order = Order { id: 7, items: vec!["book"] };
//! tracing::info!(order = ?lookout_logger::json(&order), "placed");
//! # });
//! # let line: serde_json::Value = serde_json::from_str(&out.lines()[0]).unwrap();
//! # assert_eq!(line["order"]["items"][0], "book");
//! ```
//!
//! Other subscribers see the value's JSON text (after a NUL-delimited marker) as its Debug
//! output.

use std::fmt;

use crate::json::JSON_MARKER;

/// A `serde::Serialize` value logged as nested JSON; see [`json`].
pub struct Json<'a, T: ?Sized>(&'a T);

/// Logs `value` as nested JSON: `tracing::info!(order = ?json(&order))`. A value that fails
/// to serialize is printed as the string `"<unserializable: …>"`.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Json<'_, T> {
    Json(value)
}

impl<T: serde::Serialize + ?Sized> fmt::Debug for Json<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The marker must arrive as one chunk: the layer decides on the first write.
        f.write_str(JSON_MARKER)?;
        match serde_json::to_string(self.0) {
            Ok(text) => f.write_str(&text),
            Err(e) => {
                let text = serde_json::Value::String(format!("<unserializable: {e}>"));
                f.write_str(&text.to_string())
            }
        }
    }
}
