//! Policy signing and validation, RSA-2048 vs ECDSA P-256.
//!
//! `cargo bench -p reelgate-shared --bench cloudfront`
//!
//! The comparison with the `cloudfront_sign` crate lives in its own package,
//! `shared/benches/compare`, outside the workspace: that crate pulls in `rsa`
//! 0.9 (RUSTSEC-2023-0071), which must not enter the workspace's lock file.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reelgate_shared::cloudfront::validator::{self, Request};
use reelgate_shared::cloudfront::{Policy, sign_cookies};
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::{PublicKeySet, SigningKey};
use reelgate_shared::{EpochSeconds, KeyPairId};

const RSA_PKCS1: &str = include_str!("../tests/keys/rsa2048.pkcs1.pem");
const P256: &str = include_str!("../tests/keys/p256.sec1.pem");
const RESOURCE: &str = "https://d111111abcdef8.cloudfront.net/videos/demo/*";
const SEGMENT: &str = "https://d111111abcdef8.cloudfront.net/videos/demo/seg-00042.ts";
const EXPIRES: u64 = 2_000_000_000;

fn policy() -> Policy {
    Policy::custom(RESOURCE, EpochSeconds::new(EXPIRES)).unwrap()
}

fn cookie_header(key: &SigningKey, id: &KeyPairId) -> String {
    let cookies = sign_cookies(&policy(), id, PolicyHash::Sha1, key).unwrap();
    cookies
        .pairs()
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn signing(c: &mut Criterion) {
    let id = KeyPairId::parse("K2BENCH").unwrap();
    let rsa = SigningKey::from_pem(RSA_PKCS1).unwrap();
    let ecdsa = SigningKey::from_pem(P256).unwrap();
    let mut group = c.benchmark_group("sign_cookies");
    group.bench_function("reelgate/rsa2048", |b| {
        b.iter(|| sign_cookies(black_box(&policy()), &id, PolicyHash::Sha1, &rsa).unwrap())
    });
    group.bench_function("reelgate/ecdsa_p256", |b| {
        b.iter(|| sign_cookies(black_box(&policy()), &id, PolicyHash::Sha1, &ecdsa).unwrap())
    });
    group.finish();
}

fn validation(c: &mut Criterion) {
    let id = KeyPairId::parse("K2BENCH").unwrap();
    let mut group = c.benchmark_group("validate_cookies");
    for (name, pem) in [("rsa2048", RSA_PKCS1), ("ecdsa_p256", P256)] {
        let key = SigningKey::from_pem(pem).unwrap();
        let keys = PublicKeySet::new().with(id.clone(), key.public_key());
        let header = cookie_header(&key, &id);
        group.bench_function(format!("reelgate/{name}"), |b| {
            b.iter(|| {
                let request = Request {
                    url: black_box(SEGMENT),
                    cookie_header: Some(&header),
                    client_ip: None,
                    now: EpochSeconds::new(1_900_000_000),
                };
                validator::validate(&request, &keys).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, signing, validation);
criterion_main!(benches);
