//! Integration tests of lookout-insights, one binary (STYLE §14).

mod conformance;
mod regression;
mod roundtrip;
