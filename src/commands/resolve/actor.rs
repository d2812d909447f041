//! Who asked for a change, for the ledger: `--actor`, or the machine user and host the command
//! ran as. The service records the app registration as the resolver; this says which person
//! (or job) was behind it.

/// The longest actor kept.
const MAX_LEN: usize = 200;

/// `--actor`'s value, checked: not blank, no control characters, at most 200 bytes.
pub fn given(actor: &str) -> Result<String, String> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err("--actor is empty".to_owned());
    }
    if actor.chars().any(char::is_control) {
        return Err("--actor holds control characters".to_owned());
    }
    if actor.len() > MAX_LEN {
        return Err(format!("--actor is longer than {MAX_LEN} bytes"));
    }
    Ok(actor.to_owned())
}

/// `user@host` from the environment (`USER`, `LOGNAME`), else the process's user id; the host
/// from the kernel, else `HOSTNAME`.
pub fn machine(env: &dyn Fn(&str) -> Option<String>) -> String {
    let clean = |v: String| {
        let v = v.trim().to_owned();
        (!v.is_empty() && !v.chars().any(char::is_control) && v.len() <= MAX_LEN).then_some(v)
    };
    let user = ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| env(name).and_then(clean))
        .or_else(uid)
        .unwrap_or_else(|| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .and_then(clean)
        .or_else(|| env("HOSTNAME").and_then(clean));
    match host {
        Some(host) => format!("{user}@{host}"),
        None => user,
    }
}

/// `uid 1000`: the owner of this process's `/proc` entry (Linux), for containers without `USER`.
fn uid() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata("/proc/self")
            .ok()
            .map(|m| format!("uid {}", m.uid()))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_actor_is_trimmed_and_checked() {
        assert_eq!(
            given("  m.okafor@partner.example ").unwrap(),
            "m.okafor@partner.example"
        );
        assert!(given(" ").is_err());
        assert!(given("a\nb").is_err());
        assert!(given(&"x".repeat(201)).is_err());
    }

    #[test]
    fn the_machine_user_comes_from_the_environment_or_the_process() {
        let env = |name: &str| (name == "LOGNAME").then(|| "digest".to_owned());
        assert!(machine(&env).starts_with("digest"), "{}", machine(&env));
        let nothing = |_: &str| None;
        let actor = machine(&nothing);
        assert!(
            actor.starts_with("uid ") || actor.starts_with("unknown"),
            "{actor}"
        );
    }
}
