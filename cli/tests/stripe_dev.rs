//! The local Stripe simulator over HTTP, as the demo's Buy uses it: carol
//! creates a Checkout Session for a title, the simulator delivers Stripe's
//! signed `checkout.session.completed` to `/api/webhooks/stripe`, and after
//! a token refresh the edge gives her cookies that play the title; a
//! refund of the session's payment intent takes it away again.

mod support;

use reqwest::Method;
use serde_json::json;
use support::*;

const SECRET: &str = "whsec_cli_stripe_test";

#[tokio::test]
async fn a_simulated_stripe_checkout_ends_in_cookies_and_a_refund_revokes() {
    let dev = start(&["--stripe-webhook-secret", SECRET]);
    let (_, _, config) = api(&dev, Method::GET, "/dev/config", None, None).await;
    assert_eq!(config["stripe_webhook_secret"], SECRET);
    let (carol, carol_refresh) = sign_in(&dev, "carol", "demo-password").await.unwrap();
    assert_eq!(session(&dev, &carol, "demo").await.0, 403);

    // Bad requests to the simulator change nothing.
    let checkout = "/dev/stripe/checkout/sessions";
    let buy = json!({"video_id": "demo", "kind": "purchase"});
    assert_eq!(
        api(&dev, Method::POST, checkout, None, Some(buy.clone()))
            .await
            .0,
        401
    );
    for bad in [
        json!({"video_id": "demo", "kind": "gift"}),
        json!({"video_id": "../x", "kind": "purchase"}),
        json!({"video_id": "demo", "kind": "purchase", "rental_hours": 2}),
    ] {
        let (status, _, body) = api(&dev, Method::POST, checkout, Some(&carol), Some(bad)).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_body")),
            "{body}"
        );
    }

    let (status, _, paid) = api(&dev, Method::POST, checkout, Some(&carol), Some(buy)).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["object"], "checkout.session");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(
        paid["metadata"],
        json!({"video_id": "demo", "kind": "purchase"})
    );
    assert_eq!(paid["webhook"]["status"], 200, "{paid}");
    assert_eq!(paid["webhook"]["reply"]["status"], "applied", "{paid}");
    let payment_intent = paid["payment_intent"].as_str().unwrap().to_owned();
    assert!(payment_intent.starts_with("pi_"));

    // A refreshed token carries the purchase; the edge's cookies play it.
    let carol = refresh(&dev, &carol_refresh).await;
    let (status, cookie) = session(&dev, &carol, "demo").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(&dev, "/videos/demo/seg-000.ts", Some(&cookie))
            .await
            .0,
        200
    );

    // A rental through the same path.
    let rent = json!({"video_id": "trailer", "kind": "rental", "rental_hours": 2});
    let (status, _, rented) = api(&dev, Method::POST, checkout, Some(&carol), Some(rent)).await;
    assert_eq!(status, 200, "{rented}");
    assert_eq!(rented["metadata"]["rental_hours"], "2");
    assert_eq!(rented["webhook"]["reply"]["status"], "applied");

    // The refund names only the payment intent; the purchase is revoked.
    let refund = json!({"payment_intent": payment_intent});
    let (status, _, refunded) = api(
        &dev,
        Method::POST,
        "/dev/stripe/refunds",
        Some(&carol),
        Some(refund),
    )
    .await;
    assert_eq!(status, 200, "{refunded}");
    assert_eq!(
        refunded["webhook"]["reply"]["status"], "applied",
        "{refunded}"
    );
    let (_, _, me) = api(
        &dev,
        Method::GET,
        "/api/me/entitlements",
        Some(&carol),
        None,
    )
    .await;
    let demo = me["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["video_id"] == "demo")
        .unwrap();
    assert_eq!(demo["active"], false, "{me}");
    let carol = refresh(&dev, &carol_refresh).await;
    assert_eq!(session(&dev, &carol, "demo").await.0, 403);
    assert_eq!(
        session(&dev, &carol, "trailer").await.0,
        200,
        "the rental stands"
    );
}
