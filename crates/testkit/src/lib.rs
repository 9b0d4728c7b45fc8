//! Test fixtures for Lookout: a seeded, deterministic generator of realistic Lambda logs.
pub mod placeholder_until_generator_lands {}
