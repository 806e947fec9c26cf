// Benchmark (not a test): the real edge bundle against the handler a user
// would write instead — aws-jwt-verify (JWKS preloaded, verifySync) plus
// @aws-sdk/cloudfront-signer (getSignedCookies, custom policy) — in one
// process, interleaved, same tokens, same keys. Prints medians and
// peer ÷ ours ratios for the budgets of ARCHITECTURE §10.
// Then the device limit's cost on the session path (§12 "Devices"): the
// lease read and conditional write against DynamoDB Local, and a count of
// the store operations each kind of request makes.
// Usage: scripts/bench-edge [--devices | --rss]   (builds the bundle first;
//        --devices runs the device-lease part alone, --rss the inline-key
//        cold-start row and the RSS row alone)
import { spawn, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { getSignedCookies } from "@aws-sdk/cloudfront-signer";

import { CLIENT, ISSUER, bearer, config, event, jwk, loadBundle, root, startDynamoDbLocal, startDynamoProxy, token } from "./helpers.mjs";

const RSA_PEM = readFileSync(join(root, "shared/tests/keys/rsa2048.pkcs8.pem"), "utf8");
const EC_PEM = readFileSync(join(root, "shared/tests/keys/p256.pkcs8.pem"), "utf8");
const BASE = "https://d111111abcdef8.cloudfront.net";
const ROUNDS = 7;
const PER_ROUND = Number(process.env.BENCH_REQUESTS ?? 300);

/// The peer: what a team would write with the AWS libraries.
function peerHandler(privateKey) {
  const verifier = CognitoJwtVerifier.create({ userPoolId: ISSUER.split("/").pop(), tokenUse: "access", clientId: CLIENT });
  verifier.cacheJwks({ keys: [jwk("test-1")] });
  return async (ev) => {
    const request = ev.Records[0].cf.request;
    const video = request.uri.split("/").pop();
    let claims;
    try {
      claims = verifier.verifySync(request.headers.authorization[0].value.slice(7));
    } catch {
      return { status: "401" };
    }
    const grants = String(claims["reelgate:ent"] ?? "").split(";").find((f) => f.startsWith("g="))?.slice(2).split(",") ?? [];
    if (!grants.includes(video) && !(claims["cognito:groups"] ?? []).includes("premium")) return { status: "403" };
    const expires = Math.floor(Date.now() / 1000) + 300;
    const policy = JSON.stringify({ Statement: [{ Resource: `${BASE}/videos/${video}/*`, Condition: { DateLessThan: { "AWS:EpochTime": expires } } }] });
    const cookies = getSignedCookies({ keyPairId: "K2EDGETEST", privateKey, policy });
    return {
      status: "200",
      body: JSON.stringify({ video_id: video, expires_at: expires, playlist: `/videos/${video}/master.m3u8` }),
      headers: { "set-cookie": Object.entries(cookies).map(([k, v]) => ({ key: "Set-Cookie", value: `${k}=${v}; Path=/videos/${video}/; Secure; HttpOnly` })) },
    };
  };
}

// What a browser's request carries through CloudFront to a viewer-request
// trigger, so both handlers parse a realistic event.
const VIEWER_HEADERS = {
  Host: "d111111abcdef8.cloudfront.net", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
  Accept: "application/json, text/plain, */*", "Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "en-GB,en;q=0.9",
  Referer: "https://d111111abcdef8.cloudfront.net/", Origin: "https://d111111abcdef8.cloudfront.net",
  Cookie: "theme=dark; _ga=GA1.1.123456789.1700000000; consent=yes", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin",
  "X-Forwarded-For": "203.0.113.9", "CloudFront-Viewer-Country": "GB", "Sec-Ch-Ua-Platform": "\"Linux\"",
};
const viewer = (headers) => ({ ...VIEWER_HEADERS, ...headers });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/// Mean µs per request over `n` requests made by `make(i)`.
async function time(handler, make, n) {
  const events = Array.from({ length: n }, (_, i) => make(i));
  const start = process.hrtime.bigint();
  for (const ev of events) {
    const response = await handler(ev);
    if (response.status !== "200") throw new Error(`unexpected ${response.status}: ${response.body}`);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

async function scenario(name, ours, peer, make) {
  await time(ours, make, 50);
  await time(peer, make, 50);
  const a = [];
  const b = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    a.push(await time(ours, (i) => make(round * PER_ROUND + i), PER_ROUND));
    b.push(await time(peer, (i) => make(round * PER_ROUND + i), PER_ROUND));
  }
  return { name, ours: median(a), peer: median(b) };
}

function coldStart(kind, pem, secretArn = null) {
  // A fresh process per sample: module load, key import and first cookie. With `secretArn` the key
  // comes from Secrets Manager (moto on loopback) as in a deployment: the clock then includes
  // importing @aws-sdk/client-secrets-manager and the GetSecretValue round trip, for both.
  const script = `
    let logged = 0;
    console.log = (line) => { logged += line.length; };
    // The bundle's WebAssembly instance, to report its linear memory beside the RSS.
    let core;
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...args) => {
      const result = await instantiate(...args);
      core = (result.instance ?? result).exports;
      return result;
    };
    const { loadBundle, config, event, bearer, token } = await import(${JSON.stringify(join(root, "tests/js/helpers.mjs"))});
    const tok = token({ "reelgate:ent": "v=1;g=demo;c=1" });
    const secretArn = ${JSON.stringify(secretArn)};
    const t1 = performance.now();
    let handler;
    if (${JSON.stringify(kind)} === "ours") {
      const signing = secretArn
        ? { key_pair_id: "K2EDGETEST", private_key_secret_arn: secretArn, hash: "sha1" }
        : { key_pair_id: "K2EDGETEST", private_key_pem: ${JSON.stringify(pem)} };
      ({ handler } = await loadBundle(config({ signing })));
    } else {
      const { peerHandler } = await import(${JSON.stringify(join(root, "tests/js/bench_edge.mjs"))} + "?peer");
      let key = ${JSON.stringify(pem)};
      if (secretArn) {
        const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
        key = (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
      }
      handler = peerHandler(key);
    }
    const r = await handler(event({ headers: bearer(tok) }));
    if (r.status !== "200") throw new Error("cold start failed");
    const t2 = performance.now();
    for (let i = 0; i < 2000; i++) await handler(event({ headers: bearer(token({ sub: "u" + i, "reelgate:ent": "v=1;g=demo;c=1" })) }));
    const memory = process.memoryUsage();
    process.stdout.write(JSON.stringify({
      cold_ms: t2 - t1, rss_mb: memory.rss / 1048576, heap_mb: memory.heapTotal / 1048576,
      wasm_mb: core ? core.memory.buffer.byteLength / 1048576 : 0,
    }));`;
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: join(root, "tests/js"), encoding: "utf8", env: { ...process.env, REELGATE_BENCH_CHILD: "1" } });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout);
}

