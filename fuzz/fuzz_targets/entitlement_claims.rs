//! The `reelgate:ent` token claim parser; what it accepts re-encodes to a
//! claim that decodes to the same entitlements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_shared::entitlement::TokenEntitlements;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(claims) = TokenEntitlements::decode(text) {
        assert_eq!(TokenEntitlements::decode(&claims.encode()), Ok(claims));
    }
});
