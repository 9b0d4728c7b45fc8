//! Integration tests of the query engine (one binary).

mod conformance;
mod edge;
mod plans;
