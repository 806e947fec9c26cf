//! A whole Lambda@Edge viewer-request event through the edge core with a
//! fixed clock and the test crypto provider, played out by the same
//! `Exchange` driver every host uses. The fuzz input is the event and the
//! world the host fetches from: `event \0 table \0 jwks`, where `table` is
//! the store's items as DynamoDB JSON (a fetch gets those whose keys it
//! asked for, as `BatchGetItem` does; unparsable: the store fails) and
//! `jwks` the body a JWKS refetch gets (empty: the fetch fails). Device
//! leases live in the same `table`: a lease query gets the viewer's slot
//! items, and lease writes are tried in order against it with their own
//! conditions (`LeaseWrite::holds`), as the hosts' conditional writes do.
//!
//! Invariants: never a panic; every answer has a status and a stable
//! reason (a refusal's body is `{"error": reason}`, the log's reason, and
//! for `device_limit` the two counts `active` ≥ `max_devices`); a
//! 200/302 session only for a bearer token carrying the accepted signature,
//! the configured issuer and an unexpired `exp`, for a title the token's
//! claims or a store item of that viewer entitle.
#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use reelgate_edge::driver::Exchange;
use reelgate_edge::event::Request;
use reelgate_edge::log::EntitlementSource;
use reelgate_edge::{Edge, Fetch, FetchResult, HashKey, Step};
use reelgate_fuzz::{FuzzCrypto, GOOD_SIGNATURE, ISSUER, NOW, edge_config_json, split2};
use reelgate_shared::EpochSeconds;
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::store::{AttrValue, Item, LeaseWrite, leases_from_items, snapshot_from_items};
use serde::Deserialize;

static CONFIG: LazyLock<EdgeConfig> =
    LazyLock::new(|| EdgeConfig::from_json(&edge_config_json()).expect("fixture config"));

/// The part of a Lambda@Edge viewer-request event the core reads.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    cf: Cf,
}

#[derive(Deserialize)]
struct Cf {
    request: Request,
}

fuzz_target!(|data: &[u8]| {
    let (event, rest) = split2(data);
    let (table, jwks) = split2(rest);
    let Ok(event) = serde_json::from_slice::<Event>(event) else {
        return;
    };
    let Some(record) = event.records.into_iter().next() else {
        return;
    };
    let request = record.cf.request;
    let mut table: Result<Vec<Item>, _> = serde_json::from_slice(table);
    let jwks = std::str::from_utf8(jwks).ok().filter(|j| !j.is_empty());

    // A fresh core per input: its caches must not carry one input into the next.
    let mut edge = Edge::new(CONFIG.clone(), FuzzCrypto, "eu-central-1", HashKey::new([7; 16]));
    let mut exchange = Exchange::new(request.clone());
    let now = EpochSeconds::new(NOW);
    let answer = loop {
        match exchange.step(&mut edge, now) {
            Step::Ready(answer) => break answer,
            Step::Fetch(Fetch::Entitlement { keys, .. }) => match &table {
                Ok(items) => {
                    let wanted = keys.keys();
                    let found = items.iter().filter(|item| {
                        wanted.iter().any(|key| {
                            key.iter()
                                .all(|(name, value)| item.get(name) == Some(value))
                        })
                    });
                    exchange.record(FetchResult::Entitlement(
                        snapshot_from_items(found)
                            .map(Box::new)
                            .map_err(|e| e.to_string()),
                    ));
                }
                Err(_) => exchange.fail("ProvisionedThroughputExceededException".to_owned()),
            },
            Step::Fetch(Fetch::Jwks { .. }) => match jwks {
                Some(body) => exchange.record(FetchResult::Jwks(Ok(body.to_owned()))),
                None => exchange.fail("jwks_http_503".to_owned()),
            },
            Step::Fetch(Fetch::Leases { query, .. }) => match &table {
                Ok(items) => {
                    let (name, value) = query.partition();
                    let slots = items.iter().filter(|item| item.get(name) == Some(&value));
                    exchange.record(FetchResult::Leases(
                        leases_from_items(slots).map_err(|e| e.to_string()),
                    ));
                }
                Err(_) => exchange.fail("ProvisionedThroughputExceededException".to_owned()),
            },
            Step::Fetch(Fetch::Lease { writes, .. }) => match &mut table {
                Ok(items) => {
                    let claimed = writes.iter().position(|write| write_lease(items, write));
                    exchange.record(FetchResult::Lease(Ok(claimed)));
                }
                Err(_) => exchange.fail("ProvisionedThroughputExceededException".to_owned()),
            },
        }
    };

    let (response, decision) = (&answer.response, &answer.decision);
    let status = response.status_code();
    assert_eq!(response.status, status.to_string(), "a numeric status");
    assert!(
        !decision.reason.is_empty()
            && decision
                .reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "a stable reason, not {:?}",
        decision.reason
    );
    serde_json::to_string(response).expect("a response serializes");
    if status >= 400 {
        assert_eq!(decision.status, status);
        let body: serde_json::Value =
            serde_json::from_str(response.body.as_deref().expect("a refusal has a body"))
                .expect("a refusal's body is JSON");
        let mut body = body
            .as_object()
            .expect("a refusal's body is an object")
            .clone();
        assert_eq!(body.remove("error"), Some(decision.reason.clone().into()));
        if decision.reason == "device_limit" {
            // Counts only, nothing identifying the other devices.
            let mut count = |field| body.remove(field).and_then(|n| n.as_u64());
            let (active, max) = (count("active"), count("max_devices"));
            assert!(
                matches!((active, max), (Some(a), Some(m)) if a >= m),
                "{active:?}/{max:?}"
            );
        }
        assert!(body.is_empty(), "a refusal names its reason only: {body:?}");
        assert!(response.header_values("set-cookie").is_empty());
        return;
    }
    assert_eq!(decision.decision, "allow");
    if request.method == "GET" {
        assert!(matches!(status, 200 | 302), "a session is 200 or 302");
        granted_only_when_entitled(&request, &table, decision.entitlement_source);
    }
});

