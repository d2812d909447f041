//! The sample recipe: `examples/alerts.json`, the sample page of Microsoft Graph partner
//! security alerts (`GET /beta/security/partner/securityAlerts`) that the README's demo digests,
//! written by `cargo run --example gen_sample`.
//!
//! The output is byte-identical on every run: a fixed seed drives the generator's `SplitMix64`,
//! every time is an offset back from [`REFERENCE`], and keys keep the order they are written
//! in. Nothing in it is real: tenant, subscription and alert ids are random GUIDs, domains end
//! in `.example`, public addresses come from the documentation ranges (203.0.113.0/24,
//! 198.51.100.0/24) and virtual machine addresses from 10.0.0.0/8.
//!
//! Besides about 300 ordinary alerts for direct customers and for the customers of five
//! indirect resellers, the page holds what the digest must survive: every known alert type, an
//! unknown one and a case variant; unknown enum members (`critical`, `escalated`,
//! `unknownFutureValue`); `isTest` as the string `"false"`; test alerts; timestamps with seven
//! fractional digits, a `+02:00` offset or no fraction; duplicates, one differing only in letter
//! case; an alert without a subscription and one with an empty customer tenant; strings an
//! attacker could plant in resource names (HTML, template, spreadsheet-formula and SMTP
//! injection, a right-to-left override, zero-width characters, emoji); and exactly one record
//! that cannot be understood (`"detectedDateTime": "not-a-date"`), which the digest sets aside.

mod bodies;
mod quirks;

use std::io::{self, Write};
use std::iter;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Serialize, Serializer};

use super::rng::Rng;
use super::stamp::{Shape, stamp};
use super::tables::{ANALYSTS, Family, KINDS, REGIONS};
use bodies::body;
use quirks::{add_quirks, duplicates, plant_hostile_strings};

/// The instant the sample is fetched at: every time in it lies before this. The README's demo
/// command passes `--as-of 2026-11-29T07:00:00Z`; change both together.
const REFERENCE: &str = "2026-11-29T07:00:00Z";

/// Seed of the generator. Changing it reshuffles the whole sample.
const SEED: u64 = 0x0C5A_A1E7_D16E_5700;

/// Alerts generated before duplicates are appended (one of them becomes the unreadable record).
const ORDINARY: usize = 296;

const CONTEXT: &str = "https://graph.microsoft.com/beta/$metadata#security/partner/securityAlerts";

/// A JSON value that keeps its keys in the order written, whatever features `serde_json` is
/// built with.
#[derive(Clone)]
enum J {
    Null,
    Bool(bool),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => serializer.serialize_unit(),
            J::Bool(b) => serializer.serialize_bool(*b),
            J::Str(s) => serializer.serialize_str(s),
            J::Arr(items) => serializer.collect_seq(items),
            J::Obj(fields) => serializer.collect_map(fields.iter().map(|(k, v)| (*k, v))),
        }
    }
}

fn text(s: impl Into<String>) -> J {
    J::Str(s.into())
}

fn opt_text(s: Option<impl Into<String>>) -> J {
    s.map_or(J::Null, text)
}

#[derive(Clone)]
struct Resolution {
    reason: &'static str,
    on: DateTime<Utc>,
    by: &'static str,
}

#[derive(Clone)]
struct Log {
    from: &'static str,
    to: &'static str,
    by: &'static str,
    at: DateTime<Utc>,
    shape: Shape,
}