/// Wraps node:crypto's `sign` and `verify` (what the bundle calls) to time
/// them; `syncBuiltinESMExports` reaches the bundle's own imports. Returns
/// the reading and the function that restores the originals.
function timeCrypto() {
  const crypto = createRequire(import.meta.url)("node:crypto");
  const originals = { sign: crypto.sign, verify: crypto.verify };
  const spent = { us: 0, calls: 0 };
  for (const [name, inner] of Object.entries(originals)) {
    crypto[name] = function timed(...args) {
      const start = process.hrtime.bigint();
      try {
        return inner.apply(this, args);
      } finally {
        spent.us += Number(process.hrtime.bigint() - start) / 1000;
        spent.calls += 1;
      }
    };
  }
  syncBuiltinESMExports();
  return {
    spent,
    restore() {
      Object.assign(crypto, originals);
      syncBuiltinESMExports();
    },
  };
}

/// What bounds the fresh-token, fresh-title ratio: the one RS256 verification
/// and one policy signature no handler can skip. Per round, in a rotating
/// order and over the same fresh tokens and titles: the peer; our handler
/// with node:crypto's `sign` and `verify` timed (so the scenario rows above
/// are timed without the wrapper); and the two operations alone in a tight
/// loop with KeyObjects made once. Medians in µs per request: `peer`,
/// `ours` (that pass, wrapper included), `inOurs` (its crypto), `alone`.
/// peer ÷ alone and peer ÷ inOurs are the best ratios a handler could reach.
async function cryptoBounds(ours, peer, make, pem, tokens, offset) {
  const publicKey = createPublicKey({ key: jwk("test-1"), format: "jwk" });
  const privateKey = createPrivateKey(pem);
  const policy = (i) => JSON.stringify({ Statement: [{ Resource: `${BASE}/videos/t${i}/*`, Condition: { DateLessThan: { "AWS:EpochTime": 1800000000 } } }] });
  const parts = tokens.map((t) => t.split("."));
  const alone = (at) => {
    const start = process.hrtime.bigint();
    for (let i = at; i < at + PER_ROUND; i += 1) {
      const [h, p, sig] = parts[i % parts.length];
      if (!verify("sha256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, "base64url"))) throw new Error("bad token");
      sign("sha1", Buffer.from(policy(i)), privateKey);
    }
    return Number(process.hrtime.bigint() - start) / 1000 / PER_ROUND;
  };
  const timedOurs = async (at) => {
    const crypto = timeCrypto();
    try {
      const us = await time(ours, (i) => make(at + i), PER_ROUND);
      if (crypto.spent.calls !== 2 * PER_ROUND) throw new Error(`expected one verification and one signature per request, saw ${crypto.spent.calls} calls`);
      return { us, crypto: crypto.spent.us / PER_ROUND };
    } finally {
      crypto.restore();
    }
  };
  const rounds = { peer: [], ours: [], inOurs: [], alone: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const at = offset + round * PER_ROUND;
    const passes = [
      async () => rounds.peer.push(await time(peer, (i) => make(at + i), PER_ROUND)),
      async () => {
        const { us, crypto } = await timedOurs(at);
        rounds.ours.push(us);
        rounds.inOurs.push(crypto);
      },
      async () => rounds.alone.push(alone(at)),
    ];
    for (let k = 0; k < passes.length; k += 1) await passes[(round + k) % passes.length]();
  }
  return Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
}

/// moto_server on a loopback port, for the Secrets Manager the cold-start rows read; the children
/// inherit its endpoint and test credentials through the environment.
async function startMoto() {
  const { freePort } = await import("./helpers.mjs");
  const port = await freePort();
  const child = spawn(join(root, ".cache/venv/bin/moto_server"), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("moto_server did not start");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
  });
  return { child, endpoint };
}

async function createSecret(endpoint, pem) {
  const { SecretsManagerClient, CreateSecretCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({ region: "us-east-1", endpoint });
  return (await client.send(new CreateSecretCommand({ Name: `reelgate-bench-${process.pid}`, SecretString: pem }))).ARN;
}

/// Waits, if need be, for the start of a cookie bucket (ttl 300 s: 30 s buckets starting at
/// seconds ≡ 1 mod 30), so that the requests of the next ~15 s share one bucket.
async function startOfBucket() {
  const seconds = Date.now() / 1000;
  const into = (Math.floor(seconds) - 1 + 30) % 30;
  if (into >= 15) await new Promise((r) => setTimeout(r, (30 - into - (seconds % 1)) * 1000 + 50));
}

/// The device limit on the session path. Every viewer holds a plan carried in the token
/// (no entitlement read), so the store traffic is the lease's alone. Timed against
/// DynamoDB Local directly; counted in a second container behind a loopback proxy that
/// counts the operations it forwards. Prints one table.
async function devicesBench() {
  const ddb = await startDynamoDbLocal();
  const proxy = await startDynamoProxy(ddb.endpoint);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" });
  const { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } = await import("@aws-sdk/client-dynamodb");
  const raw = new DynamoDBClient({ region: "us-east-1", endpoint: ddb.endpoint, maxAttempts: 2 });
  await raw.send(new CreateTableCommand({
    TableName: "reelgate", BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
  }));
  const loaded = [];
  // A container's DynamoDB client reads AWS_ENDPOINT_URL_DYNAMODB at its first store call.
  async function containerAt(endpoint) {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    const b = await loadBundle(config({ signing: { key_pair_id: "K2EDGETEST", private_key_pem: EC_PEM } }));
    loaded.push(b);
    const warm = await b.handler(event({ headers: bearer(token({ sub: `warm-${loaded.length}`, origin_jti: "o", "reelgate:ent": `v=1;p=${Math.floor(Date.now() / 1000) + 86_400};d=2;g=;c=1` })) }));
    if (warm.status !== "200") throw new Error(`warm-up: ${warm.status} ${warm.body}`);
    return b.handler;
  }
  const quiet = console.log;
  console.log = () => {};
  const rows = [];
  try {
    const timed = await containerAt(ddb.endpoint);
    const counted = await containerAt(proxy.endpoint);
    const until = Math.floor(Date.now() / 1000) + 86_400;
    // Timed requests take indices 0 … ROUNDS × PER_ROUND + 49 (the last 50 warm up), counted ones the next 1000.
    const timedN = ROUNDS * PER_ROUND + 50;
    const n = timedN + 1000;
    let batch = 0;
    /// n tokens: `limit` devices or none, one viewer each (`distinct`) or one sign-in refreshed.
    const tokens = (limit, distinct) => {
      batch += 1;
      const ent = `v=1;p=${until};${limit ? `d=${limit};` : ""}g=;c=1`;
      return Array.from({ length: n }, (_, i) => token({
        sub: distinct ? `bench-${batch}-${i}` : `bench-${batch}`, origin_jti: "origin-1", jti: `j-${batch}-${i}`, "reelgate:ent": ent,
      }));
    };
    const ops = () => ["Query", "PutItem"].map((op) => proxy.count(op));
    /// µs per request (median of rounds) in the timed container, then Query and PutItem per
    /// request over `count` requests of the same shape in the counted one.
    /// `prime` (for the same-bucket rows) is the device's first request, made in each container
    /// at the start of the bucket and left out of the figures: it claims or renews the slot.
    async function row(name, make, count = 200, prime = null) {
      const sameBucket = prime !== null;
      if (sameBucket) {
        await startOfBucket();
        await timed(prime());
      }
      await time(timed, (i) => make(ROUNDS * PER_ROUND + i), 50);
      const rounds = [];
      for (let round = 0; round < ROUNDS; round += 1) rounds.push(await time(timed, (i) => make(round * PER_ROUND + i), PER_ROUND));
      const us = median(rounds);
      if (sameBucket) {
        await startOfBucket();
        await counted(prime());
      }
      const before = ops();
      for (let i = 0; i < count; i += 1) {
        const response = await counted(make(timedN + i));
        if (response.status !== "200") throw new Error(`${name}: ${response.status} ${response.body}`);
      }
      const [queries, puts] = ops().map((v, k) => (v - before[k]) / count);
      rows.push({ name, us, queries, puts, count });
    }
    const unlimited = tokens(0, true);
    await row("no device limit (the lease is skipped), one new viewer per request", (i) => event({ headers: viewer(bearer(unlimited[i % n])) }));
    const fresh = tokens(2, true);
    await row("plan of 2, one new device per request: lease Query + conditional PutItem", (i) => event({ headers: viewer(bearer(fresh[i % n])) }));
    const refreshes = tokens(2, false);
    const first = () => event({ headers: viewer(bearer(refreshes[n - 1])) });
    await row("plan of 2, refreshed token of one device, same bucket (lease remembered)", (i) => event({ headers: viewer(bearer(refreshes[i])) }), 999, first);
    const same = refreshes[0];
    await row("plan of 2, the same request again, same bucket (host replay)", () => event({ headers: viewer(bearer(same)) }), 1000, first);
    // What those two store calls cost alone, made with the same SDK client settings.
    const rawRounds = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < PER_ROUND; i += 1) {
        const pk = { S: `DEVICES#raw-${round}-${i}` };
        await raw.send(new QueryCommand({ TableName: "reelgate", ConsistentRead: true, KeyConditionExpression: "PK = :pk", ExpressionAttributeValues: { ":pk": pk } }));
        await raw.send(new PutItemCommand({
          TableName: "reelgate", Item: { PK: pk, SK: { S: "SLOT#0" }, device: { S: "origin-1" }, expires_at: { N: String(until) } },
          ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now OR #dev = :dev",
          ExpressionAttributeNames: { "#pk": "PK", "#exp": "expires_at", "#dev": "device" },
          ExpressionAttributeValues: { ":now": { N: String(Math.floor(Date.now() / 1000)) }, ":dev": { S: "origin-1" } },
        }));
      }
      rawRounds.push(Number(process.hrtime.bigint() - start) / 1000 / PER_ROUND);
    }
    rows.push({ name: "raw SDK Query + conditional PutItem alone (DynamoDB Local, loopback)", us: median(rawRounds) });
  } finally {
    console.log = quiet;
    loaded.forEach((b) => b.cleanup());
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await proxy.stop();
    await ddb.stop();
  }
  console.log("device limit on the session path (ECDSA) | reelgate µs/req | Query/req | PutItem/req (over N)");
  for (const r of rows) {
    const io = r.count ? `${r.queries.toFixed(3)} | ${r.puts.toFixed(3)} (over ${r.count})` : "1 | 1";
    console.log(`${r.name} | ${r.us.toFixed(1)} | ${io}`);
  }
}

