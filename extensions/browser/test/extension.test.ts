/**
 * The browser extension in real Chromium (Debian's, headless, driven by puppeteer-core) against
 * the real service, with a local "studio" on loopback: a single-page app whose addresses match
 * the editor rule the test organisation gives its site. What the maker does in the studio is
 * what another maker's event stream sees; what others do shows on the badge and in the popup.
 */

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser, WebWorker } from "puppeteer-core";

import { ANN, BO, TestService, Watch, eventOf } from "../../../packages/client/test/harness.js";
import {
  ARTIFACTS,
  HOME_ID,
  HOSTILE,
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

/** The service's reconnect grace: how long a session outlives its closed stream. */
const GRACE_S = 3;

let studio: Studio;
let service: TestService;
let browser: Browser | undefined;
let build: string;

before(async () => {
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  studio = await startStudio();
  service = await TestService.start(["--reconnect-grace", `${GRACE_S}s`], organisation(studio.url, HOSTILE));
  build = buildForTests();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await service?.stop();
  studio?.server.close();
  if (build) rmSync(build, { recursive: true, force: true });
});

test("a maker's studio tabs are seen where they are, with a badge and a popup of who else is there", { timeout: 180_000 }, async () => {
  const ann = service.client(ANN);
  const watch = new Watch(ann, { sites: ["contoso"] });
  await watch.until("Ann's snapshot", eventOf("snapshot"));
  browser = await launchWithExtension(build);
  const worker = await serviceWorker(browser);
  const id = new URL(worker.url()).host;
  try {
    await maker(browser, worker, id, watch, ann);
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const pages = await browser.pages();
    for (const [index, page] of pages.entries()) {
      await page.screenshot({ path: join(ARTIFACTS, `browser-extension-failure-${index}.png`) }).catch(() => undefined);
    }
    throw error;
  } finally {
    watch.close();
  }
});

async function maker(browser: Browser, worker: WebWorker, id: string, watch: Watch, ann: ReturnType<TestService["client"]>): Promise<void> {
  // Bo connects in the settings, with the token an operator gave him.
  const options = await browser.newPage();
  await options.goto(`chrome-extension://${id}/options.html`);
  await options.type("#server", service.url);
  await options.type("#token", service.token(BO));
  await options.click('button[type="submit"]');
  await options.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Connected as Bo Chen"), { timeout: 20_000 });

  // Opening the studio on the home page publishes it, with the studio's address.
  const home = `${studio.url}/studio/sites/${STUDIO_SITE}/pages/${HOME_ID}`;
  const first = await browser.newPage();
  await first.goto(home);
  const joined = await watch.until("Bo's join", eventOf("join", (e) => e.member.user.email === BO), 20_000);
  const session = joined.event.member.sessions[0]!;
  assert.equal(session.page, "/");
  assert.equal(session.client, "browser");
  assert.equal(session.url, home);

  // The studio changes page without loading: a move.
  await first.click("#products");
  const moved = await watch.until("Bo on /products", eventOf("move", (e) => e.member.user.email === BO && e.to === "/products"), 20_000);
  assert.equal(moved.event.member.sessions.length, 1);

  // A second tab on the site is the same person: one session, now on the page looked at last.
  const second = await browser.newPage();
  await second.goto(home);
  await watch.until("Bo back on /", eventOf("move", (e) => e.member.user.email === BO && e.to === "/"), 20_000);
  assert.equal(watch.live.site("contoso")?.members.find((m) => m.user.email === BO)?.sessions.length, 1);

  // Ann comes to the site: Bo's badge on the studio tab counts her.
  await ann.putSession("contoso", "ann-studio", { page: "/products", client: "studio" });
  const tabId = await worker.evaluate(async (url: string) => (await chrome.tabs.query({ url }))[0]?.id, `${home}`);
  assert.ok(tabId !== undefined);
  await waitFor(async () => (await worker.evaluate((tab: number) => chrome.action.getBadgeText({ tabId: tab }), tabId!)) === "1", "the badge to count Ann");

  // The popup lists Ann, by her name as text: the markup in it stays text.
  const popup = await browser.newPage();
  await popup.goto(`chrome-extension://${id}/popup.html`);
  await popup.waitForFunction((name: string) => document.body.innerText.includes(name), { timeout: 20_000 }, HOSTILE);
  assert.equal(await popup.$("main img"), null);
  assert.match(await popup.evaluate(() => document.body.innerText), /Products \/products/);
  // Her card: e-mail, Teams, and Open where she is (her studio gave no address: the site's page).
  await popup.click("li.person > button");
  await popup.waitForSelector(".card .actions button");
  const actions = await popup.$$eval(".card .actions button", (buttons) =>
    buttons.map((b) => [b.textContent, (b as HTMLElement).dataset.address]),
  );
  assert.deepEqual(actions, [
    ["Send email", `mailto:${ANN}?subject=Contoso%20Portal%2C%20%2Fproducts`],
    ["Chat in Teams", `https://teams.microsoft.com/l/chat/0/0?users=${ANN}&message=About%20Contoso%20Portal%2C%20%2Fproducts`],
    ["Open", "https://contoso.example/products"],
  ]);
  mkdirSync(ARTIFACTS, { recursive: true });
  await popup.screenshot({ path: join(ARTIFACTS, "browser-extension-popup.png") });
  await popup.close();

  // Closing both studio tabs leaves at once (the extension says goodbye), within the grace at most.
  const closedAt = Date.now();
  await second.close();
  await first.close();
  await watch.until("Bo's leave", eventOf("leave", (e) => e.user.email === BO), (GRACE_S + 10) * 1000);
  assert.ok(Date.now() - closedAt < (GRACE_S + 10) * 1000);
  await options.close();
}
