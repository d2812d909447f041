//! The scale recipe: any number of alerts, alert `i` a pure function of the seed, the reference
//! instant and `i`, so that a million of them need no memory and any one can be made again. The
//! fake Graph service serves these; [`crate::truth_of`] counts them.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::rng::{Rng, mix64, permute48};
use super::stamp::{Shape, stamp};
use super::tables::{
    ANALYSTS, Family, MINING_POOLS, REGIONS, RESOURCE_GROUPS, VM_SIZES, WORKLOADS, arm, private_ip,
    scale_kinds,
};

/// `n` realistic `partnerSecurityAlert` objects, the same for the same arguments, exactly as a
/// [`crate::FakeGraph`] with these options serves them (alert `i` is the `i % page_size`-th of page
/// `i / page_size`).
///
/// - ids: GUIDs or `{subscriptionId}-{guid}`, all distinct, lower case;
/// - `max(1, min(5000, n / 20))` customers with 1–3 subscriptions each, ~60% of them behind one
///   of 50 resellers;
/// - `detectedDateTime` uniform over the 80 days before `reference` (so ~25% are older than a
///   60-day window), written with 7 fractional digits, 3, none, or a `+02:00` offset;
/// - ~30% `resolved` (with reason, time and resolver), ~5% `investigating`, the rest `active`;
/// - ~2% `isTest: true`; some `isTest: "false"` strings as Microsoft's own sample sends;
/// - every known alert type, descriptions of a few hundred characters, 1–3 affected resources
///   with ARM ids, `additionalDetails` bags.
///
/// It keeps every alert as a `Value`: for a million alerts use [`crate::truth_of`] instead.
pub fn generate(n: usize, seed: u64, reference: DateTime<Utc>) -> Vec<Value> {
    let world = World::new(n, seed, reference);
    (0..n)
        .map(|i| serde_json::to_value(world.alert(i)).expect("alert JSON"))
        .collect()
}

/// The customers [`generate`]'s alerts for `(n, seed, reference)` are drawn from, in the
/// generator's order: (customer tenant id, its indirect reseller's tenant id). For a fake
/// directory (Partner Center) that knows the same tenants.
pub fn directory(n: usize, seed: u64, reference: DateTime<Utc>) -> Vec<(String, Option<String>)> {
    let world = World::new(n, seed, reference);
    world
        .customers
        .iter()
        .map(|c| {
            (
                c.tenant.clone(),
                c.reseller.map(|r| world.resellers[r].clone()),
            )
        })
        .collect()
}

const MINERS: [&str; 4] = ["xmrig", "lolMiner", "t-rex", "nbminer"];
const OFFERS: [Option<&str>; 4] = [
    Some("MS-AZR-0017G"),
    Some("MS-AZR-0017G"),
    Some("MS-AZR-0145P"),
    None,
];

/// The generator for one stream of draws (the world's, or one alert's), from `state`. It starts
/// one draw later than `Rng(state)`: the recipe was first written with `SplitMix64`'s increment
/// applied twice per draw, and skipping that draw keeps every alert it ever made.
fn stream(state: u64) -> Rng {
    let mut rng = Rng(state);
    rng.next_u64();
    rng
}

/// A random GUID: the last group drawn first, then the rest.
fn any_guid(rng: &mut Rng) -> String {
    let node = rng.next_u64();
    rng.guid_with_node(node)
}

struct Subscription {
    id: String,
    offer: Option<&'static str>,
}

struct Customer {
    tenant: String,
    reseller: Option<usize>,
    subscriptions: Vec<Subscription>,
}

/// Customers, resellers and the seed: alert `i` is a pure function of these and `i`.
pub(crate) struct World {
    seed: u64,
    reference: DateTime<Utc>,
    resellers: Vec<String>,
    customers: Vec<Customer>,
    total_weight: usize,
}

