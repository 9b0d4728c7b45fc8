//! Integration tests: compatibility replays of the Powertools Python captures and the
//! behaviour the spec adds on top.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a panic is a failed assertion"
)]

mod assembly;
mod behaviour;
mod compat;
mod differential;
mod features;
mod util;
mod writer_props;
