//! The local stack as its users meet it: `reelgate dev` started as a child
//! process on a free loopback port, and the calls a browser or a client
//! library makes. Each test binary uses part of this.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use reelgate_tests::free_port;
use serde_json::{Value, json};

pub struct Dev {
    child: Child,
    pub base: String,
    /// Where the stack's output goes; printed when a test fails.
    log: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("reelgate dev's output: {}", self.log.display());
        }
    }
}

pub fn start(extra: &[&str]) -> Dev {
    let port = free_port();
    let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("reelgate-dev-{port}.log"));
    let output = std::fs::File::create(&log).expect("the test log file can be created");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reelgate"))
        .args(["dev", "--port", &port.to_string()])
        .args(extra)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(
            output
                .try_clone()
                .expect("the log file handle can be shared"),
        )
        .stderr(output)
        .spawn()
        .expect("reelgate dev starts");
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "reelgate dev exited with {status}; output: {}",
                log.display()
            );
        }
        if reelgate_tests::listening(port) {
            return Dev {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "reelgate dev did not listen within 30 s; output: {}",
        log.display()
    );
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A hung stack fails the test instead of hanging it.
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Cognito's `InitiateAuth` against the dev identity provider: the body, or
/// the error body for a 4xx.
pub async fn initiate_auth(dev: &Dev, flow: &str, parameters: Value) -> Result<Value, Value> {
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

pub async fn sign_in(dev: &Dev, user: &str, password: &str) -> Result<(String, String), Value> {
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

pub async fn refresh(dev: &Dev, refresh_token: &str) -> String {
    let result = initiate_auth(
        dev,
        "REFRESH_TOKEN_AUTH",
        json!({"REFRESH_TOKEN": refresh_token}),
    )
    .await
    .unwrap();
    result["AccessToken"].as_str().unwrap().to_owned()
}

/// GET /session/videos/{id} as a player sends it.
pub async fn session_response(dev: &Dev, token: &str, video: &str) -> reqwest::Response {
    client()
        .get(format!("{}/session/videos/{video}", dev.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// GET /session/videos/{id}: status and the `Cookie` header the browser would send back.
pub async fn session(dev: &Dev, token: &str, video: &str) -> (u16, String) {
    let response = session_response(dev, token, video).await;
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

pub async fn fetch(dev: &Dev, path: &str, cookie: Option<&str>) -> (u16, Vec<u8>) {
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

pub async fn webhook(dev: &Dev, body: &str) -> (u16, Value) {
    deliver(dev.base.clone(), body.to_owned()).await
}

/// One signed delivery, owning its inputs so many can run at once.
pub async fn deliver(base: String, body: String) -> (u16, Value) {
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

/// One API call as a client makes it: status, `Content-Type`, JSON body.
pub async fn api(
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
pub fn assert_problem(answer: &(u16, String, Value), status: u16, reason: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1, "application/problem+json", "{answer:?}");
    assert_eq!(answer.2["reason"], reason, "{answer:?}");
}
