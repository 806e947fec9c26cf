// Drives a running `reelgate dev` with autocannon on a realistic mix and
// prints one JSON line of figures. scripts/load starts and stops the stack;
// run that, not this.
//
//   node load.mjs --base http://127.0.0.1:PORT --connections 200 --duration 60 --pid PID[,PID]
//
// Two autocannon instances run at once, sharing the connection budget:
// - viewers (all but WEBHOOK_CONNECTIONS): each connection loops as a player
//   does: refresh its access token at the identity provider (a fresh token),
//   open a session for a title with it (a first session: token verified,
//   entitlement decided, cookies signed), fetch the master playlist, the
//   media playlist and four segments through the CloudFront emulator with
//   those cookies, refresh the session twice (same token: the warm path), and
//   read `me`;
// - the payment provider (WEBHOOK_CONNECTIONS, WEBHOOKS_PER_SECOND): signed
//   purchase webhooks, each a new event for a new buyer, so each is applied.
// Every response must be 2xx; anything else is an error and fails the run.
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const WEBHOOK_CONNECTIONS = 10;
/// Purchases are rare next to playback; this is a busy shop's peak.
const WEBHOOKS_PER_SECOND = 50;
const WARM_UP_SECONDS = 5;
const PASSWORD = "demo-password";
/// Who plays what: premium alice plays every title, bob the one he owns.
const VIEWERS = [
  { username: "alice", titles: ["demo", "trailer"] },
  { username: "bob", titles: ["demo"] },
];

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    connections: { type: "string", default: "200" },
    duration: { type: "string", default: "60" },
    pid: { type: "string", default: "" },
    mode: { type: "string", default: "native" },
  },
});
const base = args.base ?? fail("--base is required");
const connections = Number(args.connections);
const duration = Number(args.duration);
if (!(connections > WEBHOOK_CONNECTIONS) || !(duration > 0)) fail("--connections must exceed 10 and --duration be positive");
const pids = args.pid.split(",").filter(Boolean).map(Number);

function fail(message) {
  console.error(`load: ${message}`);
  process.exit(2);
}

