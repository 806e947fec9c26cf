//! Hosts for the edge authorizer in the local stack.
//!
//! Native (default): the same sans-I/O core the WebAssembly bundle runs,
//! with `shared`'s native crypto; this host performs the I/O it asks for
//! (a store read, a JWKS fetch) as Lambda@Edge's Node host does.
//!
//! Bundle (`--edge-bundle DIR`): the real `dist/edge-auth` artifact, run by
//! Node in a child process, so the exact deployed code can be exercised.

use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

use reelgate_edge::event::{Request, Response};
use reelgate_edge::{Edge, Fetch, Fetched, Outcome};
use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::native::NativeCrypto;
use reelgate_shared::store::{Consistency, EntitlementStore};
use serde_json::json;

use crate::store::DevStore;

pub enum EdgeHost {
    Native {
        edge: Box<Mutex<Edge<NativeCrypto>>>,
        jwks: String,
    },
    /// `_node` is held so the child is killed when the host is dropped,
    /// `_script` so the private directory holding its script outlives it.
    Bundle {
        _node: tokio::process::Child,
        _script: tempfile::TempDir,
        url: String,
        client: reqwest::Client,
    },
}

/// The Node side of the bundle host: imports the bundle's `index.mjs` and
/// answers each POSTed Lambda@Edge event with the handler's result. Only
/// its own `Host` is served (a DNS-rebinding page cannot drive it), and a
/// body that is not JSON gets 400 instead of crashing the process.
const BUNDLE_SERVER: &str = r#"
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
const [dir, port] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(join(dir, "index.mjs")).href);
const answer = (res, status, body) => {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
};
createServer(async (req, res) => {
  if (req.headers.host !== `127.0.0.1:${port}`) return answer(res, 403, { error: "host_not_allowed" });
  let body = "";
  for await (const chunk of req) body += chunk;
  let event;
  try {
    event = JSON.parse(body);
  } catch {
    return answer(res, 400, { error: "invalid_json" });
  }
  answer(res, 200, await handler(event));
}).listen(Number(port), "127.0.0.1", () => console.error(`edge bundle ready on ${port}`));
"#;

impl EdgeHost {
    pub fn native(edge: Edge<NativeCrypto>, jwks: String) -> Self {
        Self::Native {
            edge: Box::new(Mutex::new(edge)),
            jwks,
        }
    }

    /// Starts Node on the bundle in `dir`; the child dies with this process.
    pub async fn bundle(
        dir: &Path,
        port: u16,
        dynamodb_endpoint: Option<&str>,
    ) -> Result<Self, String> {
        if !dir.join("index.mjs").exists() {
            return Err(format!(
                "{} has no index.mjs: build it with scripts/build-edge",
                dir.display()
            ));
        }
        // A fresh directory only this user can enter (0700, random name):
        // a fixed path under /tmp could be planted or swapped by another user.
        let script_dir = tempfile::Builder::new()
            .prefix("reelgate-edge-host-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| format!("cannot create a private temporary directory: {e}"))?;
        let script = script_dir.path().join("server.mjs");
        std::fs::write(&script, BUNDLE_SERVER)
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        let mut command = tokio::process::Command::new("node");
        command
            .arg(&script)
            .arg(dir.canonicalize().map_err(|e| e.to_string())?)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(endpoint) = dynamodb_endpoint {
            command.env("AWS_ENDPOINT_URL_DYNAMODB", endpoint);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let url = format!("http://127.0.0.1:{port}/");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Self::Bundle {
                    _node: child,
                    _script: script_dir,
                    url,
                    client: reqwest::Client::new(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err("the edge bundle did not start within 10 s".into())
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Native { .. } => "native host (the edge core with Rust crypto)",
            Self::Bundle { .. } => "the real Lambda@Edge bundle in Node",
        }
    }

    pub async fn handle(&self, request: Request, store: &DevStore, now: EpochSeconds) -> Response {
        match self {
            Self::Native { edge, jwks } => {
                let mut fetched = Fetched::default();
                for _ in 0..3 {
                    let outcome = edge
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .handle(&request, now, &fetched);
                    match outcome {
                        Outcome::Respond(response, decision) => {
                            tracing::info!(target: "edge", decision = serde_json::to_string(&decision).unwrap_or_default());
                            return *response;
                        }
                        Outcome::Fetch(Fetch::Entitlement { user, video, .. }) => {
                            let snapshot =
                                store.snapshot(&user, &video, Consistency::Eventual).await;
                            fetched.entitlement = Some(snapshot.map_err(|e| e.to_string()));
                        }
                        Outcome::Fetch(Fetch::Jwks { .. }) => fetched.jwks = Some(Ok(jwks.clone())),
                    }
                }
                reelgate_edge::handler::error_response(503, "entitlement_unavailable")
            }
            Self::Bundle { url, client, .. } => {
                let event = json!({"Records": [{"cf": {
                    "config": {"distributionDomainName": "127.0.0.1", "distributionId": "LOCAL", "eventType": "viewer-request", "requestId": format!("local-{}", now.get())},
                    "request": request,
                }}]});
                let reply = client.post(url).json(&event).send().await;
                match reply {
                    Ok(reply) => reply.json::<Response>().await.unwrap_or_else(|_| {
                        reelgate_edge::handler::error_response(503, "edge_bundle_failed")
                    }),
                    Err(_) => {
                        reelgate_edge::handler::error_response(503, "edge_bundle_unreachable")
                    }
                }
            }
        }
    }
}
