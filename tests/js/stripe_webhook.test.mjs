// Stripe's own library against reelgate's Stripe webhook, over HTTP on
// `reelgate dev`: an event signed by `stripe.webhooks.generateTestHeaderString`
// (the official `stripe` package, pinned) is accepted and grants once; the
// same body under a wrong secret or a stale timestamp is refused with a 400
// problem and grants nothing. (tests/tests/stripe_differential.rs checks the
// other direction: reelgate's signatures pass `stripe.webhooks.constructEvent`.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import Stripe from "stripe";

import { freePort, reelgateBin, root } from "./helpers.mjs";

const stripe = new Stripe("sk_test_reelgate_never_used");
let dev;
let base;
let config;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(reelgateBin, ["dev", "--port", String(port)], { cwd: root, stdio: "ignore" });
  for (let i = 0; i < 300; i += 1) {
    if (dev.exitCode !== null) throw new Error(`reelgate dev exited with ${dev.exitCode}`);
    try {
      const response = await fetch(`${base}/dev/config`);
      if (response.ok) {
        config = await response.json();
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("reelgate dev did not start");
});

after(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
});

async function signIn(user) {
  const response = await fetch(`${base}/idp/`, {
    method: "POST",
    headers: { "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth", "Content-Type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: config.client_id, AuthParameters: { USERNAME: user, PASSWORD: "demo-password" } }),
  });
  return (await response.json()).AuthenticationResult.AccessToken;
}

const subOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;

// A checkout.session.completed event as Stripe's API reference shows it.
function checkoutCompleted(id, sub, videoId) {
  return JSON.stringify({
    id, object: "event", api_version: "2025-03-31.basil", created: Math.floor(Date.now() / 1000),
    livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null },
    type: "checkout.session.completed",
    data: {
      object: {
        id: "cs_test_node1", object: "checkout.session", mode: "payment", status: "complete",
        payment_status: "paid", amount_total: 499, currency: "usd", client_reference_id: sub,
        payment_intent: "pi_node_test_1", metadata: { video_id: videoId, kind: "purchase" },
      },
    },
  });
}

const deliver = (payload, header) => fetch(`${base}/api/webhooks/stripe`, {
  method: "POST",
  headers: { "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header },
  body: payload,
});

test("GET /dev/config names the Stripe endpoint secret", () => {
  assert.match(config.stripe_webhook_secret, /^whsec_/);
});

test("an event signed by Stripe's library grants once; bad signatures grant nothing", async () => {
  const token = await signIn("carol");
  const payload = checkoutCompleted("evt_node_stripe_1", subOf(token), "demo");
  const secret = config.stripe_webhook_secret;

  for (const header of [
    stripe.webhooks.generateTestHeaderString({ payload, secret: "whsec_wrong" }),
    stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 400 }),
  ]) {
    const refused = await deliver(payload, header);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.match((await refused.json()).reason, /^signature_(invalid|expired)$/);
  }
  // Asked of the API, not the edge: the edge would cache the refusal.
  const before = await (await fetch(`${base}/api/me/entitlements`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(before.grants.filter((g) => g.video_id === "demo"), [], "the refused deliveries granted nothing");

  const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
  // Stripe's own verifier agrees the header is good before reelgate sees it.
  assert.equal(stripe.webhooks.constructEvent(payload, header, secret).id, "evt_node_stripe_1");
  const applied = await deliver(payload, header);
  assert.equal(applied.status, 200);
  assert.deepEqual(await applied.json(), { status: "applied", event_id: "evt_node_stripe_1" });
  const again = await deliver(payload, stripe.webhooks.generateTestHeaderString({ payload, secret }));
  assert.deepEqual(await again.json(), { status: "duplicate", event_id: "evt_node_stripe_1" });

  const entitlements = await (await fetch(`${base}/api/me/entitlements`, { headers: { Authorization: `Bearer ${token}` } })).json();
  const demo = entitlements.grants.filter((g) => g.video_id === "demo");
  assert.equal(demo.length, 1);
  assert.equal(demo[0].active, true);
  assert.equal(demo[0].source, "purchase");
  // A token issued after the payment carries the purchase in its claims.
  const session = await fetch(`${base}/session/videos/demo`, { headers: { Authorization: `Bearer ${await signIn("carol")}` } });
  assert.equal(session.status, 200, "cookies for the bought title");
});
