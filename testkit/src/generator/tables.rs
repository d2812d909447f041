//! The generator's tables: who resolves alerts, where resources live, what they are called, and
//! every alert type with its title and how common it is.

use super::rng::Rng;

pub const ANALYSTS: [&str; 3] = [
    "analyst@contoso-partner.example",
    "m.okafor@contoso-partner.example",
    "soc-oncall@contoso-partner.example",
];

pub const REGIONS: [&str; 10] = [
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

pub const RESOURCE_GROUPS: [&str; 8] = [
    "rg-web",
    "rg-prod-app",
    "rg-data",
    "rg-ml",
    "rg-batch",
    "rg-aks-nodes",
    "rg-dev",
    "rg-shared",
];

pub const WORKLOADS: [&str; 8] = ["web", "api", "build", "sql", "etl", "gpu", "jump", "test"];

pub const MINING_POOLS: [&str; 4] = [
    "xmr.pool.example",
    "eu1.nanopool.example",
    "rvn.f2pool.example",
    "stratum.minerpool.example",
];

/// Virtual machine sizes worth stealing: GPUs and many cores.
pub const VM_SIZES: [&str; 6] = [
    "Standard_NC24ads_A100_v4",
    "Standard_ND96asr_v4",
    "Standard_NV36ads_A10_v5",
    "Standard_HB120rs_v3",
    "Standard_F72s_v2",
    "Standard_D64s_v5",
];

/// What an alert type is about: it decides the text, resources and details of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
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
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub family: Family,
    pub weight: usize,
    pub title: &'static str,
}

const MINING_POOL_TITLE: &str =
    "Action Required: Virtual machine connecting to crypto currency mining pool Detected";
const USAGE_TITLE: &str = "Action Required: Subscription Usage Anomaly Detected";

/// Every type seen so far (the Graph sample names, the legacy names, the 2024 names) and one
/// the digest has never seen.
pub const KINDS: [Kind; 16] = [
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

/// The types the scale recipe draws from: all but the last of [`KINDS`]. Its world was fixed
/// before the sample grew `QuotaExhaustion_AnomalousIncrease`; drawing from that one too would
/// change every alert the fake Graph service serves, and so the ground truth the end-to-end
/// tests and the benchmark compare with.
pub fn scale_kinds() -> &'static [Kind] {
    &KINDS[..KINDS.len() - 1]
}

/// An Azure Resource Manager id in `group` of `subscription`.
pub fn arm(subscription: &str, group: &str, path: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}/providers/{path}")
}

/// A private address, `10.b.c.d`, each of the three numbers drawn from its range (`lo..hi`).
pub fn private_ip(rng: &mut Rng, [b, c, d]: [(i64, i64); 3]) -> String {
    format!(
        "10.{}.{}.{}",
        rng.between(b.0, b.1),
        rng.between(c.0, c.1),
        rng.between(d.0, d.1)
    )
}
