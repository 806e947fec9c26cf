//! `POST /api/webhooks/stripe` on the DynamoDB store against DynamoDB Local,
//! with event bodies shaped as Stripe's API reference documents them:
//! a paid checkout grants once however often Stripe retries it, a refund
//! that names only the payment intent revokes what it bought, subscriptions
//! set and cancel the plan, and a bad signature or body writes nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use reelgate_api::auth::now;
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::webhook;
use reelgate_shared::ids::PaymentIntentId;
use reelgate_shared::store::{Consistency, EntitlementStore};
use reelgate_shared::{UserSub, VideoId};
use reelgate_tests::api::{ApiOnDynamoDb, api_on_dynamodb, send};
use serde_json::{Value, json};

const STRIPE_SECRET: &str = "whsec_stripe_dynamodb_test";
async fn fixture(stripe_secret: Option<&str>) -> ApiOnDynamoDb {
    let stripe = stripe_secret.map(|secret| ("REELGATE_STRIPE_WEBHOOK_SECRET", secret));
    api_on_dynamodb(&Vec::from_iter(stripe)).await
}

fn event(id: &str, kind: &str, object: Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2025-03-31.basil",
        "created": now().get(), "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind, "data": {"object": object},
    })
    .to_string()
}

fn checkout(user: &str, video: &str, payment_intent: &str) -> Value {
    json!({
        "id": "cs_test_1", "object": "checkout.session", "mode": "payment",
        "status": "complete", "payment_status": "paid", "amount_total": 499, "currency": "usd",
        "client_reference_id": user, "payment_intent": payment_intent,
        "metadata": {"video_id": video, "kind": "purchase"},
    })
}

fn subscription(user: &str, status: &str, period_end: u64) -> Value {
    json!({
        "id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1",
        "metadata": {"user_sub": user, "tier": "premium"},
        "items": {"object": "list", "data": [{
            "id": "si_1", "object": "subscription_item",
            "current_period_start": period_end - 30 * 86_400, "current_period_end": period_end,
        }]},
    })
}

