// The real Lambda@Edge bundle run as it runs in AWS: in each regional edge
// cache region (AWS_REGION), its signing key in a Secrets Manager secret
// (moto_server on loopback) created in the stack's home region and
// replicated to the table's other replica regions, as infra/template.yaml
// does (ARCHITECTURE §12). Every region must serve cookies that verify; a
// missing or unusable secret must answer 503 signing_unavailable and recover
// without a restart once the secret is there. With the table in DynamoDB Local
// (one table per replica region), the store decides in every region too.
// Run by scripts/test after scripts/build-edge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";

import {
  bearer, captureLogs, config, cookieHeader, event, freePort, loadBundle, root, signingPem, startDynamoDbLocal, token,
  verifyCookies,
} from "./helpers.mjs";

const BASE = "https://d111111abcdef8.cloudfront.net";
const HOME = "us-east-1";
const REPLICAS = [HOME, "eu-west-1", "ap-southeast-1"];
/// The 13 regional edge cache regions AWS lists, plus regions where new
/// edge caches appear and whose continent has no replica.
const EDGE_REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-central-1", "eu-west-1", "eu-west-2",
  "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
  "eu-west-3", "ca-central-1", "me-central-1", "af-south-1", "il-central-1",
];
/// Recovery must come within this bound: the retry backoff of
/// signing-key.mjs starts at 1 s and doubles.
const RECOVERY_MS = 10000;

let moto;
let secretsEndpoint;
before(async () => {
  const port = await freePort();
  const logFile = openSync(join(root, "tests/js/.moto-edge-regions.log"), "w");
  const child = spawn(join(root, ".cache/venv/bin/moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", logFile, logFile],
  });
  moto = child;
  secretsEndpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(`${secretsEndpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("moto_server did not start");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // What the Lambda runtime provides, pointed at the emulator.
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsEndpoint;
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
});
after(() => moto?.kill("SIGTERM"));

const loaded = [];
after(() => loaded.forEach((b) => b.cleanup()));
/// A new container of the real bundle running in `region`.
async function container(region, secretArn) {
  process.env.AWS_REGION = region;
  const cfg = config({
    signing: { key_pair_id: "K2EDGETEST", private_key_secret_arn: secretArn, hash: "sha1" },
    table: { name: "reelgate", replica_regions: REPLICAS },
  });
  const bundle = await loadBundle(cfg);
  loaded.push(bundle);
  return bundle.handler;
}

async function secretsManager(region) {
  const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  return new SecretsManagerClient({ region, endpoint: secretsEndpoint });
}

/// Creates the signing-key secret as the template does: in the home region,
/// replicated to the table's other replica regions.
async function createSecret(name, value, replicaRegions = REPLICAS.slice(1)) {
  const { CreateSecretCommand } = await import("@aws-sdk/client-secrets-manager");
  const created = await (await secretsManager(HOME)).send(new CreateSecretCommand({
    Name: name,
    SecretString: value,
    AddReplicaRegions: replicaRegions.map((Region) => ({ Region })),
  }));
  return created.ARN;
}

const owns = (video) => ({ "reelgate:ent": `v=1;g=${video};c=1` });
const play = (handler) => handler(event({ headers: bearer(token(owns("demo"))) }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Plays as a viewer's player retries: until a 200 or RECOVERY_MS.
async function playUntilServed(handler) {
  const deadline = Date.now() + RECOVERY_MS;
  for (;;) {
    const response = await quiet(() => play(handler));
    if (response.status === "200" || Date.now() > deadline) return response;
    await sleep(250);
  }
}

// Quiet the bundle's per-request log lines; a failing assertion still says what went wrong.
const quiet = async (fn) => {
  const original = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = original;
  }
};

describe("a viewer gets cookies that verify in every edge region", () => {
  let arn;
  before(async () => {
    arn = await createSecret("reelgate-SigningKeyASecret-serves", signingPem);
  });
  for (const region of EDGE_REGIONS) {
    test(region, async () => {
      const response = await quiet(async () => play(await container(region, arn)));
      assert.equal(response.status, "200", response.body);
      assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(response)), "valid");
    });
  }
});

test("the nearest replica missing, the edge falls back to the next one", async () => {
  // Not replicated to ap-southeast-1: ap-northeast-1 reads it first, then the home region.
  const arn = await createSecret("reelgate-SigningKeyASecret-fallback", signingPem, ["eu-west-1"]);
  const response = await quiet(async () => play(await container("ap-northeast-1", arn)));
  assert.equal(response.status, "200", response.body);
  assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(response)), "valid");
});

describe("a missing secret answers 503 signing_unavailable, then recovers without a restart", () => {
  const name = "reelgate-SigningKeyASecret-late";
  // The ARN the stack will have; moto appends a random suffix on creation,
  // so the edge is configured with the partial ARN Secrets Manager also accepts.
  const arn = `arn:aws:secretsmanager:${HOME}:123456789012:secret:${name}`;
  const handlers = new Map();
  before(async () => {
    for (const region of EDGE_REGIONS) handlers.set(region, await quiet(() => container(region, arn)));
  });

  test("every region answers 503 signing_unavailable while the secret is missing", async () => {
    for (const region of EDGE_REGIONS) {
      const response = await quiet(() => play(handlers.get(region)));
      assert.equal(response.status, "503", `${region}: ${response.body}`);
      assert.deepEqual(JSON.parse(response.body), { error: "signing_unavailable" }, region);
    }
  });

  test("every region serves once the secret exists, in the same container", async () => {
    await createSecret(name, signingPem);
    for (const region of EDGE_REGIONS) {
      const response = await playUntilServed(handlers.get(region));
      assert.equal(response.status, "200", `${region}: ${response.body}`);
      assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(response)), "valid", region);
    }
  });
});

describe("a stalled Secrets Manager (accepts, never answers) answers 503 in time, then recovers without a restart", () => {
  const name = "reelgate-SigningKeyASecret-stalled";
  const arn = `arn:aws:secretsmanager:${HOME}:123456789012:secret:${name}`;
  const regions = ["eu-central-1", "ap-southeast-1"];
  const handlers = new Map();
  // In front of moto: holds every connection while stalled, then pipes new ones through.
  let stalled = true;
  const held = [];
  const proxy = createServer((socket) => {
    if (stalled) return held.push(socket);
    const upstream = connect(Number(new URL(secretsEndpoint).port), "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    for (const end of [socket, upstream]) end.on("error", () => { socket.destroy(); upstream.destroy(); });
  });
  before(async () => {
    await createSecret(name, signingPem);
    await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${proxy.address().port}`;
    try {
      for (const region of regions) {
        const started = Date.now();
        handlers.set(region, await quiet(() => container(region, arn)));
        handlers.get(region).loadMs = Date.now() - started;
      }
    } finally {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsEndpoint;
    }
  });
  after(() => {
    for (const socket of held) socket.destroy();
    proxy.close();
  });

  test("the container loads and answers 503 signing_unavailable within Lambda@Edge's 5 s", { timeout: 30_000 }, async () => {
    for (const region of regions) {
      assert.ok(handlers.get(region).loadMs < 5000, `${region}: the module took ${handlers.get(region).loadMs} ms to load`);
      const started = Date.now();
      const response = await quiet(() => play(handlers.get(region)));
      const waited = Date.now() - started;
      assert.equal(response.status, "503", `${region}: ${response.body}`);
      assert.deepEqual(JSON.parse(response.body), { error: "signing_unavailable" }, region);
      assert.ok(waited < 5000, `${region}: answered after ${waited} ms`);
    }
    assert.ok(held.length > 0, "the edge did try Secrets Manager");
  });

  test("once Secrets Manager answers again, the same containers serve", { timeout: 30_000 }, async () => {
    stalled = false;
    for (const region of regions) {
      const response = await playUntilServed(handlers.get(region));
      assert.equal(response.status, "200", `${region}: ${response.body}`);
      assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(response)), "valid", region);
    }
  });
});

