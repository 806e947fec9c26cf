//! Signing a CloudFront custom-policy cookie with RSA-2048: reelgate against
//! the `cloudfront_sign` crate, with the same key and policy in the same run.
//!
//! `cargo bench --manifest-path shared/benches/compare/Cargo.toml`

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reelgate_shared::cloudfront::{Policy, sign_cookies};
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::{EpochSeconds, KeyPairId};

const RSA_PKCS1: &str = include_str!("../../../tests/keys/rsa2048.pkcs1.pem");
const RESOURCE: &str = "https://d111111abcdef8.cloudfront.net/videos/demo/*";
const EXPIRES: u64 = 2_000_000_000;

fn signing(c: &mut Criterion) {
    let id = KeyPairId::parse("K2BENCH").unwrap();
    let rsa = SigningKey::from_pem(RSA_PKCS1).unwrap();
    let policy = Policy::custom(RESOURCE, EpochSeconds::new(EXPIRES)).unwrap();
    let options = cloudfront_sign::SignedOptions {
        key_pair_id: Cow::Borrowed("K2BENCH"),
        private_key: Cow::Borrowed(RSA_PKCS1),
        date_less_than: EXPIRES,
        ..Default::default()
    };
    let mut group = c.benchmark_group("sign_cookies");
    group.bench_function("reelgate/rsa2048", |b| {
        b.iter(|| sign_cookies(black_box(&policy), &id, PolicyHash::Sha1, &rsa).unwrap())
    });
    group.bench_function("cloudfront_sign/rsa2048", |b| {
        b.iter(|| cloudfront_sign::get_signed_cookie(black_box(RESOURCE), &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