fn request(body: &str, signature: Option<String>) -> Request<Body> {
    let mut builder = Request::post("/api/webhooks/stripe")
        .header("content-type", "application/json; charset=utf-8");
    if let Some(signature) = signature {
        builder = builder.header("stripe-signature", signature);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn signed(body: &str) -> Request<Body> {
    request(
        body,
        Some(webhook::sign(
            STRIPE_SECRET.as_bytes(),
            now().get(),
            body.as_bytes(),
        )),
    )
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

fn ids(user: &str, video: &str) -> (UserSub, VideoId) {
    (
        UserSub::parse(user).unwrap(),
        VideoId::parse(video).unwrap(),
    )
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn a_paid_checkout_grants_once_and_a_refund_by_payment_intent_revokes() {
    let f = fixture(Some(STRIPE_SECRET)).await;
    let paid = event(
        "evt_checkout_1",
        "checkout.session.completed",
        checkout("alice-sub", "demo", "pi_3MtwBwLkdIwHu7ix28a3tqPa"),
    );
    let (status, reply, _) = send(&f.router, signed(&paid)).await;
    assert_eq!(
        (status, &reply["status"]),
        (StatusCode::OK, &json!("applied"))
    );
    assert_eq!(reply["event_id"], "evt_checkout_1");
    // Stripe retries the same event (same id) until it sees a 2xx.
    for _ in 0..3 {
        let (status, reply, _) = send(&f.router, signed(&paid)).await;
        assert_eq!(
            (status, &reply["status"]),
            (StatusCode::OK, &json!("duplicate"))
        );
    }
    assert_eq!(item_count(&f.store).await, 3, "event, grant, refund index");
    let payment = PaymentIntentId::parse("pi_3MtwBwLkdIwHu7ix28a3tqPa").unwrap();
    let record = f.store.payment(&payment).await.unwrap().unwrap();
    assert_eq!(
        (record.user.clone(), record.video.clone()),
        ids("alice-sub", "demo")
    );
    let (user, video) = ids("alice-sub", "demo");
    let grant = f
        .store
        .snapshot(&user, &video, Consistency::Strong)
        .await
        .unwrap()
        .grant
        .unwrap();
    assert!(grant.is_active(now()));
    assert_eq!(grant.purchase_id.unwrap().as_str(), "evt_checkout_1");

    let refunded = event(
        "evt_refund_1",
        "charge.refunded",
        json!({"id": "ch_1", "object": "charge", "payment_intent": payment.as_str(),
               "refunded": true, "amount_refunded": 499}),
    );
    let (status, reply, _) = send(&f.router, signed(&refunded)).await;
    assert_eq!(
        (status, &reply["status"]),
        (StatusCode::OK, &json!("applied"))
    );
    let grant = f
        .store
        .snapshot(&user, &video, Consistency::Strong)
        .await
        .unwrap()
        .grant
        .unwrap();
    assert!(!grant.is_active(now()), "the refund revoked the purchase");
    // Stripe also sends refund.created for the same refund: it applies (a
    // different event) and keeps the grant revoked.
    let created = event(
        "evt_refund_2",
        "refund.created",
        json!({"id": "re_1", "object": "refund", "payment_intent": payment.as_str(),
               "charge": "ch_1", "status": "succeeded", "amount": 499}),
    );
    assert_eq!(
        send(&f.router, signed(&created)).await.1["status"],
        "applied"
    );
    assert_eq!(
        send(&f.router, signed(&refunded)).await.1["status"],
        "duplicate"
    );
    // A refund of a payment reelgate never granted changes nothing.
    let foreign = event(
        "evt_refund_3",
        "charge.refunded",
        json!({"id": "ch_2", "object": "charge", "payment_intent": "pi_other"}),
    );
    let before = item_count(&f.store).await;
    assert_eq!(
        send(&f.router, signed(&foreign)).await.1["status"],
        "ignored"
    );
    assert_eq!(item_count(&f.store).await, before);
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn subscriptions_set_and_cancel_the_plan() {
    let f = fixture(Some(STRIPE_SECRET)).await;
    let end = now().get() + 30 * 86_400;
    let user = UserSub::parse("bob-sub").unwrap();
    let created = event(
        "evt_sub_1",
        "customer.subscription.created",
        subscription("bob-sub", "active", end),
    );
    assert_eq!(
        send(&f.router, signed(&created)).await.1["status"],
        "applied"
    );
    let plan = f.store.entitlements(&user).await.unwrap().plan.unwrap();
    assert_eq!(
        (plan.tier.as_str(), plan.premium_until.get()),
        ("premium", end)
    );
    assert!(plan.is_active(now()));

    let renewed = event(
        "evt_sub_2",
        "customer.subscription.updated",
        subscription("bob-sub", "active", end + 30 * 86_400),
    );
    assert_eq!(
        send(&f.router, signed(&renewed)).await.1["status"],
        "applied"
    );
    let plan = f.store.entitlements(&user).await.unwrap().plan.unwrap();
    assert_eq!(plan.premium_until.get(), end + 30 * 86_400);

    let deleted = event(
        "evt_sub_3",
        "customer.subscription.deleted",
        subscription("bob-sub", "canceled", end + 30 * 86_400),
    );
    assert_eq!(
        send(&f.router, signed(&deleted)).await.1["status"],
        "applied"
    );
    let plan = f.store.entitlements(&user).await.unwrap().plan.unwrap();
    assert!(!plan.is_active(now()), "cancelled now");
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn bad_signatures_and_bodies_get_400_and_write_nothing() {
    let f = fixture(Some(STRIPE_SECRET)).await;
    let paid = event(
        "evt_bad_1",
        "checkout.session.completed",
        checkout("alice-sub", "demo", "pi_bad"),
    );
    let stale = webhook::sign(STRIPE_SECRET.as_bytes(), now().get() - 301, paid.as_bytes());
    let wrong = webhook::sign(b"whsec_wrong", now().get(), paid.as_bytes());
    for (request, reason) in [
        (request(&paid, None), "signature_missing"),
        (request(&paid, Some("t=1".into())), "signature_malformed"),
        (request(&paid, Some(stale)), "signature_expired"),
        (request(&paid, Some(wrong)), "signature_invalid"),
    ] {
        let (status, problem, headers) = send(&f.router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(problem["reason"], reason);
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let mut bad_title = checkout("alice-sub", "demo", "pi_bad");
    bad_title["metadata"]["video_id"] = json!("../etc");
    for body in [
        "not json".to_owned(),
        event("evt_bad_2", "checkout.session.completed", bad_title),
        event(
            "evt_bad_3",
            "customer.subscription.updated",
            json!({"status": "active", "metadata": {"user_sub": "bob-sub"}}),
        ),
        event("evt#4", "invoice.paid", json!({})),
    ] {
        let (status, problem, headers) = send(&f.router, signed(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["reason"], "invalid_event");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, reply, _) = send(
        &f.router,
        signed(&event("evt_unknown", "invoice.paid", json!({"id": "in_1"}))),
    )
    .await;
    assert_eq!(
        (status, &reply["status"]),
        (StatusCode::OK, &json!("ignored"))
    );
    assert_eq!(item_count(&f.store).await, 0, "nothing was written");
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn without_a_secret_the_route_says_stripe_is_unconfigured() {
    let f = fixture(None).await;
    let body = event("evt_1", "invoice.paid", json!({}));
    let (status, problem, _) = send(&f.router, signed(&body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["reason"], "stripe_unconfigured");
    assert_eq!(item_count(&f.store).await, 0);
}
