// `reelgate dev --edge-bundle dist/edge-auth`: the local stack running the
// real Lambda@Edge bundle in Node, so the exact deployed artifact answers
// /session/* while the emulator checks its cookies on /videos/*.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";

import { bundleDir, freePort, reelgateBin, root } from "./helpers.mjs";

let dev;
let base;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(reelgateBin, ["dev", "--port", String(port), "--edge-bundle", bundleDir], { cwd: root, stdio: "ignore" });
  for (let i = 0; i < 300; i += 1) {
    if (dev.exitCode !== null) throw new Error(`reelgate dev exited with ${dev.exitCode}`);
    try {
      if ((await fetch(`${base}/dev/config`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("reelgate dev did not start");
});

after(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
});

async function signIn(user) {
  const { client_id: clientId } = await (await fetch(`${base}/dev/config`)).json();
  const response = await fetch(`${base}/idp/`, {
    method: "POST",
    headers: { "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth", "Content-Type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: clientId, AuthParameters: { USERNAME: user, PASSWORD: "demo-password" } }),
  });
  return (await response.json()).AuthenticationResult.AccessToken;
}

test("the real bundle issues cookies the emulator accepts, and refuses carol", async () => {
  const session = await fetch(`${base}/session/videos/demo`, { headers: { Authorization: `Bearer ${await signIn("bob")}` } });
  assert.equal(session.status, 200);
  const cookie = session.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  assert.match(cookie, /CloudFront-Key-Pair-Id=KDEVLOCAL/);
  assert.equal((await fetch(`${base}/videos/demo/seg-000.ts`, { headers: { cookie } })).status, 200);
  assert.equal((await fetch(`${base}/videos/demo/seg-000.ts`)).status, 403);
  const carol = await fetch(`${base}/session/videos/demo`, { headers: { Authorization: `Bearer ${await signIn("carol")}` } });
  assert.equal(carol.status, 403);
  assert.deepEqual(await carol.json(), { error: "not_entitled" });
});
