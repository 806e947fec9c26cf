// The real Lambda@Edge bundle (dist/edge-auth: index.mjs + .wasm) loaded in
// Node with Lambda@Edge viewer-request events: every status of ARCHITECTURE
// §6, cookies checked by reelgate's CloudFront validator and by OpenSSL,
// token and video-id attacks, the DynamoDB fallback against DynamoDB Local,
// and the logs. Run by scripts/test after scripts/build-edge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";

import {
  ISSUER, bearer, captureLogs, config, cookieHeader, cookiesOf, event, jwk, loadBundle, reelgateBin,
  signingPublicPem, startDynamoDbLocal, token, verifyCookies,
} from "./helpers.mjs";

const BASE = "https://d111111abcdef8.cloudfront.net";
const owns = (video) => ({ "reelgate:ent": `v=1;g=${video};c=1` });
const loaded = [];
async function bundle(cfg = config()) {
  const b = await loadBundle(cfg);
  loaded.push(b);
  return b.handler;
}
after(() => loaded.forEach((b) => b.cleanup()));

const json = (response) => JSON.parse(response.body);
/// Waits for the start of the next second: a 200 body counts seconds from
/// the response, so a replay of it lasts until the end of its second.
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

/// Whether OpenSSL verifies a response's CloudFront-Signature over its
/// CloudFront-Policy with the public key in `publicPem` (SHA-1, as configured).
function opensslVerifies(response, publicPem, dir) {
  const value = (name) => cookiesOf(response).find((c) => c.startsWith(`${name}=`)).split(";")[0].slice(name.length + 1);
  const decode = (v) => Buffer.from(v.replaceAll("-", "+").replaceAll("_", "=").replaceAll("~", "/"), "base64");
  writeFileSync(join(dir, "policy.json"), decode(value("CloudFront-Policy")));
  writeFileSync(join(dir, "sig.der"), decode(value("CloudFront-Signature")));
  const out = spawnSync("openssl", ["dgst", "-sha1", "-verify", publicPem, "-signature", join(dir, "sig.der"), join(dir, "policy.json")], { encoding: "utf8" });
  return out.status === 0 && /Verified OK/.test(out.stdout);
}

