// Long playback in real headless Chromium against `reelgate dev` with
// cookies that live 10 s and access tokens that live 30 s: the client module
// (web/reelgate-session.js) must keep a title playing for 90 s with no stall
// and no 403 on any playlist or segment (counted from the browser's network
// log), also with the page's clock 10 minutes off either way; sign-out must
// make the next segment request fail; and a player on another origin plays
// with credentialed CORS and SameSite=None cookies.
//
// The demo titles are 8 s clips: the page loops them with no back buffer
// (config.json's `player`), so every pass fetches every segment again, as a
// long title would. The four playbacks run in parallel.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

import { freePort, reelgateBin, root } from "./helpers.mjs";

const CHROMIUM = process.env.REELGATE_CHROMIUM ?? "/usr/bin/chromium";
const PLAY_SECONDS = 90;
/** Cross-origin playbacks: two cookie lifetimes and a token refresh, in parallel with the long ones. */
const CROSS_ORIGIN_SECONDS = 25;
let dev;
let base;
let playerOrigin;
let playerServer;
let browser;

async function waitForServer(url, child) {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`reelgate dev exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("reelgate dev did not start");
}

// Player pages on a second origin: another port of 127.0.0.1, so cross-origin
// (CORS with credentials applies) but same-site, as a real deployment's
// app.example.com and video.example.com are. A cross-site page would be
// refused the cookies as third-party cookies (see the test below). The
// module and hls.js come from web/ as an integrator's app would serve them.
// `/player.html` signs in with a password; `/` signs in with the Hosted UI
// (authorization code + PKCE), `/` being one of the dev app client's
// callback URLs, and serves the module from its own origin.
/**
 * The quick start page of docs/protocol.md, as an integrator copies it: the
 * first html block under "## Quick start", with the stack's port and the dev
 * client id this run uses in place of the documented defaults.
 */
function quickStart(clientId) {
  const doc = readFileSync(join(root, "docs/protocol.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Quick start"));
  const html = /```html\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(html?.includes("http://127.0.0.1:8080") && html.includes('client_id: "reelgate-dev-client"'), "docs/protocol.md has the quick start page");
  return html.replaceAll("http://127.0.0.1:8080", base).replace('client_id: "reelgate-dev-client"', `client_id: "${clientId}"`);
}

function startPlayerOrigin(port, clientId) {
  const head = `<!doctype html><meta charset="utf-8"><title>player</title>
<video id="video" muted playsinline loop></video>
<script src="/hls.min.js"></script>`;
  // The quick start of docs/protocol.md: module and hls.js from the stack.
  const player = `<!doctype html><meta charset="utf-8"><title>player</title>
<video id="video" muted playsinline loop></video>
<script src="${base}/vendor/hls.min.js"></script>
<script type="module">
  import { createSession } from "${base}/reelgate-session.js";
  window.session = createSession({ cognito: { endpoint: "${base}/idp/", client_id: "${clientId}" }, edge: "${base}" });
  window.ready = true;
</script>`;
  const hosted = `${head}
<script type="module">
  import { createSession } from "/reelgate-session.js";
  window.session = createSession({
    cognito: { client_id: "${clientId}", hosted_ui: { domain: "${base}/idp", redirect_uri: "${playerOrigin}/" } },
    edge: "${base}",
  });
  window.completed = await window.session.completeHostedUiSignIn().catch((e) => e.reason);
  window.ready = true;
</script>`;
  const files = {
    "/": ["text/html", hosted],
    "/quickstart.html": ["text/html", quickStart(clientId)],
    "/player.html": ["text/html", player],
    "/reelgate-session.js": ["text/javascript", readFileSync(join(root, "web/reelgate-session.js"))],
    "/hls.min.js": ["text/javascript", readFileSync(join(root, "web/vendor/hls.min.js"))],
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    res.writeHead(file ? 200 : 404, { "Content-Type": file ? file[0] : "text/plain" });
    res.end(file ? file[1] : "not found");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

before(async () => {
  const [port, otherPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  playerOrigin = `http://127.0.0.1:${otherPort}`;
  dev = spawn(reelgateBin, ["dev", "--port", String(port), "--cookie-ttl", "10", "--token-ttl", "30", "--cors-origin", playerOrigin],
    { cwd: root, stdio: "ignore" });
  await waitForServer(`${base}/config.json`, dev);
  const config = await (await fetch(`${base}/config.json`)).json();
  playerServer = await startPlayerOrigin(otherPort, config.cognito.client_id);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required"],
  });
});

after(async () => {
  await browser?.close();
  playerServer?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
});

/** Records every response of the page's network log: media (/videos/), sessions, identity provider. */
function networkLog(page) {
  const log = { media: [], sessions: [], idp: [] };
  const t0 = Date.now();
  page.on("response", (r) => {
    const url = new URL(r.url());
    const entry = { path: url.pathname, status: r.status(), at: (Date.now() - t0) / 1000 };
    if (url.pathname.startsWith("/videos/")) log.media.push(entry);
    else if (url.pathname.startsWith("/session/") && r.request().method() === "GET") log.sessions.push(entry);
    else if (url.pathname === "/idp/") log.idp.push({ ...entry, target: r.request().headers()["x-amz-target"] });
  });
  return log;
}

/**
 * Cookies Chromium refused to store or to send, with its reasons, from the
 * DevTools protocol's network events (what chrome://net-internals shows).
 */
async function blockedCookies(context, page) {
  const blocked = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    for (const b of e.blockedCookies ?? []) blocked.push({ set: b.cookie?.name ?? b.cookieLine.split("=")[0], reasons: b.blockedReasons });
  });
  cdp.on("Network.requestWillBeSentExtraInfo", (e) => {
    for (const c of e.associatedCookies ?? []) {
      // A cookie for another title's path is not sent by design.
      const reasons = c.blockedReasons.filter((r) => r !== "NotOnPath" && r !== "DomainMismatch");
      if (reasons.length) blocked.push({ sent: c.cookie.name, reasons });
    }
  });
  return blocked;
}

