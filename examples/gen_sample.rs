//! Generates `examples/alerts.json`, the sample page of Microsoft Graph partner security alerts
//! (`GET /beta/security/partner/securityAlerts`) that the README's demo digests.
//!
//! Regenerate the sample after changing this file, and commit both:
//!
//! ```text
//! cargo run --example gen_sample > examples/alerts.json
//! ```
//!
//! The output is byte-identical on every run: a fixed seed drives a small `SplitMix64`
//! generator, every time is an offset back from [`REFERENCE`], and keys keep the order they are
//! written in. Nothing in it is real: tenant, subscription and alert ids are random GUIDs,
//! domains end in `.example`, public addresses come from the documentation ranges
//! (203.0.113.0/24, 198.51.100.0/24) and virtual machine addresses from 10.0.0.0/8.
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

use std::io::{self, Write};
use std::iter;
use std::ops::Range;

use chrono::{DateTime, FixedOffset, TimeDelta, Timelike, Utc};
use serde::{Serialize, Serializer};

/// The instant the sample is fetched at: every time in it lies before this. The README's demo
/// command passes `--as-of 2026-11-29T07:00:00Z`; change both together.
const REFERENCE: &str = "2026-11-29T07:00:00Z";

/// Seed of the generator. Changing it reshuffles the whole sample.
const SEED: u64 = 0x0C5A_A1E7_D16E_5700;

/// Alerts generated before duplicates are appended (one of them becomes the unreadable record).
const ORDINARY: usize = 296;

const CONTEXT: &str = "https://graph.microsoft.com/beta/$metadata#security/partner/securityAlerts";

const ANALYSTS: [&str; 3] = [
    "analyst@contoso-partner.example",
    "m.okafor@contoso-partner.example",
    "soc-oncall@contoso-partner.example",
];

const REGIONS: [&str; 10] = [
    "eastus",
    "eastus2",
    "westeurope",
    "northeurope",
    "uksouth",
    "southeastasia",
    "australiaeast",
    "japaneast",
    "brazilsouth",
    "centralindia",
];

const RESOURCE_GROUPS: [&str; 8] = [
    "rg-web",
    "rg-prod-app",
    "rg-data",
    "rg-ml",
    "rg-batch",
    "rg-aks-nodes",
    "rg-dev",
    "rg-shared",
];

const WORKLOADS: [&str; 8] = ["web", "api", "build", "sql", "etl", "gpu", "jump", "test"];

const MINING_POOLS: [&str; 4] = [
    "xmr.pool.example",
    "eu1.nanopool.example",
    "rvn.f2pool.example",
    "stratum.minerpool.example",
];

const GPU_SIZES: [&str; 6] = [
    "Standard_NC24ads_A100_v4",
    "Standard_ND96asr_v4",
    "Standard_NV36ads_A10_v5",
    "Standard_HB120rs_v3",
    "Standard_F72s_v2",
    "Standard_D64s_v5",
];

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