describe("a secret still holding the stack's generated placeholder answers 503, then serves once the key is put", () => {
  let arn;
  let handler;
  before(async () => {
    // CloudFormation creates the secret with a random string; the operator puts the PEM afterwards.
    arn = await createSecret("reelgate-SigningKeyASecret-placeholder", "GeneratedPlaceholder0123456789ab");
    handler = await quiet(() => container("eu-central-1", arn));
  });

  test("the placeholder gives 503 signing_unavailable", async () => {
    const response = await quiet(() => play(handler));
    assert.equal(response.status, "503", response.body);
    assert.deepEqual(JSON.parse(response.body), { error: "signing_unavailable" });
  });

  test("the put key serves without a restart", async () => {
    const { PutSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    await (await secretsManager(HOME)).send(new PutSecretValueCommand({ SecretId: arn, SecretString: signingPem }));
    const response = await playUntilServed(handler);
    assert.equal(response.status, "200", response.body);
    assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(response)), "valid");
  });
});

describe("the store decides in every edge region (a table per replica region in DynamoDB Local)", () => {
  let ddb;
  let arn;
  before(async () => {
    arn = await createSecret("reelgate-SigningKeyASecret-store", signingPem);
    ddb = await startDynamoDbLocal();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    const now = Math.floor(Date.now() / 1000);
    // DynamoDB Local keeps one database per region: each replica region gets its copy.
    for (const region of REPLICAS) {
      const client = new DynamoDBClient({ region, endpoint: ddb.endpoint });
      await client.send(new CreateTableCommand({
        TableName: "reelgate", BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
      }));
      await client.send(new PutItemCommand({
        TableName: "reelgate",
        Item: { PK: { S: "USER#buyer" }, SK: { S: "VIDEO#demo" }, source: { S: "purchase" }, granted_at: { N: String(now - 60) }, purchase_id: { S: "evt_1" } },
      }));
    }
  });
  after(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await ddb?.stop();
  });

  const ask = (handler, sub) => captureLogs(() => handler(event({ headers: bearer(token({ sub })) })));

  test("a buyer known only to the store gets cookies that verify in every region", async () => {
    for (const region of EDGE_REGIONS) {
      const { result, lines } = await ask(await container(region, arn), "buyer");
      assert.equal(result.status, "200", `${region}: ${result.body}`);
      assert.equal(JSON.parse(lines.at(-1)).entitlement_source, "store", region);
      assert.equal(verifyCookies(`${BASE}/videos/demo/master.m3u8`, cookieHeader(result)), "valid", region);
    }
  });

  test("a viewer without a grant gets 403 not_entitled in every region", async () => {
    for (const region of EDGE_REGIONS) {
      const { result } = await ask(await container(region, arn), "nobody");
      assert.equal(result.status, "403", `${region}: ${result.body}`);
      assert.equal(JSON.parse(result.body).error, "not_entitled", region);
    }
  });

  test("an unreachable store gives 503 entitlement_unavailable in every region", async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
    try {
      for (const region of EDGE_REGIONS) {
        const { result } = await ask(await container(region, arn), "buyer");
        assert.equal(result.status, "503", `${region}: ${result.body}`);
        assert.deepEqual(JSON.parse(result.body), { error: "entitlement_unavailable" }, region);
        assert.equal(result.headers["set-cookie"], undefined, region);
      }
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    }
  });
});
