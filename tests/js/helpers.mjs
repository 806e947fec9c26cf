// Shared helpers for the Node tests: the repository's paths, RS256 tokens
// signed with the test key, Lambda@Edge events, loading a copy of the real
// bundle with its own config.json, and servers the tests start and stop.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import * as net from "node:net";
import { join, resolve } from "node:path";

export const root = resolve(new URL("../..", import.meta.url).pathname);
/// Where cargo put the binaries (CARGO_TARGET_DIR when set, as cargo does).
export const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, "target");
export const reelgateBin = join(targetDir, "debug/reelgate");
export const bundleDir = join(root, "dist/edge-auth");
export const ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
export const CLIENT = "testclient";

const rsaPem = readFileSync(join(root, "shared/tests/keys/rsa2048.pkcs8.pem"), "utf8");
export const idpKey = createPrivateKey(rsaPem);
export const jwk = (kid, key = idpKey) => ({ ...createPublicKey(key).export({ format: "jwk" }), kid, alg: "RS256", use: "sig" });
export const signingPem = readFileSync(join(root, "shared/tests/keys/p256.pkcs8.pem"), "utf8");
export const signingPublicPem = join(root, "shared/tests/keys/p256.pub.pem");

const b64url = (data) => Buffer.from(data).toString("base64url");

/// An RS256 token; `header` and `claims` override the Cognito-shaped defaults.
export function token(claims = {}, header = {}, key = idpKey) {
  const now = Math.floor(Date.now() / 1000);
  const h = b64url(JSON.stringify({ alg: "RS256", kid: "test-1", ...header }));
  const p = b64url(JSON.stringify({
    sub: "user-1", iss: ISSUER, token_use: "access", client_id: CLIENT, username: "viewer",
    iat: now - 5, exp: now + 3600, ...claims,
  }));
  const input = `${h}.${p}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
}

export function config(overrides = {}) {
  return {
    issuer: ISSUER,
    jwks_url: "http://127.0.0.1:9/jwks.json",
    jwks: { keys: [jwk("test-1")] },
    client_ids: [CLIENT],
    signing: { key_pair_id: "K2EDGETEST", private_key_pem: signingPem, hash: "sha1" },
    cookie: { ttl_seconds: 300, same_site: "Lax" },
    resource_base: "https://d111111abcdef8.cloudfront.net",
    table: { name: "reelgate", replica_regions: ["us-east-1"] },
    ...overrides,
  };
}

/// A fresh copy of the built bundle with `cfg` as its config.json, imported
/// as Lambda would: a new module instance, so a new "container". The copy
/// lives under tests/js so that its lazy `import("@aws-sdk/...")` resolves
/// to the dev dependencies, as it resolves to the runtime's SDK in Lambda.
/// Sends `message` to the `init` of a fresh instance of the bundle's
/// WebAssembly core (`wasm`, the built one by default), whose host imports
/// refuse every crypto call, and returns the core's JSON reply.
export async function coreInit(message, wasm = join(bundleDir, "reelgate_edge.wasm")) {
  const refuse = () => -1;
  const { instance } = await WebAssembly.instantiate(readFileSync(wasm), {
    host: { sign_policy: refuse, verify_jws: refuse, install_key: refuse },
  });
  const core = instance.exports;
  const input = new TextEncoder().encode(JSON.stringify(message));
  const ptr = core.alloc(input.length);
  new Uint8Array(core.memory.buffer, ptr, input.length).set(input);
  const len = core.init(ptr, input.length);
  return JSON.parse(new TextDecoder().decode(new Uint8Array(core.memory.buffer, core.output_ptr(), len)));
}

export async function loadBundle(cfg) {
  mkdirSync(join(root, "tests/js/.bundles"), { recursive: true });
  const dir = mkdtempSync(join(root, "tests/js/.bundles/edge-"));
  for (const file of ["index.mjs", "signing-key.mjs", "reelgate_edge.wasm"]) copyFileSync(join(bundleDir, file), join(dir, file));
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  const module = await import(join(dir, "index.mjs"));
  return { handler: module.handler, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function event({ method = "GET", uri = "/session/videos/demo", querystring = "", headers = {}, clientIp = "203.0.113.9" } = {}) {
  const cfHeaders = {};
  for (const [name, value] of Object.entries(headers)) cfHeaders[name.toLowerCase()] = [{ key: name, value }];
  return {
    Records: [{
      cf: {
        config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "viewer-request", requestId: `req-${Math.random().toString(36).slice(2)}` },
        request: { clientIp, headers: cfHeaders, method, querystring, uri },
      },
    }],
  };
}

export const bearer = (t) => ({ Authorization: `Bearer ${t}` });

/// Runs `fn` while capturing console.log lines.
export async function captureLogs(fn) {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(args.join(" "));
  try {
    const result = await fn();
    return { result, lines };
  } finally {
    console.log = original;
  }
}

export const cookiesOf = (response) => (response.headers["set-cookie"] ?? []).map((h) => h.value);
export const cookieHeader = (response) => cookiesOf(response).map((c) => c.split(";")[0]).join("; ");

/// `reelgate verify cookies`: the shared CloudFront validator's verdict.
export function verifyCookies(url, cookie, { now, clientIp } = {}) {
  const args = ["verify", "cookies", "--public-key", signingPublicPem, "--key-pair-id", "K2EDGETEST", "--url", url, "--cookie", cookie];
  if (now) args.push("--now", String(now));
  if (clientIp) args.push("--client-ip", clientIp);
  const out = spawnSync(reelgateBin, args, { encoding: "utf8" });
  if (out.status === 2 || out.error) throw new Error(`reelgate verify failed: ${out.stderr ?? out.error}`);
  return out.stdout.trim();
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
    server.on("error", reject);
  });
}

async function waitForPort(port, child, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const open = await new Promise((done) => {
      const socket = new net.Socket();
      // A socket connected to itself is not a server: polling a closed
      // ephemeral port, the kernel can pick that port as the source too.
      socket.once("connect", () => { const self = socket.localPort === socket.remotePort; socket.destroy(); done(!self); });
      socket.once("error", () => done(false));
      socket.connect(port, "127.0.0.1");
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} did not open`);
}

/// Starts DynamoDB Local on a free loopback port; `stop()` ends it.
export async function startDynamoDbLocal() {
  const port = await freePort();
  const child = spawn(join(root, "tests/servers/dynamodb-local"), [String(port)], { stdio: "ignore", detached: false });
  await waitForPort(port, child, 60000);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((done) => {
      if (child.exitCode !== null) return done();
      child.once("exit", done);
      child.kill("SIGTERM");
    }),
  };
}

/// A loopback HTTP proxy in front of DynamoDB (Local) that counts the
/// operations it forwards by name (`X-Amz-Target`, e.g. `PutItem`) and can
/// answer chosen operations with a 500 instead, as a failing store would.
/// `counts` maps operation → requests seen (faulted ones included).
export async function startDynamoProxy(target) {
  const { createServer, request: forward } = await import("node:http");
  const counts = new Map();
  const failing = new Set();
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop();
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (failing.has(operation)) {
        res.writeHead(500, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "injected by the test proxy" }));
        return;
      }
      const out = forward({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      out.on("error", () => { res.writeHead(502); res.end(); });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    counts,
    count: (operation) => counts.get(operation) ?? 0,
    fail: (operation) => failing.add(operation),
    heal: () => failing.clear(),
    stop: () => new Promise((done) => { server.closeAllConnections?.(); server.close(done); }),
  };
}
