/**
 * Signing in from the browser extension with the organisation's OpenID provider: the maker
 * connects in the settings without a token, signs in on the provider's pages in the window the
 * browser opens for it, and comes back through the service's redirect to the extension's own
 * address. Nobody pastes a token.
 */

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser } from "puppeteer-core";

import { BO, CONTOSO, TestService, people } from "../../../packages/client/test/harness.js";
import { OidcProvider } from "../../../packages/client/test/oidcProvider.js";
import { ARTIFACTS, REPOSITORY, buildForTests, launchWithExtension, serviceWorker } from "./browser.js";

let provider: OidcProvider;
let service: TestService | undefined;
let browser: Browser | undefined;
let build: string;

before(async () => {
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  provider = await OidcProvider.start(REPOSITORY, [{ sub: "bo-at-the-provider", email: BO, name: "Bo Chen" }]);
  build = buildForTests();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await service?.stop();
  await provider?.stop();
  if (build) rmSync(build, { recursive: true, force: true });
});

test("a maker signs in from the browser extension with the organisation's provider", { timeout: 120_000 }, async () => {
  browser = await launchWithExtension(build);
  const id = new URL((await serviceWorker(browser)).url()).host;
  // The operator lets the service's redirect send browsers back to this extension.
  service = await TestService.start([...provider.serviceArgs(), "--sign-in-return", `https://${id}.chromiumapp.org/`], people() + CONTOSO);
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
    const kept = (await options.evaluate(async () => (await chrome.storage.local.get("credential")).credential)) as {
      kind: string;
      issuer: string;
      refreshToken?: string;
    };
    assert.equal(kept.kind, "signIn");
    assert.equal(kept.issuer, provider.issuer);
    assert.ok(kept.refreshToken);
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await options.screenshot({ path: join(ARTIFACTS, "browser-extension-sign-in-failure.png") }).catch(() => undefined);
    const status = await options.evaluate(() => document.getElementById("status")?.textContent).catch(() => undefined);
    throw new Error(`${String(error)}\nstatus: ${status ?? "none"}`, { cause: error });
  }
});
