// Concurrent-device limits (ARCHITECTURE §12 "Devices", docs/devices.md)
// through the real Lambda@Edge bundle in Node, its lease reads and
// conditional writes executed by DynamoDB Local behind a loopback proxy that
// counts them (and fails chosen operations). Each `loadBundle` is a new
// Lambda container: what one container remembers, another learns only from
// the store. Run by scripts/test after scripts/build-edge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";

import { bearer, captureLogs, config, cookiesOf, event, loadBundle, startDynamoDbLocal, startDynamoProxy, token } from "./helpers.mjs";

const loaded = [];
async function container() {
  const b = await loadBundle(config());
  loaded.push(b);
  return b.handler;
}

let ddb;
let proxy;
let client;
const quiet = console.log;
before(async () => {
  // The bundle's log lines (checked where it matters, with captureLogs) stay out of the report.
  console.log = () => {};
  ddb = await startDynamoDbLocal();
  proxy = await startDynamoProxy(ddb.endpoint);
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
  client = new DynamoDBClient({ region: "us-east-1", endpoint: ddb.endpoint });
  await client.send(new CreateTableCommand({
    TableName: "reelgate", BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
  }));
});
after(async () => {
  console.log = quiet;
  loaded.forEach((b) => b.cleanup());
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await proxy?.stop();
  await ddb?.stop();
});

const json = (response) => JSON.parse(response.body);
const nowS = () => Math.floor(Date.now() / 1000);
let viewers = 0;
/// A viewer of their own (tests share the table), on a plan of `limit` devices.
function viewer(limit = 2) {
  viewers += 1;
  const sub = `limited-${viewers}-${process.pid}`;
  const ent = `v=1;p=${nowS() + 86_400};d=${limit};g=;c=1`;
  /// An access token of the sign-in `origin`; each call is a new token (a refresh keeps `origin_jti`).
  const signIn = (origin) => token({ sub, origin_jti: origin, jti: `jti-${Math.random().toString(36).slice(2)}`, "reelgate:ent": ent });
  return { sub, signIn };
}
const play = (handler, tok, querystring = "") => handler(event({ headers: bearer(tok), querystring }));
const stop = (handler, tok, querystring = "") => handler(event({ method: "DELETE", headers: tok ? bearer(tok) : {}, querystring }));

/// The viewer's lease items as DynamoDB Local holds them, read past the proxy.
async function slots(sub) {
  const out = await client.send(new QueryCommand({
    TableName: "reelgate", ConsistentRead: true, KeyConditionExpression: "PK = :pk",
    ExpressionAttributeValues: { ":pk": { S: `DEVICES#${sub}` } },
  }));
  return (out.Items ?? []).map((i) => ({ slot: i.SK.S, device: i.device.S, expires_at: Number(i.expires_at.N) }));
}
const devices = async (sub) => (await slots(sub)).map((s) => s.device).sort();
/// Waits, if need be, for the start of a cookie bucket (ttl 300 s: buckets of 30 s, each
/// starting at a second ≡ 1 mod 30) so the next few seconds' requests share one bucket.
async function startOfBucket() {
  const seconds = Date.now() / 1000;
  const into = (Math.floor(seconds) - 1 + 30) % 30;
  if (into >= 20) await new Promise((r) => setTimeout(r, (30 - into - (seconds % 1)) * 1000 + 50));
}
const writes = () => proxy.count("PutItem") + proxy.count("DeleteItem");
const reads = () => proxy.count("Query");

