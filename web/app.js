// reelgate reference client.
//
// The whole viewer flow in one file, meant to be read by integrators:
//   1. sign in with Cognito's InitiateAuth JSON protocol (the local stack's
//      identity provider speaks the same protocol at /idp/);
//   2. ask the edge for a session: GET /session/videos/{id} with the access
//      token. The answer sets three CloudFront signed cookies scoped to
//      /videos/{id}/, so every playlist and segment request below is checked
//      by CloudFront itself and never reaches a function;
//   3. play /videos/{id}/master.m3u8 with hls.js and re-ask for a session at
//      `refresh_after`, before the cookies expire;
//   4. on sign-out, expire each played title's cookies (DELETE /session/…).
// Everything is same-origin, so cookies are first-party and no CORS is needed.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { config: null, tokens: null, username: null, playing: null, refreshTimer: null, played: new Set() };

// Exposed for the browser test and for poking around in devtools.
window.demo = { hls: null, stats: { manifests: 0, fragments: 0 }, state };

function say(text, kind = "") {
  $("message").textContent = text;
  $("message").className = kind;
}

// --- 1. Cognito sign-in (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH) ---------
async function initiateAuth(flow, parameters) {
  const response = await fetch("/idp/", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({ AuthFlow: flow, ClientId: state.config.client_id, AuthParameters: parameters }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || body.__type || "sign-in failed");
  return body.AuthenticationResult;
}

async function signIn(username, password) {
  const result = await initiateAuth("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
  state.tokens = { access: result.AccessToken, refresh: result.RefreshToken };
  state.username = username;
}

// A fresh access token carries fresh entitlement claims (the pre-token
// trigger runs again), which is how a purchase shows up at the edge at once.
async function refreshTokens() {
  const result = await initiateAuth("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: state.tokens.refresh });
  state.tokens.access = result.AccessToken;
}

const bearer = () => ({ Authorization: `Bearer ${state.tokens.access}` });

// --- catalogue: what the caller owns, from the regional API --------------
async function loadEntitlements() {
  const response = await fetch("/api/me/entitlements", { headers: bearer() });
  if (!response.ok) throw new Error(`entitlements: HTTP ${response.status}`);
  return response.json();
}

function accessTo(entitlements, videoId) {
  if (entitlements.premium) return "Included with Premium";
  const grant = (entitlements.grants || []).find((g) => g.video_id === videoId && g.active);
  if (!grant) return null;
  return grant.expires_at ? `Rented until ${new Date(grant.expires_at * 1000).toLocaleString()}` : "Owned";
}

async function renderCatalogue() {
  const entitlements = await loadEntitlements();
  $("plan").textContent = entitlements.premium ? "Premium" : "";
  const list = $("titles");
  list.replaceChildren();
  for (const title of state.config.titles) {
    const access = accessTo(entitlements, title.id);
    const item = document.createElement("li");
    item.dataset.video = title.id;
    item.innerHTML = `<span class="name"></span><span class="access"></span>`;
    item.querySelector(".name").textContent = title.name;
    item.querySelector(".access").textContent = access || "Not owned";
    item.append(button("Play", () => play(title)));
    if (!access) item.append(button("Buy", () => buy(title), "secondary"));
    list.append(item);
  }
}

function button(label, onClick, className = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.dataset.action = label.toLowerCase();
  b.addEventListener("click", onClick);
  return b;
}

// --- 2. the edge session: signed cookies for one title --------------------
const SESSION_ERRORS = {
  400: "That title id is not valid.",
  401: "Your sign-in has expired. Please sign in again.",
  403: "You don't have access to this title. Buy it or upgrade to Premium to watch.",
  503: "We can't check your access right now. Please try again in a moment.",
};

async function openSession(videoId) {
  const response = await fetch(`/session/videos/${encodeURIComponent(videoId)}`, { headers: bearer() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(SESSION_ERRORS[response.status] || `Session failed (HTTP ${response.status}).`);
    error.status = response.status;
    error.reason = body.error;
    throw error;
  }
  state.played.add(videoId);
  return body; // { video_id, expires_at, refresh_after, playlist }
}

// --- 3. playback, with cookie refresh before expiry -----------------------
async function play(title) {
  stopPlayback();
  let session;
  try {
    session = await openSession(title.id);
  } catch (error) {
    if (error.status === 401 && state.tokens.refresh) {
      await refreshTokens();
      return play(title);
    }
    say(error.message, "error");
    return;
  }
  $("player").hidden = false;
  $("now-playing").textContent = title.name;
  state.playing = title.id;
  attach(session.playlist);
  scheduleRefresh(title.id, session);
  say(`Playing ${title.name}.`, "ok");
}

function attach(playlist) {
  const video = $("video");
  if (window.Hls && Hls.isSupported()) {
    const hls = new Hls();
    window.demo.hls = hls;
    hls.on(Hls.Events.MANIFEST_LOADED, () => window.demo.stats.manifests++);
    hls.on(Hls.Events.FRAG_LOADED, () => window.demo.stats.fragments++);
    hls.on(Hls.Events.ERROR, (_event, data) => {
      // A 403 here means CloudFront refused the cookies (expired or wrong title).
      if (data.fatal) say(`Playback stopped: ${data.response?.code === 403 ? "access denied by CloudFront" : data.details}`, "error");
    });
    hls.loadSource(playlist);
    hls.attachMedia(video);
  } else {
    video.src = playlist; // Safari and iOS play HLS natively.
  }
  video.play().catch(() => say("Press play to start.", ""));
}

function scheduleRefresh(videoId, session) {
  const delayMs = Math.max(1000, session.refresh_after * 1000 - Date.now());
  $("session-info").textContent =
    `Cookies valid until ${new Date(session.expires_at * 1000).toLocaleTimeString()}, refreshing at ${new Date(session.refresh_after * 1000).toLocaleTimeString()}.`;
  state.refreshTimer = setTimeout(async () => {
    try {
      scheduleRefresh(videoId, await openSession(videoId));
    } catch (error) {
      say(error.message, "error");
    }
  }, delayMs);
}

function stopPlayback() {
  clearTimeout(state.refreshTimer);
  if (window.demo.hls) window.demo.hls.destroy();
  window.demo.hls = null;
  state.playing = null;
}

// --- buying: the simulated payment provider posts a signed webhook --------
async function buy(title) {
  say(`Buying ${title.name}…`);
  const response = await fetch("/dev/pay", {
    method: "POST",
    headers: { ...bearer(), "Content-Type": "application/json" },
    body: JSON.stringify({ video_id: title.id, type: "purchase.succeeded" }),
  });
  if (!response.ok) return say(`Payment failed (HTTP ${response.status}).`, "error");
  // Read your purchase: wait until the home region has the grant, then get a
  // token whose claims carry it, so the edge never depends on replica lag.
  for (let attempt = 0; attempt < 20; attempt++) {
    if (accessTo(await loadEntitlements(), title.id)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await refreshTokens();
  await renderCatalogue();
  say(`You bought ${title.name}. Enjoy!`, "ok");
}

// --- 4. sign-out: expire every played title's cookies ----------------------
async function signOut() {
  stopPlayback();
  const headers = bearer();
  await Promise.all([...state.played].map((id) => fetch(`/session/videos/${encodeURIComponent(id)}`, { method: "DELETE", headers })));
  Object.assign(state, { tokens: null, username: null, played: new Set() });
  $("account").hidden = $("catalogue").hidden = $("player").hidden = true;
  $("sign-in").hidden = false;
  say("Signed out.");
}

async function main() {
  state.config = await (await fetch("/dev/config")).json();
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn($("username").value, $("password").value);
      $("who").textContent = state.username;
      $("sign-in").hidden = true;
      $("account").hidden = $("catalogue").hidden = false;
      await renderCatalogue();
      say("");
    } catch (error) {
      say(error.message, "error");
    }
  });
  $("sign-out").addEventListener("click", signOut);
}

main().catch((error) => say(`Could not start: ${error.message}`, "error"));
