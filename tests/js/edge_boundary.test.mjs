// The bundle's request and answer across the WebAssembly boundary
// (edge-auth/src/boundary.rs's flat layout, index.mjs's coreFields, enter
// and reply): events whose fields are not strings are refused as
// malformed_request, never thrown; an empty header list is an absent
// header; non-ASCII text survives the trip both ways; the answer has
// exactly the Lambda@Edge shape.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { bearer, captureLogs, config, coreInit, event, loadBundle, token } from "./helpers.mjs";

let bundle;
before(async () => {
  bundle = await loadBundle(config({ cors_origins: ["https://app.example"], cookie: { ttl_seconds: 300, same_site: "None" } }));
});
after(() => bundle?.cleanup());

const handle = async (ev) => {
  const { result: response, lines } = await captureLogs(() => bundle.handler(ev));
  return { response, log: JSON.parse(lines.at(-1)) };
};
const reason = (response) => JSON.parse(response.body).error;

test("an event whose request fields are not strings is refused as malformed_request", async () => {
  const bad = [
    (ev) => delete ev.Records[0].cf.request.clientIp,
    (ev) => { ev.Records[0].cf.request.uri = 7; },
    (ev) => { ev.Records[0].cf.request.method = null; },
    (ev) => { ev.Records[0].cf.request.headers.authorization = "Bearer x"; },
    (ev) => { ev.Records[0].cf.request.headers.authorization = [{ key: "Authorization", value: 1 }]; },
    (ev) => { ev.Records[0].cf.request = null; },
  ];
  for (const spoil of bad) {
    const ev = event({ headers: bearer(token({ "reelgate:ent": "v=1;g=demo;c=1" })) });
    spoil(ev);
    const { response, log } = await handle(ev);
    assert.equal(response.status, "400", spoil.toString());
    assert.equal(reason(response), "malformed_request");
    assert.equal(log.reason, "malformed_request");
  }
  const { response } = await handle({});
  assert.equal(reason(response), "malformed_request");
});

test("a missing querystring is empty, and an empty header list is an absent header", async () => {
  const ev = event({ headers: bearer(token({ "reelgate:ent": "v=1;g=demo;c=1" })) });
  delete ev.Records[0].cf.request.querystring;
  assert.equal((await handle(ev)).response.status, "200");
  const empty = event();
  empty.Records[0].cf.request.headers.authorization = [];
  const { response } = await handle(empty);
  assert.equal(response.status, "401");
  assert.equal(reason(response), "token_missing");
});

test("only the first value of a header counts, as in the core", async () => {
  const ev = event();
  ev.Records[0].cf.request.headers.authorization = [
    { key: "Authorization", value: `Bearer ${token({ "reelgate:ent": "v=1;g=demo;c=1" })}` },
    { key: "Authorization", value: "Bearer second" },
  ];
  assert.equal((await handle(ev)).response.status, "200");
});

test("non-ASCII text crosses both ways intact", async () => {
  // Not a valid id: refused by the core, which saw the whole path.
  const { response, log } = await handle(event({ uri: "/session/videos/vidéo-✓-😀" }));
  assert.equal(response.status, "400");
  assert.equal(reason(response), "invalid_video_id");
  assert.equal(log.reason, "invalid_video_id");
  // An allowed origin is echoed byte for byte; a look-alike with a non-ASCII letter is not.
  const tok = token({ "reelgate:ent": "v=1;g=demo;c=1" });
  const ok = await handle(event({ headers: { ...bearer(tok), Origin: "https://app.example" } }));
  assert.equal(ok.response.headers["access-control-allow-origin"][0].value, "https://app.example");
  const lookalike = await handle(event({ headers: { ...bearer(tok), Origin: "https://аpp.example" } }));
  assert.equal(lookalike.response.headers["access-control-allow-origin"], undefined);
});

test("the answer has the Lambda@Edge shape: status strings, {key, value} headers, a body only when there is one", async () => {
  const tok = token({ "reelgate:ent": "v=1;g=demo;c=1" });
  const { response, log } = await handle(event({ headers: bearer(tok) }));
  assert.deepEqual(Object.keys(response), ["status", "statusDescription", "headers", "body"]);
  assert.equal(response.statusDescription, "OK");
  for (const [name, values] of Object.entries(response.headers)) {
    for (const value of values) {
      assert.deepEqual(Object.keys(value), ["key", "value"]);
      assert.equal(value.key.toLowerCase(), name);
    }
  }
  assert.equal(response.headers["set-cookie"].length, 3);
  assert.equal(JSON.parse(response.body).video_id, "demo");
  assert.equal(log.decision, "allow");
  const redirect = await handle(event({ querystring: "redirect=1", headers: bearer(tok) }));
  assert.equal(redirect.response.status, "302");
  assert.equal("body" in redirect.response, false);
});

test("the module starts only with the host's 16 random bytes for its caches' hashes", async () => {
  // WebAssembly has no entropy of its own (edge-auth/src/cache.rs, HashKey):
  // an init message without the key, or with one that is not 32 hex digits,
  // is refused, so no host can run the core with predictable hashes.
  const base = { config: JSON.stringify(config()), region: "us-east-1" };
  assert.match((await coreInit(base)).error, /missing field `hash_key`/);
  for (const hash_key of ["", "00", "zz".repeat(16), "+0".repeat(16), "0".repeat(34)]) {
    assert.equal((await coreInit({ ...base, hash_key })).error, "init message: hash_key must be 32 hex digits", hash_key);
  }
  assert.equal((await coreInit({ ...base, hash_key: "0123456789abcdefABCDEF0123456789" })).ok, true);
});
