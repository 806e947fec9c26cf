// reelgate edge authorizer: the Lambda@Edge viewer-request handler for /session/*.
//
// The decisions are made by the Rust core compiled to WebAssembly. This host
// only does what the core cannot: it reads config.json, holds the node:crypto
// keys, performs the I/O the core asks for (a DynamoDB read, a JWKS refetch,
// a device lease read or conditional write)
// and writes one log line per request. It never logs tokens, cookies or keys.

import { readFileSync } from "node:fs";
import { createPublicKey, randomBytes, sign, verify } from "node:crypto";
import { preloadSdk, signingKeys } from "./signing-key.mjs";

const coldStart = process.hrtime.bigint();
const here = new URL(".", import.meta.url);
const config = JSON.parse(readFileSync(new URL("config.json", here), "utf8"));
// Lambda@Edge sets AWS_REGION to the region the function runs in.
const region = process.env.AWS_REGION ?? "us-east-1";
const STORE_TIMEOUT_MS = 1500;
// The whole store read, both attempts included. The SDK's requestTimeout
// does not fire while a stalled server holds an open connection (measured:
// a SIGSTOPped DynamoDB Local held the read 20 s), so the call itself is
// aborted: the viewer gets 503 well inside Lambda@Edge's 5 s.
const STORE_DEADLINE_MS = 3000;

// --- keys: node:crypto KeyObjects, made once per container ---------------

// The IdP's public keys, by kid. The core installs each key (install_key)
// from a JWKS it accepted, before verifying with it: this host never parses
// a JWKS itself, so it cannot hold keys the core refused.
const publicKeys = new Map();

// --- the WebAssembly core ---------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let memory;
const bytes = (ptr, len) => new Uint8Array(memory.buffer, ptr, len);

const host = {
  install_key(kidPtr, kidLen, jwkPtr, jwkLen) {
    const kid = decoder.decode(bytes(kidPtr, kidLen));
    try {
      publicKeys.set(kid, createPublicKey({ key: JSON.parse(decoder.decode(bytes(jwkPtr, jwkLen))), format: "jwk" }));
      return 0;
    } catch {
      publicKeys.delete(kid);
      return -1;
    }
  },
  sign_policy(slot, ptr, len, sha256, out, cap) {
    const key = signing.key(slot);
    if (!key) return -1;
    const signature = sign(sha256 ? "sha256" : "sha1", bytes(ptr, len), key);
    if (signature.length > cap) return -1;
    bytes(out, signature.length).set(signature);
    return signature.length;
  },
  verify_jws(alg, kidPtr, kidLen, inputPtr, inputLen, sigPtr, sigLen) {
    const key = publicKeys.get(decoder.decode(bytes(kidPtr, kidLen)));
    if (!key) return -1;
    const options = alg === 1 ? { key, dsaEncoding: "ieee-p1363" } : key;
    try {
      return verify("sha256", bytes(inputPtr, inputLen), options, bytes(sigPtr, sigLen)) ? 1 : 0;
    } catch {
      return 0;
    }
  },
};

// A key kept in Secrets Manager needs the SDK: its import runs while the
// WebAssembly below compiles.
preloadSdk(config.signing);
const wasmFile = readFileSync(new URL("reelgate_edge.wasm", here));
const { instance } = await WebAssembly.instantiate(wasmFile, { host });
const core = instance.exports;
memory = core.memory;

// `init` and `resume` take a JSON message; `handle` takes the request in
// the flat layout of edge-auth/src/boundary.rs (`enter`).
function call(name, message) {
  const input = encoder.encode(typeof message === "string" ? message : JSON.stringify(message));
  const ptr = core.alloc(input.length);
  bytes(ptr, input.length).set(input);
  return reply(core[name](ptr, input.length));
}

// boundary.rs's layout: an absent string, and the first byte of an answer
// (any other reply is JSON).
const ABSENT = 0xffffffff;
const ANSWER = 1;
const BODY = 1, TOKEN_CACHE_HIT = 2, REUSE_UNTIL = 4;

/// The core's reply of `len` bytes: `{fetch, exchange}` (JSON), or an answer
/// `{respond, log, tokenCacheHit, reuseUntil}` where `log` is the decision as
/// JSON text, ready for the log line.
function reply(len) {
  const ptr = core.output_ptr();
  if (len === 0 || bytes(ptr, 1)[0] !== ANSWER) return JSON.parse(decoder.decode(bytes(ptr, len)));
  const view = new DataView(memory.buffer, ptr, len);
  const flags = view.getUint8(1);
  const count = view.getUint32(8, true);
  const text = decoder.decode(bytes(ptr + 12 + 4 * count, len - 12 - 4 * count));
  let index = 0;
  let at = 0;
  const next = () => {
    const length = view.getUint32(12 + 4 * index++, true);
    if (length === ABSENT) return undefined;
    at += length;
    return text.slice(at - length, at);
  };
  const status = next();
  const statusDescription = next();
  const log = next();
  const body = flags & BODY ? next() : undefined;
  const headers = {};
  while (index < count) {
    const name = next();
    const key = next();
    const value = next();
    (headers[name] ??= []).push(key === undefined ? { value } : { key, value });
  }
  const respond = body === undefined ? { status, statusDescription, headers } : { status, statusDescription, headers, body };
  return {
    respond,
    log,
    tokenCacheHit: (flags & TOKEN_CACHE_HIT) !== 0,
    reuseUntil: flags & REUSE_UNTIL ? view.getUint32(4, true) : undefined,
  };
}

