//! Integration tests of the storage engine, as one binary.
// Helpers shared by tests panic on failure like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod corruption;
mod crash;
mod harness;
mod lifecycle;
mod parallel_scan;
