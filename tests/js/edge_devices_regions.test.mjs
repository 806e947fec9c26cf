// The device limit across regions (docs/devices.md, "What the limit
// guarantees"), on the twinned global table of replicator.mjs: each region's
// bundle claims slots in its nearest replica, replication is asynchronous
// (LAG_MS) and last-writer-wins. Checks the documented bound as the code
// meets it: devices racing in R regions within one replication window are
// admitted up to R × max_devices, never more; once replication converges
// the replicas agree on max_devices leases; a device whose lease was
// overwritten keeps only the cookies it has (≤ ttl + one bucket) and is
// refused from its next cookie bucket on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";

import { bearer, config, event, loadBundle, startDynamoDbLocal, token } from "./helpers.mjs";
import { CREDENTIALS, Replicator } from "./replicator.mjs";

const HOME = "us-east-1";
const FAR = "ap-southeast-2";
const TABLE = "reelgate";
/// Long enough that a warm race finishes inside it even on a loaded machine.
const LAG_MS = 3000;
const LIMIT = 2;

let ddb;
let replicator;
const loaded = [];
const quiet = console.log;

before(async () => {
  console.log = () => {};
  ddb = await startDynamoDbLocal();
  const arns = new Map();
  for (const region of [HOME, FAR]) {
    const client = new DynamoDBClient({ region, endpoint: ddb.endpoint, credentials: CREDENTIALS });
    const { TableDescription } = await client.send(new CreateTableCommand({
      TableName: TABLE, BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }, { AttributeName: "SK", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }, { AttributeName: "SK", KeyType: "RANGE" }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }));
    arns.set(region, TableDescription.LatestStreamArn);
  }
  replicator = new Replicator(ddb.endpoint, [HOME, FAR], LAG_MS, TABLE);
  await replicator.start(arns);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });
});
after(async () => {
  console.log = quiet;
  loaded.forEach((b) => b.cleanup());
  await replicator?.stop();
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.AWS_REGION;
  await ddb?.stop();
});

/// A Lambda@Edge container in `region` (the bundle reads AWS_REGION at load), reading and
/// writing its nearest replica.
async function containerIn(region) {
  process.env.AWS_REGION = region;
  const b = await loadBundle(config({ table: { name: TABLE, replica_regions: [HOME, FAR] } }));
  loaded.push(b);
  return b.handler;
}

async function leases(region, sub) {
  const out = await replicator.tables.get(region).send(new QueryCommand({
    TableName: TABLE, ConsistentRead: true, KeyConditionExpression: "PK = :pk",
    ExpressionAttributeValues: { ":pk": { S: `DEVICES#${sub}` } },
  }));
  return (out.Items ?? []).map((i) => `${i.SK.S}=${i.device.S}`).sort();
}

/// Waits, if need be, for the start of a 30 s cookie bucket, so the race and the
/// same-bucket checks after it share one bucket.
async function startOfBucket() {
  const seconds = Date.now() / 1000;
  const into = (Math.floor(seconds) - 1 + 30) % 30;
  if (into >= 15) await new Promise((r) => setTimeout(r, (30 - into - (seconds % 1)) * 1000 + 50));
}

test("devices racing in two regions within the replication lag: up to 2 × max_devices admitted, then the limit again", async () => {
  const sub = `traveller-${process.pid}`;
  const ent = `v=1;p=${Math.floor(Date.now() / 1000) + 86_400};d=${LIMIT};g=;c=1`;
  const signIn = (origin) => token({ sub, origin_jti: origin, jti: `j-${Math.random().toString(36).slice(2)}`, "reelgate:ent": ent });
  // Three devices per region, each its own container.
  const devices = [];
  for (const region of [HOME, FAR]) {
    for (let i = 0; i < 3; i += 1) devices.push({ region, origin: `${region}-device-${i}`, handler: await containerIn(region) });
  }
  // Warm each container (SDK loaded, client made) on a viewer of its own, so the race itself takes milliseconds.
  for (const [i, d] of devices.entries()) {
    const warm = await d.handler(event({ headers: bearer(token({ sub: `warm-${i}-${process.pid}`, origin_jti: "w", "reelgate:ent": ent })) }));
    assert.equal(warm.status, "200", warm.body);
  }
  await startOfBucket();
  const raceAt = Math.floor(Date.now() / 1000);
  const answers = await Promise.all(devices.map((d) => d.handler(event({ headers: bearer(signIn(d.origin)) }))));
  const admitted = devices.filter((_, i) => answers[i].status === "200");
  for (const [i, answer] of answers.entries()) {
    if (answer.status !== "200") assert.equal(JSON.parse(answer.body).error, "device_limit", `${devices[i].origin}: ${answer.body}`);
  }
  // By how much: each region's replica admits max_devices on its own, never more.
  for (const region of [HOME, FAR]) {
    assert.equal(admitted.filter((d) => d.region === region).length, LIMIT, `${region}: ${JSON.stringify(answers.map((a) => a.status))}`);
  }
  assert.equal(admitted.length, 2 * LIMIT, "R × max_devices with R = 2 regions");
  // The excess holds only the cookies it got: at most ttl + one bucket (330 s).
  for (const answer of answers.filter((a) => a.status === "200")) assert.ok(JSON.parse(answer.body).expires_at - raceAt <= 330);

  // Replication converges: both replicas hold the same max_devices leases, the last writer's per slot.
  await replicator.settle();
  const home = await leases(HOME, sub);
  assert.deepEqual(await leases(FAR, sub), home);
  assert.equal(home.length, LIMIT, JSON.stringify(home));
  const winners = new Set(home.map((l) => l.split("=")[1]));
  const losers = admitted.filter((d) => !winners.has(d.origin));
  assert.equal(losers.length, LIMIT, "the overwritten leases' devices");

  // Within the bucket their containers still remember their leases and hand out the same cookies (no later expiry).
  for (const d of losers) {
    const again = await d.handler(event({ headers: bearer(signIn(d.origin)) }));
    assert.equal(again.status, "200");
    assert.ok(JSON.parse(again.body).expires_at - raceAt <= 330);
  }
  // From the next cookie bucket on, every request is checked against the converged replica:
  // the winners renew their own slots, the losers are refused. (The bundle's clock, moved 30 s.)
  const realNow = Date.now;
  try {
    const later = realNow() + 30_000;
    Date.now = () => later;
    for (const d of admitted) {
      const next = await d.handler(event({ headers: bearer(signIn(d.origin)) }));
      if (winners.has(d.origin)) assert.equal(next.status, "200", `${d.origin}: ${next.body}`);
      else assert.deepEqual([next.status, JSON.parse(next.body)], ["403", { error: "device_limit", active: LIMIT, max_devices: LIMIT }], d.origin);
    }
  } finally {
    Date.now = realNow;
  }
});
