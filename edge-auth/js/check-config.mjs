// Validates a bundle's config.json with the bundle's own Rust config types
// (the WebAssembly core's `init`), and checks that node:crypto can load the
// signing key, so a bad config fails the build instead of the first viewer.
// With --deploy the core also applies `EdgeConfig::for_deployment` (no
// public test keys, no inline private key, no loopback URL).
// Usage: node check-config.mjs DIST_DIR --deploy|--dev
import { readFileSync } from "node:fs";
import { createPrivateKey, randomBytes } from "node:crypto";
import { join } from "node:path";

const [dir, mode] = process.argv.slice(2);
if (!dir || !["--deploy", "--dev"].includes(mode)) {
  console.error("usage: node check-config.mjs DIST_DIR --deploy|--dev");
  process.exit(2);
}
const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const refuse = () => -1;
const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, "reelgate_edge.wasm")), {
  host: { sign_policy: refuse, verify_jws: refuse, install_key: refuse },
});
const core = instance.exports;
const input = new TextEncoder().encode(JSON.stringify({ config: JSON.stringify(config), region: "us-east-1", hash_key: randomBytes(16).toString("hex"), deploy: mode === "--deploy" }));
const ptr = core.alloc(input.length);
new Uint8Array(core.memory.buffer, ptr, input.length).set(input);
const len = core.init(ptr, input.length);
const reply = JSON.parse(new TextDecoder().decode(new Uint8Array(core.memory.buffer, core.output_ptr(), len)));
if (reply.error) {
  console.error(`build-edge: ${reply.error}`);
  process.exit(1);
}
for (const [field, signing] of [["signing", config.signing], ["signing.next", config.signing?.next]]) {
  if (!signing?.private_key_pem) continue;
  try {
    createPrivateKey(signing.private_key_pem);
  } catch (error) {
    console.error(`build-edge: config field \`${field}.private_key_pem\`: node:crypto cannot load it (${error.code ?? error.message})`);
    process.exit(1);
  }
}
