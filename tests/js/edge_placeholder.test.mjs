// The edge function's own code as the template deploys it (dist/edge-lambda: the bundle with
// infra/edge-placeholder.json as config.json). It runs as $LATEST until the EdgeConfig custom
// resource has configured it, so it must refuse every viewer: no cookies, whatever the token.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { bearer, captureLogs, event, loadBundle, root, token } from "./helpers.mjs";

const placeholder = JSON.parse(readFileSync(join(root, "infra/edge-placeholder.json"), "utf8"));
const shipped = JSON.parse(readFileSync(join(root, "dist/edge-lambda/config.json"), "utf8"));

// No AWS here: the placeholder's secret lookups go to a closed loopback port.
process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = "http://127.0.0.1:9";
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";
process.env.AWS_REGION = "us-east-1";

const loaded = [];
after(() => loaded.forEach((b) => b.cleanup()));

test("the deployed bundle carries the placeholder config, not a development one", () => {
  assert.deepEqual(shipped, placeholder);
  assert.equal(shipped.allow_public_test_keys, undefined);
  assert.equal(shipped.signing.private_key_pem, undefined);
});

test("the placeholder refuses a viewer with a well-formed token and sets no cookie", async () => {
  const bundle = await captureLogs(() => loadBundle(placeholder));
  loaded.push(bundle.result);
  const owns = { "reelgate:ent": "v=1;g=demo;c=1", iss: placeholder.issuer, client_id: placeholder.client_ids[0] };
  const { result: response } = await captureLogs(() => bundle.result.handler(event({ headers: bearer(token(owns)) })));
  assert.equal(response.status, "401", response.body);
  assert.equal(response.headers["set-cookie"], undefined);
});