impl World {
    pub(crate) fn new(n: usize, seed: u64, reference: DateTime<Utc>) -> Self {
        let mut rng = stream(mix64(seed ^ 0xC057_0E35));
        let resellers: Vec<String> = (0..50).map(|_| any_guid(&mut rng)).collect();
        let customers = (0..(n / 20).clamp(1, 5000))
            .map(|_| Customer {
                tenant: any_guid(&mut rng),
                reseller: rng.percent(60).then(|| rng.below(resellers.len())),
                subscriptions: (0..=rng.below(3))
                    .map(|_| Subscription {
                        id: any_guid(&mut rng),
                        offer: rng.pick(&OFFERS),
                    })
                    .collect(),
            })
            .collect();
        Self {
            seed,
            reference,
            resellers,
            customers,
            total_weight: scale_kinds().iter().map(|k| k.weight).sum(),
        }
    }

    pub(crate) fn alert(&self, index: usize) -> Alert<'_> {
        let index64 = u64::try_from(index).expect("usize fits in u64");
        let mut rng = stream(mix64(self.seed) ^ mix64(index64 ^ 0xA1E7_0000_0000_0000));
        let customer = &self.customers[rng.below(self.customers.len())];
        let subscription = &customer.subscriptions[rng.below(customer.subscriptions.len())];
        let mut roll = rng.below(self.total_weight);
        let kind = scale_kinds()
            .iter()
            .find(|k| {
                let hit = roll < k.weight;
                roll = roll.saturating_sub(k.weight);
                hit
            })
            .expect("roll is below the total weight");
        let (alert_type, display_name, family) = (kind.name, kind.title, kind.family);

        // 100 ns ticks, as Graph's 7-digit fractions.
        let ticks = rng.between(0, 80 * 86_400 * 10_000_000);
        let detected = self.reference - TimeDelta::nanoseconds(ticks * 100);
        let first = detected - TimeDelta::seconds(rng.between(60, 6 * 3600));
        let last = first + (detected - first) / 2 + TimeDelta::milliseconds(rng.between(0, 1000));
        let shape = rng.pick(&[
            Shape::Ticks,
            Shape::Ticks,
            Shape::Ticks,
            Shape::Whole,
            Shape::Whole,
            Shape::Millis,
            Shape::Millis,
            Shape::PlusTwo,
        ]);

        let guid = rng.guid_with_node(permute48(index, self.seed));
        let id = if rng.percent(50) {
            format!("{}-{guid}", subscription.id)
        } else {
            guid
        };

        let Lifecycle {
            status,
            resolved_reason,
            resolved_on,
            resolved_by,
            activity_logs,
        } = lifecycle(&mut rng, detected, self.reference, shape);
        let is_test = match rng.below(100) {
            0..2 => IsTest::Bool(true),
            2..12 => IsTest::Text("false"),
            _ => IsTest::Bool(false),
        };

        let place = Place {
            subscription: &subscription.id,
            group: rng.pick(&RESOURCE_GROUPS),
            region: rng.pick(&REGIONS),
        };
        let Body {
            description,
            affected_resources,
            additional_details,
        } = body(&mut rng, family, &place);

        Alert {
            id,
            display_name,
            description,
            alert_type,
            status,
            severity: rng.pick(&[
                "high",
                "high",
                "medium",
                "medium",
                "medium",
                "low",
                "low",
                "informational",
            ]),
            confidence_level: rng.pick(&["low", "medium", "medium", "high"]),
            customer_tenant_id: &customer.tenant,
            subscription_id: &subscription.id,
            value_added_reseller_tenant_id: customer.reseller.map(|r| self.resellers[r].as_str()),
            catalog_offer_id: subscription.offer,
            detected_date_time: stamp(detected, shape),
            first_observed_date_time: stamp(first, shape),
            last_observed_date_time: stamp(last, shape),
            resolved_reason,
            resolved_on_date_time: resolved_on,
            resolved_by,
            is_test,
            affected_resources,
            activity_logs,
            additional_details: Details(additional_details),
        }
    }
}

/// Status, resolution and status history of an alert.
struct Lifecycle {
    status: &'static str,
    resolved_reason: Option<&'static str>,
    resolved_on: Option<String>,
    resolved_by: Option<&'static str>,
    activity_logs: Vec<ActivityLog>,
}