/// Fresh processes per side for the cold-start rows. A cold start is one sample per
/// process, and importing the AWS SDK varies by tens of ms between processes.
const COLD_SAMPLES = 9;

/// `COLD_SAMPLES` results of `run(side)` per side, alternating which side goes first,
/// so neither always follows the other's process (page cache, CPU frequency).
function interleaved(run) {
  const out = { ours: [], peer: [] };
  for (let i = 0; i < COLD_SAMPLES; i += 1) {
    for (const side of i % 2 ? ["peer", "ours"] : ["ours", "peer"]) out[side].push(run(side));
  }
  return out;
}

/// The cold-start row (key inline), interleaved; their RSS after 2 000 viewers feeds
/// `printRss`.
function coldStarts() {
  const cold = interleaved((side) => coldStart(side, EC_PEM));
  const coldOurs = median(cold.ours.map((c) => c.cold_ms));
  const coldPeer = median(cold.peer.map((c) => c.cold_ms));
  console.log(`cold start to first cookie (ECDSA) | ${coldOurs.toFixed(1)} ms | ${coldPeer.toFixed(1)} ms | ${(coldPeer / coldOurs).toFixed(2)}× | ≥2×`);
  return cold;
}

function printRss(cold) {
  const of = (side, field) => median(cold[side].map((c) => c[field]));
  const [rssOurs, rssPeer] = [of("ours", "rss_mb"), of("peer", "rss_mb")];
  console.log(`RSS after 2000 requests | ${rssOurs.toFixed(1)} MB | ${rssPeer.toFixed(1)} MB | ours − peer = ${(rssOurs - rssPeer).toFixed(1)} MB | ≤ +8 MB`);
  console.log(`  of which JS heap | ${of("ours", "heap_mb").toFixed(1)} MB | ${of("peer", "heap_mb").toFixed(1)} MB | WebAssembly memory ${of("ours", "wasm_mb").toFixed(1)} MB |`);
}

