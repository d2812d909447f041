//! Alert types: an open set compared case-insensitively, with a readable label for known types
//! and one derived from the raw name for types Microsoft adds without notice.

/// Known types (lower-cased key → label). Legacy `PascalCase` and current `camelCase` names share a
/// key because types compare case-insensitively.
const KNOWN: &[(&str, &str)] = &[
    (
        "networkconnectionstocryptominingpools",
        "Network connections to crypto-mining pools",
    ),
    ("usageanomalydetection", "Usage anomaly"),
    (
        "servicehealthsecurityadvisory",
        "Service health security advisory",
    ),
    (
        "multiregionvirtualmachinescalesetdeploymentanomaly",
        "Multi-region VM scale set deployment anomaly",
    ),
    (
        "virtualmachinedeploymentanomaly",
        "Virtual machine deployment anomaly",
    ),
    (
        "multiregionmachinelearningusageanomaly",
        "Multi-region machine learning usage anomaly",
    ),
    (
        "arm_anomalousresourceconsumption",
        "Anomalous resource consumption (ARM)",
    ),
    ("arm_suspiciousoperations", "Suspicious operations (ARM)"),
    ("vm_anomalousdeployment", "Anomalous VM deployment"),
    (
        "azurebatch_anomalousdeployment",
        "Anomalous Azure Batch deployment",
    ),
    (
        "azurecontainerinstances_anomalousdeployment",
        "Anomalous Azure Container Instances deployment",
    ),
    (
        "azuremachinelearning_anomalousdeployment",
        "Anomalous Azure Machine Learning deployment",
    ),
    ("cryptomining", "Crypto mining"),
];

/// The grouping key of a raw type.
pub fn key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A readable label: the known one, or words split from the raw name
/// (`QuotaExhaustion_AnomalousIncrease` → "Quota exhaustion: anomalous increase").
pub fn label(raw: &str) -> String {
    let key = key(raw);
    if let Some((_, label)) = KNOWN.iter().find(|(k, _)| *k == key) {
        return (*label).to_owned();
    }
    derive_label(raw.trim())
}

/// Whether this build knows the type.
pub fn is_known(raw: &str) -> bool {
    let key = key(raw);
    KNOWN.iter().any(|(k, _)| *k == key)
}

fn derive_label(raw: &str) -> String {
    let parts: Vec<String> = raw
        .split('_')
        .filter(|p| !p.is_empty())
        .map(split_words)
        .filter(|p| !p.is_empty())
        .collect();
    let joined = parts.join(": ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => raw.to_owned(),
    }
}

/// `AnomalousIncreaseOfVMs` → "anomalous increase of VMs": words split at case changes,
/// acronyms kept as they are, ordinary words lower-cased.
fn split_words(part: &str) -> String {
    let chars: Vec<char> = part.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if c.is_uppercase() => {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            }
            Some(p) if c.is_ascii_digit() => !p.is_ascii_digit(),
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_whitespace() || c == '-' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .into_iter()
        .map(|w| {
            let is_acronym = w.chars().filter(|c| c.is_alphabetic()).count() > 1
                && w.chars().all(|c| !c.is_lowercase());
            if is_acronym { w } else { w.to_lowercase() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_match_case_insensitively() {
        assert_eq!(label("usageAnomalyDetection"), "Usage anomaly");
        assert_eq!(label("UsageAnomalyDetection"), "Usage anomaly");
        assert_eq!(key("UsageAnomalyDetection"), key("usageAnomalyDetection"));
        assert!(is_known("ARM_SuspiciousOperations"));
    }

    #[test]
    fn unknown_types_get_a_label_from_their_raw_name() {
        assert_eq!(
            label("QuotaExhaustion_AnomalousIncrease"),
            "Quota exhaustion: anomalous increase"
        );
        assert_eq!(
            label("AKS_AnomalousGPUDeployment"),
            "AKS: anomalous GPU deployment"
        );
        assert_eq!(label("newThing2025"), "New thing 2025");
        assert_eq!(label("___"), "___");
        assert!(!is_known("QuotaExhaustion_AnomalousIncrease"));
    }
}
