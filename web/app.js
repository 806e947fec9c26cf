// reelgate demo page: a small video app on top of reelgate-session.js.
//
// Everything about sessions lives in the module (sign-in, token refresh,
// cookies for a title, refreshing them while it plays, sign-out); this file
// is the page around it. Settings come from config.json beside index.html,
// so the same page runs in the local stack and deployed. The payment
// simulator exists only where the config names it (`dev.payments`).
import { createSession } from "./reelgate-session.js";

const $ = (id) => document.getElementById(id);
const state = { config: null, session: null, username: null, playback: null };

// Exposed for the browser tests and for poking around in devtools.
window.demo = { stats: { manifests: 0, fragments: 0, refreshes: 0, errors: [] }, state };

function say(text, kind = "") {
  $("message").textContent = text;
  $("message").className = kind;
}

const MESSAGES = {
  not_authorized: "Wrong user name or password.",
  not_entitled: "You don't have access to this title. Buy it or upgrade to Premium to watch.",
  not_available: "This title is not available right now.",
  not_in_tier: "Your plan doesn't include this title. Buy it or upgrade your plan to watch.",
  title_not_found: "This title is not in the catalogue.",
  device_limit: "Too many devices are watching on this account. Stop one and try again.",
  session_expired: "Your sign-in has expired. Please sign in again.",
  unauthorized: "Your sign-in has expired. Please sign in again.",
  unavailable: "We can't check your access right now. Please try again in a moment.",
  network: "The network is unreachable. Playback resumes when it is back.",
  playback_failed: "Playback stopped. Press Play to try again.",
};
const explain = (error) => MESSAGES[error.reason] ?? error.message;

const apiUrl = (path) => new URL(path, state.config.api || location.origin).href;

