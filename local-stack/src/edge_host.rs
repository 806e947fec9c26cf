//! Hosts for the edge authorizer in the local stack.
//!
//! Native (default): edge-auth's own native host (`reelgate_edge::native`),
//! the same core and driver the WebAssembly bundle runs, reading this
//! stack's store.
//!
//! Bundle (`--edge-bundle DIR`): the real `dist/edge-auth` artifact, run by
//! Node in a child process, so the exact deployed code can be exercised.

use std::path::Path;
use std::process::Stdio;

use reelgate_edge::EdgeError;
use reelgate_edge::event::{Request, Response};
use reelgate_edge::native::NativeHost;
use reelgate_edge::response::refusal;
use reelgate_shared::EpochSeconds;
use serde_json::json;

use crate::store::DevStore;

pub enum EdgeHost {
    Native(Box<NativeHost>),
    /// `_node` is held so the child is killed when the host is dropped (and
    /// its stdin pipe open: Node exits when that closes, so a killed stack
    /// leaves no orphan), and `_dir` (the bundle's private copy) is removed
    /// with it.
    Bundle {
        _node: Box<tokio::process::Child>,
        _dir: tempfile::TempDir,
        url: String,
        client: reqwest::Client,
    },
}

/// The Node side of the bundle host: imports the bundle's `index.mjs` and
/// answers each POSTed Lambda@Edge event with the handler's result. Only
/// its own `Host` is served (a DNS-rebinding page cannot drive it), and a
/// body that is not JSON gets 400, never a crash of the host.
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
    return answer(res, 400, { error: "malformed_event" });
  }
  answer(res, 200, await handler(event));
}).listen(Number(port), "127.0.0.1", () => console.error(`edge bundle ready on ${port}`));
// The stack holds this pipe open; when the stack dies, even by SIGKILL, it
// closes and the host goes with it instead of lingering as an orphan.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
"#;

impl EdgeHost {
    pub fn native(host: NativeHost) -> Self {
        Self::Native(Box::new(host))
    }

    /// Starts Node on a private copy of the bundle in `dir`, configured with
    /// `config_json` (the stack's own edge config, so the bundle reads the
    /// same table and lifetimes as the rest of the stack), the way a deploy
    /// replaces `config.json`. The copy lives in a fresh directory created
    /// 0700 (tempfile's default follows the umask), so no other local user
    /// can swap the code Node runs.
    pub async fn bundle(
        dir: &Path,
        config_json: &str,
        port: u16,
        dynamodb_endpoint: Option<&str>,
    ) -> Result<Self, String> {
        if !dir.join("index.mjs").exists() {
            return Err(format!(
                "{} has no index.mjs: build it with scripts/build-edge",
                dir.display()
            ));
        }
        let copy = tempfile::Builder::new()
            .prefix("reelgate-edge-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| format!("cannot create a private directory: {e}"))?;
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = entry.file_name();
            if entry.file_type().is_ok_and(|t| t.is_file()) && name != "config.json" {
                std::fs::copy(entry.path(), copy.path().join(&name))
                    .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
            }
        }
        // Lambda's Node.js runtime provides the AWS SDK the bundle imports
        // for store reads; here, the copy scripts/setup pins in tests/js.
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js/node_modules");
        if dynamodb_endpoint.is_some() {
            if !sdk.join("@aws-sdk/client-dynamodb").exists() {
                return Err(format!(
                    "the bundle reads DynamoDB with the AWS SDK that Lambda provides; install it with scripts/setup (expected in {})",
                    sdk.display()
                ));
            }
            std::os::unix::fs::symlink(&sdk, copy.path().join("node_modules"))
                .map_err(|e| format!("cannot link the AWS SDK: {e}"))?;
        }
        let script = copy.path().join("local-host.mjs");
        for (path, text) in [
            (copy.path().join("config.json"), config_json),
            (script.clone(), BUNDLE_SERVER),
        ] {
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let mut command = tokio::process::Command::new("node");
        command
            .arg(&script)
            .arg(copy.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            // The dev config's one replica region, as Lambda@Edge sets it.
            .env("AWS_REGION", "us-east-1")
            .kill_on_drop(true);
        if let Some(endpoint) = dynamodb_endpoint {
            // DynamoDB Local keeps a database per access key: the stack's.
            command
                .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
                .env("AWS_ACCESS_KEY_ID", crate::stack::LOCAL_ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", crate::stack::LOCAL_ACCESS_KEY);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let url = format!("http://127.0.0.1:{port}/");
        for _ in 0..100 {
            // Not a socket connected to itself (the kernel can pick the
            // polled port as the source while nothing listens on it).
            let listening = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok());
            if listening {
                return Ok(Self::Bundle {
                    _node: Box::new(child),
                    _dir: copy,
                    url,
                    client: bundle_client()
                        .map_err(|e| format!("cannot build an HTTP client: {e}"))?,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err("the edge bundle did not start within 10 s".into())
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Native(_) => "native host (the edge core with Rust crypto)",
            Self::Bundle { .. } => "the real Lambda@Edge bundle in Node",
        }
    }

    pub async fn handle(&self, request: Request, store: &DevStore, now: EpochSeconds) -> Response {
        match self {
            Self::Native(host) => {
                let answer = host.handle(request, store, now).await;
                tracing::info!(target: "edge", decision = serde_json::to_string(&answer.decision).unwrap_or_default());
                answer.response
            }
            Self::Bundle { url, client, .. } => {
                let event = json!({"Records": [{"cf": {
                    "config": {"distributionDomainName": "127.0.0.1", "distributionId": "LOCAL", "eventType": "viewer-request", "requestId": format!("local-{}", now.get())},
                    "request": request,
                }}]});
                let reply = client.post(url).json(&event).send().await;
                match reply {
                    Ok(reply) => reply.json::<Response>().await.unwrap_or_else(|e| {
                        tracing::warn!(target: "edge", error = %e, "the edge bundle's reply is not a response");
                        refusal(&EdgeError::BundleFailed)
                    }),
                    Err(e) => {
                        tracing::warn!(target: "edge", error = %e, "the edge bundle is unreachable");
                        refusal(&EdgeError::BundleUnreachable)
                    }
                }
            }
        }
    }
}

/// The client to the bundle's server. Node closes a keep-alive connection
/// after 5 s idle (`server.keepAliveTimeout`); a pooled connection reused
/// just as Node closes it fails the request (seen under `scripts/load` as a
/// few `503 edge_bundle_unreachable` in a hundred thousand). Dropping idle
/// connections sooner than Node does removes that race.
fn bundle_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
}
