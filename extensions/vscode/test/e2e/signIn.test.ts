/**
 * Signing in from VS Code for the Web with the organisation's OpenID provider: the maker runs
 * Copresence: Sign In, signs in on the provider's pages in a new tab, and comes back through the
 * service's redirect to the workbench's callback page, which hands the answer to the extension.
 * Nobody pastes a token; the other makers see them join under their directory name.
 */

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser, Page } from "puppeteer-core";

import { ANN, BO, TestService, Watch, eventOf } from "../../../../packages/client/test/harness.js";
import { CodeServer, REPOSITORY, clickButton, launchChromium, openWorkbench, runCommand, waitForText } from "./codeServer.js";
import { ARTIFACTS, ORG, STATUS, VSIX, WORKBENCH_SETTINGS, contosoWorkspace } from "./contoso.js";
import { OidcProvider } from "../../../../packages/client/test/oidcProvider.js";

let provider: OidcProvider;
let service: TestService;
let codeServer: CodeServer;
let browser: Browser | undefined;
let workspace: string;

before(async () => {
  // The harness looks beside its own source, which this compiled copy is not.
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  provider = await OidcProvider.start(REPOSITORY, [{ sub: "bo-at-the-provider", email: BO, name: "Bo Chen" }]);
  codeServer = await CodeServer.start(VSIX, WORKBENCH_SETTINGS);
  // The workbench's origin is where the service's redirect may send the browser back to.
  service = await TestService.start([...provider.serviceArgs(), "--allow-origin", codeServer.url], ORG);
  workspace = contosoWorkspace(service.url);
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await codeServer?.stop();
  await service?.stop();
  await provider?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test("a maker signs in from VS Code for the Web with the organisation's provider", { timeout: 180_000 }, async () => {
  const watch = new Watch(service.client(ANN), { sites: ["contoso"] });
  await watch.until("Ann's snapshot", eventOf("snapshot"));
  browser = await launchChromium();
  const page = await openWorkbench(browser, codeServer.url, workspace);
  try {
    await signIn(browser, page, watch);
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "vscode-web-sign-in-failure.png") }).catch(() => undefined);
    const notices = await page.evaluate(() => (document.querySelector(".notifications-toasts") as HTMLElement | null)?.innerText);
    throw new Error(`${String(error)}\nnotifications: ${notices ?? "none"}`, { cause: error });
  } finally {
    watch.close();
  }
});

async function signIn(browser: Browser, page: Page, watch: Watch): Promise<void> {
  await waitForText(page, STATUS, "Sign in", 60_000);
  await runCommand(page, "Copresence: Sign In");

  // The workbench asks before it opens the provider's page, naming it.
  // The workbench asks before it opens the provider's page in a new tab, showing its address.
  const opened = browser.waitForTarget((t) => t.url().startsWith(`${provider.issuer}/`), { timeout: 30_000 });
  opened.catch(() => undefined); // awaited after the dialog
  const asked = await waitForText(page, ".monaco-dialog-box", "external website");
  assert.ok(asked.includes(`${provider.issuer}/auth?`), asked);
  await clickButton(page, ".monaco-dialog-box", "Open");
  const tab = (await (await opened).page())!;

  // The provider's own pages: sign in as Bo (any password), then allow Copresence.
  await tab.waitForSelector('input[name="login"]', { timeout: 20_000 });
  await tab.type('input[name="login"]', BO);
  await tab.type('input[name="password"]', "any password");
  await Promise.all([tab.waitForNavigation(), tab.click('button[type="submit"]')]);
  await tab.waitForSelector('button[type="submit"]', { timeout: 20_000 });
  await Promise.all([tab.waitForNavigation(), tab.click('button[type="submit"]')]);

  // Back through the service's redirect to the workbench's callback page, which hands the
  // provider's answer to the extension: Bo joins.
  const joined = await watch.until("Bo's join", eventOf("join", (e) => e.member.user.email === BO), 30_000);
  if (!tab.isClosed()) {
    const callback = new URL(tab.url());
    assert.equal(callback.origin, new URL(codeServer.url).origin, tab.url());
    assert.match(callback.pathname, /\/callback$/);
    assert.ok(callback.searchParams.get("code"), tab.url());
    await tab.close();
  }
  await page.bringToFront();
  assert.equal(joined.event.member.user.name, "Bo Chen");
  assert.equal(joined.event.member.sessions[0]?.client, "vscode-web");
  // The status bar counts the others now, instead of asking to sign in.
  await page.waitForFunction(
    (selector: string) => {
      const text = (document.querySelector(selector) as HTMLElement | null)?.innerText ?? "";
      return text !== "" && !text.includes("Sign in");
    },
    { timeout: 20_000 },
    STATUS,
  );
}
