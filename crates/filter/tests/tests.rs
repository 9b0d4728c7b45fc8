//! Integration tests of lookout-filter, one binary (STYLE §14).

mod conformance;
mod regression;
mod roundtrip;
