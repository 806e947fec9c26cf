// The demo page in real headless Chromium (Debian's package, driven by
// playwright-core): bob signs in and plays `demo` through CloudFront-style
// signed cookies; carol is refused with a visible message, buys, and plays;
// the catalogue shows free, plan-tier and paid titles, and carol plays the
// free one at once.
// A screenshot of the page playing is saved to dist/test-artifacts/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

import { freePort, reelgateBin, root } from "./helpers.mjs";

const CHROMIUM = process.env.REELGATE_CHROMIUM ?? "/usr/bin/chromium";
let dev;
let base;
let browser;

async function waitForServer(url, child) {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`reelgate dev exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("reelgate dev did not start");
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(reelgateBin, ["dev", "--port", String(port)], { cwd: root, stdio: "ignore" });
  await waitForServer(`${base}/dev/config`, dev);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required"],
  });
});

after(async () => {
  await browser?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
});

async function signIn(page, user) {
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById("demo-users").options.length > 0);
  await page.fill("#username", user);
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#catalogue:not([hidden])");
}

const titleButton = (page, video, action) => page.locator(`#titles li[data-video="${video}"] button[data-action="${action}"]`);

async function assertPlays(page) {
  await page.waitForFunction(() => window.demo.stats.manifests >= 1 && window.demo.stats.fragments >= 2, null, { timeout: 20000 });
  await page.waitForFunction(() => document.getElementById("video").currentTime > 0.5, null, { timeout: 20000 });
  const stats = await page.evaluate(() => ({ ...window.demo.stats, time: document.getElementById("video").currentTime }));
  assert.ok(stats.manifests >= 1 && stats.fragments >= 2 && stats.time > 0.5, JSON.stringify(stats));
  console.log(`observed: ${stats.manifests} manifest(s), ${stats.fragments} fragments, currentTime ${stats.time.toFixed(2)} s`);
}

test("bob plays demo through signed cookies", async () => {
  const page = await browser.newPage();
  const segments = [];
  page.on("response", (r) => { if (r.url().includes("/videos/demo/seg-")) segments.push(r.status()); });
  await signIn(page, "bob");
  await titleButton(page, "demo", "play").click();
  await assertPlays(page);
  assert.ok(segments.length >= 2 && segments.every((s) => s === 200 || s === 206), JSON.stringify(segments));
  const cookies = await page.context().cookies(`${base}/videos/demo/`);
  assert.deepEqual(cookies.map((c) => c.name).sort(), ["CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature"]);
  assert.ok(cookies.every((c) => c.httpOnly && c.path === "/videos/demo/"));
  const dir = join(root, "dist/test-artifacts");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, "demo-playing.png"), fullPage: true });
  // Without the cookies, CloudFront (the emulator) refuses the same segment.
  const bare = await fetch(`${base}/videos/demo/seg-000.ts`);
  assert.equal(bare.status, 403);
  await page.close();
});

test("carol is refused with a visible message, buys, then plays", async () => {
  const page = await browser.newPage();
  await signIn(page, "carol");
  await titleButton(page, "demo", "play").click();
  await page.waitForFunction(() => document.getElementById("message").textContent.includes("don't have access"));
  assert.equal(await page.locator("#message").getAttribute("class"), "error");
  await titleButton(page, "demo", "buy").click();
  await page.waitForFunction(() => document.getElementById("message").textContent.includes("You bought"), null, { timeout: 15000 });
  await titleButton(page, "demo", "play").click();
  await assertPlays(page);
  await page.close();
});

test("the catalogue shows free, plan-tier and paid titles, and carol plays the free one", async () => {
  const page = await browser.newPage();
  await signIn(page, "carol");
  const row = (video) => page.locator(`#titles li[data-video="${video}"]`);
  assert.equal(await row("intro").getAttribute("data-offer"), "free");
  assert.equal(await row("intro").locator(".access").textContent(), "Free");
  assert.equal(await row("members").getAttribute("data-offer"), "tier");
  assert.equal(await row("members").locator(".offer").textContent(), "premium plan only");
  assert.equal(await row("members").locator(".access").textContent(), "Not in your plan");
  assert.equal(await titleButton(page, "members", "buy").count(), 0, "a plan-only title has no Buy");
  // (carol bought demo above; trailer she does not hold)
  assert.equal(await row("trailer").getAttribute("data-offer"), "paid");
  assert.match(await row("trailer").locator(".offer").textContent(), /Buy 4\.99 USD · Rent 1\.99 USD/);
  assert.equal(await titleButton(page, "trailer", "buy").count(), 1);
  // The plan-only title is refused with its own message; the free one plays.
  await titleButton(page, "members", "play").click();
  await page.waitForFunction(() => document.getElementById("message").textContent.includes("don't have access"));
  await titleButton(page, "intro", "play").click();
  await assertPlays(page);
  await page.close();

  const alice = await browser.newPage();
  await signIn(alice, "alice");
  assert.equal(await alice.locator('#titles li[data-video="members"] .access').textContent(), "Included with your premium plan");
  await alice.close();
});