/// `SplitMix64`: tiny, fast and good enough to make a sample look random.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).expect("usize fits in u64");
        usize::try_from(self.next_u64() % n).expect("less than a usize")
    }

    /// Uniform in `lo..hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo).expect("hi > lo");
        lo + i64::try_from(self.next_u64() % span).expect("span fits in i64")
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, usize)]) -> T {
        let mut roll = self.below(items.iter().map(|(_, w)| w).sum());
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        unreachable!("roll is below the total weight")
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A version-4 GUID in lower case.
    fn guid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0x0FFF,
            0x8000 | ((b >> 48) & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// Up to a second of 100 ns ticks, so that seven fractional digits carry information.
    fn jitter(&mut self) -> TimeDelta {
        TimeDelta::nanoseconds(self.between(0, 10_000_000) * 100)
    }

    fn shape(&mut self) -> Shape {
        self.weighted(&[
            (Shape::Whole, 30),
            (Shape::Ticks, 35),
            (Shape::Trimmed, 27),
            (Shape::PlusTwo, 8),
        ])
    }
}

/// How a timestamp is written: the service is not consistent about it.
#[derive(Clone, Copy)]
enum Shape {
    /// `2026-11-27T16:02:59Z`
    Whole,
    /// `2026-11-27T15:58:02.8454142Z`
    Ticks,
    /// `2026-11-27T16:03:33.05Z`: milliseconds, trailing zeros dropped
    Trimmed,
    /// `2026-11-27T18:02:59+02:00`
    PlusTwo,
}

fn stamp(t: DateTime<Utc>, shape: Shape) -> String {
    let seconds = t.format("%Y-%m-%dT%H:%M:%S");
    let ticks = format!("{:07}", t.nanosecond() / 100);
    match shape {
        Shape::Whole => format!("{seconds}Z"),
        Shape::Ticks => format!("{seconds}.{ticks}Z"),
        Shape::Trimmed => match ticks[..3].trim_end_matches('0') {
            "" => format!("{seconds}Z"),
            fraction => format!("{seconds}.{fraction}Z"),
        },
        Shape::PlusTwo => {
            let east = FixedOffset::east_opt(2 * 3600).expect("a valid offset");
            t.with_timezone(&east)
                .format("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    MiningPool,
    CryptoMining,
    Usage,
    Advisory,
    MultiRegionScaleSet,
    VmDeployment,
    MultiRegionMl,
    Consumption,
    SuspiciousOps,
    Batch,
    ContainerInstances,
    MachineLearning,
    Quota,
}

/// An alert type as the service names it, with its title and how common it is.
struct Kind {
    name: &'static str,
    family: Family,
    weight: usize,
    title: &'static str,
}

const MINING_POOL_TITLE: &str =
    "Action Required: Virtual machine connecting to crypto currency mining pool Detected";
const USAGE_TITLE: &str = "Action Required: Subscription Usage Anomaly Detected";

/// Every type seen so far (the Graph sample names, the legacy names, the 2024 names) and one
/// the digest has never seen.
const KINDS: [Kind; 16] = [
    Kind {
        name: "networkConnectionsToCryptoMiningPools",
        family: Family::MiningPool,
        weight: 10,
        title: MINING_POOL_TITLE,
    },
    Kind {
        name: "usageAnomalyDetection",
        family: Family::Usage,
        weight: 12,
        title: USAGE_TITLE,
    },
    Kind {
        name: "ServiceHealthSecurityAdvisory",
        family: Family::Advisory,
        weight: 3,
        title: "Action Required: Service Health Security Advisory",
    },
    Kind {
        name: "UsageAnomalyDetection",
        family: Family::Usage,
        weight: 5,
        title: USAGE_TITLE,
    },
    Kind {
        name: "MultiRegionVirtualMachineScaleSetDeploymentAnomaly",
        family: Family::MultiRegionScaleSet,
        weight: 3,
        title: "Action Required: Multi-region Virtual Machine Scale Set Deployment Anomaly Detected",
    },
    Kind {
        name: "NetworkConnectionsToCryptoMiningPools",
        family: Family::MiningPool,
        weight: 5,
        title: MINING_POOL_TITLE,
    },
    Kind {
        name: "VirtualMachineDeploymentAnomaly",
        family: Family::VmDeployment,
        weight: 4,
        title: "Action Required: Virtual Machine Deployment Anomaly Detected",
    },
    Kind {
        name: "MultiRegionMachineLearningUsageAnomaly",
        family: Family::MultiRegionMl,
        weight: 2,
        title: "Action Required: Multi-region Machine Learning Usage Anomaly Detected",
    },
    Kind {
        name: "ARM_AnomalousResourceConsumption",
        family: Family::Consumption,
        weight: 8,
        title: "Action Required: Anomalous Resource Consumption Detected",
    },
    Kind {
        name: "ARM_SuspiciousOperations",
        family: Family::SuspiciousOps,
        weight: 6,
        title: "Action Required: Suspicious Azure Resource Manager Operations Detected",
    },
    Kind {
        name: "VM_AnomalousDeployment",
        family: Family::VmDeployment,
        weight: 12,
        title: "Action Required: Anomalous Virtual Machine Deployment Detected",
    },
    Kind {
        name: "AzureBatch_AnomalousDeployment",
        family: Family::Batch,
        weight: 4,
        title: "Action Required: Anomalous Azure Batch Deployment Detected",
    },
    Kind {
        name: "AzureContainerInstances_AnomalousDeployment",
        family: Family::ContainerInstances,
        weight: 4,
        title: "Action Required: Anomalous Azure Container Instances Deployment Detected",
    },
    Kind {
        name: "AzureMachineLearning_AnomalousDeployment",
        family: Family::MachineLearning,
        weight: 4,
        title: "Action Required: Anomalous Azure Machine Learning Deployment Detected",
    },
    Kind {
        name: "CryptoMining",
        family: Family::CryptoMining,
        weight: 14,
        title: "Action Required: Crypto Mining Activity Detected",
    },
    Kind {
        name: "QuotaExhaustion_AnomalousIncrease",
        family: Family::Quota,
        weight: 3,
        title: "Action Required: Quota Exhaustion Anomaly Detected",
    },
];

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

/// Text, affected resources and details of one alert.
struct Body {
    description: String,
    resources: Vec<(String, &'static str)>,
    details: Vec<(&'static str, String)>,
}

/// Where an alert happened.
struct Place<'a> {
    sub: &'a str,
    group: &'static str,
    region: &'static str,
    /// Short workload name used in resource names.
    workload: &'static str,
}

impl Place<'_> {
    /// An Azure Resource Manager id in this place's resource group.
    fn arm(&self, path: &str) -> String {
        arm(self.sub, self.group, path)
    }
}

fn arm(subscription: &str, group: &str, path: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}/providers/{path}")
}

fn vm_name(rng: &mut Rng) -> String {
    format!("vm-{}-{:02}", rng.pick(&WORKLOADS), rng.between(1, 40))
}

fn private_ip(rng: &mut Rng) -> String {
    format!(
        "10.{}.{}.{}",
        rng.between(0, 8),
        rng.between(0, 4),
        rng.between(4, 250)
    )
}

/// JSON text inside a string, the way the service embeds lists in `additionalDetails`.
fn json_list(items: &[String], pretty: bool) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    if pretty {
        format!("[\r\n  {}\r\n]", quoted.join(",\r\n  "))
    } else {
        format!("[{}]", quoted.join(","))
    }
}

fn distinct_regions(rng: &mut Rng, count: Range<usize>) -> Vec<String> {
    let count = count.start + rng.below(count.len());
    let mut regions = REGIONS.map(str::to_owned);
    rng.shuffle(&mut regions);
    regions[..count].to_vec()
}

fn body(rng: &mut Rng, family: Family, sub: &str, region: &'static str) -> Body {
    let place = Place {
        sub,
        group: rng.pick(&RESOURCE_GROUPS),
        region,
        workload: rng.pick(&WORKLOADS),
    };
    let mut body = match family {
        Family::MiningPool => mining_pool(rng, &place),
        Family::CryptoMining => crypto_mining(rng, &place),
        Family::Usage => usage(rng, &place),
        Family::Advisory => advisory(rng),
        Family::MultiRegionScaleSet => multi_region_scale_set(rng, &place),
        Family::VmDeployment => vm_deployment(rng, &place),
        Family::MultiRegionMl => multi_region_ml(rng, &place),
        Family::Consumption => consumption(rng, &place),
        Family::SuspiciousOps => suspicious_operations(rng, &place),
        Family::Batch => batch(rng, &place),
        Family::ContainerInstances => container_instances(rng, &place),
        Family::MachineLearning => machine_learning(rng, &place),
        Family::Quota => quota(rng, &place),
    };
    if !matches!(
        family,
        Family::MiningPool | Family::MultiRegionScaleSet | Family::MultiRegionMl
    ) {
        body.details.push(("Region", region.to_owned()));
    }
    body
}

fn mining_pool(rng: &mut Rng, place: &Place) -> Body {
    let count = rng.weighted(&[(1, 60), (2, 25), (3, 10), (5, 5)]);
    let vms: Vec<String> = (0..count).map(|_| vm_name(rng)).collect();
    let ips: Vec<String> = (0..count).map(|_| private_ip(rng)).collect();
    let pool = rng.pick(&MINING_POOLS);
    let connections = rng.between(3, 900);
    let machines = if count == 1 {
        "1 virtual machine".to_owned()
    } else {
        format!("{count} virtual machines")
    };
    Body {
        description: format!(
            "Network traffic from {machines} in this subscription to the crypto currency mining \
             pool {pool} ({connections} connections) was detected. Unauthorized crypto mining on \
             a customer subscription usually means its credentials were compromised. Review the \
             virtual machines and stop them if the activity is not expected."
        ),
        resources: vms
            .iter()
            .map(|vm| {
                let id = place.arm(&format!("Microsoft.Compute/virtualMachines/{vm}"));
                (id, "AzureResource")
            })
            .collect(),
        details: vec![
            ("VM_IP", json_list(&ips, true)),
            (
                "MiningPool_IP",
                format!("[  \"203.0.113.{}\"]", rng.between(2, 254)),
            ),
            ("ConnectionCount", connections.to_string()),
            ("CryptoCurrencyMiningPoolDomainName", pool.to_owned()),
        ],
    }
}

fn crypto_mining(rng: &mut Rng, place: &Place) -> Body {
    let vm = vm_name(rng);
    let miner = rng.pick(&["xmrig", "t-rex", "lolMiner"]);
    let cpu = rng.between(85, 100);
    let pool_ip = format!("198.51.100.{}", rng.between(2, 254));
    Body {
        description: format!(
            "Activity consistent with crypto currency mining was detected on {vm}: sustained \
             {cpu}% processor use by the process {miner} and outbound connections to mining \
             infrastructure. If this is not expected, stop the resource and rotate the \
             credentials that created it."
        ),
        resources: vec![(
            place.arm(&format!("Microsoft.Compute/virtualMachines/{vm}")),
            "Microsoft.Compute/virtualMachines",
        )],
        details: vec![
            ("ProcessName", miner.to_owned()),
            ("CpuUtilization", format!("{cpu}%")),
            ("MiningPool_IP", json_list(&[pool_ip], false)),
        ],
    }
}

fn usage(rng: &mut Rng, place: &Place) -> Body {
    let (what, meter) = rng.pick(&[
        ("GPU virtual machine deployments", "Virtual Machines"),
        ("virtual machine core hours", "Virtual Machines"),
        (
            "Azure Kubernetes Service node deployments",
            "Virtual Machines",
        ),
        ("outbound data transfer", "Bandwidth"),
        ("App Service plan instances", "Azure App Service"),
    ]);
    let increase = rng.between(180, 2400);
    let resources = if rng.percent(50) {
        Vec::new()
    } else {
        let path = format!("Microsoft.Compute/virtualMachines/{}", vm_name(rng));
        vec![(place.arm(&path), "AzureResource")]
    };
    let region = place.region;
    Body {
        description: format!(
            "Anomalous increase in {what} compared with the trend of the last 30 days: daily \
             usage rose {increase}% in {region}."
        ),
        resources,
        details: vec![
            ("MeterCategory", meter.to_owned()),
            ("IncreasePercentage", increase.to_string()),
            ("ObservationWindowDays", "30".to_owned()),
        ],
    }
}

fn advisory(rng: &mut Rng) -> Body {
    let service = rng.pick(&[
        "Azure Kubernetes Service",
        "Azure App Service",
        "Azure Virtual Machines",
        "Azure Storage",
        "Azure Database for PostgreSQL",
    ]);
    let charset: Vec<char> = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789".chars().collect();
    let mut tracking: String = (0..4).map(|_| rng.pick(&charset)).collect();
    tracking.push('-');
    tracking.extend((0..3).map(|_| rng.pick(&charset)));
    Body {
        description: format!(
            "Microsoft published a security advisory (tracking ID {tracking}) for {service} that \
             affects resources in this subscription. Follow the mitigation steps in Azure Service \
             Health."
        ),
        resources: Vec::new(),
        details: vec![("TrackingId", tracking), ("Service", service.to_owned())],
    }
}

fn multi_region_scale_set(rng: &mut Rng, place: &Place) -> Body {
    let regions = distinct_regions(rng, 3..7);
    let instances = rng.between(20, 400);
    let hours = rng.between(1, 6);
    let count = regions.len();
    Body {
        description: format!(
            "Virtual machine scale sets with {instances} instances in total were created in \
             {count} regions within {hours} hours; this subscription usually deploys in a single \
             region."
        ),
        resources: regions
            .iter()
            .map(|r| {
                let path = format!(
                    "Microsoft.Compute/virtualMachineScaleSets/vmss-{}-{r}",
                    place.workload
                );
                (
                    place.arm(&path),
                    "Microsoft.Compute/virtualMachineScaleSets",
                )
            })
            .collect(),
        details: vec![
            ("Regions", json_list(&regions, true)),
            ("InstanceCount", instances.to_string()),
        ],
    }
}

fn vm_deployment(rng: &mut Rng, place: &Place) -> Body {
    let size = rng.pick(&GPU_SIZES);
    let count = rng.between(8, 120);
    let region = place.region;
    Body {
        description: format!(
            "{count} virtual machines of size {size} were deployed in {region} within a short \
             time, far above this subscription's usual pattern."
        ),
        resources: (0..=rng.below(3))
            .map(|_| {
                let path = format!("Microsoft.Compute/virtualMachines/{}", vm_name(rng));
                (place.arm(&path), "Microsoft.Compute/virtualMachines")
            })
            .collect(),
        details: vec![("VmSize", size.to_owned()), ("VmCount", count.to_string())],
    }
}

fn multi_region_ml(rng: &mut Rng, place: &Place) -> Body {
    let regions = distinct_regions(rng, 2..5);
    let nodes = rng.between(8, 96);
    let count = regions.len();
    Body {
        description: format!(
            "GPU compute clusters for Azure Machine Learning were started in {count} regions at \
             once ({nodes} nodes); this subscription has not used Machine Learning compute there \
             before."
        ),
        resources: regions
            .iter()
            .map(|r| {
                let path = format!(
                    "Microsoft.MachineLearningServices/workspaces/mlw-{}-{r}",
                    place.workload
                );
                (
                    place.arm(&path),
                    "Microsoft.MachineLearningServices/workspaces",
                )
            })
            .collect(),
        details: vec![
            ("Regions", json_list(&regions, true)),
            ("NodeCount", nodes.to_string()),
        ],
    }
}

fn consumption(rng: &mut Rng, place: &Place) -> Body {
    let cores = rng.between(128, 4000);
    let baseline = rng.between(4, 64);
    let region = place.region;
    let path = format!(
        "Microsoft.Compute/virtualMachineScaleSets/vmss-{}-{:02}",
        place.workload,
        rng.between(1, 20)
    );
    Body {
        description: format!(
            "Resource consumption in this subscription rose to {cores} vCPU cores in {region}, \
             against a 30-day baseline of {baseline} cores."
        ),
        resources: if rng.percent(60) {
            vec![(
                place.arm(&path),
                "Microsoft.Compute/virtualMachineScaleSets",
            )]
        } else {
            Vec::new()
        },
        details: vec![
            ("CoreCount", cores.to_string()),
            ("BaselineCoreCount", baseline.to_string()),
        ],
    }
}

fn suspicious_operations(rng: &mut Rng, place: &Place) -> Body {
    let ip = format!("198.51.100.{}", rng.between(2, 254));
    let operations = [
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Capacity/resourceProviders/locations/serviceLimitsRequests/write",
        "Microsoft.Compute/virtualMachines/write",
    ]
    .map(str::to_owned);
    Body {
        description: format!(
            "A sequence of Azure Resource Manager operations typical of an attacker was performed \
             from {ip}, an address not seen for this subscription before: a role assignment was \
             created, a quota increase was requested and compute resources were deployed."
        ),
        resources: vec![(
            format!("/subscriptions/{}", place.sub),
            "Microsoft.Resources/subscriptions",
        )],
        details: vec![
            ("CallerIpAddress", ip),
            ("CallerObjectId", rng.guid()),
            ("Operations", json_list(&operations, true)),
        ],
    }
}

fn batch(rng: &mut Rng, place: &Place) -> Body {
    let account = format!("ba{}{:03}", place.workload, rng.between(1, 200));
    let nodes = rng.between(20, 500);
    let size = rng.pick(&GPU_SIZES);
    Body {
        description: format!(
            "An Azure Batch pool with {nodes} dedicated {size} nodes was created in account \
             {account}, far above this subscription's usual pattern."
        ),
        resources: vec![(
            place.arm(&format!("Microsoft.Batch/batchAccounts/{account}")),
            "Microsoft.Batch/batchAccounts",
        )],
        details: vec![
            ("PoolVmSize", size.to_owned()),
            ("DedicatedNodes", nodes.to_string()),
        ],
    }
}

fn container_instances(rng: &mut Rng, place: &Place) -> Body {
    let image = rng.pick(&[
        "docker.io/library/ubuntu:22.04",
        "registry.example/tools/worker:1.4",
        "docker.io/xmrig/xmrig:latest",
        "ghcr.example/ops/batch-runner:2",
    ]);
    let groups = rng.between(5, 80);
    let region = place.region;
    let path = format!(
        "Microsoft.ContainerInstance/containerGroups/ci-{}-{:02}",
        place.workload,
        rng.between(1, 20)
    );
    Body {
        description: format!(
            "{groups} container groups were created in {region} within an hour from the image \
             {image}; this subscription usually runs fewer than five."
        ),
        resources: vec![(
            place.arm(&path),
            "Microsoft.ContainerInstance/containerGroups",
        )],
        details: vec![
            ("ContainerImage", image.to_owned()),
            ("ContainerGroupCount", groups.to_string()),
        ],
    }
}

fn machine_learning(rng: &mut Rng, place: &Place) -> Body {
    let nodes = rng.between(4, 64);
    let size = rng.pick(&GPU_SIZES);
    let n = rng.between(1, 20);
    let workspace = format!("mlw-{}-{n:02}", place.workload);
    let path = format!(
        "Microsoft.MachineLearningServices/workspaces/{workspace}/computes/gpu-cluster-{n}"
    );
    Body {
        description: format!(
            "An Azure Machine Learning compute cluster of {nodes} {size} nodes was created in \
             workspace {workspace}, far above this subscription's usual pattern."
        ),
        resources: vec![(
            place.arm(&path),
            "Microsoft.MachineLearningServices/workspaces/computes",
        )],
        details: vec![
            ("ComputeSku", size.to_owned()),
            ("NodeCount", nodes.to_string()),
        ],
    }
}

fn quota(rng: &mut Rng, place: &Place) -> Body {
    let quota = rng.pick(&[
        "standardNCADSA100v4Family",
        "standardNDASv4_A100Family",
        "standardFSv2Family",
        "standardDSv5Family",
    ]);
    let previous = rng.between(10, 100);
    let requested = previous * rng.between(8, 40);
    let region = place.region;
    Body {
        description: format!(
            "Requests to raise the {quota} vCPU quota in {region} from {previous} to {requested} \
             cores were made within a day, and the current quota is nearly exhausted."
        ),
        resources: Vec::new(),
        details: vec![
            ("QuotaName", quota.to_owned()),
            ("PreviousLimit", previous.to_string()),
            ("RequestedLimit", requested.to_string()),
        ],
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
    let shape = rng.shape();
    let logs = if rng.percent(45) {
        let at = detected + (on - detected) / 3;
        vec![
            Log {
                from: "active",
                to: "investigating",
                by: rng.pick(&ANALYSTS),
                at,
                shape: rng.shape(),
            },
            Log {
                from: "investigating",
                to: "resolved",
                by,
                at: on,
                shape,
            },
        ]
    } else {
        vec![Log {
            from: "active",
            to: "resolved",
            by,
            at: on,
            shape,
        }]
    };
    (Resolution { reason, on, by }, logs)
}

fn investigate(rng: &mut Rng, detected: DateTime<Utc>, reference: DateTime<Utc>) -> Log {
    let at =
        detected + TimeDelta::seconds(rng.between(600, 2 * 86_400)).min((reference - detected) / 2);
    Log {
        from: "active",
        to: "investigating",
        by: rng.pick(&ANALYSTS),
        at,
        shape: rng.shape(),
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
        shapes: [rng.shape(), rng.shape(), rng.shape(), rng.shape()],
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

/// The first alert not yet special that matches, scanning from the 41st so that the first
/// alert of each customer stays ordinary; it is marked special.
fn claim(alerts: &mut [Alert], matches: impl Fn(&Alert) -> bool) -> &mut Alert {
    let len = alerts.len();
    let index = (40..len)
        .chain(0..40.min(len))
        .find(|&i| !alerts[i].special && matches(&alerts[i]))
        .expect("an alert fit for the special case");
    alerts[index].special = true;
    &mut alerts[index]
}

/// Like [`claim`], but prefers an active alert of the given type from the last 30 days, so that
/// the planted text fits the alert it sits in; otherwise any active alert from the last 10 days.
fn claim_typed<'a>(
    alerts: &'a mut [Alert],
    reference: DateTime<Utc>,
    type_name: &str,
) -> &'a mut Alert {
    let typed =
        |a: &Alert| recent_active(a, reference, 30) && a.type_name.eq_ignore_ascii_case(type_name);
    if alerts.iter().any(|a| !a.special && typed(a)) {
        claim(alerts, typed)
    } else {
        claim(alerts, |a| recent_active(a, reference, 10))
    }
}

fn recent_active(alert: &Alert, reference: DateTime<Utc>, days: i64) -> bool {
    alert.status == "active" && alert.age(reference) < TimeDelta::days(days)
}

/// Test alerts, unknown enum members, odd identities and a reopened alert.
fn add_quirks(alerts: &mut [Alert], rng: &mut Rng, reference: DateTime<Utc>) {
    for n in 0..5 {
        let alert = claim(alerts, |a| recent_active(a, reference, 30));
        alert.is_test = J::Bool(true);
        alert.description = String::from(
            "Test alert raised from Partner Center to check that security alert notifications \
             reach you. No action is required.",
        );
        if n == 4 {
            let (resolution, logs) = resolve(rng, alert.detected, reference);
            alert.status = "resolved";
            alert.resolution = Some(Resolution {
                reason: "ignore",
                ..resolution
            });
            alert.logs = logs;
        }
    }

    let alert = claim(alerts, |a| recent_active(a, reference, 10));
    alert.subscription = None;
    alert.resources.clear();
    alert.id = rng.guid();

    let alert = claim(alerts, |a| recent_active(a, reference, 20));
    alert.customer = String::new();
    alert.reseller = None;

    // The same tenant in upper case, as in one of Microsoft's samples.
    let alert = claim(alerts, |a| recent_active(a, reference, 14));
    alert.customer = alert.customer.to_uppercase();

    let alert = claim(alerts, |a| recent_active(a, reference, 14));
    let mut log = investigate(rng, alert.detected, reference);
    log.to = "escalated";
    alert.status = "escalated";
    alert.logs = vec![log];

    claim(alerts, |a| recent_active(a, reference, 7)).severity = "critical";
    claim(alerts, |a| recent_active(a, reference, 30)).severity = "unknownFutureValue";
    claim(alerts, |a| recent_active(a, reference, 30)).confidence = "unknownFutureValue";

    // Active while the resolution fields are filled in: resolved, then reopened.
    let alert = claim(alerts, |a| {
        recent_active(a, reference, 40) && a.age(reference) > TimeDelta::days(10)
    });
    let (resolution, mut logs) = resolve(rng, alert.detected, reference);
    let reopened = resolution.on + TimeDelta::hours(rng.between(2, 48));
    logs.push(Log {
        from: "resolved",
        to: "active",
        by: ANALYSTS[0],
        at: reopened.min(reference - TimeDelta::minutes(1)),
        shape: rng.shape(),
    });
    alert.resolution = Some(resolution);
    alert.logs = logs;

    // Types compare case-insensitively: a spelling never documented.
    for _ in 0..2 {
        claim(alerts, |a| a.type_name == "CryptoMining").type_name = String::from("cryptoMining");
    }
}

/// Strings an attacker could plant in resource names and tags, which the service copies into
/// descriptions, resource ids and details. Ids, tenants and detection times stay valid.
fn plant_hostile_strings(alerts: &mut [Alert], reference: DateTime<Utc>) {
    let alert = claim_typed(alerts, reference, "networkConnectionsToCryptoMiningPools");
    let sub = alert.subscription.clone().unwrap_or_default();
    let group = "rg-<script>alert(1)</script>";
    alert.resources = vec![(
        arm(&sub, group, "Microsoft.Compute/virtualMachines/vm-web-01"),
        "AzureResource",
    )];
    alert.description = format!(
        "Network traffic from virtual machine vm-web-01 in resource group {group} to a known \
         crypto currency mining pool was detected. Review the virtual machine and stop it if the \
         activity is not expected."
    );

    let alert = claim_typed(
        alerts,
        reference,
        "AzureContainerInstances_AnomalousDeployment",
    );
    alert
        .display_name
        .push_str(" \"><img src=x onerror=alert(1)>");
    alert.detail(
        "ContainerImage",
        "registry.example/\"><img src=x onerror=alert(1)>:latest",
    );

    let alert = claim_typed(alerts, reference, "VM_AnomalousDeployment");
    let sub = alert.subscription.clone().unwrap_or_default();
    alert.resources = vec![(
        arm(
            &sub,
            "rg-prod-app",
            "Microsoft.Compute/virtualMachines/vm-</td></table>-02",
        ),
        "Microsoft.Compute/virtualMachines",
    )];
    alert
        .description
        .push_str(" Deployed by template </td></table><h1>Urgent: call +1-555-0100</h1>.");
    alert.detail("Tag_owner", "{{7*7}} ${7*7} <%= 7*7 %>");

    let alert = claim_typed(alerts, reference, "ARM_AnomalousResourceConsumption");
    alert.display_name = String::from(
        "Action Required: Anomalous Resource Consumption Detected {{7*7}}\r\n\
         Bcc: attacker@evil.example",
    );
    alert.detail("Note", "+1+1");

    let alert = claim(alerts, |a| {
        recent_active(a, reference, 10) && !a.resources.is_empty()
    });
    alert.display_name = String::from(r#"=HYPERLINK("http://evil.example","x")"#);
    alert.description =
        String::from("@SUM(1) was found in the resource tag copied into this alert.");
    alert.detail("CostCenter", "-2+3");
    alert.detail("Tag_budget", "=HYPERLINK(\"http://evil.example\",\"x\")");

    let alert = claim_typed(alerts, reference, "ARM_SuspiciousOperations");
    alert.description = String::from(
        "Operations were performed by a deployment whose description reads:\r\n\
         .\r\n\
         MAIL FROM:<attacker@evil.example>\r\n\
         RCPT TO:<billing@contoso-partner.example>\r\n\
         DATA\r\n\
         Subject: updated bank details\r\n\
         \r\n\
         Please pay the attached invoice.\r\n\
         .\r\n\
         QUIT\r\n",
    );
    alert.detail("DeploymentName", "deploy\n.\nQUIT");

    let alert = claim_typed(alerts, reference, "CryptoMining");
    let sub = alert.subscription.clone().unwrap_or_default();
    alert.resources = vec![
        (
            arm(
                &sub,
                "rg-dev",
                "Microsoft.Compute/virtualMachines/vm-\u{202e}txt.exe",
            ),
            "Microsoft.Compute/virtualMachines",
        ),
        (
            arm(
                &sub,
                "rg-dev",
                "Microsoft.Compute/virtualMachines/vm-miner-\u{26cf}\u{fe0f}-01",
            ),
            "Microsoft.Compute/virtualMachines",
        ),
    ];
    alert.description = String::from(
        "Crypto mining was detected on vm-\u{202e}txt.exe\u{202c} and vm-miner-\u{26cf}\u{fe0f}-01 \
         \u{1f4b0}. Owner tag: pay\u{200b}ment\u{200d}s\u{feff}-team.",
    );
    alert.detail("WalletAddress", "48Adk\u{200b}\u{200b}9Lm2x\u{200d}QpZ");
}

/// The same alert delivered twice: later observed, resolved (with its id in upper case), or
/// moved to investigating. The copies go to the end of the page.
fn duplicates(alerts: &mut [Alert], rng: &mut Rng, reference: DateTime<Utc>) -> Vec<Alert> {
    let mut copies = Vec::new();
    for n in 0..3 {
        let original = claim(alerts, |a| {
            recent_active(a, reference, 20) && a.age(reference) > TimeDelta::days(2)
        });
        let mut copy = original.clone();
        let later = original.detected + TimeDelta::hours(rng.between(2, 40)) + rng.jitter();
        copy.last_observed = later.min(reference - TimeDelta::minutes(10));
        match n {
            0 => {}
            1 => {
                copy.id = copy.id.to_uppercase();
                let (resolution, logs) = resolve(rng, original.detected, reference);
                copy.status = "resolved";
                copy.resolution = Some(Resolution {
                    reason: "fraud",
                    ..resolution
                });
                copy.logs = logs;
            }
            _ => {
                copy.status = "investigating";
                copy.logs = vec![investigate(rng, original.detected, reference)];
            }
        }
        copies.push(copy);
    }
    copies
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

fn main() -> io::Result<()> {
    let reference = DateTime::parse_from_rfc3339(REFERENCE)
        .expect("REFERENCE is RFC 3339")
        .with_timezone(&Utc);
    let mut rng = Rng(SEED);
    let alerts = sample(&mut rng, reference);
    let page = J::Obj(vec![
        ("@odata.context", text(CONTEXT)),
        ("value", J::Arr(alerts.iter().map(Alert::to_json).collect())),
    ]);
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &page)?;
    writeln!(out)?;
    out.flush()
}
