//! `reelgate dev` end to end over HTTP, as a newcomer's browser would use it:
//! sign-in for each demo user, session cookies, playlist and segments with
//! and without valid cookies, a signed webhook purchase that lets carol
//! watch, and 32 concurrent deliveries of one webhook applied once. Run
//! against the in-memory store and against DynamoDB Local.

mod support;

use reelgate_tests::dynamodb_local;
use serde_json::{Value, json};
use support::*;

async fn walk(dev: &Dev) {
    // Sign-in for each demo user; a wrong password is Cognito's NotAuthorizedException.
    let (alice, _) = sign_in(dev, "alice", "demo-password").await.unwrap();
    let (bob, _) = sign_in(dev, "bob", "demo-password").await.unwrap();
    let (carol, carol_refresh) = sign_in(dev, "carol", "demo-password").await.unwrap();
    assert_eq!(
        sign_in(dev, "bob", "wrong").await.unwrap_err()["__type"],
        "NotAuthorizedException"
    );

    // bob owns demo: cookies, then the playlist and a segment through the CloudFront check.
    let (status, cookie) = session(dev, &bob, "demo").await;
    assert_eq!(status, 200);
    let (status, playlist) = fetch(dev, "/videos/demo/master.m3u8", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(playlist).unwrap().starts_with("#EXTM3U"));
    let (status, segment) = fetch(dev, "/videos/demo/seg-000.ts", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert_eq!(segment[0], 0x47, "an MPEG-TS sync byte");
    // Without cookies, with a tampered signature, or for another title: CloudFront's 403.
    assert_eq!(fetch(dev, "/videos/demo/seg-000.ts", None).await.0, 403);
    let tampered = cookie.replacen("CloudFront-Signature=M", "CloudFront-Signature=N", 1);
    assert_ne!(tampered, cookie);
    assert_eq!(
        fetch(dev, "/videos/demo/seg-000.ts", Some(&tampered))
            .await
            .0,
        403
    );
    assert_eq!(
        fetch(dev, "/videos/trailer/master.m3u8", Some(&cookie))
            .await
            .0,
        403
    );
    assert_eq!(session(dev, &bob, "trailer").await.0, 403);

    // alice's premium plan opens every title.
    let (status, alice_cookie) = session(dev, &alice, "trailer").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(dev, "/videos/trailer/seg-001.ts", Some(&alice_cookie))
            .await
            .0,
        200
    );

    // carol holds nothing, buys demo with a signed webhook, refreshes her token, watches.
    assert_eq!(session(dev, &carol, "demo").await.0, 403);
    let (_, _, me) = api(
        dev,
        reqwest::Method::GET,
        "/api/me/entitlements",
        Some(&carol),
        None,
    )
    .await;
    let carol_sub = me["user"].as_str().unwrap().to_owned();
    let purchase = json!({"event_id": format!("evt_walk_{}", reelgate_api::auth::now().get()), "type": "purchase.succeeded", "user_sub": carol_sub, "video_id": "demo"}).to_string();
    assert_eq!(
        webhook(dev, &purchase).await,
        (
            200,
            json!({"status": "applied", "event_id": serde_json::from_str::<Value>(&purchase).unwrap()["event_id"]})
        )
    );
    let carol = refresh(dev, &carol_refresh).await;
    let (status, carol_cookie) = session(dev, &carol, "demo").await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(dev, "/videos/demo/seg-002.ts", Some(&carol_cookie))
            .await
            .0,
        200
    );

    // 32 concurrent deliveries of one webhook: applied exactly once.
    let rental = json!({"event_id": format!("evt_burst_{}", reelgate_api::auth::now().get()), "type": "rental.succeeded", "user_sub": carol_sub, "video_id": "trailer", "rental_hours": 2}).to_string();
    let handles: Vec<_> = (0..32)
        .map(|_| tokio::spawn(deliver(dev.base.clone(), rental.clone())))
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    let applied = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "applied")
        .count();
    let duplicate = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "duplicate")
        .count();
    assert_eq!((applied, duplicate), (1, 31), "{results:?}");
}

