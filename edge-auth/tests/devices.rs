//! Concurrent-device limits through the edge core and the host driver,
//! with the in-memory store executing the lease writes the core names:
//! a third device on a plan of two is refused, a logout or a lapse frees
//! its slot, and refreshes within a cookie bucket write nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use reelgate_edge::driver::Performer;
use reelgate_edge::event::{HeaderValue, Request};
use reelgate_edge::log::EntitlementSource;
use reelgate_edge::native::StoreIo;
use reelgate_edge::{Answer, Edge, Fetch, FetchResult, HashKey, drive};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{NativeCrypto, SigningKey};
use reelgate_shared::devices::DeviceLimit;
use reelgate_shared::entitlement::Plan;
use reelgate_shared::store::{EntitlementStore, MemoryStore};
use reelgate_shared::test_support;
use reelgate_shared::{EpochSeconds, UserSub};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");

fn edge() -> Mutex<Edge<NativeCrypto>> {
    let config = json!({
        "issuer": ISSUER,
        "jwks_url": "https://idp.example/jwks.json",
        "jwks": {"keys": [test_support::jwk("k1")]},
        "client_ids": ["c1"],
        "signing": {"key_pair_id": "K2NATIVE", "private_key_pem": SIGNING_KEY},
        "resource_base": "https://d111111abcdef8.cloudfront.net",
        "table": {"name": "reelgate", "replica_regions": ["us-east-1"]},
    });
    let config = EdgeConfig::from_json(&config.to_string()).unwrap();
    let crypto = NativeCrypto::with_signing_key(SigningKey::from_pem(SIGNING_KEY).unwrap());
    Mutex::new(Edge::new(config, crypto, "us-east-1", HashKey::from_os()))
}

/// The store, counting the lease reads and writes it performs.
#[derive(Default)]
struct Io {
    store: MemoryStore,
    reads: AtomicUsize,
    writes: AtomicUsize,
}

