//! Test fixtures for Lookout: a seeded, deterministic generator of realistic Lambda logs.
//!
//! [`Generator`] simulates a fleet of ~50 functions (`/aws/lambda/<fn>` log groups, one
//! stream per execution environment) and emits Powertools JSON records (Python and
//! TypeScript shapes), Lambda platform lines (`INIT_START`, `START`, `END`, `REPORT`),
//! Python tracebacks, Rust panics and plain text. The same [`GenConfig`] always gives the same
//! bytes, and the [`Manifest`] records planted needles with exact counts so benchmarks can
//! check their answers.
//!
//! ```
//! use lookout_testkit::{GenConfig, Generator};
//!
//! let mut g = Generator::new(GenConfig { events: 1_000, seed: 7, ..GenConfig::default() });
//! let events: Vec<_> = g.by_ref().collect();
//! assert_eq!(events.len(), 1_000);
//! assert!(events.iter().all(|e| e.log_group.starts_with("/aws/lambda/")));
//! let m = g.manifest();
//! let hits = events.iter().filter(|e| e.message.contains(&m.needles.request_id.value)).count();
//! assert_eq!(hits as u64, m.needles.request_id.count);
//! ```
#![deny(missing_docs)]

mod clock;
mod generate;
mod jsonl;
mod manifest;
mod rng;
mod vocab;

pub use clock::{parse_span, parse_start};
pub use generate::{Event, EventRef, GenConfig, Generator};
pub use manifest::{Manifest, Needle, Needles};
