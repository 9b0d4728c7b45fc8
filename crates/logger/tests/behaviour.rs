//! Behaviour the spec requires beyond the captures.
