//! The CloudWatch Logs wire vocabulary for Lookout: request and response shapes of the
//! operations (member names as in the botocore service model), and [`ApiError`], an AWS
//! error code with its HTTP status and message. [`decode_put_log_events`] reads the one
//! large request, PutLogEvents, without serde's per-string copies.
//!
//! ```
//! use lookout_api::{ApiError, ErrorCode, shapes::CreateLogGroupRequest};
//!
//! let req: CreateLogGroupRequest =
//!     serde_json::from_str(r#"{"logGroupName": "/aws/lambda/orders", "unknownKey": 1}"#)?;
//! assert_eq!(req.log_group_name.as_deref(), Some("/aws/lambda/orders"));
//! let err = ApiError::group_not_found();
//! assert_eq!((err.code.as_str(), err.code.status()), ("ResourceNotFoundException", 400));
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]

mod error;
mod put_body;
pub mod queries;
pub mod shapes;

pub use error::{ApiError, ErrorCode, RULE_NOT_NULL, Violations};
pub use put_body::decode_put_log_events;
