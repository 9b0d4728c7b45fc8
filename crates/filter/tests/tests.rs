//! Integration tests of lookout-filter, one binary (STYLE §14).

// Test helpers may unwrap: a panic there is a failed test with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
mod json_scan;
mod regression;
mod roundtrip;
