// Cognito challenges through web/reelgate-session.js, in Node against
// moto_server's Cognito (an independent implementation of the JSON
// protocol): a user an administrator created signs in with the temporary
// password and gets NEW_PASSWORD_REQUIRED, a rejected new password leaves the
// challenge answerable, and a user with SMS MFA gets SMS_MFA. The module
// surfaces each as `{status: "challenge", name, respond}` and is signed in
// only once Cognito returns tokens. (moto does not check SMS codes; the point
// here is the module's side of the exchange.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";

import { freePort, root } from "./helpers.mjs";
import { ReelgateError, createSession } from "../../web/reelgate-session.js";

// The module re-checks tokens on `visibilitychange`; Node has no document.
globalThis.document ??= Object.assign(new EventTarget(), { visibilityState: "visible" });

const TEMPORARY = "Temp0rary!pw";
const CHOSEN = "Corr3ct-horse!";
let moto;
let endpoint;
let clientId;

/** A Cognito JSON call; admin calls carry a (moto-accepted) SigV4-shaped header. */
async function cognito(target, body) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
      Authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${target}: ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}/`;
  moto = spawn(join(root, ".cache/venv/bin/moto_server"), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  for (let i = 0; ; i += 1) {
    if (moto.exitCode !== null) throw new Error(`moto_server exited with ${moto.exitCode}`);
    try {
      await fetch(`${endpoint}moto-api/`);
      break;
    } catch {
      if (i > 300) throw new Error("moto_server did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const pool = (await cognito("CreateUserPool", { PoolName: "reelgate-challenges" })).UserPool.Id;
  clientId = (await cognito("CreateUserPoolClient", {
    UserPoolId: pool, ClientName: "player", ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
  })).UserPoolClient.ClientId;
  for (const username of ["new-viewer", "mfa-viewer"]) {
    await cognito("AdminCreateUser", { UserPoolId: pool, Username: username, TemporaryPassword: TEMPORARY, MessageAction: "SUPPRESS" });
  }
  await cognito("AdminSetUserPassword", { UserPoolId: pool, Username: "mfa-viewer", Password: CHOSEN, Permanent: true });
  await cognito("AdminSetUserMFAPreference", { UserPoolId: pool, Username: "mfa-viewer", SMSMfaSettings: { Enabled: true, PreferredMfa: true } });
});

after(() => moto?.kill("SIGTERM"));

// No edge is called here; outside a page the config must still name one.
const session = () => createSession({ cognito: { endpoint, client_id: clientId }, edge: "http://127.0.0.1:9" });
const username = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url")).username;

/** Ends the sign-in locally (clears the refresh timer); moto has no RevokeToken, so the revoke call's error is expected. */
const forget = (s) => s.signOut().catch(() => {});

test("an administrator-created user answers NEW_PASSWORD_REQUIRED, retrying after a refused password", async () => {
  const s = session();
  const first = await s.signIn("new-viewer", TEMPORARY);
  assert.equal(first.status, "challenge");
  assert.equal(first.name, "NEW_PASSWORD_REQUIRED");
  assert.equal(s.signedIn, false, "a challenge is not a sign-in");
  await assert.rejects(first.respond({ NEW_PASSWORD: "password" }), (e) =>
    e instanceof ReelgateError && e.reason === "sign_in_failed" && e.cognitoType === "InvalidPasswordException" && e.status === 400);
  assert.equal(s.signedIn, false);
  assert.deepEqual(await first.respond({ NEW_PASSWORD: CHOSEN }), { status: "signed_in" });
  assert.equal(username(await s.accessToken()), "new-viewer");
  await forget(s);

  const again = session();
  assert.deepEqual(await again.signIn("new-viewer", CHOSEN), { status: "signed_in" }, "the new password is permanent");
  await forget(again);
  await assert.rejects(session().signIn("new-viewer", TEMPORARY), (e) => e.reason === "not_authorized");
});

test("a user with SMS MFA gets SMS_MFA and is signed in by the code", async () => {
  const s = session();
  const challenge = await s.signIn("mfa-viewer", CHOSEN);
  assert.equal(challenge.status, "challenge");
  assert.equal(challenge.name, "SMS_MFA");
  assert.equal(s.signedIn, false);
  assert.deepEqual(await challenge.respond({ SMS_MFA_CODE: "123456" }), { status: "signed_in" });
  assert.equal(username(await s.accessToken()), "mfa-viewer");
  await forget(s);
});

test("a wrong password is not_authorized, with no challenge", async () => {
  await assert.rejects(session().signIn("mfa-viewer", "Wr0ng-password!"), (e) =>
    e instanceof ReelgateError && e.reason === "not_authorized" && e.cognitoType === "NotAuthorizedException");
});