/** In the page: seconds actually played (across loops) and hls.js stalls. */
function installMonitor(page) {
  return page.addInitScript(() => {
    window.monitor = { played: 0, last: null, stalls: 0, fatal: [] };
    document.addEventListener("timeupdate", (event) => {
      const m = window.monitor;
      const t = event.target.currentTime;
      if (m.last !== null) m.played += t >= m.last ? t - m.last : t;
      m.last = t;
    }, true);
  });
}

/** Counts hls.js stall and fatal errors of the page's current player. */
const watchHls = (page, expression) => page.evaluate((expr) => {
  const hls = eval(expr); // eslint-disable-line no-eval
  hls.on(window.Hls.Events.ERROR, (_e, data) => {
    if (data.details === "bufferStalledError") window.monitor.stalls += 1;
    if (data.fatal) window.monitor.fatal.push(data.details);
  });
}, expression);

async function playFor(page, seconds) {
  await page.waitForFunction((s) => window.monitor.played >= s, seconds, { timeout: (seconds + 40) * 1000, polling: 1000 });
  return page.evaluate(() => ({ ...window.monitor }));
}

async function signInOnDemoPage(page, user) {
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById("demo-users").options.length > 0);
  await page.fill("#username", user);
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#catalogue:not([hidden])");
}

async function playDemoPage(page, log) {
  await signInOnDemoPage(page, "bob");
  await page.locator('#titles li[data-video="demo"] button[data-action="play"]').click();
  await page.waitForFunction(() => window.demo.state.playback?.hls);
  await watchHls(page, "window.demo.state.playback.hls");
  const seen = await playFor(page, PLAY_SECONDS);
  return { seen, refreshes: await page.evaluate(() => window.demo.stats.refreshes) };
}

function assertLongPlayback({ seen, refreshes }, log) {
  const refused = log.media.filter((e) => e.status === 403);
  const segments = log.media.filter((e) => e.path.endsWith(".ts"));
  const late = segments.filter((e) => e.at > log.media[0].at + PLAY_SECONDS - 15);
  const tokenRefreshes = log.idp.filter((e) => e.target.endsWith("InitiateAuth")).length - 1;
  console.log(`observed: played ${seen.played.toFixed(1)} s, ${segments.length} segments, ${log.media.length - segments.length} playlists, ` +
    `${refused.length} refused, ${log.sessions.length} session answers, ${refreshes} cookie refreshes, ${tokenRefreshes} token refreshes, ${seen.stalls} stalls`);
  assert.ok(seen.played >= PLAY_SECONDS, `played ${seen.played}`);
  assert.deepEqual(refused, [], "no playlist or segment is refused");
  assert.equal(seen.stalls, 0, "no stall");
  assert.deepEqual(seen.fatal, [], "no fatal player error");
  assert.ok(segments.length >= PLAY_SECONDS / 2, `segments keep coming: ${segments.length}`);
  assert.ok(late.length > 0, "segments were still fetched in the last 15 s");
  assert.ok(log.sessions.every((e) => e.status === 200), JSON.stringify(log.sessions));
  assert.ok(log.sessions.length >= PLAY_SECONDS / 10, `cookies were refreshed: ${log.sessions.length}`);
  assert.ok(tokenRefreshes >= 2, `access token refreshed: ${tokenRefreshes}`);
}