/// Hands the core one viewer request (`fields` from `coreFields`, or null
/// for an event it must refuse as malformed): each string's UTF-8 written
/// straight into the core's input buffer behind its byte length.
function enter(fields, now) {
  if (!fields) return reply(core.handle(0, now));
  let cap = 0;
  for (const field of fields) cap += 4 + (field === undefined ? 0 : 3 * field.length);
  const ptr = core.input(cap);
  const view = new DataView(memory.buffer);
  let at = ptr;
  for (const field of fields) {
    if (field === undefined) {
      view.setUint32(at, ABSENT, true);
      at += 4;
      continue;
    }
    const { written } = encoder.encodeInto(field, bytes(at + 4, 3 * field.length));
    view.setUint32(at, written, true);
    at += 4 + written;
  }
  return reply(core.handle(at - ptr, now));
}

// The core's caches key their hashes with this container's own secret
// (edge-auth/src/cache.rs, HashKey): the module has no entropy of its own.
const ready = call("init", { config: JSON.stringify(config), region, hash_key: randomBytes(16).toString("hex") });
if (ready.error) throw new Error(`reelgate: invalid config.json: ${ready.error}`);
// Slot 0 signs; slot 1 is the key staged for `signing.next.activate_at`.
// Read from the replicas nearest first; a failed load is retried by later
// requests (signing-key.mjs), never thrown here.
const signing = signingKeys(config.signing, ready.read_regions);
await signing.ensure();

// --- I/O the core asks for ---------------------------------------------------

const dynamoClients = new Map();
// `keys` are the exact DynamoDB keys the core asks for (it owns the schema).
async function readEntitlement({ table, region: replica, keys }) {
  try {
    const { sdk, client } = await dynamo(replica);
    const result = await client.send(new sdk.BatchGetItemCommand({
      RequestItems: { [table]: { Keys: keys } },
    }), { abortSignal: AbortSignal.timeout(STORE_DEADLINE_MS) });
    if (Object.keys(result.UnprocessedKeys ?? {}).length > 0) return { error: "unprocessed_keys" };
    return { items: result.Responses?.[table] ?? [] };
  } catch (error) {
    return { error: error?.name ?? "store_error" };
  }
}

function dynamo(replica) {
  const target = replica ?? region;
  return import("@aws-sdk/client-dynamodb").then((sdk) => {
    if (!dynamoClients.has(target)) {
      dynamoClients.set(target, new sdk.DynamoDBClient({
        region: target,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 500, requestTimeout: STORE_TIMEOUT_MS },
      }));
    }
    return { sdk, client: dynamoClients.get(target) };
  });
}

// Device leases (the core owns the rule, the keys and every condition):
// read a viewer's slots strongly, as the core's `query` says.
async function readLeases({ table, region: replica, query }) {
  try {
    const { sdk, client } = await dynamo(replica);
    const result = await client.send(new sdk.QueryCommand({ TableName: table, ...query }),
      { abortSignal: AbortSignal.timeout(STORE_DEADLINE_MS) });
    return { items: result.Items ?? [] };
  } catch (error) {
    return { error: error?.name ?? "store_error" };
  }
}

// Perform the core's conditional writes in order until one's condition
// holds: `{claimed: index}`, or `{refused: true}` when none did.
async function writeLease({ table, region: replica, writes }) {
  try {
    const { sdk, client } = await dynamo(replica);
    const deadline = AbortSignal.timeout(STORE_DEADLINE_MS);
    for (const [index, write] of writes.entries()) {
      const command = write.put
        ? new sdk.PutItemCommand({ TableName: table, ...write.put })
        : new sdk.DeleteItemCommand({ TableName: table, ...write.delete });
      try {
        await client.send(command, { abortSignal: deadline });
        return { claimed: index };
      } catch (error) {
        if (error?.name !== "ConditionalCheckFailedException") throw error;
      }
    }
    return { refused: true };
  } catch (error) {
    return { error: error?.name ?? "store_error" };
  }
}

const perform = {
  entitlement: (fetch) => readEntitlement(fetch),
  jwks: (fetch) => fetchJwks(fetch.url),
  leases: (fetch) => readLeases(fetch),
  lease: (fetch) => writeLease(fetch),
};

async function fetchJwks(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(STORE_TIMEOUT_MS) });
    if (!response.ok) return { error: `jwks_http_${response.status}` };
    return { body: await response.text() };
  } catch (error) {
    return { error: error?.name ?? "jwks_error" };
  }
}

// --- the handler ---------------------------------------------------------------

let firstRequest = true;