/// One conditional lease write on `items`: performed (put or delete) if
/// its condition holds over the item at its key.
fn write_lease(items: &mut Vec<Item>, write: &LeaseWrite) -> bool {
    let key = write.key();
    let at = items.iter().position(|item| {
        key.iter()
            .all(|(name, value)| item.get(name) == Some(value))
    });
    if !write.holds(at.map(|i| &items[i])) {
        return false;
    }
    if let Some(i) = at {
        items.remove(i);
    }
    items.extend(write.item());
    true
}

/// Checked independently of the core: from the raw header and the raw items.
fn granted_only_when_entitled(
    request: &Request,
    table: &Result<Vec<Item>, serde_json::Error>,
    source: Option<EntitlementSource>,
) {
    let token = request
        .header("authorization")
        .and_then(|h| {
            h.get(..7)
                .filter(|s| s.eq_ignore_ascii_case("bearer "))
                .map(|_| &h[7..])
        })
        .expect("a session needs a bearer token")
        .trim();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    assert_eq!(
        B64.decode(parts[2]).as_deref(),
        Ok(GOOD_SIGNATURE),
        "only the accepted signature"
    );
    let claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts[1]).expect("base64url payload"))
            .expect("a JSON payload");
    assert_eq!(claims["iss"], ISSUER);
    assert!(
        claims["exp"].as_u64().expect("a numeric exp") > NOW,
        "unexpired"
    );
    let sub = claims["sub"].as_str().expect("a sub");
    match source {
        Some(EntitlementSource::Claims) => assert!(
            claims.get("reelgate:ent").is_some() || claims.get("cognito:groups").is_some(),
            "entitled by claims the token does not carry"
        ),
        Some(EntitlementSource::Store) => {
            let pk = AttrValue::S(format!("USER#{sub}"));
            let items = table.as_ref().expect("the store answered");
            assert!(
                items.iter().any(|item| item.get("PK") == Some(&pk)),
                "entitled by the store without an item of this viewer"
            );
        }
        other => panic!("a session entitled from {other:?}"),
    }
}
