// The network hint in the real bundle's log lines (docs/operations.md,
// "Sharing signals"): real Lambda@Edge viewer-request events from IPv4,
// IPv6 and IPv4-mapped addresses; the hint checked against node:crypto's
// HMAC-SHA256 (an implementation independent of the Rust core), and the
// address absent from every line. Run by scripts/test after scripts/build-edge.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";

import { bearer, captureLogs, config, event, loadBundle, token } from "./helpers.mjs";

const KEY = "9b1f6c2e8d4a7f3b5e0c1d9a8b7c6e5f";
const loaded = [];
after(() => loaded.forEach((b) => b.cleanup()));
async function bundle(cfg) {
  const b = await loadBundle(cfg);
  loaded.push(b);
  return b.handler;
}

/// The documented hint: `<key id>:` and the first 8 bytes of
/// HMAC-SHA256(key, [4, a, b, c]) or HMAC-SHA256(key, [6, first 6 bytes]).
function expectedHint(keyId, message) {
  return `${keyId}:${createHmac("sha256", KEY).update(Buffer.from(message)).digest("hex").slice(0, 16)}`;
}

const owns = { "reelgate:ent": "v=1;g=demo;c=1" };

test("each decision line carries the keyed hint of the viewer's /24 or /48 and never the address", async () => {
  const handler = await bundle(config({ network_hint: { key_id: "2026-12", key: KEY } }));
  const cases = [
    ["203.0.113.9", [4, 203, 0, 113]],
    ["203.0.113.250", [4, 203, 0, 113]],
    ["::ffff:203.0.113.7", [4, 203, 0, 113]],
    ["2001:db8:12:34::99", [6, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x12]],
  ];
  const { lines } = await captureLogs(async () => {
    for (const [clientIp] of cases) {
      // A fresh token each time: no host replay, every line from the core.
      const response = await handler(event({ headers: bearer(token({ ...owns, jti: clientIp })), clientIp }));
      assert.equal(response.status, "200");
    }
    // A refusal is hinted too.
    await handler(event({ headers: bearer(token({ "reelgate:ent": "v=1;g=;c=1" })), clientIp: "198.51.100.4" }));
  });
  assert.equal(lines.length, cases.length + 1);
  cases.forEach(([clientIp, message], i) => {
    const line = JSON.parse(lines[i]);
    assert.equal(line.network, expectedHint("2026-12", message), clientIp);
    assert.ok(!lines[i].includes(clientIp), `address in ${lines[i]}`);
    assert.ok(!lines[i].includes("203.0.113") && !lines[i].includes("2001:db8"), lines[i]);
  });
  const refused = JSON.parse(lines[cases.length]);
  assert.equal(refused.status, 403);
  assert.equal(refused.network, expectedHint("2026-12", [4, 198, 51, 100]));
  assert.ok(!lines[cases.length].includes("198.51.100"));
});

test("a malformed clientIp gets a reason instead of a hint, the request is still decided, and the value is not logged", async () => {
  const handler = await bundle(config({ network_hint: { key_id: "k1", key: KEY } }));
  const bad = "203.0.113.999";
  const { result, lines } = await captureLogs(() => handler(event({ headers: bearer(token(owns)), clientIp: bad })));
  assert.equal(result.status, "200");
  const line = JSON.parse(lines[0]);
  assert.equal(line.network, undefined);
  assert.equal(line.network_missing, "malformed_client_ip");
  assert.ok(!lines[0].includes(bad), lines[0]);
});

test("a new key id and key change every hint; without a key there is none", async () => {
  const first = await bundle(config({ network_hint: { key_id: "k1", key: KEY } }));
  const rotated = await bundle(config({ network_hint: { key_id: "k2", key: "f".repeat(32) } }));
  const none = await bundle(config());
  const { lines } = await captureLogs(async () => {
    for (const handler of [first, rotated, none]) await handler(event({ headers: bearer(token(owns)) }));
  });
  const [a, b, c] = lines.map((l) => JSON.parse(l));
  assert.ok(a.network.startsWith("k1:") && b.network.startsWith("k2:"));
  assert.notEqual(a.network.split(":")[1], b.network.split(":")[1]);
  assert.equal(c.network, undefined);
  assert.equal(c.network_missing, undefined);
});