impl Performer for Io {
    async fn perform(&self, fetch: &Fetch) -> FetchResult {
        let counter = match fetch {
            Fetch::Leases { .. } => Some(&self.reads),
            Fetch::Lease { .. } => Some(&self.writes),
            Fetch::Entitlement { .. } => None,
            other => panic!("unexpected {other:?}"),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        StoreIo::new(&self.store, "").perform(fetch).await
    }
}

/// An access token of `alice`'s sign-in `origin`, her plan of `limit` devices in its claim.
fn token(origin: &str, limit: u16) -> String {
    let payload = json!({"sub": "alice", "iss": ISSUER, "token_use": "access", "client_id": "c1",
        "iat": NOW - 5, "exp": NOW + 3600, "origin_jti": origin,
        "reelgate:ent": format!("v=1;p={};d={limit};g=;c=1", NOW + 86_400)});
    test_support::sign(&json!({"alg": "RS256", "kid": "k1"}), &payload)
}

fn request(method: &str, token: &str, query: &str) -> Request {
    let mut request = Request {
        client_ip: "203.0.113.1".into(),
        headers: Default::default(),
        method: method.into(),
        querystring: query.into(),
        uri: "/session/videos/demo".into(),
    };
    request.headers.insert(
        "authorization".into(),
        vec![HeaderValue {
            key: None,
            value: format!("Bearer {token}"),
        }],
    );
    request
}

async fn at(edge: &Mutex<Edge<NativeCrypto>>, io: &Io, request: Request, now: u64) -> Answer {
    drive(edge, io, request, || EpochSeconds::new(now)).await
}

fn body(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(answer.response.body.as_deref().unwrap_or("null")).unwrap()
}

#[tokio::test]
async fn a_third_device_is_refused_with_counts_only_until_a_logout_frees_a_slot() {
    let (edge, io) = (edge(), Io::default());
    for origin in ["phone", "tv"] {
        let answer = at(&edge, &io, request("GET", &token(origin, 2), ""), NOW).await;
        assert_eq!(answer.response.status, "200", "{origin}");
    }
    let third = at(&edge, &io, request("GET", &token("laptop", 2), ""), NOW).await;
    assert_eq!(third.response.status, "403");
    assert_eq!(
        body(&third),
        json!({"error": "device_limit", "active": 2, "max_devices": 2})
    );
    let logout = at(&edge, &io, request("DELETE", &token("tv", 2), ""), NOW + 1).await;
    assert_eq!(logout.response.status, "204");
    let third = at(&edge, &io, request("GET", &token("laptop", 2), ""), NOW + 2).await;
    assert_eq!(third.response.status, "200");
}

#[tokio::test]
async fn a_device_that_logged_out_does_not_play_on_from_the_container_s_memory() {
    let (edge, io) = (edge(), Io::default());
    // NOW + 1 … NOW + 30 share one cookie bucket: the container remembers
    // the tv's lease for all of it, unless the logout makes it forget.
    for origin in ["phone", "tv"] {
        let answer = at(&edge, &io, request("GET", &token(origin, 2), ""), NOW + 1).await;
        assert_eq!(answer.response.status, "200", "{origin}");
    }
    let logout = at(&edge, &io, request("DELETE", &token("tv", 2), ""), NOW + 2).await;
    assert_eq!(logout.response.status, "204");
    let laptop = at(&edge, &io, request("GET", &token("laptop", 2), ""), NOW + 3).await;
    assert_eq!(laptop.response.status, "200");
    let tv = at(&edge, &io, request("GET", &token("tv", 2), ""), NOW + 4).await;
    assert_eq!(
        body(&tv),
        json!({"error": "device_limit", "active": 2, "max_devices": 2})
    );
}

#[tokio::test]
async fn a_device_that_stops_refreshing_frees_its_slot_after_its_cookies_and_the_grace() {
    let (edge, io) = (edge(), Io::default());
    for origin in ["phone", "tv"] {
        at(&edge, &io, request("GET", &token(origin, 2), ""), NOW).await;
    }
    // The tv's lease outlives its last cookies (≤ 330 s) by the 60 s grace.
    let still = at(
        &edge,
        &io,
        request("GET", &token("laptop", 2), ""),
        NOW + 300,
    )
    .await;
    assert_eq!(still.response.status, "403");
    let later = at(
        &edge,
        &io,
        request("GET", &token("laptop", 2), ""),
        NOW + 400,
    )
    .await;
    assert_eq!(later.response.status, "200");
}

#[tokio::test]
async fn refreshes_within_a_bucket_write_nothing_and_a_new_bucket_renews_the_same_slot() {
    let (edge, io) = (edge(), Io::default());
    let phone = token("phone", 2);
    // NOW + 1 … NOW + 29 share one cookie bucket (ttl 300 s, buckets of 30 s).
    for dt in [1, 2, 15, 29] {
        let answer = at(&edge, &io, request("GET", &phone, ""), NOW + dt).await;
        assert_eq!(answer.response.status, "200");
    }
    assert_eq!(
        io.writes.load(Ordering::SeqCst),
        1,
        "one write for the bucket"
    );
    at(&edge, &io, request("GET", &phone, ""), NOW + 240).await;
    assert_eq!(io.writes.load(Ordering::SeqCst), 2, "a new bucket renews");
    assert_eq!(io.store.items().len(), 1, "in the device's one slot");
}

#[tokio::test]
async fn streams_on_one_sign_in_count_as_devices_and_bad_ones_are_refused() {
    let (edge, io) = (edge(), Io::default());
    let phone = token("phone", 2);
    for stream in ["stream=player-a1", "stream=player-b2"] {
        let answer = at(&edge, &io, request("GET", &phone, stream), NOW).await;
        assert_eq!(answer.response.status, "200");
    }
    let third = at(&edge, &io, request("GET", &phone, "stream=player-c3"), NOW).await;
    assert_eq!(body(&third)["error"], "device_limit");
    let bad = at(&edge, &io, request("GET", &phone, "stream=short"), NOW).await;
    assert_eq!(
        (bad.response.status.as_str(), body(&bad)["error"].as_str()),
        ("400", Some("invalid_stream_id"))
    );
}

#[tokio::test]
async fn a_limited_token_without_origin_jti_is_refused_as_unidentified() {
    let (edge, io) = (edge(), Io::default());
    let payload = json!({"sub": "alice", "iss": ISSUER, "token_use": "access", "client_id": "c1",
        "iat": NOW - 5, "exp": NOW + 3600,
        "reelgate:ent": format!("v=1;p={};d=2;g=;c=1", NOW + 86_400)});
    let token = test_support::sign(&json!({"alg": "RS256", "kid": "k1"}), &payload);
    let answer = at(&edge, &io, request("GET", &token, ""), NOW).await;
    assert_eq!(body(&answer)["error"], "device_unidentified");
    assert_eq!(io.reads.load(Ordering::SeqCst), 0);
}

/// A plan read from the store on this request is logged as `store`, though
/// the lease fetches that follow run the core again and find the entry it
/// has just cached; the next request is `cache`. (The edge_event fuzz
/// target found the request logged as `cache`.)
#[tokio::test]
async fn a_store_read_followed_by_lease_fetches_is_logged_as_the_store() {
    let (edge, io) = (edge(), Io::default());
    let plan = Plan {
        tier: "premium".into(),
        premium_until: EpochSeconds::new(NOW + 86_400),
        max_devices: Some(DeviceLimit::new(2).unwrap()),
    };
    let alice = UserSub::parse("alice").unwrap();
    io.store.put_plan(&alice, Some(plan)).await.unwrap();
    let payload = json!({"sub": "alice", "iss": ISSUER, "token_use": "access", "client_id": "c1",
        "iat": NOW - 5, "exp": NOW + 3600, "origin_jti": "phone"});
    let token = test_support::sign(&json!({"alg": "RS256", "kid": "k1"}), &payload);
    let first = at(&edge, &io, request("GET", &token, ""), NOW).await;
    assert_eq!(first.response.status, "200");
    assert_eq!(
        (
            io.reads.load(Ordering::SeqCst),
            io.writes.load(Ordering::SeqCst)
        ),
        (1, 1)
    );
    assert_eq!(
        first.decision.entitlement_source,
        Some(EntitlementSource::Store)
    );
    let again = at(&edge, &io, request("GET", &token, ""), NOW + 1).await;
    assert_eq!(again.response.status, "200");
    assert_eq!(
        again.decision.entitlement_source,
        Some(EntitlementSource::Cache)
    );
}
