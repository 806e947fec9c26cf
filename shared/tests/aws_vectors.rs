//! The AWS SDKs' cross-SDK CloudFront signing vectors (`K1TESTKEY`,
//! Expires 1767290400). PKCS#1 v1.5 is deterministic, so each published
//! signature verifying over the policy bytes *we* build proves those bytes
//! are identical to what every AWS SDK signs; then the validator must accept
//! the published URL or cookies exactly as CloudFront would.

use reelgate_shared::cloudfront::validator::{self, Denial, Request};
use reelgate_shared::cloudfront::{Ipv4Cidr, Policy};
use reelgate_shared::crypto::native::{PublicKey, PublicKeySet};
use reelgate_shared::crypto::{PolicyHash, PolicyVerifier};
use reelgate_shared::{EpochSeconds, KeyPairId};
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;

fn vectors() -> (PublicKeySet, Vec<Value>) {
    let file: Value =
        serde_json::from_str(include_str!("vectors/aws_sep_vectors.json")).expect("vector file");
    let pem = file["public_key_pem"].as_str().unwrap();
    let key = PublicKey::Rsa(rsa::PublicKey::from_public_key_pem(pem).unwrap());
    let keys = PublicKeySet::new().with(KeyPairId::parse("K1TESTKEY").unwrap(), key);
    (keys, file["vectors"].as_array().unwrap().clone())
}

fn policy_of(vector: &Value) -> Policy {
    let expires = EpochSeconds::new(vector["expires"].as_u64().unwrap());
    let Some(resource) = vector["resource"].as_str() else {
        return Policy::canned(vector["request_url"].as_str().unwrap(), expires);
    };
    let mut policy = Policy::custom(resource, expires).unwrap();
    if let Some(starts) = vector["starts"].as_u64() {
        policy = policy.starting(EpochSeconds::new(starts)).unwrap();
    }
    if let Some(ip) = vector["ip"].as_str() {
        policy = policy.from_ip(ip.parse::<Ipv4Cidr>().unwrap());
    }
    policy
}

fn hash_of(vector: &Value) -> PolicyHash {
    match vector["hash"].as_str().unwrap() {
        "sha1" => PolicyHash::Sha1,
        _ => PolicyHash::Sha256,
    }
}

#[test]
fn every_vector_signature_verifies_over_our_policy_bytes() {
    let (keys, vectors) = vectors();
    assert_eq!(vectors.len(), 12);
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let policy = policy_of(vector);
        // Our custom layout is botocore's; the SDK spec orders conditions its
        // own way for some cases, and a custom policy is sent verbatim, so
        // what must match is the document the SDK signed.
        let signed_document = vector["policy_json"].as_str().unwrap();
        if policy.is_canned() {
            assert_eq!(policy.to_json(), signed_document, "{name}");
        } else {
            assert_eq!(
                Policy::from_json(signed_document).unwrap(),
                policy,
                "{name}"
            );
        }
        let signature =
            reelgate_shared::cloudfront::base64::decode(vector["signature"].as_str().unwrap())
                .unwrap();
        keys.verify_policy(
            &KeyPairId::parse("K1TESTKEY").unwrap(),
            signed_document.as_bytes(),
            &signature,
            hash_of(vector),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn credentials(vector: &Value) -> Vec<(&'static str, String)> {
    let policy = policy_of(vector);
    let mut pairs = if policy.is_canned() {
        vec![("Expires", policy.expires().to_string())]
    } else {
        let document = vector["policy_json"].as_str().unwrap();
        vec![(
            "Policy",
            reelgate_shared::cloudfront::base64::encode(document.as_bytes()),
        )]
    };
    pairs.push((
        "Signature",
        vector["signature"].as_str().unwrap().to_owned(),
    ));
    pairs.push(("Key-Pair-Id", "K1TESTKEY".to_owned()));
    if hash_of(vector) == PolicyHash::Sha256 {
        pairs.push(("Hash-Algorithm", "SHA256".to_owned()));
    }
    pairs
}

/// The request as a viewer would send it: the signed URL, or the plain URL
/// plus a `Cookie` header.
fn request_parts(vector: &Value) -> (String, Option<String>) {
    let url = vector["request_url"].as_str().unwrap();
    let pairs = credentials(vector);
    if vector["kind"] == "url" {
        let query: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let separator = if url.contains('?') { '&' } else { '?' };
        (format!("{url}{separator}{}", query.join("&")), None)
    } else {
        let cookies: Vec<String> = pairs
            .iter()
            .map(|(n, v)| format!("CloudFront-{n}={v}"))
            .collect();
        (url.to_owned(), Some(cookies.join("; ")))
    }
}

#[test]
fn the_validator_accepts_each_vector_inside_its_window_and_refuses_it_outside() {
    let (keys, vectors) = vectors();
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let (url, cookie_header) = request_parts(vector);
        let decide = |now: u64, ip: &str| {
            validator::validate(
                &Request {
                    url: &url,
                    cookie_header: cookie_header.as_deref(),
                    client_ip: Some(ip.parse().unwrap()),
                    now: EpochSeconds::new(now),
                },
                &keys,
            )
        };
        let inside_ip = match vector["ip"].as_str() {
            Some(range) if range.starts_with("192.168.") => "192.168.0.77",
            _ => "10.1.2.3",
        };
        let access = decide(1767250000, inside_ip).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        assert_eq!(access.key_pair_id.as_str(), "K1TESTKEY");
        assert_eq!(
            decide(1767290400, inside_ip).unwrap_err(),
            Denial::Expired,
            "{name}"
        );
        if vector["starts"].is_u64() {
            assert_eq!(
                decide(1767200000, inside_ip).unwrap_err(),
                Denial::NotYetValid,
                "{name}"
            );
        }
        if vector["ip"].is_string() {
            assert_eq!(
                decide(1767250000, "172.16.0.1").unwrap_err(),
                Denial::IpNotAllowed,
                "{name}"
            );
        }
    }
}
