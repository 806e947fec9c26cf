//! Concurrent-device limits (ARCHITECTURE §12 "Devices") over HTTP against
//! `reelgate dev`, as three browsers would meet them: alice's seeded plan
//! allows two devices; each sign-in is a device (its own `origin_jti`), a
//! token refresh stays the same device, a third sign-in is refused with
//! counts only, and a logout frees its slot. Run on the native edge host
//! with the in-memory store, and on the real Lambda@Edge bundle with
//! DynamoDB Local.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reelgate_tests::{dynamodb_local, repo_root};
use serde_json::{Value, json};
use support::*;

/// The claims of an access token, read without verifying (the stack did).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn refusal(dev: &Dev, token: &str) -> (u16, Value) {
    let response = session_response(dev, token, "demo").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn logout(dev: &Dev, token: &str) -> u16 {
    client()
        .delete(format!("{}/session/videos/demo", dev.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn three_sign_ins(dev: &Dev) {
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(sign_in(dev, "alice", "demo-password").await.unwrap());
    }
    let origins: Vec<Value> = devices
        .iter()
        .map(|(access, _)| claims(access)["origin_jti"].clone())
        .collect();
    assert!(origins.iter().all(Value::is_string), "{origins:?}");
    assert!(
        origins[0] != origins[1] && origins[1] != origins[2] && origins[0] != origins[2],
        "each sign-in is its own device: {origins:?}"
    );
    assert!(
        claims(&devices[0].0)["reelgate:ent"]
            .as_str()
            .unwrap()
            .contains(";d=2;"),
        "alice's plan of two devices travels in her token"
    );
    let [(phone, phone_refresh), (tv, _), (laptop, _)] = <[_; 3]>::try_from(devices).unwrap();

    assert_eq!(session(dev, &phone, "demo").await.0, 200);
    assert_eq!(session(dev, &tv, "trailer").await.0, 200);
    let (status, body) = refusal(dev, &laptop).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "device_limit", "active": 2, "max_devices": 2})
        )
    );

    // The phone refreshes its tokens: a new access token of the same
    // sign-in, the same device, still admitted, and the laptop still not.
    let refreshed = refresh(dev, &phone_refresh).await;
    assert_ne!(refreshed, phone);
    assert_eq!(claims(&refreshed)["origin_jti"], origins[0]);
    let (status, cookie) = session(dev, &refreshed, "demo").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(dev, "/videos/demo/seg-000.ts", Some(&cookie)).await.0,
        200
    );
    assert_eq!(refusal(dev, &laptop).await.0, 403);

    // The tv stops: its slot is free at once, for the laptop.
    assert_eq!(logout(dev, &tv).await, 204);
    assert_eq!(session(dev, &laptop, "demo").await.0, 200);
    let (status, body) = refusal(dev, &tv).await;
    assert_eq!((status, &body["error"]), (403, &json!("device_limit")));
}

#[tokio::test]
async fn a_third_sign_in_of_alice_is_refused_and_a_refresh_keeps_its_device() {
    let dev = start(&[]);
    three_sign_ins(&dev).await;
}

#[tokio::test]
#[ignore = "needs DynamoDB Local and dist/edge-auth (scripts/build-edge); scripts/test runs it"]
async fn the_same_under_the_lambda_edge_bundle_and_dynamodb_local() {
    let bundle = repo_root().join("dist/edge-auth");
    assert!(
        bundle.join("index.mjs").exists(),
        "build the bundle first: scripts/build-edge"
    );
    let dynamodb = dynamodb_local();
    let dev = start(&[
        "--dynamodb-endpoint",
        &dynamodb.endpoint(),
        "--edge-bundle",
        bundle.to_str().unwrap(),
    ]);
    three_sign_ins(&dev).await;
}
