//! The API router on the DynamoDB store against DynamoDB Local: schema round
//! trips, idempotent and atomic webhooks under concurrency, rentals,
//! refunds, bad input that writes nothing, signed URLs and the admin service.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use reelgate_api::auth::now;
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::webhook;
use reelgate_shared::cloudfront::validator;
use reelgate_shared::crypto::native::{PublicKeySet, SigningKey};
use reelgate_shared::entitlement::PaymentEvent;
use reelgate_shared::store::{Consistency, EntitlementStore};
use reelgate_shared::{EpochSeconds, KeyPairId, UserSub, VideoId};
use reelgate_tests::api::{ApiOnDynamoDb, SIGNING_KEY, WEBHOOK_SECRET, api_on_dynamodb, send};
use reelgate_tests::tokens;
use serde_json::json;

const SECRET: &str = WEBHOOK_SECRET;

async fn fixture() -> ApiOnDynamoDb {
    api_on_dynamodb(&[]).await
}

fn webhook_request(body: &str, signature: Option<String>, content_type: &str) -> Request<Body> {
    let mut builder = Request::post("/api/webhooks/payments").header("content-type", content_type);
    if let Some(signature) = signature {
        builder = builder.header("reelgate-signature", signature);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn signed(body: &str) -> Request<Body> {
    webhook_request(
        body,
        Some(webhook::sign(
            SECRET.as_bytes(),
            now().get(),
            body.as_bytes(),
        )),
        "application/json",
    )
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn item_count(store: &DynamoStore) -> i32 {
    store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .count()
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn fifty_concurrent_deliveries_of_one_event_grant_once() {
    let f = fixture().await;
    let body = r#"{"event_id":"evt_concurrent","type":"purchase.succeeded","user_sub":"carol","video_id":"demo"}"#;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let router = f.router.clone();
        tasks.push(tokio::spawn(
            async move { send(&router, signed(body)).await },
        ));
    }
    let mut statuses = HashMap::new();
    for task in tasks {
        let (status, json, _) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{json}");
        *statuses
            .entry(json["status"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(statuses.get("applied"), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get("duplicate"), Some(&49), "{statuses:?}");
    assert_eq!(
        item_count(&f.store).await,
        2,
        "one event item and one grant"
    );
    let all = f
        .store
        .entitlements(&UserSub::parse("carol").unwrap())
        .await
        .unwrap();
    assert_eq!(all.grants.len(), 1);
    assert_eq!(
        all.grants[0].purchase_id.as_ref().unwrap().as_str(),
        "evt_concurrent"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn concurrent_different_events_for_one_grant_lose_no_update() {
    let f = fixture().await;
    let mut tasks = Vec::new();
    for hours in 1..=10u64 {
        let store = f.store.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"event_id":"evt_rent_{hours}","type":"rental.succeeded","user_sub":"dave","video_id":"demo","rental_hours":{hours}}}"#);
            store.apply_payment(&PaymentEvent::parse(body.as_bytes()).unwrap(), EpochSeconds::new(1_800_000_000)).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().as_str(), "applied");
    }
    let user = UserSub::parse("dave").unwrap();
    let grant = f
        .store
        .snapshot(&user, &VideoId::parse("demo").unwrap(), Consistency::Strong)
        .await
        .unwrap()
        .grant
        .unwrap();
    assert_eq!(
        grant.expires_at(),
        Some(EpochSeconds::new(1_800_000_000 + 10 * 3600)),
        "the longest rental wins"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn a_rental_ends_at_its_expiry_and_a_refund_revokes() {
    let f = fixture().await;
    let start = now();
    let rental = r#"{"event_id":"evt_r1","type":"rental.succeeded","user_sub":"erin","video_id":"film","rental_hours":48}"#;
    assert_eq!(send(&f.router, signed(rental)).await.1["status"], "applied");
    let (user, film) = (
        UserSub::parse("erin").unwrap(),
        VideoId::parse("film").unwrap(),
    );
    let snapshot = f
        .store
        .snapshot(&user, &film, Consistency::Eventual)
        .await
        .unwrap();
    let end = snapshot.grant.as_ref().unwrap().expires_at().unwrap();
    assert!(end.get() >= start.get() + 48 * 3600 && end.get() <= now().get() + 48 * 3600);
    let raw = f
        .store
        .client()
        .get_item()
        .table_name("reelgate")
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S("USER#erin".into()),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("VIDEO#film".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(
        raw.item().unwrap().contains_key("ttl"),
        "rentals carry a TTL attribute"
    );
    let rental = snapshot.grant.as_ref().unwrap();
    assert!(rental.is_active(end.minus(1)));
    assert!(!rental.is_active(end));

    let purchase =
        r#"{"event_id":"evt_p1","type":"purchase.succeeded","user_sub":"erin","video_id":"doc"}"#;
    let refund =
        r#"{"event_id":"evt_f1","type":"refund.succeeded","user_sub":"erin","video_id":"doc"}"#;
    send(&f.router, signed(purchase)).await;
    assert_eq!(send(&f.router, signed(refund)).await.1["status"], "applied");
    let doc = f
        .store
        .snapshot(&user, &VideoId::parse("doc").unwrap(), Consistency::Strong)
        .await
        .unwrap();
    assert!(doc.grant.as_ref().unwrap().revoked_at.is_some());
    assert!(!doc.grant.as_ref().unwrap().is_active(now()));
}

/// Writes `attributes` under (`pk`, `sk`) as an operator, a backfill or an
/// older release would: without a `version` attribute.
async fn put_unversioned(
    store: &DynamoStore,
    pk: &str,
    sk: &str,
    attributes: &[(&str, AttributeValue)],
) {
    let mut put = store
        .client()
        .put_item()
        .table_name("reelgate")
        .item("PK", AttributeValue::S(pk.into()))
        .item("SK", AttributeValue::S(sk.into()));
    for (name, value) in attributes {
        put = put.item(*name, value.clone());
    }
    put.send().await.unwrap();
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn a_refund_revokes_a_grant_written_without_a_version() {
    let f = fixture().await;
    put_unversioned(
        &f.store,
        "USER#finn",
        "VIDEO#doc",
        &[
            ("source", AttributeValue::S("purchase".into())),
            ("granted_at", AttributeValue::N("1700000000".into())),
        ],
    )
    .await;
    let refund =
        r#"{"event_id":"evt_old_f1","type":"refund.succeeded","user_sub":"finn","video_id":"doc"}"#;
    let (status, body, _) = send(&f.router, signed(refund)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    let doc = f
        .store
        .snapshot(
            &UserSub::parse("finn").unwrap(),
            &VideoId::parse("doc").unwrap(),
            Consistency::Strong,
        )
        .await
        .unwrap();
    assert!(
        doc.grant.unwrap().revoked_at.is_some(),
        "the refund revoked it"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn a_cancellation_ends_a_plan_written_without_a_version() {
    let f = fixture().await;
    put_unversioned(
        &f.store,
        "USER#gus",
        "PLAN",
        &[
            ("tier", AttributeValue::S("premium".into())),
            ("premium_until", AttributeValue::N("4000000000".into())),
        ],
    )
    .await;
    let cancel = r#"{"event_id":"evt_old_c1","type":"plan.canceled","user_sub":"gus"}"#;
    let (status, body, _) = send(&f.router, signed(cancel)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("applied"))
    );
    let all = f
        .store
        .entitlements(&UserSub::parse("gus").unwrap())
        .await
        .unwrap();
    assert!(
        !all.plan.unwrap().is_active(now()),
        "the cancellation ended it"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn bad_webhooks_get_the_right_problem_and_write_nothing() {
    let f = fixture().await;
    let good =
        r#"{"event_id":"evt_x","type":"purchase.succeeded","user_sub":"frank","video_id":"demo"}"#;
    let stale = webhook::sign(SECRET.as_bytes(), now().get() - 301, good.as_bytes());
    let wrong = webhook::sign(b"not-the-secret", now().get(), good.as_bytes());
    let huge = format!(r#"{{"event_id":"e","pad":"{}"}}"#, "x".repeat(1024 * 1024));
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            signed("{not json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            webhook_request(
                good,
                Some(webhook::sign(
                    SECRET.as_bytes(),
                    now().get(),
                    good.as_bytes(),
                )),
                "text/plain",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            signed(&huge),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            webhook_request(good, None, "application/json"),
            StatusCode::UNAUTHORIZED,
            "signature_missing",
        ),
        (
            webhook_request(good, Some("t=abc,v1=zz".into()), "application/json"),
            StatusCode::UNAUTHORIZED,
            "signature_malformed",
        ),
        (
            webhook_request(good, Some(stale), "application/json"),
            StatusCode::UNAUTHORIZED,
            "signature_expired",
        ),
        (
            webhook_request(good, Some(wrong), "application/json"),
            StatusCode::UNAUTHORIZED,
            "signature_invalid",
        ),
        (
            signed(r#"{"event_id":"e1","type":"gift.succeeded","user_sub":"frank"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            signed(
                r#"{"event_id":"e2","type":"purchase.succeeded","user_sub":"frank","video_id":"*"}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            signed(
                r#"{"event_id":"e3","type":"purchase.succeeded","user_sub":"fr#ank","video_id":"demo"}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
    ];
    for (request, status, reason) in cases {
        let (got, body, headers) = send(&f.router, request).await;
        assert_eq!(
            (got, body["reason"].as_str()),
            (status, Some(reason)),
            "{body}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(body["type"], format!("urn:reelgate:problem:{reason}"));
    }
    assert_eq!(
        item_count(&f.store).await,
        0,
        "no rejected delivery wrote anything"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn entitled_callers_get_a_five_minute_signed_url_and_others_are_refused() {
    let f = fixture().await;
    let body =
        r#"{"event_id":"evt_s","type":"purchase.succeeded","user_sub":"gina","video_id":"demo"}"#;
    send(&f.router, signed(body)).await;
    let t = now().get();
    let (status, json, _) = send(
        &f.router,
        get(
            "/api/videos/demo/signed-url?path=master.m3u8",
            &tokens::access_token("gina", t, json!({})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let url = json["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8?Expires=")
    );
    assert_eq!(json["expires_at"].as_u64().unwrap(), t + 300);
    let keys = PublicKeySet::new().with(
        KeyPairId::parse("K2APITEST").unwrap(),
        SigningKey::from_pem(SIGNING_KEY).unwrap().public_key(),
    );
    let request = validator::Request {
        url,
        cookie_header: None,
        client_ip: None,
        now: EpochSeconds::new(t + 299),
    };
    assert!(validator::validate(&request, &keys).is_ok());

    let (status, json, _) = send(
        &f.router,
        get(
            "/api/videos/demo/signed-url",
            &tokens::access_token("harry", t, json!({})),
        ),
    )
    .await;
    assert_eq!(
        (status, json["reason"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_entitled"))
    );
    let (status, json, _) = send(
        &f.router,
        get(
            "/api/videos/demo/signed-url?path=../../secret",
            &tokens::access_token("gina", t, json!({})),
        ),
    )
    .await;
    assert_eq!(
        (status, json["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_path"))
    );
    let (status, json, _) = send(&f.router, get("/api/videos/demo/signed-url", "garbage")).await;
    assert_eq!(
        (status, json["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_malformed"))
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn the_admin_service_manages_plans_and_grants_for_admins_only() {
    let f = fixture().await;
    let t = now().get();
    let admin = tokens::access_token("ops", t, json!({"cognito:groups": ["admin"]}));
    let viewer = tokens::access_token("ivy", t, json!({}));
    let put = |path: &str, token: &str, body: &str| {
        Request::put(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (status, json, _) = send(
        &f.router,
        put(
            "/api/admin/users/ivy/plan",
            &viewer,
            &format!(r#"{{"premium_until":{}}}"#, t + 3600),
        ),
    )
    .await;
    assert_eq!(
        (status, json["reason"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _, _) = send(
        &f.router,
        put(
            "/api/admin/users/ivy/plan",
            &admin,
            &format!(r#"{{"premium_until":{}}}"#, t + 3600),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &f.router,
        put("/api/admin/users/ivy/videos/bonus", &admin, "{}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, me, _) = send(&f.router, get("/api/me/entitlements", &viewer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["premium"], true);
    assert_eq!(me["grants"][0]["video_id"], "bonus");
    assert_eq!(me["grants"][0]["source"], "admin");
    let delete = |path: &str| {
        Request::delete(path)
            .header("authorization", format!("Bearer {admin}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&f.router, delete("/api/admin/users/ivy/videos/bonus"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&f.router, delete("/api/admin/users/ivy/videos/bonus"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&f.router, delete("/api/admin/users/ivy/plan")).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, me, _) = send(&f.router, get("/api/admin/users/ivy", &admin)).await;
    assert_eq!(
        (
            me["premium"].as_bool(),
            me["grants"].as_array().map(Vec::len)
        ),
        (Some(false), Some(0))
    );
    let (status, json, _) = send(&f.router, get("/api/admin/users/bad%23sub", &admin)).await;
    assert_eq!(
        (status, json["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_user"))
    );
}