#[tokio::test]
async fn the_contract_walk_on_the_in_memory_store() {
    let dev = start(&[]);
    walk(&dev).await;
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn the_contract_walk_on_dynamodb_local() {
    let dynamodb = dynamodb_local();
    let dev = start(&["--dynamodb-endpoint", &dynamodb.endpoint()]);
    walk(&dev).await;
}

#[tokio::test]
async fn every_api_route_answers_over_http_where_the_stack_mounts_it() {
    use reqwest::Method;
    let dev = start(&[]);
    let (bob, _) = sign_in(&dev, "bob", "demo-password").await.unwrap();
    let (admin, _) = sign_in(&dev, "admin", "demo-password").await.unwrap();
    let carol = "ca201000-0000-4000-8000-000000000003";

    // The seed's signed-URL API: bob owns demo, and CloudFront (the
    // emulator) accepts the URL it signs — for that object and no other.
    let (status, _, signed) = api(
        &dev,
        Method::GET,
        "/api/videos/demo/signed-url?path=master.m3u8",
        Some(&bob),
        None,
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    let url = signed["url"].as_str().unwrap();
    let path = &url[url.find("/videos/").unwrap()..];
    let (status, playlist) = fetch(&dev, path, None).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(playlist).unwrap().starts_with("#EXTM3U"));
    let other_object = path.replacen("master.m3u8", "seg-000.ts", 1);
    assert_eq!(fetch(&dev, &other_object, None).await.0, 403);
    assert_problem(
        &api(
            &dev,
            Method::GET,
            "/api/videos/trailer/signed-url",
            Some(&bob),
            None,
        )
        .await,
        403,
        "not_entitled",
    );

    // Every route without a token is 401; the admin routes refuse a viewer with 403.
    let admin_routes = [
        (Method::GET, format!("/api/admin/users/{carol}"), None),
        (
            Method::PUT,
            format!("/api/admin/users/{carol}/plan"),
            Some(json!({"premium_until": 4102444800u64})),
        ),
        (
            Method::DELETE,
            format!("/api/admin/users/{carol}/plan"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/admin/users/{carol}/videos/demo"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/api/admin/users/{carol}/videos/demo"),
            None,
        ),
    ];
    for (method, path) in [
        (Method::GET, "/api/me/entitlements".to_owned()),
        (Method::GET, "/api/videos/demo/signed-url".to_owned()),
    ]
    .into_iter()
    .chain(admin_routes.iter().map(|(m, p, _)| (m.clone(), p.clone())))
    {
        let answer = api(&dev, method.clone(), &path, None, None).await;
        assert_problem(&answer, 401, "token_missing");
    }
    for (method, path, body) in &admin_routes {
        let answer = api(&dev, method.clone(), path, Some(&bob), body.clone()).await;
        assert_problem(&answer, 403, "forbidden");
    }

    // The admin walks the premium-user service for carol, in order.
    let answers = {
        let mut answers = Vec::new();
        for (method, path, body) in &admin_routes {
            answers.push(api(&dev, method.clone(), path, Some(&admin), body.clone()).await);
        }
        answers
    };
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [200, 200, 204, 200, 204], "{answers:?}");
    assert_eq!(answers[0].2["user"], carol);
    assert_eq!(answers[1].2["active"], true);
    assert_eq!(answers[3].2["video_id"], "demo");
    assert_problem(
        &api(
            &dev,
            Method::DELETE,
            &format!("/api/admin/users/{carol}/videos/demo"),
            Some(&admin),
            None,
        )
        .await,
        404,
        "grant_not_found",
    );

    // Bad path and query input: a problem document, never a 500 or plain text.
    for (path, reason) in [
        ("/api/videos/%FF/signed-url", "invalid_path"),
        ("/api/videos/bad%20id/signed-url", "invalid_video_id"),
        ("/api/videos/demo/signed-url?path=a&path=b", "invalid_query"),
        ("/api/videos/demo/signed-url?path=%FF", "invalid_query"),
        ("/api/videos/demo/signed-url?path=../secret", "invalid_path"),
        ("/api/admin/users/%FF", "invalid_path"),
    ] {
        let token = if path.contains("admin") { &admin } else { &bob };
        let answer = api(&dev, Method::GET, path, Some(token), None).await;
        assert_problem(&answer, 400, reason);
    }
    assert_problem(
        &api(&dev, Method::GET, "/api/no-such-route", Some(&bob), None).await,
        404,
        "not_found",
    );
    assert_problem(
        &api(&dev, Method::POST, "/api/me/entitlements", Some(&bob), None).await,
        405,
        "method_not_allowed",
    );
}