describe("a plan of two devices", () => {
  test("a third device is refused 403 device_limit with counts only, in every container", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    for (const origin of ["origin-phone", "origin-tv"]) {
      const ok = await play(handler, signIn(origin));
      assert.equal(ok.status, "200", ok.body);
      assert.equal(cookiesOf(ok).length, 3);
    }
    const { result: third, lines } = await captureLogs(() => play(handler, signIn("origin-laptop")));
    assert.equal(third.status, "403");
    assert.deepEqual(json(third), { error: "device_limit", active: 2, max_devices: 2 });
    assert.equal(cookiesOf(third).length, 0);
    assert.equal(third.headers["cache-control"][0].value, "no-store");
    for (const secret of ["origin-phone", "origin-tv", "origin-laptop", sub]) {
      assert.ok(!third.body.includes(secret), `the refusal names ${secret}`);
    }
    assert.equal(JSON.parse(lines[0]).reason, "device_limit");
    for (const origin of ["origin-phone", "origin-tv", "origin-laptop"]) assert.ok(!lines[0].includes(origin), "the log names a device");
    // The count lives in the store: a cold container refuses the laptop too, and wrote nothing for it.
    const before = writes();
    const cold = await play(await container(), signIn("origin-laptop"));
    assert.deepEqual([cold.status, json(cold)], ["403", { error: "device_limit", active: 2, max_devices: 2 }]);
    assert.equal(writes(), before, "a full plan is refused from the read alone");
    assert.deepEqual(await devices(sub), ["origin-phone", "origin-tv"]);
  });

  test("a refreshed token (same origin_jti) keeps its device's slot, in the same container and a cold one", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    await startOfBucket();
    assert.equal((await play(handler, signIn("origin-phone"))).status, "200");
    assert.equal((await play(handler, signIn("origin-tv"))).status, "200");
    const held = await slots(sub);
    // Same container, same cookie bucket: the lease is remembered, nothing is read or written.
    const [w, r] = [writes(), reads()];
    assert.equal((await play(handler, signIn("origin-phone"))).status, "200");
    assert.deepEqual([writes() - w, reads() - r], [0, 0]);
    // A cold container reads the slots and renews the phone's own: still two devices, same slots.
    const renewed = await play(await container(), signIn("origin-phone"));
    assert.equal(renewed.status, "200", renewed.body);
    const after = await slots(sub);
    assert.deepEqual(after.map((s) => [s.slot, s.device]), held.map((s) => [s.slot, s.device]));
    const phone = (list) => list.find((s) => s.device === "origin-phone").expires_at;
    assert.ok(phone(after) >= phone(held));
    assert.equal((await play(handler, signIn("origin-laptop"))).status, "403");
  });

  test("?stream= counts a second player of one sign-in as a second device", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    assert.equal((await play(handler, signIn("origin-phone"))).status, "200");
    assert.equal((await play(handler, signIn("origin-phone"), "stream=tab-aaaa1111")).status, "200");
    const third = await play(handler, signIn("origin-phone"), "stream=tab-bbbb2222");
    assert.deepEqual([third.status, json(third)], ["403", { error: "device_limit", active: 2, max_devices: 2 }]);
    // The first stream again is its own device, still admitted.
    assert.equal((await play(await container(), signIn("origin-phone"), "stream=tab-aaaa1111")).status, "200");
    assert.deepEqual(await devices(sub), ["origin-phone", "origin-phone/tab-aaaa1111"]);
  });

  test("DELETE with the token releases that device's slot at once; without one the slot stays", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    for (const origin of ["origin-phone", "origin-tv"]) assert.equal((await play(handler, signIn(origin))).status, "200");
    const anonymous = await stop(handler, null);
    assert.equal(anonymous.status, "204");
    assert.deepEqual(await devices(sub), ["origin-phone", "origin-tv"]);
    const logout = await stop(handler, signIn("origin-tv"));
    assert.equal(logout.status, "204");
    for (const cookie of cookiesOf(logout)) assert.match(cookie, /Max-Age=0/);
    assert.deepEqual(await devices(sub), ["origin-phone"]);
    assert.equal((await play(await container(), signIn("origin-laptop"))).status, "200");
    assert.deepEqual(await devices(sub), ["origin-laptop", "origin-phone"]);
    // The tv stopped; it is a new device now, and the plan is full again.
    const tv = await play(handler, signIn("origin-tv"));
    assert.deepEqual([tv.status, json(tv).error], ["403", "device_limit"]);
    // A stream's DELETE releases that stream only.
    const streams = viewer();
    assert.equal((await play(handler, streams.signIn("origin-a"))).status, "200");
    assert.equal((await play(handler, streams.signIn("origin-a"), "stream=player-0001")).status, "200");
    assert.equal((await stop(handler, streams.signIn("origin-a"), "stream=player-0001")).status, "204");
    assert.deepEqual(await devices(streams.sub), ["origin-a"]);
  });

  test("a lease lapses on its own at its cookies' expiry plus 60 s, not before", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    const phone = await play(handler, signIn("origin-phone"));
    assert.equal((await play(handler, signIn("origin-tv"))).status, "200");
    const expiresAt = json(phone).expires_at;
    const lapse = Math.max(...(await slots(sub)).map((s) => s.expires_at));
    assert.equal(Math.min(...(await slots(sub)).map((s) => s.expires_at)), expiresAt + 60, "a lease outlives its cookies by the grace");
    // The bundle reads the clock from Date.now: move it, as the lease's own time passes.
    const realNow = Date.now;
    try {
      Date.now = () => (lapse - 1) * 1000 + 500;
      const early = await play(await container(), signIn("origin-laptop"));
      assert.deepEqual([early.status, json(early).error], ["403", "device_limit"], "one second before the lapse");
      Date.now = () => lapse * 1000 + 10;
      const late = await play(await container(), signIn("origin-laptop"));
      assert.equal(late.status, "200", late.body);
    } finally {
      Date.now = realNow;
    }
    assert.ok((await devices(sub)).includes("origin-laptop"));
  });

  test("two devices of a plan of two, six containers racing: exactly two admitted, the store's condition decides", async () => {
    const { sub, signIn } = viewer();
    const handlers = await Promise.all(Array.from({ length: 6 }, () => container()));
    const answers = await Promise.all(handlers.map((handler, i) => play(handler, signIn(`origin-race-${i}`))));
    const admitted = answers.map((a, i) => [a.status, i]).filter(([s]) => s === "200").map(([, i]) => `origin-race-${i}`);
    assert.equal(admitted.length, 2, JSON.stringify(answers.map((a) => [a.status, a.body])));
    for (const answer of answers.filter((a) => a.status !== "200")) assert.deepEqual(json(answer).error, "device_limit");
    assert.deepEqual(await devices(sub), admitted.sort());
  });
});

