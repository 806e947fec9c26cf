//! The catalogue of `reelgate dev` over HTTP (ARCHITECTURE §12): the public
//! list and `/dev/config` mark the free title, any signed-in viewer plays it
//! through CloudFront's check, the premium-tier title plays only on the
//! premium plan, an unlisted title is 404, and a title an admin lists with
//! a window that has not opened is refused even to the plan.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

/// The edge's answer for `video`: status and `{"error"}` reason, if any.
async fn refusal(dev: &Dev, token: &str, video: &str) -> (u16, Option<String>) {
    let response = session_response(dev, token, video).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn the_dev_catalogue_has_free_tier_and_paid_titles_and_the_edge_applies_them() {
    let dev = start(&[]);
    let response = client()
        .get(format!("{}/api/titles", dev.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=60"
    );
    let listed: Value = response.json().await.unwrap();
    let by_id = |titles: &Value, id: &str| {
        titles
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not listed in {titles}"))
    };
    let titles = &listed["titles"];
    assert_eq!(by_id(titles, "intro")["free"], true);
    assert_eq!(by_id(titles, "members")["tiers"], json!(["premium"]));
    assert!(by_id(titles, "members").get("price").is_none());
    assert_eq!(by_id(titles, "demo")["free"], false);
    assert_eq!(by_id(titles, "demo")["price"], 499);
    assert_eq!(by_id(titles, "trailer")["free"], false);
    let (_, config) = fetch(&dev, "/dev/config", None).await;
    let config: Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(by_id(&config["titles"], "intro")["free"], true);
    assert_eq!(by_id(&config["titles"], "demo")["free"], false);

    let (carol, _) = sign_in(&dev, "carol", "demo-password").await.unwrap();
    let (alice, _) = sign_in(&dev, "alice", "demo-password").await.unwrap();
    let (bob, _) = sign_in(&dev, "bob", "demo-password").await.unwrap();
    let (admin, _) = sign_in(&dev, "admin", "demo-password").await.unwrap();

    // carol holds nothing, and plays the free title through CloudFront's check.
    let (status, cookie) = session(&dev, &carol, "intro").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(&dev, "/videos/intro/seg-000.ts", Some(&cookie))
            .await
            .0,
        200
    );
    assert_eq!(fetch(&dev, "/videos/intro/seg-000.ts", None).await.0, 403);
    // Without a sign-in, nothing: free means any signed-in viewer.
    let anonymous = client()
        .get(format!("{}/session/videos/intro", dev.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // The premium-tier title: alice's premium plan plays it, nobody else.
    let (status, cookie) = session(&dev, &alice, "members").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(&dev, "/videos/members/seg-000.ts", Some(&cookie))
            .await
            .0,
        200
    );
    assert_eq!(
        refusal(&dev, &carol, "members").await,
        (403, Some("not_entitled".into()))
    );
    assert_eq!(
        refusal(&dev, &bob, "members").await,
        (403, Some("not_entitled".into()))
    );
    // The paid titles as before: bob owns demo.
    assert_eq!(session(&dev, &bob, "demo").await.0, 200);
    assert_eq!(
        refusal(&dev, &carol, "demo").await,
        (403, Some("not_entitled".into()))
    );
    // Not in the catalogue.
    assert_eq!(
        refusal(&dev, &alice, "unlisted").await,
        (404, Some("title_not_found".into()))
    );

    // An admin lists a premiere whose window opens tomorrow: refused even to the plan.
    let tomorrow = reelgate_api::auth::now().get() + 86_400;
    let created = api(
        &dev,
        Method::POST,
        "/api/admin/titles",
        Some(&admin),
        Some(json!({"id": "premiere", "name": "Premiere", "tiers": ["premium"], "available_from": tomorrow})),
    )
    .await;
    assert_eq!(created.0, 201, "{created:?}");
    assert_eq!(
        refusal(&dev, &alice, "premiere").await,
        (403, Some("not_available".into()))
    );
    assert_problem(
        &api(
            &dev,
            Method::POST,
            "/api/admin/titles",
            Some(&bob),
            Some(json!({"id": "x", "name": "X"})),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &api(
            &dev,
            Method::POST,
            "/api/admin/titles",
            Some(&admin),
            Some(json!({"id": "x", "name": "X", "free": true, "price": 100, "currency": "usd"})),
        )
        .await,
        400,
        "free_title_priced",
    );
}
