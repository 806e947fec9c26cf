//! The edge's config.json parser and validator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_shared::config::EdgeConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EdgeConfig::from_json(text);
    }
});
