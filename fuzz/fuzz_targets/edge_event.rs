//! A whole Lambda@Edge viewer-request event through the edge core with a
//! fixed clock: the host protocol is played out (an empty store snapshot for
//! an entitlement fetch, an unreachable JWKS endpoint) until the core answers.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use reelgate_edge::event::ViewerRequestEvent;
use reelgate_edge::{Edge, Fetch, Fetched, Outcome};
use reelgate_fuzz::{FuzzCrypto, NOW, edge_config_json};
use reelgate_shared::EpochSeconds;
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::store::Snapshot;

static CONFIG: LazyLock<EdgeConfig> =
    LazyLock::new(|| EdgeConfig::from_json(&edge_config_json()).expect("fixture config"));

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<ViewerRequestEvent>(data) else {
        return;
    };
    let Some(record) = event.records.first() else {
        return;
    };
    // A fresh core per input: its caches must not carry one input into the next.
    let mut edge = Edge::new(CONFIG.clone(), FuzzCrypto, "eu-central-1");
    let mut fetched = Fetched::default();
    for _ in 0..4 {
        match edge.handle(&record.cf.request, EpochSeconds::new(NOW), &fetched) {
            Outcome::Respond(response, _) => {
                serde_json::to_string(&response).expect("a response serializes");
                return;
            }
            Outcome::Fetch(Fetch::Entitlement { .. }) => {
                fetched.entitlement = Some(Ok(Snapshot::default()));
            }
            Outcome::Fetch(Fetch::Jwks { .. }) => {
                fetched.jwks = Some(Err("unreachable".to_owned()));
            }
        }
    }
    panic!("the core asked for more I/O after every fetch was answered");
});
