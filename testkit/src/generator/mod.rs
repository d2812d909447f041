//! The one alert generator: realistic `partnerSecurityAlert` objects, the same for the same seed
//! on every machine. One set of tables (alert types, regions, resource groups, analysts…), one
//! random number generator and one timestamp writer serve two recipes:
//!
//! - [`scale`]: any number of alerts, each a pure function of (seed, reference, index), for the
//!   fake Graph service, the tests that count what it serves and the benchmarks;
//! - [`sample`]: the curated page `examples/alerts.json` (about 300 alerts and every quirk the
//!   digest must survive), for the README's demo.
//!
//! The recipes draw differently (a scale alert must not depend on the one before it; the sample
//! is one story told in order), so each keeps its own draws: changing either one's order would
//! change its output, which tests, benchmarks and the committed sample compare byte for byte.

pub mod sample;
pub mod scale;

mod rng;
mod stamp;
mod tables;

pub use rng::{Rng, mix64};
pub use stamp::{Shape, stamp};
