//! `reelgate dev` end to end over HTTP, as a newcomer's browser would use it:
//! sign-in for each demo user, session cookies, playlist and segments with
//! and without valid cookies, a signed webhook purchase that lets carol
//! watch, and 32 concurrent deliveries of one webhook applied once. Run
//! against the in-memory store and against DynamoDB Local.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reelgate_tests::{dynamodb_local, free_port};
use serde_json::{Value, json};

struct Dev {
    child: Child,
    base: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Dev {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reelgate"))
        .args(["dev", "--port", &port.to_string()])
        .args(extra)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("reelgate dev starts");
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("reelgate dev exited with {status}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Dev {
                child,
                base: format!("http://127.0.0.1:{port}"),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("reelgate dev did not listen within 30 s");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Cognito's `InitiateAuth` against the dev identity provider: the body, or
/// the error body for a 4xx.
async fn initiate_auth(dev: &Dev, flow: &str, parameters: Value) -> Result<Value, Value> {
    let config: Value = client()
        .get(format!("{}/dev/config", dev.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = client()
        .post(format!("{}/idp/", dev.base))
        .header("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(json!({"AuthFlow": flow, "ClientId": config["client_id"], "AuthParameters": parameters}).to_string())
        .send()
        .await
        .unwrap();
    let ok = response.status().is_success();
    let body: Value = response.json().await.unwrap();
    if ok {
        Ok(body["AuthenticationResult"].clone())
    } else {
        Err(body)
    }
}

async fn sign_in(dev: &Dev, user: &str, password: &str) -> Result<(String, String), Value> {
    let result = initiate_auth(
        dev,
        "USER_PASSWORD_AUTH",
        json!({"USERNAME": user, "PASSWORD": password}),
    )
    .await?;
    Ok((
        result["AccessToken"].as_str().unwrap().to_owned(),
        result["RefreshToken"].as_str().unwrap().to_owned(),
    ))
}

async fn refresh(dev: &Dev, refresh_token: &str) -> String {
    let result = initiate_auth(
        dev,
        "REFRESH_TOKEN_AUTH",
        json!({"REFRESH_TOKEN": refresh_token}),
    )
    .await
    .unwrap();
    result["AccessToken"].as_str().unwrap().to_owned()
}

/// GET /session/videos/{id}: status and the `Cookie` header the browser would send back.
async fn session(dev: &Dev, token: &str, video: &str) -> (u16, String) {
    let response = client()
        .get(format!("{}/session/videos/{video}", dev.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    (status, cookie)
}

async fn fetch(dev: &Dev, path: &str, cookie: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = client().get(format!("{}{path}", dev.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

async fn webhook(dev: &Dev, body: &str) -> (u16, Value) {
    deliver(dev.base.clone(), body.to_owned()).await
}

/// One signed delivery, owning its inputs so many can run at once.
async fn deliver(base: String, body: String) -> (u16, Value) {
    let signature = reelgate_api::webhook::sign(
        b"whsec_reelgate_local_dev",
        reelgate_api::auth::now().get(),
        body.as_bytes(),
    );
    let response = client()
        .post(format!("{base}/api/webhooks/payments"))
        .header("content-type", "application/json")
        .header("reelgate-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

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
    let me: Value = client()
        .get(format!("{}/api/me/entitlements", dev.base))
        .bearer_auth(&carol)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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

/// One API call as a client makes it: status, `Content-Type`, JSON body.
async fn api(
    dev: &Dev,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut request = client().request(method, format!("{}{path}", dev.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// A refusal is a problem document with the expected status and reason.
fn assert_problem(answer: &(u16, String, Value), status: u16, reason: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1, "application/problem+json", "{answer:?}");
    assert_eq!(answer.2["reason"], reason, "{answer:?}");
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
