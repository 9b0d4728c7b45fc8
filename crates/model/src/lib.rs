//! Domain types shared by every Lookout crate: validated log group and log stream names,
//! retention periods, events and the CloudWatch Logs limits.
//!
//! Names are newtypes that can only be built through validation, so a [`LogGroupName`]
//! in hand always satisfies the AWS rules (`spec/logs-api.md` §3.1).
//!
//! ```
//! use lookout_model::{LogGroupName, LogStreamName, RetentionDays};
//!
//! let group = LogGroupName::new("/aws/lambda/checkout")?;
//! let stream = LogStreamName::new("2026/11/29/[$LATEST]0123abcd")?;
//! assert_eq!(group.as_str(), "/aws/lambda/checkout");
//! assert!(LogStreamName::new("bad:name").is_err());
//! assert_eq!(RetentionDays::new(30)?.millis(), 30 * 86_400_000);
//! assert!(RetentionDays::new(2).is_err());
//! # let _ = stream;
//! # Ok::<(), lookout_model::ModelError>(())
//! ```
#![deny(missing_docs)]

pub mod civil;
mod error;
mod event;
mod limits;
mod names;
mod retention;

pub use error::{ErrorKind, ModelError};
pub use event::{EventId, InputEvent, StoredEvent};
pub use limits::Limits;
pub use names::{LogGroupName, LogStreamName};
pub use retention::RetentionDays;