describe("a viewer who owns the title", () => {
  test("gets 200 JSON and three title-scoped cookies CloudFront accepts for that title only", async () => {
    const handler = await bundle();
    const response = await handler(event({ headers: bearer(token(owns("demo"))) }));
    assert.equal(response.status, "200");
    const body = json(response);
    assert.equal(body.video_id, "demo");
    assert.equal(body.playlist, "/videos/demo/master.m3u8");
    const now = Math.floor(Date.now() / 1000);
    assert.ok(body.expires_at >= now + 300 && body.expires_at <= now + 331, `expires_at ${body.expires_at}`);
    // A fifth of the ttl before expiry: at least 80% of the lifetime away.
    assert.equal(body.refresh_after, body.expires_at - 60);
    assert.ok(body.refresh_after >= now + 240);
    const cookies = cookiesOf(response);
    assert.deepEqual(cookies.map((c) => c.split("=")[0]).sort(), ["CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature"]);
    for (const cookie of cookies) {
      assert.match(cookie, /; Path=\/videos\/demo\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Lax$/);
    }
    assert.equal(response.headers["cache-control"][0].value, "no-store");
    const cookie = cookieHeader(response);
    assert.equal(verifyCookies(`${BASE}/videos/demo/seg-00001.ts`, cookie), "valid");
    assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookie), "valid");
    assert.equal(verifyCookies(`${BASE}/videos/other/master.m3u8`, cookie), "ResourceMismatch");
    assert.equal(verifyCookies(`${BASE}/videos/demo/seg-00001.ts`, cookie, { now: body.expires_at }), "Expired");
  });

  test("its cookie signature verifies with OpenSSL over the policy", async () => {
    const handler = await bundle();
    const response = await handler(event({ headers: bearer(token(owns("demo"))) }));
    const dir = mkdtempSync(join(tmpdir(), "reelgate-openssl-"));
    try {
      assert.equal(opensslVerifies(response, signingPublicPem, dir), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("?redirect=1 answers 302 to the playlist with the same cookies", async () => {
    const handler = await bundle();
    const response = await handler(event({ querystring: "redirect=1", headers: bearer(token(owns("demo"))) }));
    assert.equal(response.status, "302");
    assert.equal(response.headers.location[0].value, "/videos/demo/master.m3u8");
    assert.equal(cookiesOf(response).length, 3);
  });

  test("a second request in the same bucket reuses the signed cookies (one signature per title per bucket)", async () => {
    const handler = await bundle();
    const { lines } = await captureLogs(async () => {
      await handler(event({ headers: bearer(token(owns("demo"), {}, undefined)) }));
      await handler(event({ headers: bearer(token({ ...owns("demo"), sub: "user-2" })) }));
    });
    const logs = lines.map((l) => JSON.parse(l));
    assert.equal(logs[0].cookie_cache_hit, false);
    assert.equal(logs[1].cookie_cache_hit, true);
  });

  test("an identical request is answered again by the host, unchanged; a difference in anything the core reads is not", async () => {
    const handler = await bundle();
    const tok = token(owns("demo"));
    const same = () => event({ headers: { ...bearer(tok), Origin: "https://app.example" } });
    await nextSecond();
    const { result, lines } = await captureLogs(async () => {
      // Kept for replay only once the token is known: the second answer, not the first.
      const first = await handler(same());
      assert.deepEqual(await handler(same()), first);
      const replayed = await handler(same());
      await handler(event({ headers: { ...bearer(tok), Origin: "https://other.example" } }));
      await handler(event({ headers: { ...bearer(tok), Origin: "https://app.example" }, clientIp: "198.51.100.7" }));
      await handler(event({ headers: { ...bearer(tok), Origin: "https://app.example" }, querystring: "redirect=1" }));
      await handler(event({ headers: { ...bearer(token({ ...owns("demo"), jti: "another" })), Origin: "https://app.example" } }));
      return { first, replayed };
    });
    assert.deepEqual(result.replayed, result.first);
    assert.equal(verifyCookies(`${BASE}/videos/demo/seg-00001.ts`, cookieHeader(result.replayed)), "valid");
    const logs = lines.map((l) => JSON.parse(l));
    assert.deepEqual(logs.map((l) => l.replayed ?? false), [false, false, true, false, false, false, false]);
    assert.deepEqual(logs.map((l) => l.token_cache_hit), [false, true, true, true, true, true, false]);
    assert.equal(logs[2].decision, "allow");
    assert.equal(logs[2].video, "demo");
  });

  test("an absent header and an empty one are different requests to the replay", async () => {
    const handler = await bundle();
    const tok = token(owns("demo"));
    await nextSecond();
    const { lines } = await captureLogs(async () => {
      await handler(event({ headers: bearer(tok) }));
      await handler(event({ headers: bearer(tok) })); // kept for replay
      await handler(event({ headers: { ...bearer(tok), Origin: "" } }));
      await handler(event({ headers: bearer(tok) }));
    });
    assert.deepEqual(lines.map((l) => JSON.parse(l).replayed ?? false), [false, false, false, true]);
  });

  test("expires_in and refresh_in count seconds from each response, replayed ones included", async () => {
    const handler = await bundle();
    const same = event({ headers: bearer(token(owns("demo"))) });
    const second = () => Math.floor(Date.now() / 1000);
    const { lines } = await captureLogs(async () => {
      for (let i = 0; i < 4; i += 1) {
        // The first three well within one second, the fourth in the next one.
        if (i === 0 || i === 3) await nextSecond();
        const before = second();
        const body = json(await handler(same));
        const after = second();
        assert.ok(body.expires_in >= body.expires_at - after && body.expires_in <= body.expires_at - before, JSON.stringify(body));
        assert.equal(body.refresh_in, body.expires_in - (body.expires_at - body.refresh_after));
      }
    });
    assert.ok(lines.some((l) => JSON.parse(l).replayed), "within one second the host replays");
  });

  test("denials are never replayed, and a replay ends when the token expires", async () => {
    const handler = await bundle();
    const denied = event({ uri: "/session/videos/other", headers: bearer(token(owns("demo"))) });
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const short = token({ ...owns("demo"), exp: expiresAt });
    const { lines } = await captureLogs(async () => {
      assert.equal((await handler(denied)).status, "403");
      assert.equal((await handler(denied)).status, "403");
      await nextSecond();
      for (let i = 0; i < 3; i += 1) assert.equal((await handler(event({ headers: bearer(short) }))).status, "200");
      await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
      await handler(event({ headers: bearer(short) }));
    });
    const logs = lines.map((l) => JSON.parse(l));
    assert.deepEqual(logs.map((l) => l.replayed ?? false), [false, false, false, false, true, false]);
    assert.equal(logs[5].token_cache_hit, false, "past exp the core verifies the token again");
  });

  test("a staged next key signs from signing.next.activate_at on, verified by OpenSSL", async () => {
    const next = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const activateAt = Math.floor(Date.now() / 1000) + 2;
    const cfg = config();
    cfg.signing = { ...cfg.signing, next: { key_pair_id: "K2NEXTKEY", private_key_pem: next.privateKey.export({ type: "pkcs8", format: "pem" }), activate_at: activateAt } };
    const handler = await bundle(cfg);
    const session = () => handler(event({ headers: bearer(token(owns("demo"))) }));
    const keyId = (response) => cookiesOf(response).find((c) => c.startsWith("CloudFront-Key-Pair-Id=")).split(";")[0].split("=")[1];
    const before = await session();
    assert.equal(keyId(before), "K2EDGETEST");
    await new Promise((resolve) => setTimeout(resolve, activateAt * 1000 - Date.now() + 50));
    const { result: after, lines } = await captureLogs(session);
    assert.equal(keyId(after), "K2NEXTKEY");
    assert.equal(JSON.parse(lines[0]).key_pair_id, "K2NEXTKEY");
    assert.equal(JSON.parse(lines[0]).replayed, undefined, "a replay never outlives the switch");
    const dir = mkdtempSync(join(tmpdir(), "reelgate-next-"));
    try {
      writeFileSync(join(dir, "next.pub.pem"), next.publicKey.export({ type: "spki", format: "pem" }));
      assert.equal(opensslVerifies(after, join(dir, "next.pub.pem"), dir), true);
      assert.equal(opensslVerifies(after, signingPublicPem, dir), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bind_client_ip adds the viewer's address to the policy", async () => {
    const handler = await bundle(config({ cookie: { ttl_seconds: 300, same_site: "Lax", bind_client_ip: true } }));
    const response = await handler(event({ clientIp: "198.51.100.7", headers: bearer(token(owns("demo"))) }));
    const cookie = cookieHeader(response);
    assert.equal(verifyCookies(`${BASE}/videos/demo/a.ts`, cookie, { clientIp: "198.51.100.7" }), "valid");
    assert.equal(verifyCookies(`${BASE}/videos/demo/a.ts`, cookie, { clientIp: "198.51.100.8" }), "IpNotAllowed");
    const v6 = await handler(event({ clientIp: "2001:db8::1", headers: bearer(token(owns("demo"))) }));
    assert.equal(v6.status, "403");
  });
});

describe("statuses of the edge protocol", () => {
  test("DELETE expires the title's cookies at the same path", async () => {
    const handler = await bundle();
    const response = await handler(event({ method: "DELETE" }));
    assert.equal(response.status, "204");
    const cookies = cookiesOf(response);
    assert.equal(cookies.length, 5);
    for (const cookie of cookies) assert.match(cookie, /=; Path=\/videos\/demo\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly/);
  });

  test("a title the viewer does not hold is 403 not_entitled", async () => {
    const handler = await bundle();
    const response = await handler(event({ uri: "/session/videos/other", headers: bearer(token(owns("demo"))) }));
    assert.equal(response.status, "403");
    assert.deepEqual(json(response), { error: "not_entitled" });
    assert.equal(cookiesOf(response).length, 0);
  });

  test("premium group members and premium plans watch any title", async () => {
    const handler = await bundle();
    const group = await handler(event({ uri: "/session/videos/any", headers: bearer(token({ "cognito:groups": ["premium"] })) }));
    assert.equal(group.status, "200");
    const until = Math.floor(Date.now() / 1000) + 100;
    const plan = await handler(event({ uri: "/session/videos/any", headers: bearer(token({ sub: "user-9", "reelgate:ent": `v=1;p=${until};g=;c=1` })) }));
    assert.equal(plan.status, "200");
    assert.equal(json(plan).expires_at, until, "cookies never outlive the plan");
  });

  test("POST is 405 and other paths are 404", async () => {
    const handler = await bundle();
    const post = await handler(event({ method: "POST", headers: bearer(token(owns("demo"))) }));
    assert.equal(post.status, "405");
    assert.equal(post.headers.allow[0].value, "GET, DELETE, OPTIONS");
    const other = await handler(event({ uri: "/session/other" }));
    assert.equal(other.status, "404");
  });

  test("OPTIONS is 405 without CORS config and a preflight with it", async () => {
    const plain = await bundle();
    assert.equal((await plain(event({ method: "OPTIONS", headers: { Origin: "https://player.example.com" } }))).status, "405");
    const cors = await bundle(config({ cors_origins: ["https://player.example.com"], cookie: { ttl_seconds: 300, same_site: "None" } }));
    const ok = await cors(event({ method: "OPTIONS", headers: { Origin: "https://player.example.com" } }));
    assert.equal(ok.status, "204");
    assert.equal(ok.headers["access-control-allow-origin"][0].value, "https://player.example.com");
    assert.equal(ok.headers["access-control-allow-credentials"][0].value, "true");
    const evil = await cors(event({ method: "OPTIONS", headers: { Origin: "https://evil.example" } }));
    assert.equal(evil.status, "403");
    assert.equal(evil.headers["access-control-allow-origin"], undefined);
    const get = await cors(event({ headers: { Origin: "https://player.example.com", ...bearer(token(owns("demo"))) } }));
    assert.match(cookiesOf(get)[0], /SameSite=None/);
  });

  test("without resource_base, policies name the viewer's Host (stacks that learn their domain later)", async () => {
    const cfg = config();
    delete cfg.resource_base;
    const handler = await bundle(cfg);
    const response = await handler(event({ headers: { Host: "media.example.com", ...bearer(token(owns("demo"))) } }));
    assert.equal(response.status, "200");
    assert.equal(verifyCookies("https://media.example.com/videos/demo/a.ts", cookieHeader(response)), "valid");
    assert.equal(verifyCookies(`${BASE}/videos/demo/a.ts`, cookieHeader(response)), "ResourceMismatch");
    const hostile = await handler(event({ headers: { Host: "evil.example/*", ...bearer(token(owns("demo"))) } }));
    assert.deepEqual([hostile.status, json(hostile).error], ["400", "invalid_host"]);
  });

  test("a malformed event is 400, never a crash", async () => {
    const handler = await bundle();
    assert.equal((await handler({})).status, "400");
    assert.equal((await handler({ Records: [{ cf: { request: { uri: 5 } } }] })).status, "400");
  });
});

describe("token rejection matrix: 401 with a reason and WWW-Authenticate, no cookies", () => {
  const b64url = (v) => Buffer.from(v).toString("base64url");
  const hs256 = () => {
    const input = `${b64url(JSON.stringify({ alg: "HS256", kid: "test-1" }))}.${b64url(JSON.stringify({ sub: "user-1", iss: ISSUER }))}`;
    const secret = JSON.stringify(jwk("test-1"));
    return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const tampered = () => {
    const [h, , s] = token(owns("demo")).split(".");
    return `${h}.${b64url(JSON.stringify({ sub: "attacker", iss: ISSUER, token_use: "access", client_id: "testclient", iat: now, exp: now + 3600, "cognito:groups": ["premium"] }))}.${s}`;
  };
  const { privateKey: otherKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cases = [
    ["no token", null, "token_missing"],
    ["not a bearer token", "Basic dXNlcjpwYXNz", "token_malformed"],
    ["alg none", `${b64url(JSON.stringify({ alg: "none", kid: "test-1" }))}.${b64url("{}")}.`, "alg_not_allowed"],
    ["HS256 with the public key as secret", hs256(), "alg_not_allowed"],
    ["unknown kid (no JWKS endpoint reachable)", token({}, { kid: "rotated" }), "unknown_kid"],
    ["forged signature", token({}, {}, otherKey), "bad_signature"],
    ["embedded jwk header", token({}, { jwk: jwk("test-1") }), "forbidden_header"],
    ["jku header", token({}, { jku: "https://attacker.example/jwks" }), "forbidden_header"],
    ["expired", token({ exp: now - 61 }), "token_expired"],
    ["not yet valid", token({ nbf: now + 120 }), "token_not_yet_valid"],
    ["wrong issuer", token({ iss: "https://evil.example" }), "wrong_issuer"],
    ["id token", token({ token_use: "id" }), "wrong_token_use"],
    ["other client", token({ client_id: "otherapp" }), "wrong_client"],
    ["tampered payload", tampered(), "bad_signature"],
    ["oversized", token({ pad: "x".repeat(9000) }), "token_too_large"],
    ["garbage", "not.a.token", "token_malformed"],
  ];
  for (const [name, tok, reason] of cases) {
    test(name, async () => {
      const handler = await bundle();
      const headers = tok === null ? {} : { Authorization: tok.startsWith("Basic") ? tok : `Bearer ${tok}` };
      const response = await handler(event({ headers }));
      assert.equal(response.status, "401", `${name}: ${response.body}`);
      assert.deepEqual(json(response), { error: reason });
      assert.ok(response.headers["www-authenticate"][0].value.startsWith("Bearer"));
      assert.equal(cookiesOf(response).length, 0);
    });
  }
});

describe("video id attacks: 400 invalid_video_id and no cookie", () => {
  for (const id of ["*", "%2A", "demo%2F..", "?", "..", "../demo", "a/b", "%C3%A9", "é", "", "a".repeat(65), "-demo", "demo*"]) {
    test(JSON.stringify(id), async () => {
      const handler = await bundle();
      const response = await handler(event({ uri: `/session/videos/${id}`, headers: bearer(token({ "cognito:groups": ["premium"] })) }));
      assert.equal(response.status, "400");
      assert.deepEqual(json(response), { error: "invalid_video_id" });
      assert.equal(cookiesOf(response).length, 0);
    });
  }
});

describe("JWKS rotation through the penalty box", () => {
  test("an unknown kid refetches the JWKS once, and not again within 10 s", async () => {
    const { privateKey: rotated } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    let hits = 0;
    const server = createServer((req, res) => {
      hits += 1;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk("test-1"), jwk("rotated-1", rotated)] }));
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const handler = await bundle(config({ jwks_url: `http://127.0.0.1:${server.address().port}/jwks.json` }));
      const ok = await handler(event({ headers: bearer(token(owns("demo"), { kid: "rotated-1" }, rotated)) }));
      assert.equal(ok.status, "200", ok.body);
      assert.equal(hits, 1);
      const forged = await handler(event({ headers: bearer(token(owns("demo"), { kid: "invented" })) }));
      assert.deepEqual([forged.status, json(forged).error], ["401", "unknown_kid"]);
      assert.equal(hits, 1, "the penalty box holds further refetches");
    } finally {
      server.close();
    }
  });
});

describe("a stalled JWKS endpoint (accepts, never answers)", () => {
  test("an unknown kid is refused within Lambda@Edge's 5 s, and known keys keep serving", { timeout: 10_000 }, async () => {
    const held = [];
    const server = createServer((req) => held.push(req));
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const handler = await bundle(config({ jwks_url: `http://127.0.0.1:${server.address().port}/jwks.json` }));
      const started = Date.now();
      const unknown = await handler(event({ headers: bearer(token(owns("demo"), { kid: "rotated-1" })) }));
      const waited = Date.now() - started;
      assert.equal(held.length, 1, "the edge asked the JWKS endpoint once");
      assert.equal(unknown.status, "401", unknown.body);
      assert.equal(json(unknown).error, "unknown_kid");
      assert.ok(waited < 5000, `answered after ${waited} ms: past Lambda@Edge's 5 s viewer-request limit`);
      const known = await handler(event({ headers: bearer(token({ ...owns("demo"), sub: "user-3" })) }));
      assert.equal(known.status, "200", known.body);
    } finally {
      for (const req of held) req.socket.destroy();
      server.close();
    }
  });
});

describe("a fetched JWKS the core refuses", () => {
  for (const body of ["{}", '{"keys":"x"}']) {
    test(`(${body}) leaves the host's keys as the core's: valid tokens keep getting 200`, async () => {
      const server = createServer((req, res) => {
        res.setHeader("content-type", "application/json");
        res.end(body);
      });
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      try {
        const handler = await bundle(config({ jwks_url: `http://127.0.0.1:${server.address().port}/jwks.json` }));
        const valid = () => handler(event({ headers: bearer(token(owns("demo"))) }));
        assert.equal((await valid()).status, "200");
        const unknown = await handler(event({ headers: bearer(token(owns("demo"), { kid: "invented" })) }));
        assert.deepEqual([unknown.status, json(unknown).error], ["401", "unknown_kid"]);
        // A token the core has not verified yet: its key must still be in the host.
        const fresh = await handler(event({ headers: bearer(token({ ...owns("demo"), sub: "user-2" })) }));
        assert.equal(fresh.status, "200", fresh.body);
      } finally {
        server.close();
      }
    });
  }
});

describe("the store fallback against DynamoDB Local", () => {
  let ddb;
  let client;
  before(async () => {
    ddb = await startDynamoDbLocal();
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    client = new DynamoDBClient({ region: "us-east-1", endpoint: ddb.endpoint });
    await client.send(new CreateTableCommand({
      TableName: "reelgate", BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
    }));
    const now = Math.floor(Date.now() / 1000);
    const put = (Item) => client.send(new PutItemCommand({ TableName: "reelgate", Item }));
    await put({ PK: { S: "USER#buyer" }, SK: { S: "VIDEO#demo" }, source: { S: "purchase" }, granted_at: { N: String(now - 60) }, purchase_id: { S: "evt_1" } });
    await put({ PK: { S: "USER#renter" }, SK: { S: "VIDEO#demo" }, source: { S: "rental" }, granted_at: { N: String(now - 60) }, expires_at: { N: String(now + 90) } });
    await put({ PK: { S: "USER#refunded" }, SK: { S: "VIDEO#demo" }, source: { S: "purchase" }, granted_at: { N: String(now - 60) }, revoked_at: { N: String(now - 1) } });
    await put({ PK: { S: "USER#subscriber" }, SK: { S: "PLAN" }, tier: { S: "premium" }, premium_until: { N: String(now + 3600) } });
    // The catalogue, as an operator (or `POST /api/admin/titles`) writes it.
    await put({ PK: { S: "CATALOGUE" }, SK: { S: "TITLE#trailer" }, name: { S: "Trailer" }, free: { BOOL: true } });
    await put({ PK: { S: "CATALOGUE" }, SK: { S: "TITLE#demo" }, name: { S: "Demo" }, free: { BOOL: false }, tiers: { SS: ["premium"] }, price: { N: "499" }, currency: { S: "usd" } });
    await put({ PK: { S: "CATALOGUE" }, SK: { S: "TITLE#basic-only" }, name: { S: "Basic" }, tiers: { SS: ["basic"] } });
    await put({ PK: { S: "CATALOGUE" }, SK: { S: "TITLE#closed" }, name: { S: "Closed" }, tiers: { SS: ["premium"] }, available_until: { N: String(now - 1) } });
    await put({ PK: { S: "USER#buyer" }, SK: { S: "VIDEO#closed" }, source: { S: "purchase" }, granted_at: { N: String(now - 60) } });
    await put({ PK: { S: "CATALOGUE" }, SK: { S: "TITLE#broken" }, name: { S: "Broken" }, free: { S: "yes" } });
  });
  after(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await ddb?.stop();
  });

  const ask = async (handler, sub, video = "demo") => handler(event({ uri: `/session/videos/${video}`, headers: bearer(token({ sub })) }));

  test("a purchase, a plan and a running rental found in the store are 200; a rental's cookies end with it", async () => {
    const handler = await bundle();
    const { result, lines } = await captureLogs(() => ask(handler, "buyer"));
    assert.equal(result.status, "200", result.body);
    assert.equal(JSON.parse(lines[0]).entitlement_source, "store");
    assert.equal((await ask(handler, "subscriber", "anything")).status, "200");
    const rental = await ask(handler, "renter");
    assert.equal(rental.status, "200");
    assert.ok(json(rental).expires_at <= Math.floor(Date.now() / 1000) + 90);
  });

  test("nothing, or a refunded purchase, is 403; the answer is cached", async () => {
    const handler = await bundle();
    assert.equal((await ask(handler, "nobody")).status, "403");
    assert.equal((await ask(handler, "refunded")).status, "403");
    const { lines } = await captureLogs(() => ask(handler, "nobody"));
    assert.equal(JSON.parse(lines[0]).entitlement_source, "cache");
  });

  test("with a catalogue: free titles for any viewer, plans by tier, windows and unlisted titles refused", async () => {
    const handler = await bundle(config({ catalogue: true }));
    const answer = async (sub, video, claim) => {
      const claims = claim === undefined ? { sub } : { sub, "reelgate:ent": claim };
      const { result, lines } = await captureLogs(() => handler(event({ uri: `/session/videos/${video}`, headers: bearer(token(claims)) })));
      const line = JSON.parse(lines[0]);
      return { status: result.status, reason: result.status === "200" ? line.basis : json(result).error, cookies: cookiesOf(result).length };
    };
    const until = Math.floor(Date.now() / 1000) + 3600;
    assert.deepEqual(await answer("nobody", "trailer"), { status: "200", reason: "free", cookies: 3 });
    assert.deepEqual(await answer("nobody", "trailer", "v=1;g=;c=1"), { status: "200", reason: "free", cookies: 3 });
    assert.deepEqual(await answer("nobody", "demo", "v=1;g=;c=1"), { status: "403", reason: "not_entitled", cookies: 0 });
    assert.deepEqual(await answer("buyer", "demo"), { status: "200", reason: "purchase", cookies: 3 });
    assert.deepEqual(await answer("subscriber", "demo"), { status: "200", reason: "premium_plan", cookies: 3 });
    assert.deepEqual(await answer("subscriber", "basic-only"), { status: "403", reason: "not_in_tier", cookies: 0 });
    assert.deepEqual(await answer("claimed", "basic-only", `v=1;p=${until};t=premium;g=;c=1`), { status: "403", reason: "not_in_tier", cookies: 0 });
    assert.deepEqual(await answer("buyer", "closed"), { status: "403", reason: "not_available", cookies: 0 });
    assert.deepEqual(await answer("claimed", "closed", "v=1;g=closed;c=1"), { status: "403", reason: "not_available", cookies: 0 });
    assert.deepEqual(await answer("buyer", "unlisted", "v=1;g=unlisted;c=1"), { status: "404", reason: "title_not_found", cookies: 0 });
    // A hand-edited item that breaks a rule is never read as a title: fail closed.
    assert.deepEqual(await answer("nobody", "broken"), { status: "503", reason: "entitlement_unavailable", cookies: 0 });
    // Titles are cached like entitlements: a known title needs no store read.
    const { lines } = await captureLogs(() => handler(event({ uri: "/session/videos/trailer", headers: bearer(token({ sub: "other" })) })));
    assert.equal(JSON.parse(lines[0]).entitlement_source, "claims");
  });

  test("with a catalogue, a store that cannot be reached is 503 even for an owner's claim", async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
    try {
      const handler = await bundle(config({ catalogue: true }));
      const response = await handler(event({ headers: bearer(token(owns("demo"))) }));
      assert.equal(response.status, "503");
      assert.deepEqual(json(response), { error: "entitlement_unavailable" });
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    }
  });

  test("a store that cannot be reached is 503 entitlement_unavailable, never 200", async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
    try {
      const handler = await bundle();
      const response = await ask(handler, "buyer");
      assert.equal(response.status, "503");
      assert.deepEqual(json(response), { error: "entitlement_unavailable" });
      assert.equal(cookiesOf(response).length, 0);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    }
  });
});

