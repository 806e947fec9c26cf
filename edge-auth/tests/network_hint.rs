//! The network hint on the core's decisions (`shared::network_hint`): on
//! grants and refusals alike when the config has a key, absent without one,
//! a reason instead for a malformed `clientIp`, and never the address.

use reelgate_edge::event::{HeaderValue, Request};
use reelgate_edge::{Edge, Fetched, HashKey, Step};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{NativeCrypto, SigningKey};
use reelgate_shared::edge_log::Decision;
use reelgate_shared::{EpochSeconds, test_support};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");
const HINT_KEY: &str = "5f0c9e3b7a2d4e6f8a1b3c5d7e9f0a2b";

fn edge(network_hint: Option<serde_json::Value>) -> Edge<NativeCrypto> {
    let mut config = json!({
        "issuer": ISSUER,
        "jwks_url": "https://idp.example/jwks.json",
        "jwks": {"keys": [test_support::jwk("k1")]},
        "client_ids": ["c1"],
        "signing": {"key_pair_id": "K2NATIVE", "private_key_pem": SIGNING_KEY},
        "resource_base": "https://d111111abcdef8.cloudfront.net",
        "table": {"name": "reelgate", "replica_regions": ["us-east-1"]},
    });
    if let Some(hint) = network_hint {
        config["network_hint"] = hint;
    }
    let config = EdgeConfig::from_json(&config.to_string()).unwrap();
    let crypto = NativeCrypto::with_signing_key(SigningKey::from_pem(SIGNING_KEY).unwrap());
    Edge::new(config, crypto, "us-east-1", HashKey::from_os())
}

/// A request for `demo` from `client_ip`, owning it by its claims or not.
fn decide(edge: &mut Edge<NativeCrypto>, client_ip: &str, owns: bool) -> Decision {
    let claims = if owns {
        json!({"reelgate:ent": "v=1;g=demo;c=1"})
    } else {
        json!({"reelgate:ent": "v=1;g=;c=1"})
    };
    let mut payload = json!({"sub": "u1", "iss": ISSUER, "token_use": "access", "client_id": "c1", "iat": NOW - 5, "exp": NOW + 3600});
    payload
        .as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    let token = test_support::sign(&json!({"alg": "RS256", "kid": "k1"}), &payload);
    let mut request = Request {
        client_ip: client_ip.into(),
        headers: Default::default(),
        method: "GET".into(),
        querystring: String::new(),
        uri: "/session/videos/demo".into(),
    };
    request.headers.insert(
        "authorization".into(),
        vec![HeaderValue {
            key: None,
            value: format!("Bearer {token}"),
        }],
    );
    match edge.handle(&request, EpochSeconds::new(NOW), &Fetched::default()) {
        Step::Ready(answer) => answer.decision,
        Step::Fetch(fetch) => panic!("expected an answer, got {fetch:?}"),
    }
}

#[test]
fn grants_and_refusals_carry_the_hint_and_never_the_address() {
    let mut edge = edge(Some(json!({"key_id": "2026-12", "key": HINT_KEY})));
    let granted = decide(&mut edge, "203.0.113.9", true);
    assert_eq!(granted.decision, "allow");
    let refused = decide(&mut edge, "203.0.113.200", false);
    assert_eq!(refused.status, 403);
    let hint = granted.network.clone().unwrap();
    assert!(hint.as_str().starts_with("2026-12:"), "{hint}");
    assert_eq!(refused.network.as_ref(), Some(&hint), "one /24, one hint");
    assert_ne!(
        decide(&mut edge, "198.51.100.9", true).network.as_ref(),
        Some(&hint)
    );
    for (decision, ip) in [(&granted, "203.0.113.9"), (&refused, "203.0.113.200")] {
        let line = serde_json::to_string(decision).unwrap();
        assert!(!line.contains(ip) && !line.contains("203.0.113"), "{line}");
    }
}

#[test]
fn without_a_key_there_is_no_hint() {
    let decision = decide(&mut edge(None), "203.0.113.9", true);
    assert_eq!((decision.network, decision.network_missing), (None, None));
}

#[test]
fn a_malformed_client_ip_gets_a_reason_instead_and_is_not_logged() {
    let mut edge = edge(Some(json!({"key_id": "k1", "key": HINT_KEY})));
    for bad in ["203.0.113.999", "", "<script>", "2001:db8::1%lo"] {
        let decision = decide(&mut edge, bad, true);
        assert_eq!(decision.decision, "allow", "the hint never decides access");
        assert_eq!(decision.network, None);
        assert_eq!(
            decision.network_missing.as_deref(),
            Some("malformed_client_ip")
        );
        if !bad.is_empty() {
            assert!(!serde_json::to_string(&decision).unwrap().contains(bad));
        }
    }
}
