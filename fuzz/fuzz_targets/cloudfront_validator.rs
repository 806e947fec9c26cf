//! The CloudFront signed-URL / signed-cookie validator (what the local
//! CloudFront emulator enforces). Input: `url \0 cookie-header`; policy
//! signatures verify through the test provider.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_fuzz::{FuzzCrypto, NOW, split2};
use reelgate_shared::EpochSeconds;
use reelgate_shared::cloudfront::validator::{Request, validate};

fuzz_target!(|data: &[u8]| {
    let (url, cookies) = split2(data);
    let (Ok(url), Ok(cookies)) = (std::str::from_utf8(url), std::str::from_utf8(cookies)) else {
        return;
    };
    let request = Request {
        url,
        cookie_header: Some(cookies),
        client_ip: Some([203, 0, 113, 7].into()),
        now: EpochSeconds::new(NOW),
    };
    if let Ok(access) = validate(&request, &FuzzCrypto) {
        // Access is only granted inside the policy's lifetime.
        assert!(access.policy.expires().get() > NOW);
    }
});