/// ~30% resolved (reason, time, resolver and one status change), ~5% investigating (one status
/// change), the rest active.
fn lifecycle(
    rng: &mut Rng,
    detected: DateTime<Utc>,
    reference: DateTime<Utc>,
    shape: Shape,
) -> Lifecycle {
    let status = match rng.below(100) {
        0..30 => "resolved",
        30..35 => "investigating",
        _ => "active",
    };
    let analyst = rng.pick(&ANALYSTS);
    let mut lifecycle = Lifecycle {
        status,
        resolved_reason: None,
        resolved_on: None,
        resolved_by: None,
        activity_logs: Vec::new(),
    };
    if status == "active" {
        return lifecycle;
    }
    let (on, reason) = if status == "resolved" {
        let on = detected + TimeDelta::seconds(rng.between(300, 72 * 3600));
        let reason = rng.pick(&["legitimate", "legitimate", "fraud", "ignore"]);
        (on.min(reference), Some(reason))
    } else {
        let at = detected + TimeDelta::seconds(rng.between(60, 8 * 3600));
        (at.min(reference), None)
    };
    if let Some(reason) = reason {
        lifecycle.resolved_reason = Some(reason);
        lifecycle.resolved_on = Some(stamp(on, shape));
        lifecycle.resolved_by = Some(analyst);
    }
    lifecycle.activity_logs.push(ActivityLog {
        status_from: "active",
        status_to: status,
        updated_by: analyst,
        updated_date_time: stamp(on, shape),
    });
    lifecycle
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(
    clippy::struct_field_names,
    reason = "the fields are the JSON names of partnerSecurityAlert"
)]
pub(crate) struct Alert<'w> {
    pub(crate) id: String,
    display_name: &'static str,
    description: String,
    alert_type: &'static str,
    pub(crate) status: &'static str,
    severity: &'static str,
    confidence_level: &'static str,
    pub(crate) customer_tenant_id: &'w str,
    pub(crate) subscription_id: &'w str,
    pub(crate) value_added_reseller_tenant_id: Option<&'w str>,
    catalog_offer_id: Option<&'static str>,
    pub(crate) detected_date_time: String,
    first_observed_date_time: String,
    last_observed_date_time: String,
    resolved_reason: Option<&'static str>,
    resolved_on_date_time: Option<String>,
    resolved_by: Option<&'static str>,
    pub(crate) is_test: IsTest,
    affected_resources: Vec<Resource>,
    activity_logs: Vec<ActivityLog>,
    additional_details: Details,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum IsTest {
    Bool(bool),
    Text(&'static str),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    resource_id: String,
    resource_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityLog {
    status_from: &'static str,
    status_to: &'static str,
    updated_by: &'static str,
    updated_date_time: String,
}

/// `additionalDetails`: string → string, in the order written.
struct Details(Vec<(&'static str, String)>);

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

struct Place<'a> {
    subscription: &'a str,
    group: &'static str,
    region: &'static str,
}

impl Place<'_> {
    fn arm(&self, provider_path: &str) -> String {
        arm(self.subscription, self.group, provider_path)
    }
}

struct Body {
    description: String,
    affected_resources: Vec<Resource>,
    additional_details: Vec<(&'static str, String)>,
}

/// 1–3 resources of one type, named `{prefix}-{workload}-{nn}`; the first name is returned too.
fn resources(
    rng: &mut Rng,
    place: &Place<'_>,
    provider: &str,
    resource_type: &'static str,
    prefix: &str,
) -> (String, Vec<Resource>) {
    let count = 1 + rng.below(3);
    let first = rng.below(40);
    let workload = rng.pick(&WORKLOADS);
    let names: Vec<String> = (0..count)
        .map(|k| format!("{prefix}-{workload}-{:02}", first + k + 1))
        .collect();
    let list = names
        .iter()
        .map(|name| Resource {
            resource_id: place.arm(&format!("{provider}/{name}")),
            resource_type,
        })
        .collect();
    (names[0].clone(), list)
}

/// The subscription itself, plus 0–2 of its resource groups.
fn subscription_resources(rng: &mut Rng, place: &Place<'_>) -> Vec<Resource> {
    let mut list = vec![Resource {
        resource_id: format!("/subscriptions/{}", place.subscription),
        resource_type: "Microsoft.Resources/subscriptions",
    }];
    for _ in 0..rng.below(3) {
        list.push(Resource {
            resource_id: format!(
                "/subscriptions/{}/resourceGroups/{}",
                place.subscription,
                rng.pick(&RESOURCE_GROUPS)
            ),
            resource_type: "Microsoft.Resources/resourceGroups",
        });
    }
    list
}

fn public_ip(rng: &mut Rng) -> String {
    let prefix = rng.pick(&["203.0.113", "198.51.100"]);
    format!("{prefix}.{}", 1 + rng.below(254))
}

#[allow(
    clippy::too_many_lines,
    reason = "one arm per alert family; splitting them apart hides the pattern"
)]
fn body(rng: &mut Rng, family: Family, place: &Place<'_>) -> Body {
    let region = place.region;
    let vm = |rng: &mut Rng| {
        resources(
            rng,
            place,
            "Microsoft.Compute/virtualMachines",
            "Microsoft.Compute/virtualMachines",
            "vm",
        )
    };
    match family {
        Family::MiningPool => {
            let (name, list) = vm(rng);
            let pool = rng.pick(&MINING_POOLS);
            let count = 3 + rng.below(400);
            let ip = private_ip(rng, [(0, 256), (0, 256), (1, 255)]);
            Body {
                description: format!(
                    "Network connections from {name} ({ip}) to the crypto currency mining pool \
                     {pool} were detected {count} times in the last hours. Mining pools \
                     coordinate crypto currency mining; a virtual machine that connects to one \
                     is often compromised or used for unauthorized mining. Review the virtual \
                     machine, stop it if the activity is not expected, and rotate the \
                     credentials that deployed it."
                ),
                affected_resources: list,
                additional_details: vec![
                    ("VM_IP", format!("[ \"{ip}\" ]")),
                    ("MiningPool", pool.to_owned()),
                    ("ConnectionCount", count.to_string()),
                    ("Region", region.to_owned()),
                ],
            }
        }
        Family::CryptoMining => {
            let (name, list) = vm(rng);
            let miner = rng.pick(&MINERS);
            let cpu = 70 + rng.below(30);
            let pool_ip = public_ip(rng);
            Body {
                description: format!(
                    "Activity consistent with crypto currency mining was detected on {name}: \
                     sustained {cpu}% processor use by the process {miner} and outbound \
                     connections to mining infrastructure at {pool_ip}. If this is not \
                     expected, stop the resource and rotate the credentials that created it. \
                     Mining on a compromised subscription can run up large charges within hours."
                ),
                affected_resources: list,
                additional_details: vec![
                    ("ProcessName", miner.to_owned()),
                    ("CpuUtilization", format!("{cpu}%")),
                    ("RemoteIp", pool_ip),
                    ("Region", region.to_owned()),
                ],
            }
        }
        Family::Usage | Family::Consumption | Family::Quota => {
            let size = rng.pick(&VM_SIZES);
            let factor = 4 + rng.below(60);
            let cores = 64 * (1 + rng.below(40));
            let hours = 1 + rng.below(24);
            let list = if family == Family::Usage {
                vm(rng).1
            } else {
                subscription_resources(rng, place)
            };
            Body {
                description: format!(
                    "Compute usage in the subscription rose to {factor} times its 30-day \
                     baseline within {hours} hours: {cores} new cores of {size} were deployed in \
                     {region}. Such increases are a common sign of stolen credentials used to \
                     run crypto currency mining or other abuse. Confirm the deployment with the \
                     customer; if it is not expected, remove the resources and review recent \
                     sign-ins and role assignments."
                ),
                affected_resources: list,
                additional_details: vec![
                    ("Region", region.to_owned()),
                    ("VmSize", size.to_owned()),
                    ("CoresDeployed", cores.to_string()),
                    ("BaselineFactor", factor.to_string()),
                ],
            }
        }
        Family::Advisory => Body {
            description: format!(
                "Microsoft has identified a security issue that may affect resources in this \
                 subscription in {region}. Credentials or secrets exposed through it could let \
                 an attacker deploy resources or read data. Review the Service Health advisory \
                 in the Azure portal, apply the recommended mitigation, and rotate any secrets \
                 it names. Resolve this alert once the mitigation is in place."
            ),
            affected_resources: subscription_resources(rng, place),
            additional_details: vec![
                (
                    "TrackingId",
                    format!("{:03X}-{:03X}", rng.below(4096), rng.below(4096)),
                ),
                ("Region", region.to_owned()),
            ],
        },
        Family::SuspiciousOps => {
            let caller = public_ip(rng);
            let object = any_guid(rng);
            Body {
                description: format!(
                    "A sequence of Azure Resource Manager operations typical of an attacker was \
                     performed from {caller}, an address not seen for this subscription before: \
                     a role assignment was created, a quota increase was requested and compute \
                     resources were deployed in {region}. Verify the caller with the customer \
                     and remove the role assignment if it is not expected."
                ),
                affected_resources: subscription_resources(rng, place),
                additional_details: vec![
                    ("CallerIpAddress", caller),
                    ("CallerObjectId", object),
                    (
                        "Operations",
                        "[\r\n  \"Microsoft.Authorization/roleAssignments/write\",\r\n  \
                         \"Microsoft.Compute/virtualMachines/write\"\r\n]"
                            .to_owned(),
                    ),
                    ("Region", region.to_owned()),
                ],
            }
        }
        Family::VmDeployment
        | Family::MultiRegionScaleSet
        | Family::Batch
        | Family::ContainerInstances
        | Family::MachineLearning
        | Family::MultiRegionMl => {
            let (service, provider, resource_type, prefix) = match family {
                Family::MultiRegionScaleSet => (
                    "virtual machine scale sets",
                    "Microsoft.Compute/virtualMachineScaleSets",
                    "Microsoft.Compute/virtualMachineScaleSets",
                    "vmss",
                ),
                Family::Batch => (
                    "Azure Batch pools",
                    "Microsoft.Batch/batchAccounts",
                    "Microsoft.Batch/batchAccounts",
                    "batch",
                ),
                Family::ContainerInstances => (
                    "container groups",
                    "Microsoft.ContainerInstance/containerGroups",
                    "Microsoft.ContainerInstance/containerGroups",
                    "aci",
                ),
                Family::MachineLearning | Family::MultiRegionMl => (
                    "Azure Machine Learning compute clusters",
                    "Microsoft.MachineLearningServices/workspaces",
                    "Microsoft.MachineLearningServices/workspaces",
                    "mlw",
                ),
                _ => (
                    "virtual machines",
                    "Microsoft.Compute/virtualMachines",
                    "Microsoft.Compute/virtualMachines",
                    "vm",
                ),
            };
            let (name, list) = resources(rng, place, provider, resource_type, prefix);
            let size = rng.pick(&VM_SIZES);
            let count = 2 + rng.below(60);
            let caller = any_guid(rng);
            Body {
                description: format!(
                    "{count} {service} using {size} were deployed in {region}, starting with \
                     {name}, by the identity {caller}, which has not deployed compute in this \
                     subscription before. The pattern matches deployments seen in known abuse \
                     campaigns. Verify the deployment with the subscription owner and delete \
                     the resources if it is not expected."
                ),
                affected_resources: list,
                additional_details: vec![
                    ("CallerObjectId", caller),
                    ("VmSize", size.to_owned()),
                    ("DeployedCount", count.to_string()),
                    ("Regions", format!("[ \"{region}\" ]")),
                ],
            }
        }
    }
}
