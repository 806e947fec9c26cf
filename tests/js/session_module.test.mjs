// The pure parts of web/reelgate-session.js in Node: when a playback asks
// for cookies again, and what a malformed page config gets.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ReelgateError, createSession, sessionTimes } from "../../web/reelgate-session.js";

const SERVER_NOW = Date.parse("2026-01-01T00:00:00Z") / 1000;
const DATE = new Date(SERVER_NOW * 1000).toUTCString();

test("the relative fields decide when to refresh", () => {
  const body = { expires_at: SERVER_NOW + 300, refresh_after: SERVER_NOW + 240, expires_in: 295, refresh_in: 235 };
  assert.deepEqual(sessionTimes(body, DATE), { expiresIn: 295, refreshIn: 235 });
});

test("without relative fields the absolute ones count from the response's Date, not the device clock", () => {
  // Date.now() here is years away from SERVER_NOW, like a badly wrong device clock.
  const body = { expires_at: SERVER_NOW + 10, refresh_after: SERVER_NOW + 8 };
  assert.deepEqual(sessionTimes(body, DATE), { expiresIn: 10, refreshIn: 8 });
});

test("a session answer without times is a bad_response", () => {
  assert.throws(() => sessionTimes({}, DATE), (e) => e instanceof ReelgateError && e.reason === "bad_response");
});

for (const [name, config] of [
  ["no object", null],
  ["no cognito", { edge: "https://d.example.net" }],
  ["no client id", { cognito: { endpoint: "https://cognito-idp.us-east-1.amazonaws.com/" } }],
  ["neither endpoint nor hosted UI", { cognito: { client_id: "abc" } }],
  ["no edge outside a web page", { cognito: { endpoint: "https://cognito-idp.us-east-1.amazonaws.com/", client_id: "abc" } }],
  ["a hosted UI without redirect_uri", { cognito: { client_id: "abc", hosted_ui: { domain: "https://auth.example.com" } } }],
]) {
  test(`a config with ${name} is refused with invalid_config`, () => {
    assert.throws(() => createSession(config), (e) => e instanceof ReelgateError && e.reason === "invalid_config");
  });
}

test("a well-formed config makes a signed-out session on the configured edge", () => {
  const session = createSession({ cognito: { endpoint: "https://cognito-idp.us-east-1.amazonaws.com/", client_id: "abc" }, edge: "https://d.example.net/" });
  assert.equal(session.edge, "https://d.example.net");
  assert.equal(session.signedIn, false);
});