async function json(response) {
  const text = await response.text();
  if (!response.ok) fail(`${response.url}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const devConfig = await json(await fetch(`${base}/dev/config`));

async function idp(flow, parameters) {
  const response = await fetch(`${base}/idp/`, {
    method: "POST",
    headers: {
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      "Content-Type": "application/x-amz-json-1.1",
    },
    body: JSON.stringify({ AuthFlow: flow, ClientId: devConfig.client_id, AuthParameters: parameters }),
  });
  return (await json(response)).AuthenticationResult;
}

/// Resident set size in KiB of each process the stack runs (the stack, and
/// the bundle's Node host in --edge-bundle mode).
function rssKiB() {
  return pids.map((pid) => {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+)/m.exec(status)[1]);
  });
}

// One sign-in per viewer connection: each connection then refreshes its own
// refresh token, as each device of a real audience would.
const devices = [];
for (let i = 0; i < connections - WEBHOOK_CONNECTIONS; i += 1) {
  const viewer = VIEWERS[i % VIEWERS.length];
  const result = await idp("USER_PASSWORD_AUTH", { USERNAME: viewer.username, PASSWORD });
  devices.push({ refreshToken: result.RefreshToken, title: viewer.titles[i % viewer.titles.length] });
}

const bearer = (context) => ({ authorization: `Bearer ${context.token}` });
const withCookies = (context) => ({ cookie: context.cookie });
let nextDevice = 0;

/// The player's loop; `context` is one connection's state.
const playerLoop = [
  {
    method: "POST",
    path: "/idp/",
    setupRequest(request, context) {
      context.device ??= devices[nextDevice++ % devices.length];
      request.headers = {
        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "content-type": "application/x-amz-json-1.1",
      };
      request.body = JSON.stringify({
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: devConfig.client_id,
        AuthParameters: { REFRESH_TOKEN: context.device.refreshToken },
      });
      return request;
    },
    onResponse(status, body, context) {
      if (status === 200) context.token = JSON.parse(body).AuthenticationResult.AccessToken;
    },
  },
  sessionRequest(true),
  mediaRequest((title) => `/videos/${title}/master.m3u8`),
  mediaRequest((title) => `/videos/${title}/index.m3u8`),
  ...[0, 1, 2, 3].map((n) => mediaRequest((title) => `/videos/${title}/seg-00${n}.ts`)),
  sessionRequest(false),
  sessionRequest(false),
  {
    method: "GET",
    path: "/api/me/entitlements",
    setupRequest(request, context) {
      request.headers = bearer(context);
      return request;
    },
  },
];

function sessionRequest(first) {
  return {
    method: "GET",
    setupRequest(request, context) {
      request.path = `/session/videos/${context.device.title}`;
      request.headers = bearer(context);
      return request;
    },
    onResponse(status, _body, context, headers) {
      if (!first || status !== 200) return;
      // autocannon joins repeated headers into one array.
      const cookies = [].concat(headers["set-cookie"] ?? []);
      context.cookie = cookies.map((c) => c.split(";")[0]).join("; ");
    },
  };
}

function mediaRequest(path) {
  return {
    method: "GET",
    setupRequest(request, context) {
      request.path = path(context.device.title);
      request.headers = withCookies(context);
      return request;
    },
  };
}

const webhookLoop = [
  {
    method: "POST",
    path: "/api/webhooks/payments",
    setupRequest(request) {
      const body = JSON.stringify({
        event_id: `evt_load_${randomUUID()}`,
        type: "purchase.succeeded",
        user_sub: randomUUID(),
        video_id: "trailer",
      });
      const t = Math.floor(Date.now() / 1000);
      const v1 = createHmac("sha256", devConfig.webhook_secret).update(`${t}.${body}`).digest("hex");
      request.headers = { "content-type": "application/json", "reelgate-signature": `t=${t},v1=${v1}` };
      request.body = body;
      return request;
    },
  },
];

/// Responses by request kind and status, so the report shows the mix ran.
const counts = {};
function counted(kind, request) {
  const onResponse = request.onResponse;
  return {
    ...request,
    onResponse(status, body, context, headers) {
      const key = `${kind} ${status}`;
      counts[key] = (counts[key] ?? 0) + 1;
      onResponse?.(status, body, context, headers);
    },
  };
}
const kinds = ["token_refresh", "first_session", "master_playlist", "media_playlist", "segment", "segment", "segment", "segment", "session_refresh", "session_refresh", "me"];
const player = playerLoop.map((request, i) => counted(kinds[i], request));
const payments = webhookLoop.map((request) => counted("webhook", request));

function run(name, connectionCount, requests, seconds, extra = {}) {
  return autocannon({
    title: name,
    url: base,
    connections: connectionCount,
    duration: seconds,
    requests,
    timeout: 10,
    ...extra,
  });
}

// A short warm-up fills the caches and JIT before the figures.
const rssStart = rssKiB();
const warm = await run("warm-up", 20, playerLoop, WARM_UP_SECONDS);
nextDevice = 0;
const rssWarm = rssKiB();
// Every tenth of the run, so a climb that levels off is told from a leak.
const rssDuring = [];
const sampler = setInterval(() => rssDuring.push(rssKiB()), (duration * 1000) / 10);
const [viewers, webhooks] = await Promise.all([
  run("viewers", connections - WEBHOOK_CONNECTIONS, player, duration),
  run("webhooks", WEBHOOK_CONNECTIONS, payments, duration, { overallRate: WEBHOOKS_PER_SECOND }),
]);
clearInterval(sampler);
const rssEnd = rssKiB();

const summary = (result) => ({
  requests: result.requests.total,
  rps: Math.round(result.requests.average),
  p50_ms: result.latency.p50,
  p99_ms: result.latency.p99,
  max_ms: result.latency.max,
  non_2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
});
const report = {
  mode: args.mode,
  connections,
  duration_s: duration,
  warm_up_non_2xx: warm.non2xx + warm.errors,
  viewers: summary(viewers),
  webhooks: summary(webhooks),
  responses: counts,
  rss_kib: { start: rssStart, after_warm_up: rssWarm, during: rssDuring, end: rssEnd },
};
console.log(JSON.stringify(report));
const bad = [viewers, webhooks, warm].reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
process.exit(bad === 0 ? 0 : 1);
