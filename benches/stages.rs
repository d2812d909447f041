//! Per-stage micro-benchmarks, so a regression shows which stage moved:
//! `cargo bench --bench stages` (divan). Inputs are 1,000-alert pages from the tests' generator
//! (`testkit`, its scale recipe), the same alerts the end-to-end benchmark serves.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that meets an unexpected error should stop on the spot"
)]

use chrono::{DateTime, Utc};
use csp_alert_digest::alert::Alert;
use csp_alert_digest::alert::{DetailStore, Interner};
use csp_alert_digest::digest::{self, Digest, Rules};
use csp_alert_digest::names::Names;
use csp_alert_digest::render::csv;
use csp_alert_digest::source::page::{parse_page_with, parse_records, split_page};
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};

fn main() {
    divan::main();
}

const AS_OF: &str = "2026-11-29T07:00:00Z";

fn as_of() -> DateTime<Utc> {
    AS_OF.parse().unwrap()
}

/// `n` generated alerts as one Graph page.
fn page(n: usize) -> Vec<u8> {
    let alerts = testkit::generate(n, 1, as_of());
    serde_json::to_vec(&serde_json::json!({ "value": alerts })).unwrap()
}

fn alerts(n: usize) -> Vec<Alert> {
    parse_page_with(&page(n), "bench", &mut Interner::default())
        .unwrap()
        .alerts
}

fn rules() -> Rules {
    Rules {
        window_days: 60,
        include_test_alerts: false,
        timezone: chrono_tz::Europe::Stockholm,
    }
}

/// The first pass over a page: structure and next link only.
#[divan::bench]
fn split_a_page(bencher: Bencher) {
    let page = page(1000);
    bencher
        .counter(BytesCount::new(page.len()))
        .bench(|| split_page(divan::black_box(&page), "bench").unwrap());
}

/// Both passes: every record parsed into an [`Alert`].
#[divan::bench]
fn parse_a_page(bencher: Bencher) {
    let page = page(1000);
    let text = std::str::from_utf8(&page).unwrap();
    let mut interner = Interner::default();
    bencher
        .counter(BytesCount::new(page.len()))
        .bench_local(|| {
            let split = split_page(page.as_slice(), "bench").unwrap();
            parse_records(text, split, "bench", &mut interner)
        });
}

/// Sorting out, de-duplicating, ordering and grouping alerts into a digest.
#[divan::bench(args = [10_000, 100_000])]
fn build_the_digest(bencher: Bencher, n: usize) {
    let alerts = alerts(n);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| alerts.clone())
        .bench_values(|alerts| digest::build(alerts, as_of(), rules()));
}

/// Writing `alerts.csv` and `summary.csv` (to memory).
#[divan::bench(args = [10_000, 100_000])]
fn write_the_csvs(bencher: Bencher, n: usize) {
    let digest: Digest = digest::build(alerts(n), as_of(), rules());
    let names = Names::default();
    let mut out = Vec::with_capacity(64 << 20);
    bencher
        .counter(ItemsCount::new(digest.alerts.len()))
        .bench_local(|| {
            out.clear();
            let store = DetailStore::default();
            let rows = csv::Rows {
                digest_date: "2026-11-29",
                names: &names,
                store: &store,
                signed_in_tenant: "",
            };
            csv::write_alerts(&mut out, &digest.alerts, rows).unwrap();
            csv::write_summary(&mut out, &digest, "2026-11-29", &names).unwrap();
            out.len()
        });
}
