// The DynamoDB global table, twinned: one table per region in DynamoDB Local
// (it keeps a database per region), each with a stream, and a replicator
// between them that does what global tables do: apply each region's writes
// to the others after a lag, last writer wins. On it, the deployed path: the
// API and the pre-token step of `reelgate dev --dynamodb-endpoint` write and
// read the home region, the real bundle runs as Lambda@Edge in a far region
// and reads its nearest replica.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { openSync } from "node:fs";
import { join } from "node:path";

import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

import {
  bearer, captureLogs, config, cookieHeader, event, freePort, loadBundle, reelgateBin, root, startDynamoDbLocal,
  verifyCookies,
} from "./helpers.mjs";
import { CREDENTIALS, Replicator } from "./replicator.mjs";

const HOME = "us-east-1";
const FAR = "ap-southeast-2";
const TABLE = "reelgate";
/// How long a write takes to reach the other region (global tables: typically under a second, sometimes more).
const LAG_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let ddb;
let replicator;
let dev;
let base;
let devConfig;
let issuer;
let jwks;

async function createTable(region) {
  const client = new DynamoDBClient({ region, endpoint: ddb.endpoint, credentials: CREDENTIALS });
  const { TableDescription } = await client.send(new CreateTableCommand({
    TableName: TABLE, BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
  }));
  return TableDescription.LatestStreamArn;
}

async function idp(flow, parameters) {
  const response = await fetch(`${base}/idp/`, {
    method: "POST",
    headers: { "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth", "Content-Type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ AuthFlow: flow, ClientId: devConfig.client_id, AuthParameters: parameters }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).AuthenticationResult.AccessToken;
}
const signIn = (username) => idp("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: "demo-password" });
const claimsOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url"));

async function webhook(body) {
  const text = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", devConfig.webhook_secret).update(`${t}.${text}`).digest("hex");
  const response = await fetch(`${base}/api/webhooks/payments`, {
    method: "POST", headers: { "content-type": "application/json", "reelgate-signature": `t=${t},v1=${v1}` }, body: text,
  });
  return [response.status, await response.json()];
}

/// A new Lambda@Edge container in the far region, configured as the stack's
/// edge is (its issuer, client and keys), reading the table's replicas.
const containers = [];
async function farEdge() {
  process.env.AWS_REGION = FAR;
  const bundle = await loadBundle(config({
    issuer,
    client_ids: [devConfig.client_id],
    jwks,
    allow_public_test_keys: true,
    // Claims never say no: a token from before a purchase asks the store.
    cache: { claims_trusted_seconds: 0 },
    table: { name: TABLE, replica_regions: [HOME, FAR] },
  }));
  containers.push(bundle);
  return (token, video) => captureLogs(() => bundle.handler(event({ uri: `/session/videos/${video}`, headers: bearer(token) })));
}

before(async () => {
  ddb = await startDynamoDbLocal();
  const arns = new Map();
  for (const region of [HOME, FAR]) arns.set(region, await createTable(region));
  replicator = new Replicator(ddb.endpoint, [HOME, FAR], LAG_MS, TABLE);
  await replicator.start(arns);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const log = openSync(join(root, "tests/js/.global-table-dev.log"), "w");
  dev = spawn(reelgateBin, ["dev", "--port", String(port), "--dynamodb-endpoint", ddb.endpoint, "--table", TABLE], {
    cwd: root, stdio: ["ignore", log, log],
  });
  for (let i = 0; ; i += 1) {
    if (dev.exitCode !== null) throw new Error(`reelgate dev exited with ${dev.exitCode}: see tests/js/.global-table-dev.log`);
    try {
      if ((await fetch(`${base}/dev/config`)).ok) break;
    } catch {
      if (i > 300) throw new Error("reelgate dev did not start");
    }
    await sleep(100);
  }
  devConfig = await (await fetch(`${base}/dev/config`)).json();
  jwks = await (await fetch(`${base}/idp/.well-known/jwks.json`)).json();
  issuer = claimsOf(await signIn("alice")).iss;
  // The stack seeded the home table; let the seed reach the far region.
  await replicator.settle();
});

after(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
  await replicator?.stop();
  containers.forEach((b) => b.cleanup());
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await ddb?.stop();
});

describe("a purchase in the home region, seen from a far edge region", () => {
  let before;
  let after;
  test("a fresh token plays at once, from its claims, before replication", async () => {
    before = await signIn("carol");
    const [status, body] = await webhook({
      event_id: "evt_twin_purchase", type: "purchase.succeeded", user_sub: claimsOf(before).sub, video_id: "trailer",
    });
    assert.deepEqual([status, body.status], [200, "applied"]);
    after = await signIn("carol");
    const play = await farEdge();
    const { result, lines } = await play(after, "trailer");
    assert.equal(result.status, "200", result.body);
    assert.equal(JSON.parse(lines.at(-1)).entitlement_source, "claims");
    assert.equal(verifyCookies("https://d111111abcdef8.cloudfront.net/videos/trailer/master.m3u8", cookieHeader(result), {}), "valid");
  });

  test("a token from before the purchase is refused by the far replica until replication arrives", async () => {
    const play = await farEdge();
    const { result, lines } = await play(before, "trailer");
    assert.equal(result.status, "403", result.body);
    assert.equal(JSON.parse(result.body).error, "not_entitled");
    assert.equal(JSON.parse(lines.at(-1)).entitlement_source, "store");
  });

  test("once replicated, the same token plays from the far replica's store", async () => {
    await replicator.settle();
    const play = await farEdge();
    const { result, lines } = await play(before, "trailer");
    assert.equal(result.status, "200", result.body);
    assert.equal(JSON.parse(lines.at(-1)).entitlement_source, "store");
  });
});

describe("conflicting writes in two regions", () => {
  test("converge on the later one in both regions, last writer wins", async () => {
    const key = { PK: { S: "TWIN#conflict" }, SK: { S: "ITEM" } };
    const put = (region, value) => replicator.tables.get(region).send(new PutItemCommand({ TableName: TABLE, Item: { ...key, value: { S: value } } }));
    await put(HOME, "written first, at home");
    await sleep(1100);
    await put(FAR, "written later, far away");
    await replicator.settle();
    for (const region of [HOME, FAR]) {
      const { Item } = await replicator.tables.get(region).send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
      assert.equal(Item?.value?.S, "written later, far away", region);
    }
  });
});
