//! Microsoft's documented request and response examples (`tests/fixtures/microsoft/`, each
//! with its source in that folder's SOURCES.md), for the fakes to serve as they are.

use base64::Engine as _;
use serde_json::Value;

/// The fixture's text.
pub fn text(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/microsoft/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture's JSON.
pub fn json(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap()
}

/// An id token for `client` naming `who` (unsigned: the job reads the claims of a token it got
/// from the token endpoint over TLS).
pub fn id_token(client: &str, who: &str) -> String {
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.",
        b64(r#"{"typ":"JWT","alg":"none"}"#),
        b64(&format!(
            r#"{{"aud":"{client}","preferred_username":"{who}"}}"#
        ))
    )
}