// The core reads these headers only (the first value of each), in the order
// of boundary.rs's REQUEST_HEADERS; viewer requests carry dozens.
const CORE_HEADERS = ["authorization", "origin", "host"];
/// What the core reads of `request`: clientIp, method, uri, querystring and
/// the first value of each of CORE_HEADERS (undefined when absent), or null
/// when the event does not have them as strings.
function coreFields(request) {
  if (!request || typeof request !== "object") return null;
  const fields = [request.clientIp, request.method, request.uri, request.querystring ?? ""];
  if (!fields.every((field) => typeof field === "string")) return null;
  for (const name of CORE_HEADERS) {
    const values = request.headers?.[name];
    if (!values) {
      fields.push(undefined);
      continue;
    }
    if (!Array.isArray(values)) return null;
    const value = values[0]?.value;
    if (values.length > 0 && typeof value !== "string") return null;
    fields.push(value);
  }
  return fields;
}

// Replays. The core marks a grant it would give again, unchanged, to an
// identical request until `reuse_until` (same token, title, entitlement and
// cookie bucket; never past the token's expiry or the refresh time). Such a
// request (a player refreshing, a second tab) is answered here without a
// round trip into WebAssembly. The key is everything the core reads.
// A grant is kept only once its token has been seen before (the core's
// token cache hit): a stream of one-off tokens would otherwise keep ~6 KB
// per request alive, and V8 answers that by growing its young generation
// (RSS 77 MB instead of 62.5 MB after 2 000 viewers, scripts/bench-edge).
const REPLAY_ENTRIES = 256;
const replays = new Map();
/// The replay key of `fields`: everything the core reads, each field behind
/// its length ("-" when absent), so two different requests never share a
/// key. Every request makes one; `JSON.stringify(fields)` did the same at
/// ~2.5× the cost (escaping ~1 KB of token).
function replayKey(fields) {
  let key = "";
  for (const field of fields) key += field === undefined ? "-" : `${field.length}:${field}`;
  return key;
}
function replay(key, now) {
  const hit = replays.get(key);
  if (hit === undefined) return undefined;
  if (now < hit.until) return hit;
  replays.delete(key);
  return undefined;
}
/// `decision` is the core's decision as JSON text.
function remember(key, until, respond, decision) {
  if (replays.size >= REPLAY_ENTRIES) replays.delete(replays.keys().next().value);
  const replayed = { ...JSON.parse(decision), token_cache_hit: true, cookie_cache_hit: true, replayed: true };
  // Frozen: every replay hands out this same object.
  replays.set(key, { until, response: deepFreeze(respond), decision: JSON.stringify(replayed) });
}
function deepFreeze(value) {
  if (value && typeof value === "object") for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}

// One JSON line per request, with CloudWatch Embedded Metric Format counters
// by decision and by reason. Assembled from pre-serialised parts: the line
// is written on every request, so it must be cheap.
const LINE_HEAD = `{"msg":"session","region":${JSON.stringify(region)}`;
const EMF_METRICS = JSON.stringify([{
  Namespace: "reelgate/edge",
  Dimensions: [["decision"], ["reason"]],
  Metrics: [{ Name: "Requests", Unit: "Count" }, { Name: "LatencyMicros", Unit: "Microseconds" }],
}]);
/// `decision` is the core's decision as a JSON object text.
function log(requestId, decision, started) {
  const latencyUs = Number((process.hrtime.bigint() - started) / 1000n);
  let line = `${LINE_HEAD},"request_id":${JSON.stringify(requestId ?? null)},${decision.slice(1, -1)}`;
  line += `,"latency_us":${latencyUs},"cold":${firstRequest}`;
  if (firstRequest) line += `,"cold_start_us":${Number((started - coldStart) / 1000n)}`;
  line += `,"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":${EMF_METRICS}},"Requests":1,"LatencyMicros":${latencyUs}}`;
  firstRequest = false;
  console.log(line);
}

export const handler = async (event) => {
  const started = process.hrtime.bigint();
  const cf = event?.Records?.[0]?.cf;
  const fields = coreFields(cf?.request);
  const key = fields && replayKey(fields);
  // A logout may release a device's lease: answers replayed from before it
  // would hand that device cookies without one.
  if (cf?.request?.method === "DELETE") replays.clear();
  const hit = key && replay(key, Date.now() / 1000);
  if (hit) {
    log(cf?.config?.requestId, hit.decision, started);
    return hit.response;
  }
  const loading = signing.ensure();
  if (loading) await loading;
  // The core decides everything, including when to give up (io_loop):
  // this host performs the fetch a reply names and hands back the result.
  let out = enter(fields, Math.floor(Date.now() / 1000));
  while (out.fetch) {
    const result = await (perform[out.fetch.kind] ?? (() => ({ error: "unknown_fetch" })))(out.fetch);
    out = call("resume", JSON.stringify({ exchange: out.exchange, now: Math.floor(Date.now() / 1000), ...result }));
  }
  if (key && out.reuseUntil && out.tokenCacheHit) remember(key, out.reuseUntil, out.respond, out.log);
  log(cf?.config?.requestId, out.log, started);
  return out.respond;
};
