//! The Node side of `--edge-bundle` (`edge_host::BUNDLE_SERVER`), run by
//! real Node on a one-line bundle: it must survive a body that is not JSON,
//! and refuse a foreign `Host`.

use crate::edge_host::EdgeHost;

/// A bundle whose handler echoes a fixed response: the server is under
/// test here, not the edge.
fn echo_bundle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.mjs"),
        "export const handler = async () => ({ status: \"204\" });\n",
    )
    .unwrap();
    dir
}

async fn start() -> (tempfile::TempDir, EdgeHost, String) {
    let bundle = echo_bundle();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = EdgeHost::bundle(bundle.path(), "{}", port, None)
        .await
        .unwrap();
    (bundle, host, format!("http://127.0.0.1:{port}/"))
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_400_and_the_server_keeps_serving() {
    let (_bundle, _host, url) = start().await;
    let client = reqwest::Client::new();
    let bad = client.post(&url).body("not json").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let good = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(good.status().as_u16(), 200);
    assert_eq!(good.text().await.unwrap(), r#"{"status":"204"}"#);
}

#[tokio::test]
async fn a_foreign_host_is_refused() {
    let (_bundle, _host, url) = start().await;
    let response = reqwest::Client::new()
        .post(&url)
        .header("host", "evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn the_bundle_copy_lives_in_a_private_directory() {
    use std::os::unix::fs::PermissionsExt;
    let (_bundle, host, _url) = start().await;
    let EdgeHost::Bundle { _dir: dir, .. } = &host else {
        panic!("a bundle host");
    };
    let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_ne!(dir.path(), std::env::temp_dir());
}
