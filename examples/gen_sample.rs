//! Generates `examples/alerts.json`, the sample page of Microsoft Graph partner security alerts
//! (`GET /beta/security/partner/securityAlerts`) that the README's demo digests, with the sample
//! recipe of the tests' generator (`testkit/src/generator/sample/`, which says what the page
//! holds and why).
//!
//! Regenerate the sample after changing the generator, and commit both:
//!
//! ```text
//! cargo run --example gen_sample > examples/alerts.json
//! ```
//!
//! The output is byte-identical on every run.

use std::io::{self, Write};

fn main() -> io::Result<()> {
    let mut out = io::stdout().lock();
    testkit::generator::sample::write_page(&mut out)?;
    out.flush()
}