#[derive(Clone)]
struct Alert {
    id: String,
    display_name: String,
    description: String,
    type_name: String,
    status: &'static str,
    severity: &'static str,
    confidence: &'static str,
    customer: String,
    /// `None` leaves `subscriptionId` out of the record.
    subscription: Option<String>,
    reseller: Option<String>,
    offer: Option<&'static str>,
    detected: DateTime<Utc>,
    first_observed: DateTime<Utc>,
    last_observed: DateTime<Utc>,
    /// How detected, first observed, last observed and resolved-on times are written.
    shapes: [Shape; 4],
    resolution: Option<Resolution>,
    is_test: J,
    resources: Vec<(String, &'static str)>,
    logs: Vec<Log>,
    details: Vec<(&'static str, String)>,
    /// Written instead of `detectedDateTime`: the one record the digest must set aside.
    detected_raw: Option<&'static str>,
    /// Already turned into a special case, so not picked for another.
    special: bool,
}

impl Alert {
    fn to_json(&self) -> J {
        let [detected, first, last, resolved] = self.shapes;
        let mut fields = vec![
            ("id", text(&self.id)),
            ("displayName", text(&self.display_name)),
            ("description", text(&self.description)),
            ("alertType", text(&self.type_name)),
            ("status", text(self.status)),
            ("severity", text(self.severity)),
            ("confidenceLevel", text(self.confidence)),
            ("customerTenantId", text(&self.customer)),
        ];
        if let Some(subscription) = &self.subscription {
            fields.push(("subscriptionId", text(subscription)));
        }
        let detected = match self.detected_raw {
            Some(raw) => raw.to_owned(),
            None => stamp(self.detected, detected),
        };
        let resolution = self.resolution.as_ref();
        fields.extend([
            (
                "valueAddedResellerTenantId",
                opt_text(self.reseller.clone()),
            ),
            ("catalogOfferId", opt_text(self.offer)),
            ("detectedDateTime", text(detected)),
            (
                "firstObservedDateTime",
                text(stamp(self.first_observed, first)),
            ),
            (
                "lastObservedDateTime",
                text(stamp(self.last_observed, last)),
            ),
            ("resolvedReason", opt_text(resolution.map(|r| r.reason))),
            (
                "resolvedOnDateTime",
                opt_text(resolution.map(|r| stamp(r.on, resolved))),
            ),
            ("resolvedBy", opt_text(resolution.map(|r| r.by))),
            ("isTest", self.is_test.clone()),
            (
                "affectedResources",
                J::Arr(
                    self.resources
                        .iter()
                        .map(|(id, kind)| {
                            J::Obj(vec![
                                ("resourceId", text(id)),
                                ("resourceType", text(*kind)),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                "activityLogs",
                J::Arr(self.logs.iter().map(Log::to_json).collect()),
            ),
            (
                "additionalDetails",
                J::Obj(self.details.iter().map(|(k, v)| (*k, text(v))).collect()),
            ),
        ]);
        J::Obj(fields)
    }

    fn age(&self, reference: DateTime<Utc>) -> TimeDelta {
        reference - self.detected
    }

    /// Resolved with `reason`, with the status history that led there.
    fn resolve_as(&mut self, rng: &mut Rng, reference: DateTime<Utc>, reason: &'static str) {
        let (resolution, logs) = resolve(rng, self.detected, reference);
        self.status = "resolved";
        self.resolution = Some(Resolution {
            reason,
            ..resolution
        });
        self.logs = logs;
    }

    fn detail(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.details.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.details.push((key, value)),
        }
    }
}

impl Log {
    fn to_json(&self) -> J {
        J::Obj(vec![
            ("statusFrom", text(self.from)),
            ("statusTo", text(self.to)),
            ("updatedBy", text(self.by)),
            ("updatedDateTime", text(stamp(self.at, self.shape))),
        ])
    }
}

struct Subscription {
    id: String,
    offer: Option<&'static str>,
    region: &'static str,
}

struct Customer {
    tenant: String,
    reseller: Option<String>,
    subscriptions: Vec<Subscription>,
    /// Index into [`KINDS`] of the type this customer keeps running into.
    favourite: usize,
}

struct World {
    reference: DateTime<Utc>,
    customers: Vec<Customer>,
    /// Customer index and weight: a few customers have many alerts, most have few.
    customer_weights: Vec<(usize, usize)>,
    kind_weights: Vec<(usize, usize)>,
}

impl World {
    fn new(rng: &mut Rng, reference: DateTime<Utc>) -> Self {
        let kind_weights: Vec<(usize, usize)> = KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| (i, k.weight))
            .collect();
        let resellers: Vec<String> = (0..5).map(|_| rng.guid()).collect();
        // 15 direct customers, then 8, 6, 5, 4 and 2 customers behind the five resellers.
        let behind: Vec<Option<String>> = iter::repeat_n(None, 15)
            .chain(
                [8, 6, 5, 4, 2]
                    .iter()
                    .zip(&resellers)
                    .flat_map(|(count, reseller)| iter::repeat_n(Some(reseller.clone()), *count)),
            )
            .collect();
        let customers: Vec<Customer> = behind
            .into_iter()
            .map(|reseller| {
                let tenant = rng.guid();
                let count = rng.weighted(&[(1, 40), (2, 30), (3, 20), (4, 10)]);
                let subscriptions = (0..count)
                    .map(|_| Subscription {
                        id: rng.guid(),
                        offer: rng.weighted(&[
                            (Some("MS-AZR-0017G"), 60),
                            (Some("MS-AZR-0145P"), 22),
                            (None, 18),
                        ]),
                        region: rng.pick(&REGIONS),
                    })
                    .collect();
                let favourite = rng.weighted(&kind_weights);
                Customer {
                    tenant,
                    reseller,
                    subscriptions,
                    favourite,
                }
            })
            .collect();
        let mut weights: Vec<usize> = (0..customers.len()).map(|rank| 100 / (rank + 2)).collect();
        rng.shuffle(&mut weights);
        World {
            reference,
            customers,
            customer_weights: weights.into_iter().enumerate().collect(),
            kind_weights,
        }
    }
}

fn severity(rng: &mut Rng, family: Family) -> &'static str {
    let [informational, low, medium, high] = match family {
        Family::MiningPool | Family::CryptoMining | Family::SuspiciousOps => [0, 14, 56, 30],
        Family::Advisory => [60, 30, 10, 0],
        Family::Usage | Family::Quota => [22, 40, 30, 8],
        _ => [12, 38, 40, 10],
    };
    rng.weighted(&[
        ("informational", informational),
        ("low", low),
        ("medium", medium),
        ("high", high),
    ])
}

/// How long before the reference an alert was detected: more in the last two weeks, a handful
/// in the last day, some older than the 60-day window.
fn age(rng: &mut Rng) -> TimeDelta {
    let day = 86_400;
    TimeDelta::seconds(match rng.below(100) {
        0..=2 => rng.between(1200, day),
        3..=49 => rng.between(day, 14 * day),
        50..=87 => rng.between(14 * day, 60 * day),
        _ => rng.between(60 * day, 75 * day),
    })
}

/// A resolution some time after detection, with the status history that led to it.
fn resolve(
    rng: &mut Rng,
    detected: DateTime<Utc>,
    reference: DateTime<Utc>,
) -> (Resolution, Vec<Log>) {
    let mut on = detected + TimeDelta::seconds(rng.between(1800, 6 * 86_400)) + rng.jitter();
    if on > reference - TimeDelta::minutes(5) {
        on = detected + (reference - detected) / 2;
    }
    let by = rng.pick(&ANALYSTS);
    let reason = rng.weighted(&[("legitimate", 50), ("fraud", 22), ("ignore", 28)]);
    let shape = any_shape(rng);
    let mut logs = Vec::new();
    let from = if rng.percent(45) {
        logs.push(investigating(rng, detected + (on - detected) / 3));
        "investigating"
    } else {
        "active"
    };
    logs.push(Log {
        from,
        to: "resolved",
        by,
        at: on,
        shape,
    });
    (Resolution { reason, on, by }, logs)
}

fn investigate(rng: &mut Rng, detected: DateTime<Utc>, reference: DateTime<Utc>) -> Log {
    let at =
        detected + TimeDelta::seconds(rng.between(600, 2 * 86_400)).min((reference - detected) / 2);
    investigating(rng, at)
}

/// An analyst moved the alert from active to investigating at `at`.
fn investigating(rng: &mut Rng, at: DateTime<Utc>) -> Log {
    Log {
        from: "active",
        to: "investigating",
        by: rng.pick(&ANALYSTS),
        at,
        shape: any_shape(rng),
    }
}

fn ordinary(rng: &mut Rng, index: usize, world: &World) -> Alert {
    let reference = world.reference;
    let customer = match world.customers.get(index) {
        Some(customer) => customer,
        None => &world.customers[rng.weighted(&world.customer_weights)],
    };
    let kind = match KINDS.get(index) {
        Some(kind) => kind,
        None if rng.percent(35) => &KINDS[customer.favourite],
        None => &KINDS[rng.weighted(&world.kind_weights)],
    };
    let subscription = rng.pick_ref(&customer.subscriptions);
    let detected = reference - age(rng) - rng.jitter();
    let lead = rng.between(600, 6 * 3600);
    let first_observed = detected - TimeDelta::seconds(lead) - rng.jitter();
    let last_observed = detected - TimeDelta::seconds(rng.between(60, lead - 60)) - rng.jitter();
    let resolve_percent = match (reference - detected).num_days() {
        0 => 4,
        1..=13 => 19,
        14..=59 => 30,
        _ => 38,
    };
    let (status, resolution, logs) = if rng.percent(resolve_percent) {
        let (resolution, logs) = resolve(rng, detected, reference);
        ("resolved", Some(resolution), logs)
    } else if rng.percent(11) {
        (
            "investigating",
            None,
            vec![investigate(rng, detected, reference)],
        )
    } else {
        ("active", None, Vec::new())
    };
    let id = if rng.percent(35) {
        format!("{}-{}", subscription.id, rng.guid())
    } else {
        rng.guid()
    };
    let body = body(rng, kind.family, &subscription.id, subscription.region);
    Alert {
        id,
        display_name: kind.title.to_owned(),
        description: body.description,
        type_name: kind.name.to_owned(),
        status,
        severity: severity(rng, kind.family),
        confidence: rng.weighted(&[("low", 28), ("medium", 47), ("high", 25)]),
        customer: customer.tenant.clone(),
        subscription: Some(subscription.id.clone()),
        reseller: customer.reseller.clone(),
        offer: subscription.offer,
        detected,
        first_observed,
        last_observed,
        shapes: [
            any_shape(rng),
            any_shape(rng),
            any_shape(rng),
            any_shape(rng),
        ],
        resolution,
        is_test: if rng.percent(12) {
            text("false")
        } else {
            J::Bool(false)
        },
        resources: body.resources,
        logs,
        details: body.details,
        detected_raw: None,
        special: false,
    }
}

fn sample(rng: &mut Rng, reference: DateTime<Utc>) -> Vec<Alert> {
    let world = World::new(rng, reference);
    let mut alerts: Vec<Alert> = (0..ORDINARY).map(|i| ordinary(rng, i, &world)).collect();
    add_quirks(&mut alerts, rng, reference);
    plant_hostile_strings(&mut alerts, reference);
    let copies = duplicates(&mut alerts, rng, reference);
    // Newest first, as the service tends to answer.
    alerts.sort_by(|a, b| b.detected.cmp(&a.detected).then_with(|| a.id.cmp(&b.id)));
    let middle = alerts.len() / 2;
    let unreadable = alerts[middle..]
        .iter_mut()
        .find(|a| !a.special)
        .expect("an ordinary alert in the second half");
    unreadable.detected_raw = Some("not-a-date");
    alerts.extend(copies);
    alerts
}

/// How a sample timestamp is written: mostly without a fraction, with seven digits or with
/// milliseconds, now and then at `+02:00`.
fn any_shape(rng: &mut Rng) -> Shape {
    rng.weighted(&[
        (Shape::Whole, 30),
        (Shape::Ticks, 35),
        (Shape::Trimmed, 27),
        (Shape::PlusTwo, 8),
    ])
}

/// Writes the sample page, pretty-printed JSON and a final newline: `examples/alerts.json`.
pub fn write_page(out: &mut impl Write) -> io::Result<()> {
    let reference = DateTime::parse_from_rfc3339(REFERENCE)
        .expect("REFERENCE is RFC 3339")
        .with_timezone(&Utc);
    let mut rng = Rng(SEED);
    let alerts = sample(&mut rng, reference);
    let page = J::Obj(vec![
        ("@odata.context", text(CONTEXT)),
        ("value", J::Arr(alerts.iter().map(Alert::to_json).collect())),
    ]);
    serde_json::to_writer_pretty(&mut *out, &page)?;
    writeln!(out)
}
