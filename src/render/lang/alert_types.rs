//! Alert type labels: a readable label for the types this build knows, in each language, and
//! one derived from the raw name for types Microsoft adds without notice. Which types are
//! known, and their keys, is the digest's ([`crate::digest::alert_type`]).

use super::Language;
use crate::digest::alert_type::key;

/// Known types (lower-cased key → English label, Swedish label). Legacy `PascalCase` and current `camelCase` names share a
/// key because types compare case-insensitively.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "networkconnectionstocryptominingpools",
        "Network connections to crypto-mining pools",
        "Nätverksanslutningar till kryptominingpooler",
    ),
    (
        "usageanomalydetection",
        "Usage anomaly",
        "Avvikande användning",
    ),
    (
        "servicehealthsecurityadvisory",
        "Service health security advisory",
        "Säkerhetsmeddelande från tjänstehälsan",
    ),
    (
        "multiregionvirtualmachinescalesetdeploymentanomaly",
        "Multi-region VM scale set deployment anomaly",
        "Avvikande distribution av VM-skalningsuppsättningar i flera regioner",
    ),
    (
        "virtualmachinedeploymentanomaly",
        "Virtual machine deployment anomaly",
        "Avvikande distribution av virtuella datorer",
    ),
    (
        "multiregionmachinelearningusageanomaly",
        "Multi-region machine learning usage anomaly",
        "Avvikande maskininlärningsanvändning i flera regioner",
    ),
    (
        "arm_anomalousresourceconsumption",
        "ARM anomalous resource consumption",
        "ARM: avvikande resursförbrukning",
    ),
    (
        "arm_suspiciousoperations",
        "ARM suspicious operations",
        "ARM: misstänkta åtgärder",
    ),
    (
        "vm_anomalousdeployment",
        "Anomalous VM deployment",
        "Avvikande VM-distribution",
    ),
    (
        "azurebatch_anomalousdeployment",
        "Anomalous Azure Batch deployment",
        "Avvikande Azure Batch-distribution",
    ),
    (
        "azurecontainerinstances_anomalousdeployment",
        "Anomalous Azure Container Instances deployment",
        "Avvikande Azure Container Instances-distribution",
    ),
    (
        "azuremachinelearning_anomalousdeployment",
        "Anomalous Azure Machine Learning deployment",
        "Avvikande Azure Machine Learning-distribution",
    ),
    ("cryptomining", "Crypto mining", "Kryptomining"),
];

/// A readable label in `language`: the known one, or words split from the raw name
/// (`QuotaExhaustion_AnomalousIncrease` → "Quota exhaustion: anomalous increase"), the same in
/// every language. The CSVs carry the English label in every language.
pub fn label(raw: &str, language: Language) -> String {
    let key = key(raw);
    if let Some((_, en, sv)) = KNOWN.iter().find(|(k, _, _)| *k == key) {
        return match language {
            Language::English => (*en).to_owned(),
            Language::Swedish => (*sv).to_owned(),
        };
    }
    derive_label(raw.trim())
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
        for (raw, language, expected) in [
            ("usageAnomalyDetection", Language::English, "Usage anomaly"),
            ("UsageAnomalyDetection", Language::English, "Usage anomaly"),
            (
                "ARM_SuspiciousOperations",
                Language::English,
                "ARM suspicious operations",
            ),
            (
                "arm_suspiciousOperations",
                Language::Swedish,
                "ARM: misstänkta åtgärder",
            ),
        ] {
            assert_eq!(label(raw, language), expected, "{raw}");
        }
    }

    #[test]
    fn every_type_the_digest_knows_has_a_label_in_each_language_and_no_other() {
        let labelled: Vec<&str> = KNOWN.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(labelled, crate::digest::alert_type::KNOWN);
    }

    #[test]
    fn no_two_known_types_share_a_label_in_any_language() {
        for language in [Language::English, Language::Swedish] {
            let mut seen = std::collections::HashMap::new();
            for (key, _, _) in KNOWN {
                let label = label(key, language);
                if let Some(other) = seen.insert(label.clone(), *key) {
                    panic!("{other} and {key} are both {label:?} in {language:?}");
                }
            }
        }
    }

    #[test]
    fn unknown_types_get_a_label_from_their_raw_name() {
        for (raw, expected) in [
            (
                "QuotaExhaustion_AnomalousIncrease",
                "Quota exhaustion: anomalous increase",
            ),
            (
                "AKS_AnomalousGPUDeployment",
                "AKS: anomalous GPU deployment",
            ),
            ("newThing2025", "New thing 2025"),
            ("___", "___"),
        ] {
            assert_eq!(label(raw, Language::English), expected, "{raw}");
        }
    }
}
