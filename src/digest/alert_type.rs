//! Alert types: an open set compared case-insensitively. The digest groups by a type's key;
//! labels, in every language, are the renderer's (`render::lang::alert_types`).

/// The keys of the types this build knows: legacy `PascalCase` and current `camelCase` names
/// share a key because types compare case-insensitively.
pub const KNOWN: &[&str] = &[
    "networkconnectionstocryptominingpools",
    "usageanomalydetection",
    "servicehealthsecurityadvisory",
    "multiregionvirtualmachinescalesetdeploymentanomaly",
    "virtualmachinedeploymentanomaly",
    "multiregionmachinelearningusageanomaly",
    "arm_anomalousresourceconsumption",
    "arm_suspiciousoperations",
    "vm_anomalousdeployment",
    "azurebatch_anomalousdeployment",
    "azurecontainerinstances_anomalousdeployment",
    "azuremachinelearning_anomalousdeployment",
    "cryptomining",
];

/// The grouping key of a raw type.
pub fn key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Whether this build knows the type.
pub fn is_known(raw: &str) -> bool {
    let key = key(raw);
    KNOWN.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_match_case_insensitively() {
        assert_eq!(key("UsageAnomalyDetection"), key("usageAnomalyDetection"));
        assert!(is_known("ARM_SuspiciousOperations"));
        assert!(is_known("arm_suspiciousOperations"));
        assert!(!is_known("QuotaExhaustion_AnomalousIncrease"));
    }
}
