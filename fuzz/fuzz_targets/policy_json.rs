//! CloudFront policy JSON: what the parser accepts serializes to JSON that
//! parses back to the same policy text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_shared::cloudfront::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = Policy::from_json(text) {
        let json = policy.to_json();
        let again = Policy::from_json(&json).expect("a serialized policy parses");
        assert_eq!(again.to_json(), json);
    }
});