describe("bad input and a failing store", () => {
  for (const [name, querystring] of [
    ["too short", "stream=short"],
    ["too long", `stream=${"x".repeat(65)}`],
    ["an escaped slash", "stream=a%2Fbcdefgh"],
    ["a space", "stream=ab%20cdefgh"],
    ["a dot", "stream=abc.defgh"],
    ["empty", "stream="],
    ["given twice", "stream=abcdefgh&stream=abcdefgh"],
  ]) {
    test(`a malformed stream (${name}) is 400 invalid_stream_id and touches no store`, async () => {
      const { sub, signIn } = viewer();
      const handler = await container();
      const [w, r] = [writes(), reads()];
      for (const method of ["GET", "DELETE"]) {
        const response = await handler(event({ method, headers: bearer(signIn("origin-phone")), querystring }));
        assert.equal(response.status, "400", `${method}: ${response.body}`);
        assert.deepEqual(json(response), { error: "invalid_stream_id" });
        assert.equal(cookiesOf(response).length, 0);
      }
      assert.deepEqual([writes() - w, reads() - r], [0, 0]);
      assert.deepEqual(await slots(sub), []);
    });
  }

  test("a lease store that cannot be reached is 503 devices_unavailable, never cookies", async () => {
    const { sub, signIn } = viewer();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
    try {
      const response = await play(await container(), signIn("origin-phone"));
      assert.deepEqual([response.status, json(response)], ["503", { error: "devices_unavailable" }]);
      assert.equal(response.headers["retry-after"][0].value, "1");
      assert.equal(cookiesOf(response).length, 0);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    }
    assert.deepEqual(await slots(sub), []);
  });

  test("a store that reads but fails the conditional write is 503 devices_unavailable, and nothing is held", async () => {
    const { sub, signIn } = viewer();
    const handler = await container();
    proxy.fail("PutItem");
    try {
      const response = await play(handler, signIn("origin-phone"));
      assert.deepEqual([response.status, json(response)], ["503", { error: "devices_unavailable" }]);
      assert.equal(cookiesOf(response).length, 0);
    } finally {
      proxy.heal();
    }
    assert.deepEqual(await slots(sub), []);
    // The container did not remember a lease it never wrote: the next request claims one.
    assert.equal((await play(handler, signIn("origin-phone"))).status, "200");
    assert.deepEqual(await devices(sub), ["origin-phone"]);
  });

  test("a viewer whose plan sets no limit never touches the lease store", async () => {
    const handler = await container();
    const [w, r] = [writes(), reads()];
    const unlimited = token({ sub: "unlimited", origin_jti: "origin-x", "reelgate:ent": `v=1;p=${nowS() + 86_400};g=;c=1` });
    assert.equal((await play(handler, unlimited)).status, "200");
    assert.deepEqual([writes() - w, reads() - r], [0, 0]);
  });

  test("a limited viewer's token without origin_jti is 403 device_unidentified", async () => {
    const tok = token({ sub: "no-origin", "reelgate:ent": `v=1;p=${nowS() + 86_400};d=2;g=;c=1` });
    const response = await play(await container(), tok);
    assert.deepEqual([response.status, json(response)], ["403", { error: "device_unidentified" }]);
  });
});
