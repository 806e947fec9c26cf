//! The payment webhook's `Reelgate-Signature` header check and the event body
//! parser. Input: `header \0 body`. A header the API itself signs verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_api::webhook::{sign, verify};
use reelgate_fuzz::{NOW, split2};
use reelgate_shared::EpochSeconds;
use reelgate_shared::entitlement::PaymentEvent;

const SECRET: &[u8] = b"whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    let (header, body) = split2(data);
    let now = EpochSeconds::new(NOW);
    if let Ok(header) = std::str::from_utf8(header) {
        let _ = verify(Some(header), body, SECRET, now);
    }
    assert_eq!(
        verify(Some(&sign(SECRET, NOW, body)), body, SECRET, now),
        Ok(())
    );
    let _ = PaymentEvent::parse(body);
});