describe("logs and limits", () => {
  test("one JSON line per request; no token, cookie value or key in any of them; responses under 40 KB", async () => {
    const handler = await bundle();
    const tokens = [token(owns("demo")), token({ exp: 1 }), token({}, { kid: "nope" })];
    const { result: responses, lines } = await captureLogs(async () => {
      const out = [];
      for (const t of tokens) out.push(await handler(event({ headers: bearer(t) })));
      out.push(await handler(event({ method: "DELETE" })));
      return out;
    });
    assert.equal(lines.length, responses.length);
    const secrets = [
      ...tokens, ...tokens.map((t) => t.split(".")[2]),
      ...responses.flatMap(cookiesOf).map((c) => c.split(";")[0].split("=")[1]).filter((v) => v && v.length > 12),
      "BEGIN PRIVATE KEY", config().signing.private_key_pem.split("\n")[1],
    ];
    for (const line of lines) {
      const parsed = JSON.parse(line);
      assert.ok(parsed.request_id && parsed.region && parsed.decision && parsed.reason, line);
      assert.ok(Number.isInteger(parsed.latency_us));
      for (const secret of secrets) assert.ok(!line.includes(secret), `log line leaks a secret: ${line}`);
    }
    for (const response of responses) assert.ok(JSON.stringify(response).length < 40 * 1024);
  });

  test("every line the bundle writes parses as the one log schema (shared::edge_log, through `reelgate logs --file`)", async () => {
    const handler = await bundle();
    const tok = token(owns("demo"));
    const { lines } = await captureLogs(async () => {
      for (let i = 0; i < 3; i += 1) await handler(event({ headers: bearer(tok) })); // allowed, cached, replayed
      await handler(event({ headers: bearer(token({ exp: 1 })) }));
      await handler(event({ headers: bearer(token(owns("other"))) }));
      await handler(event({ method: "DELETE" }));
    });
    const dir = mkdtempSync(join(tmpdir(), "reelgate-logs-"));
    try {
      const file = join(dir, "edge.log");
      writeFileSync(file, lines.map((l) => `2026-11-25T03:00:00.000Z\tabc\tINFO\t${l}`).join("\n"));
      const out = spawnSync(reelgateBin, ["logs", "--file", file, "--json"], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
      const parsed = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const written = lines.map((l) => JSON.parse(l));
      assert.equal(parsed.length, written.length, "every line parses");
      assert.ok(written.some((l) => l.replayed) && written.some((l) => l.cold), "replayed and cold lines included");
      for (const [i, line] of written.entries()) {
        const { msg, _aws, Requests, LatencyMicros, ...fields } = line;
        assert.deepEqual(parsed[i], { ...fields, timestamp_ms: _aws.Timestamp }, `line ${i}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
