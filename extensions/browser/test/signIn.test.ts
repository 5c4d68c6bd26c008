/**
 * Signing in from the browser extension with the organisation's OpenID provider: the maker
 * connects in the settings without a token, signs in on the provider's pages in the window the
 * browser opens for it, and comes back through the service's redirect to the extension's own
 * address. Nobody pastes a token. Its access token lives 65 s, so the extension renews it a
 * minute before: within seconds of the sign-in, while the maker is present in a studio tab.
 */

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser } from "puppeteer-core";

import { ANN, BO, TestService, Watch, eventOf } from "../../../packages/client/test/harness.js";
import { OidcProvider } from "../../../packages/client/test/oidcProvider.js";
import {
  ARTIFACTS,
  HOME_ID,
  REPOSITORY,
  STUDIO_SITE,
  buildForTests,
  launchWithExtension,
  organisation,
  serviceWorker,
  startStudio,
  waitFor,
  type Studio,
} from "./browser.js";

let provider: OidcProvider;
let studio: Studio;
let service: TestService | undefined;
let browser: Browser | undefined;
let build: string;

before(async () => {
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  provider = await OidcProvider.start(REPOSITORY, [{ sub: "bo-at-the-provider", email: BO, name: "Bo Chen" }], {
    accessTokenTtlS: 65,
  });
  studio = await startStudio();
  build = buildForTests();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await service?.stop();
  await provider?.stop();
  studio?.server.close();
  if (build) rmSync(build, { recursive: true, force: true });
});

test("a maker signs in from the browser extension with the organisation's provider", { timeout: 120_000 }, async () => {
  browser = await launchWithExtension(build);
  const id = new URL((await serviceWorker(browser)).url()).host;
  // The operator lets the service's redirect send browsers back to this extension.
  service = await TestService.start(
    // Heartbeats every 3 s: the renewal comes with one of the first.
    [...provider.serviceArgs(), "--sign-in-return", `https://${id}.chromiumapp.org/`, "--session-ttl", "9s"],
    organisation(studio.url),
  );
  const options = await browser.newPage();
  try {
    await options.goto(`chrome-extension://${id}/options.html`);
    await options.type("#server", service.url);
    // No token: the extension signs in with the provider, in a window of the browser's own.
    const opened = browser.waitForTarget((t) => t.url().startsWith(`${provider.issuer}/`), { timeout: 20_000 });
    await options.click('button[type="submit"]');
    const window = (await (await opened).page())!;
    await window.waitForSelector('input[name="login"]', { timeout: 20_000 });
    await window.type('input[name="login"]', BO);
    await window.type('input[name="password"]', "any password");
    await Promise.all([window.waitForNavigation(), window.click('button[type="submit"]')]);
    await window.waitForSelector('button[type="submit"]', { timeout: 20_000 });
    await window.click('button[type="submit"]');

    await options.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Connected as Bo Chen"), { timeout: 20_000 });
    type Kept = { kind: string; issuer: string; bearer: string; refreshToken?: string; expiresAt: number };
    const kept = async () => (await options.evaluate(async () => (await chrome.storage.local.get("credential")).credential)) as Kept;
    const first = await kept();
    assert.equal(first.kind, "signIn");
    assert.equal(first.issuer, provider.issuer);
    assert.ok(first.refreshToken);

    // Bo opens the studio: present, with the bearer he signed in with.
    const watch = new Watch(service.client(ANN), { sites: ["contoso"] });
    try {
      await watch.until("Ann's snapshot", eventOf("snapshot"));
      const tab = await browser.newPage();
      await tab.goto(`${studio.url}/studio/sites/${STUDIO_SITE}/pages/${HOME_ID}`);
      await watch.until("Bo's join", eventOf("join", (e) => e.member.user.email === BO), 20_000);
      // A minute before it expires, the bearer is renewed, and the renewal is kept.
      await waitFor(async () => (await kept()).bearer !== first.bearer, "a renewed bearer kept", 30_000);
      const renewed = await kept();
      assert.ok(renewed.expiresAt > first.expiresAt);
      assert.equal(renewed.issuer, first.issuer);
      // Still present on the renewed bearer: heartbeats go on, nobody sees Bo leave.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      assert.ok(!watch.updates.some((u) => u.kind === "event" && u.event.type === "leave"), "Bo left during the renewal");
    } finally {
      watch.close();
    }
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await options.screenshot({ path: join(ARTIFACTS, "browser-extension-sign-in-failure.png") }).catch(() => undefined);
    const status = await options.evaluate(() => document.getElementById("status")?.textContent).catch(() => undefined);
    throw new Error(`${String(error)}\nstatus: ${status ?? "none"}`, { cause: error });
  }
});
