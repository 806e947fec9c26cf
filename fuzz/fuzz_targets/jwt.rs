//! A Cognito token through the JWT decoder and rules (header, `kid`, alg,
//! signature via the test provider, every claim rule), and a JWKS document
//! through its parser. Input: `token \0 jwks-json`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use reelgate_fuzz::{CLIENT, FuzzCrypto, ISSUER, NOW, jwks_json, split2};
use reelgate_shared::EpochSeconds;
use reelgate_shared::jwt::{Jwks, Verifier, VerifierConfig, peek_kid};

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let jwks = Jwks::parse(&jwks_json()).expect("fixture JWKS parses");
    Verifier::new(VerifierConfig::new(ISSUER, vec![CLIENT.to_owned()]), jwks)
});

fuzz_target!(|data: &[u8]| {
    let (token, jwks) = split2(data);
    if let Ok(token) = std::str::from_utf8(token) {
        let _ = peek_kid(token);
        if let Ok(claims) = VERIFIER.verify(token, EpochSeconds::new(NOW), &FuzzCrypto) {
            // A token the rules accept is unexpired at NOW and from our client.
            assert!(claims.expires_at.get() + VERIFIER.config().leeway_seconds > NOW);
        }
    }
    if let Ok(jwks) = std::str::from_utf8(jwks) {
        let _ = Jwks::parse(jwks);
    }
});