export { peerHandler };

if (!process.env.REELGATE_BENCH_CHILD && !import.meta.url.endsWith("?peer") && process.argv.includes("--devices")) {
  await devicesBench();
} else if (!process.env.REELGATE_BENCH_CHILD && !import.meta.url.endsWith("?peer") && process.argv.includes("--rss")) {
  printRss(coldStarts());
} else if (!process.env.REELGATE_BENCH_CHILD && !import.meta.url.endsWith("?peer")) {
  // Our bundle builds one JSON log line per request (a real cost, kept);
  // writing it to a terminal is not what Lambda does, so it goes nowhere.
  const quiet = console.log;
  let logged = 0;
  console.log = (line) => { logged += line.length; };
  const results = [];
  const floors = [];
  for (const [keyName, pem] of [["ECDSA P-256", EC_PEM], ["RSA-2048", RSA_PEM]]) {
    const { handler: ours, cleanup } = await loadBundle(config({ signing: { key_pair_id: "K2EDGETEST", private_key_pem: pem } }));
    const peer = peerHandler(pem);
    const premium = { "cognito:groups": ["premium"] };
    const fixed = token(premium);
    const tokens = Array.from({ length: 2 * ROUNDS * PER_ROUND + 50 }, (_, i) => token({ ...premium, sub: `user-${i}` }));
    const title = (i) => `t${i}`;
    if (keyName === "ECDSA P-256") {
      results.push(await scenario(`warm refresh, same token and title (${keyName})`, ours, peer, () => event({ headers: viewer(bearer(fixed)) })));
      results.push(await scenario(`fresh token, same title (${keyName})`, ours, peer, (i) => event({ headers: viewer(bearer(tokens[i % tokens.length])) })));
    }
    const fresh = (i) => event({ uri: `/session/videos/${title(i)}`, headers: viewer(bearer(tokens[i % tokens.length])) });
    results.push(await scenario(`fresh token, fresh title (${keyName})`, ours, peer, fresh));
    // Tokens and titles the scenario has not used: each request verifies and signs.
    floors.push({ name: keyName, ...(await cryptoBounds(ours, peer, fresh, pem, tokens, ROUNDS * PER_ROUND + 50)) });
    cleanup();
  }
  console.log = quiet;
  const budgets = { "warm refresh": 20, "fresh token, same title": 5, "fresh token, fresh title (RSA": 1.5, "fresh token, fresh title (ECDSA": 8 };
  console.log("scenario | reelgate µs/req | peer µs/req | peer ÷ reelgate | budget");
  for (const r of results) {
    const budget = Object.entries(budgets).find(([k]) => r.name.startsWith(k))?.[1];
    console.log(`${r.name} | ${r.ours.toFixed(1)} | ${r.peer.toFixed(1)} | ${(r.peer / r.ours).toFixed(2)}× | ≥${budget}×`);
  }
  // What no handler can skip for a fresh token and a fresh title: one RS256
  // verification and one policy signature in node:crypto (cryptoBounds).
  for (const f of floors) {
    console.log(`crypto alone, fresh token and title (${f.name}) | ${f.alone.toFixed(1)} | ${f.peer.toFixed(1)} | ${(f.peer / f.alone).toFixed(2)}× at most |`);
    console.log(`crypto inside our handler, fresh token and title (${f.name}) | ${f.inOurs.toFixed(1)} of ${f.ours.toFixed(1)} | ${f.peer.toFixed(1)} | ${(f.peer / f.inOurs).toFixed(2)}× at most |`);
  }
  const cold = coldStarts();
  // The same, with the key in Secrets Manager (moto_server on loopback) as deployed.
  const moto = await startMoto();
  try {
    const secretArn = await createSecret(moto.endpoint, EC_PEM);
    const secret = interleaved((side) => coldStart(side, EC_PEM, secretArn).cold_ms);
    const [o, p] = [median(secret.ours), median(secret.peer)];
    console.log(`cold start to first cookie, key from Secrets Manager incl. SDK import (ECDSA) | ${o.toFixed(1)} ms | ${p.toFixed(1)} ms | ${(p / o).toFixed(2)}× | ≥1× (≤ the peer's)`);
  } finally {
    moto.child.kill("SIGTERM");
  }
  printRss(cold);
  console.log(`dist/edge-auth.zip | ${statSync(join(root, "dist/edge-auth.zip")).size} bytes | | | ≤ 65536`);
  await devicesBench();
}