describe("playback with 10 s cookies and 30 s tokens", { concurrency: true }, () => {
  for (const [name, skewMinutes] of [["true", 0], ["10 minutes fast", 10], ["10 minutes slow", -10]]) {
    test(`demo plays ${PLAY_SECONDS} s without a stall or a 403, page clock ${name}`, async () => {
      const context = await browser.newContext();
      if (skewMinutes) await context.clock.install({ time: Date.now() + skewMinutes * 60_000 });
      const page = await context.newPage();
      await installMonitor(page);
      const log = networkLog(page);
      const result = await playDemoPage(page, log);
      const offset = (await page.evaluate(() => Date.now())) - Date.now();
      assert.ok(Math.abs(offset - skewMinutes * 60_000) < 5_000, `page clock offset ${offset} ms`);
      assertLongPlayback(result, log);
      await context.close();
    });
  }

  test("a player on another origin plays with credentialed CORS, the module's hls.js credentials and SameSite=None cookies", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const blocked = await blockedCookies(context, page);
    await installMonitor(page);
    const log = networkLog(page);
    const cors = [];
    page.on("response", async (r) => {
      // The CORS requests (hls.min.js is a classic script, fetched without CORS).
      if (new URL(r.url()).origin === base && (await r.request().allHeaders()).origin === playerOrigin) {
        const h = await r.allHeaders();
        cors.push({ path: new URL(r.url()).pathname, origin: h["access-control-allow-origin"], credentials: h["access-control-allow-credentials"] });
      }
    });
    await page.goto(`${playerOrigin}/player.html`);
    await page.waitForFunction(() => window.ready);
    await page.evaluate(async () => {
      await window.session.signIn("bob", "demo-password");
      window.playback = await window.session.play(document.getElementById("video"), "demo", { hls: { backBufferLength: 0 } });
    });
    await watchHls(page, "window.playback.hls");
    const seen = await playFor(page, CROSS_ORIGIN_SECONDS);
    assert.deepEqual(blocked, [], "Chromium blocked no cookie");
    const cookies = await context.cookies(`${base}/videos/demo/`);
    assert.deepEqual(cookies.map((c) => [c.sameSite, c.secure, c.httpOnly]), Array(3).fill(["None", true, true]));
    assert.ok(seen.played >= CROSS_ORIGIN_SECONDS && seen.stalls === 0 && seen.fatal.length === 0, JSON.stringify(seen));
    assert.deepEqual(log.media.filter((e) => e.status !== 200 && e.status !== 206), [], "no 403 on playlists or segments");
    assert.ok(log.media.filter((e) => e.path.endsWith(".ts")).length >= CROSS_ORIGIN_SECONDS / 2);
    assert.ok(log.sessions.length >= 3 && log.sessions.every((e) => e.status === 200), JSON.stringify(log.sessions));
    // Every answer from the stack let this origin read it, credentials included.
    assert.ok(cors.length > 0 && cors.every((c) => c.origin === playerOrigin && c.credentials === "true"), JSON.stringify(cors.slice(0, 5)));
    // The module's hls.js settings are what send the cookies: the same
    // segment without credentials is refused, with them it is served.
    const [without, withCredentials] = await page.evaluate(async (url) => [
      (await fetch(url, { cache: "no-store" })).status,
      (await fetch(url, { cache: "no-store", credentials: "include" })).status,
    ], `${base}/videos/demo/seg-001.ts`);
    assert.deepEqual([without, withCredentials], [403, 200]);
    assert.equal(await page.evaluate(() => typeof window.playback.hls.config.xhrSetup), "function");
    await context.close();
  });

  test("the quick start page of docs/protocol.md, copied into a blank page on another origin, plays the title", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await installMonitor(page);
    const log = networkLog(page);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${playerOrigin}/quickstart.html`);
    const seen = await playFor(page, 6);
    assert.deepEqual(errors, []);
    assert.ok(seen.played >= 6, JSON.stringify(seen));
    assert.ok(log.sessions.length >= 1 && log.sessions.every((e) => e.status === 200), JSON.stringify(log.sessions));
    assert.deepEqual(log.media.filter((e) => e.status !== 200 && e.status !== 206), [], "no 403 on playlists or segments");
    await context.close();
  });

  test("Hosted UI sign-in (authorization code + PKCE) from another origin, then playback with the refresh_token grant", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await installMonitor(page);
    const log = networkLog(page);
    const tokenRequests = [];
    page.on("request", (r) => {
      if (r.url() === `${base}/idp/oauth2/token` && r.method() === "POST") tokenRequests.push(Object.fromEntries(new URLSearchParams(r.postData())));
    });
    await page.goto(`${playerOrigin}/`);
    await page.waitForFunction(() => window.ready);
    assert.equal(await page.evaluate(() => window.completed), false, "no answer in the URL yet");
    await Promise.all([page.waitForURL(`${base}/idp/oauth2/authorize?**`), page.evaluate(() => window.session.signInWithHostedUi())]);
    const authorize = new URL(page.url()).searchParams;
    assert.equal(authorize.get("code_challenge_method"), "S256");
    assert.equal(authorize.get("redirect_uri"), `${playerOrigin}/`);
    await page.fill("input[name=username]", "bob");
    await page.fill("input[name=password]", "wrong-password");
    await page.click("button[type=submit]");
    await page.waitForSelector("[role=alert]");
    await page.fill("input[name=username]", "bob");
    await page.fill("input[name=password]", "demo-password");
    await Promise.all([page.waitForURL(`${playerOrigin}/?code=**`), page.click("button[type=submit]")]);
    await page.waitForFunction(() => window.ready);
    assert.equal(await page.evaluate(() => window.completed), true);
    assert.equal(await page.evaluate(() => window.session.signedIn), true);
    const exchange = tokenRequests[0];
    assert.equal(exchange.grant_type, "authorization_code");
    // The code works once: the very same exchange again is refused.
    const replay = await fetch(`${base}/idp/oauth2/token`, { method: "POST", body: new URLSearchParams(exchange) });
    assert.equal(replay.status, 400);
    assert.deepEqual(await replay.json(), { error: "invalid_grant" });

    await page.evaluate(async () => {
      window.playback = await window.session.play(document.getElementById("video"), "demo", { hls: { backBufferLength: 0 } });
    });
    await watchHls(page, "window.playback.hls");
    const seen = await playFor(page, CROSS_ORIGIN_SECONDS);
    assert.ok(seen.stalls === 0 && seen.fatal.length === 0, JSON.stringify(seen));
    assert.deepEqual(log.media.filter((e) => e.status !== 200 && e.status !== 206), []);
    assert.ok(tokenRequests.some((t) => t.grant_type === "refresh_token"), "the 30 s access token was refreshed with the refresh_token grant");
    await page.evaluate(() => window.session.signOut());
    const refresh = tokenRequests.find((t) => t.grant_type === "refresh_token");
    const afterSignOut = await fetch(`${base}/idp/oauth2/token`, { method: "POST", body: new URLSearchParams(refresh) });
    assert.deepEqual([afterSignOut.status, await afterSignOut.json()], [400, { error: "invalid_grant" }], "sign-out revoked the refresh token");
    await context.close();
  });

  test("a native player's flow without a browser: ?redirect=1 answers 302 with the cookies, and a cookie jar plays", async () => {
    const config = await (await fetch(`${base}/config.json`)).json();
    const signIn = await fetch(`${base}/idp/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: config.cognito.client_id, AuthParameters: { USERNAME: "bob", PASSWORD: "demo-password" } }),
    });
    const token = (await signIn.json()).AuthenticationResult.AccessToken;
    const redirect = await fetch(`${base}/session/videos/demo?redirect=1`, { headers: { Authorization: `Bearer ${token}` }, redirect: "manual" });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/videos/demo/master.m3u8");
    const jar = redirect.headers.getSetCookie().map((c) => c.split(";")[0]);
    assert.deepEqual(jar.map((c) => c.split("=")[0]).sort(), ["CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature"]);
    const playlist = new URL(redirect.headers.get("location"), base);
    assert.equal((await fetch(playlist, { headers: { Cookie: jar.join("; ") } })).status, 200);
    assert.equal((await fetch(playlist)).status, 403, "without the jar");
    const noToken = await fetch(`${base}/session/videos/demo?redirect=1`, { redirect: "manual" });
    assert.equal(noToken.status, 401, "the token is read from the Authorization header only");
  });

  test("sign-out expires the cookies and revokes the refresh token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await installMonitor(page);
    let refreshToken;
    page.on("response", async (r) => {
      if (r.url().endsWith("/idp/") && r.request().postData()?.includes("USER_PASSWORD_AUTH")) {
        refreshToken = (await r.json()).AuthenticationResult.RefreshToken;
      }
    });
    await signInOnDemoPage(page, "bob");
    await page.locator('#titles li[data-video="demo"] button[data-action="play"]').click();
    await page.waitForFunction(() => window.monitor.played > 1);
    assert.equal(await page.evaluate(() => fetch("/videos/demo/seg-001.ts", { cache: "no-store" }).then((r) => r.status)), 200);
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in:not([hidden])");
    assert.equal(await page.evaluate(() => fetch("/videos/demo/seg-001.ts", { cache: "no-store" }).then((r) => r.status)), 403);
    const config = await (await fetch(`${base}/config.json`)).json();
    const refresh = await fetch(`${base}/idp/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: config.cognito.client_id, AuthParameters: { REFRESH_TOKEN: refreshToken } }),
    });
    assert.equal(refresh.status, 400);
    assert.equal((await refresh.json()).__type, "NotAuthorizedException");
    await context.close();
  });
});