async function api(path, init = {}) {
  const token = await state.session.accessToken();
  const response = await fetch(apiUrl(path), { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

// What the viewer may watch, as the edge decides it (docs/catalogue.md): a
// free title, a title in the active plan's tier (a premium group member
// watches everything), a grant; else nothing.
function accessTo(entitlements, title) {
  if (title.free) return "Free";
  const plan = entitlements.plan?.active ? entitlements.plan : null;
  const tiers = title.tiers ?? [];
  if (plan && tiers.includes(plan.tier)) return `Included with your ${plan.tier} plan`;
  if (entitlements.premium && !plan) return "Included with Premium";
  const grant = (entitlements.grants || []).find((g) => g.video_id === title.id && g.active);
  if (!grant) return null;
  return grant.expires_at ? `Rented until ${new Date(grant.expires_at * 1000).toLocaleString()}` : "Owned";
}

// How a title is offered: free, in plan tiers only, or for sale.
function offer(title) {
  if (title.free) return "free";
  if (title.price == null && title.rental_price == null) return "tier";
  return "paid";
}

function offerLabel(title) {
  const money = (minor) => `${(minor / 100).toFixed(2)} ${(title.currency ?? "").toUpperCase()}`;
  switch (offer(title)) {
    case "free": return "Free for everyone signed in";
    case "tier": return `${(title.tiers ?? []).join(", ")} plan only`;
    default: return [title.price != null && `Buy ${money(title.price)}`, title.rental_price != null && `Rent ${money(title.rental_price)}`].filter(Boolean).join(" · ");
  }
}

async function titles() {
  if (state.config.titles) return state.config.titles;
  return (await (await fetch(apiUrl("/api/titles"))).json()).titles;
}

async function renderCatalogue() {
  const entitlements = await (await api("/api/me/entitlements")).json();
  $("plan").textContent = entitlements.premium ? "Premium" : "";
  const list = $("titles");
  list.replaceChildren();
  for (const title of await titles()) {
    const access = accessTo(entitlements, title);
    const item = document.createElement("li");
    item.dataset.video = title.id;
    item.dataset.offer = offer(title);
    item.innerHTML = `<span class="name"></span><span class="offer"></span><span class="access"></span>`;
    item.querySelector(".name").textContent = title.name;
    item.querySelector(".offer").textContent = offerLabel(title);
    item.querySelector(".access").textContent = access || (offer(title) === "tier" ? "Not in your plan" : "Not owned");
    item.append(button("Play", () => play(title)));
    if (!access && offer(title) === "paid" && state.config.dev?.payments) item.append(button("Buy", () => buy(title), "secondary"));
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

function showTimes(info) {
  $("session-info").textContent = `Cookies valid for ${Math.round(info.expiresIn)} s, refreshing in ${Math.round(info.refreshIn)} s.`;
}

async function play(title) {
  await stopPlayback();
  const video = $("video");
  video.loop = Boolean(state.config.player?.loop);
  let playback;
  try {
    playback = await state.session.play(video, title.id, { hls: state.config.player?.hls });
  } catch (error) {
    say(explain(error), "error");
    return;
  }
  state.playback = playback;
  if (playback.hls) {
    const Hls = window.Hls;
    playback.hls.on(Hls.Events.MANIFEST_LOADED, () => window.demo.stats.manifests++);
    playback.hls.on(Hls.Events.FRAG_LOADED, () => window.demo.stats.fragments++);
  }
  playback.addEventListener("refresh", (event) => {
    window.demo.stats.refreshes++;
    showTimes(event.detail);
  });
  playback.addEventListener("error", (event) => {
    window.demo.stats.errors.push(event.detail.reason);
    say(explain(event.detail), "error");
  });
  playback.addEventListener("recovered", () => say(`Playing ${title.name}.`, "ok"));
  $("player").hidden = false;
  $("now-playing").textContent = title.name;
  showTimes(playback.current);
  say(`Playing ${title.name}.`, "ok");
}

async function stopPlayback() {
  const playback = state.playback;
  state.playback = null;
  await playback?.stop().catch(() => {});
}

// The local Stripe simulator creates a Checkout session and, once "paid",
// sends Stripe's signed checkout.session.completed to the API (local stack only).
async function buy(title) {
  say(`Buying ${title.name}…`);
  try {
    await api(state.config.dev.stripe_checkout, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ video_id: title.id, kind: "purchase" }),
    });
  } catch (error) {
    return say(`Payment failed (${error.message}).`, "error");
  }
  // Read your purchase: wait until the home region has the grant, then get a
  // token whose claims carry it, so the edge never depends on replica lag.
  for (let attempt = 0; attempt < 20; attempt++) {
    if (accessTo(await (await api("/api/me/entitlements")).json(), title)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await state.session.refreshTokens();
  await renderCatalogue();
  say(`You bought ${title.name}. Enjoy!`, "ok");
}

function showSignedIn() {
  $("who").textContent = state.username;
  $("sign-in").hidden = true;
  $("account").hidden = $("catalogue").hidden = false;
}

function showSignedOut() {
  state.playback = null;
  $("account").hidden = $("catalogue").hidden = $("player").hidden = true;
  $("sign-in").hidden = false;
}

async function signIn(event) {
  event.preventDefault();
  try {
    const result = await state.session.signIn($("username").value, $("password").value);
    if (result.status === "challenge") {
      // A production pool may ask for a new password or an MFA code; this
      // demo only names the step (the module's `respond` answers it).
      return say(`Your account needs one more step (${result.name}); finish it in the Hosted UI.`, "error");
    }
    state.username = $("username").value;
    showSignedIn();
    await renderCatalogue();
    say("");
  } catch (error) {
    say(explain(error), "error");
  }
}

async function signOut() {
  try {
    await state.session.signOut();
    say("Signed out.");
  } catch (error) {
    say(`Signed out here, but the sign-in could not be revoked: ${explain(error)}`, "error");
  }
  showSignedOut();
}

async function main() {
  state.config = await (await fetch("config.json", { cache: "no-cache" })).json();
  state.session = createSession(state.config);
  state.session.addEventListener("error", (event) => {
    if (event.detail.reason === "session_expired") showSignedOut();
    say(explain(event.detail), "error");
  });
  const users = state.config.dev?.users ?? [];
  $("demo-users").replaceChildren(...users.map((u) => Object.assign(document.createElement("option"), { value: u.username, label: `${u.username} (${u.access})` })));
  if (users.length) $("username").value = users[0].username;
  if (state.config.dev?.password) $("password").value = state.config.dev.password;
  if (state.config.cognito.hosted_ui) {
    $("hosted-ui").hidden = false;
    $("hosted-ui").addEventListener("click", () => state.session.signInWithHostedUi());
    if (await state.session.completeHostedUiSignIn()) {
      history.replaceState(null, "", location.pathname);
      state.username = "you";
      showSignedIn();
      await renderCatalogue();
    }
  }
  $("sign-in").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
}

main().catch((error) => say(`Could not start: ${error.message}`, "error"));
