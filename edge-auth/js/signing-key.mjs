// The edge's CloudFront signing keys as node:crypto KeyObjects (ARCHITECTURE §12).
//
// Slot 0 signs; slot 1 is the key staged to take over at
// `signing.next.activate_at`. In AWS each key is a Secrets Manager secret
// replicated to the table's replica regions, while Lambda@Edge runs in
// whichever regional edge cache region is nearest the viewer, usually not
// one of them. So a slot is read from the replicas in the order the core
// names at init (`read_regions`: nearest first, the store's rule), falling
// through to the next replica on any failure.
//
// A slot that could not be loaded is retried on a later request, after a
// backoff that doubles up to MAX_BACKOFF_MS, instead of failing the module
// load (which would poison the container until Lambda recycles it).
// Meanwhile the slot is empty: the host's sign_policy refuses, and the core
// answers 503 signing_unavailable.

import { createPrivateKey } from "node:crypto";

const ATTEMPT_TIMEOUT_MS = 1000;
/// A cold request waits at most this long for its keys, whatever the number
/// of replicas: Lambda@Edge viewer requests end at 5 s, and the store read
/// still has to fit.
const LOAD_BUDGET_MS = 2000;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

/// The same secret's ARN in another region: a replica keeps the name and
/// suffix and changes only the region field.
export function arnInRegion(arn, region) {
  const parts = arn.split(":");
  if (parts.length < 7 || parts[2] !== "secretsmanager") throw new Error("not a Secrets Manager secret ARN");
  parts[3] = region;
  return parts.join(":");
}

/// The SDK's module, imported once. `preloadSdk` starts the import before
/// the host compiles its WebAssembly, so the two overlap at cold start
/// (V8 compiles WebAssembly off the main thread); a failed import is tried
/// again by the next load.
let sdk = null;
function secretsManager() {
  sdk ??= import("@aws-sdk/client-secrets-manager").catch((error) => {
    sdk = null;
    throw error;
  });
  return sdk;
}

/// Starts importing the SDK when `signing` (the config's `signing` object)
/// keeps a key in Secrets Manager; otherwise does nothing. Never throws.
export function preloadSdk(signing) {
  const slots = [signing, signing?.next];
  if (slots.some((slot) => slot?.private_key_secret_arn)) secretsManager().catch(() => {});
}

const clients = new Map();
async function readSecret(arn, region, deadline) {
  const { SecretsManagerClient, GetSecretValueCommand } = await secretsManager();
  if (!clients.has(region)) {
    clients.set(region, new SecretsManagerClient({
      region,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 500, requestTimeout: ATTEMPT_TIMEOUT_MS },
    }));
  }
  const remaining = Math.max(1, deadline - Date.now());
  const secret = await clients.get(region).send(
    new GetSecretValueCommand({ SecretId: arnInRegion(arn, region) }),
    { abortSignal: AbortSignal.timeout(Math.min(remaining, ATTEMPT_TIMEOUT_MS)) },
  );
  return createPrivateKey(secret.SecretString);
}

/// One key slot: inline PEM (local use, loaded at once) or a secret ARN
/// (loaded on demand, retried with backoff).
class Slot {
  constructor(signing, regions) {
    this.arn = signing.private_key_secret_arn ?? null;
    this.key = signing.private_key_pem ? createPrivateKey(signing.private_key_pem) : null;
    // No replica configured: the secret's own region is the only one.
    this.regions = regions.length > 0 ? regions : this.arn ? [this.arn.split(":")[3]] : [];
    this.retryAt = 0;
    this.backoff = FIRST_BACKOFF_MS;
    this.loading = null;
  }

  /// Loads the key unless it is loaded, a load is under way (joined), or
  /// the last failure's backoff has not elapsed: the load's promise, or null
  /// when there is nothing to wait for (every request asks; most need
  /// nothing, and a promise to await costs a microtask turn). Never throws.
  ensure() {
    if (this.key || !this.arn) return null;
    if (this.loading) return this.loading;
    if (Date.now() < this.retryAt) return null;
    this.loading = this.load().finally(() => { this.loading = null; });
    return this.loading;
  }

  async load() {
    const deadline = Date.now() + LOAD_BUDGET_MS;
    const failures = [];
    for (const region of this.regions) {
      if (Date.now() >= deadline) break;
      try {
        this.key = await readSecret(this.arn, region, deadline);
        return;
      } catch (error) {
        failures.push(`${region}:${error?.name ?? "error"}`);
      }
    }
    this.retryAt = Date.now() + this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    // Region names and error class names only: never the secret or its ARN.
    console.log(JSON.stringify({ msg: "signing_key_unavailable", tried: failures, retry_in_ms: this.retryAt - Date.now() }));
  }
}

/// The key slots of `signing` (the config's `signing` object), read from
/// `regions` in order. `key(slot)` is the KeyObject or null; `ensure()`
/// loads what is missing: a promise to await before a request reaches the
/// core, or null when no load is under way.
export function signingKeys(signing, regions = []) {
  const slots = [new Slot(signing, regions), signing.next ? new Slot(signing.next, regions) : null];
  return {
    key: (slot) => slots[slot]?.key ?? null,
    ensure: () => {
      const loads = slots.map((slot) => slot?.ensure()).filter(Boolean);
      return loads.length > 0 ? Promise.all(loads) : null;
    },
  };
}
