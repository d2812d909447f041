//! The text, affected resources and details of a sample alert, one function per alert family.

use std::ops::Range;

use super::super::rng::Rng;
use super::super::tables::{
    Family, MINING_POOLS, REGIONS, RESOURCE_GROUPS, VM_SIZES, WORKLOADS, arm, private_ip,
};

/// Text, affected resources and details of one alert.
pub(super) struct Body {
    pub(super) description: String,
    pub(super) resources: Vec<(String, &'static str)>,
    pub(super) details: Vec<(&'static str, String)>,
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

    /// The one resource at `path`, of `resource_type`.
    fn one(&self, path: &str, resource_type: &'static str) -> Vec<(String, &'static str)> {
        vec![(self.arm(path), resource_type)]
    }

    /// One resource of `resource_type` per region, named `{prefix}-{workload}-{region}`.
    fn in_each(
        &self,
        regions: &[String],
        resource_type: &'static str,
        prefix: &str,
    ) -> Vec<(String, &'static str)> {
        regions
            .iter()
            .map(|r| {
                let path = format!("{resource_type}/{prefix}-{}-{r}", self.workload);
                (self.arm(&path), resource_type)
            })
            .collect()
    }
}

fn vm_name(rng: &mut Rng) -> String {
    format!("vm-{}-{:02}", rng.pick(&WORKLOADS), rng.between(1, 40))
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

pub(super) fn body(rng: &mut Rng, family: Family, sub: &str, region: &'static str) -> Body {
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
    let ips: Vec<String> = (0..count)
        .map(|_| private_ip(rng, [(0, 8), (0, 4), (4, 250)]))
        .collect();
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
        resources: place.one(
            &format!("Microsoft.Compute/virtualMachines/{vm}"),
            "Microsoft.Compute/virtualMachines",
        ),
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
        place.one(&path, "AzureResource")
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
        resources: place.in_each(
            &regions,
            "Microsoft.Compute/virtualMachineScaleSets",
            "vmss",
        ),
        details: vec![
            ("Regions", json_list(&regions, true)),
            ("InstanceCount", instances.to_string()),
        ],
    }
}

fn vm_deployment(rng: &mut Rng, place: &Place) -> Body {
    let size = rng.pick(&VM_SIZES);
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
        resources: place.in_each(
            &regions,
            "Microsoft.MachineLearningServices/workspaces",
            "mlw",
        ),
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
            place.one(&path, "Microsoft.Compute/virtualMachineScaleSets")
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
    let size = rng.pick(&VM_SIZES);
    Body {
        description: format!(
            "An Azure Batch pool with {nodes} dedicated {size} nodes was created in account \
             {account}, far above this subscription's usual pattern."
        ),
        resources: place.one(
            &format!("Microsoft.Batch/batchAccounts/{account}"),
            "Microsoft.Batch/batchAccounts",
        ),
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
        resources: place.one(&path, "Microsoft.ContainerInstance/containerGroups"),
        details: vec![
            ("ContainerImage", image.to_owned()),
            ("ContainerGroupCount", groups.to_string()),
        ],
    }
}

fn machine_learning(rng: &mut Rng, place: &Place) -> Body {
    let nodes = rng.between(4, 64);
    let size = rng.pick(&VM_SIZES);
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
        resources: place.one(
            &path,
            "Microsoft.MachineLearningServices/workspaces/computes",
        ),
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
