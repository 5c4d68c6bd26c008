/**
 * The extension in real VS Code for the Web (code-server) against the real service, seen from
 * another maker's event stream: what a maker does in the workbench is what the others see, and
 * what the others do shows in the workbench.
 */

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser, Page } from "puppeteer-core";

import type { Client } from "@copresence/client";

import { ANN, BO, TestService, Watch, eventOf } from "../../../../packages/client/test/harness.js";
import {
  CodeServer,
  RECONNECTION_GRACE_S,
  REPOSITORY,
  clickButton,
  editAndSave,
  expandView,
  launchChromium,
  openFile,
  openWorkbench,
  runCommand,
  waitForText,
} from "./codeServer.js";
import { ARTIFACTS, ORG, SERVICE_GRACE_S, STATUS, VIEW, VSIX, WORKBENCH_SETTINGS, contosoWorkspace } from "./contoso.js";

let service: TestService;
let codeServer: CodeServer;
let browser: Browser | undefined;
let workspace: string;

before(async () => {
  // The harness looks beside its own source, which this compiled copy is not.
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  codeServer = await CodeServer.start(VSIX, WORKBENCH_SETTINGS);
  // The web worker extension host calls the service from the workbench's origin.
  service = await TestService.start(["--allow-origin", codeServer.url, "--reconnect-grace", `${SERVICE_GRACE_S}s`], ORG);
  workspace = contosoWorkspace(service.url);
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await codeServer?.stop();
  await service?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test("a maker in VS Code for the Web is seen where they are, saves, meets a conflict, and leaves", { timeout: 300_000 }, async () => {
  const ann = service.client(ANN);
  const watch = new Watch(ann, { sites: ["contoso"] });
  await watch.until("Ann's snapshot", eventOf("snapshot"));

  browser = await launchChromium();
  const page = await openWorkbench(browser, codeServer.url, workspace);
  try {
    await maker(page, watch, ann);
  } catch (error) {
    // What the workbench showed when it went wrong, beside the other artifacts.
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "vscode-web-failure.png") }).catch(() => undefined);
    throw error;
  } finally {
    watch.close();
  }
});

async function maker(page: Page, watch: Watch, ann: Client): Promise<void> {
  await waitForText(page, STATUS, "Sign in", 60_000);

  // Sign in with the token an operator gave Bo.
  await runCommand(page, "Copresence: Sign In with a Token");
  await page.waitForSelector(".quick-input-widget input[type=password]", { visible: true });
  await page.keyboard.type(service.token(BO));
  await page.keyboard.press("Enter");
  const join_ = await watch.until("Bo's join", eventOf("join", (e) => e.member.user.email === BO));
  assert.equal(join_.event.member.sessions[0]?.page, "/");
  assert.match(join_.event.member.sessions[0]?.client ?? "", /^vscode/);

  // Opening a page's file moves Bo there.
  await openFile(page, "Products.webpage.copy.html");
  await watch.until("Bo on /products", eventOf("move", (e) => e.member.user.email === BO && e.to === "/products"));

  // A page the site does not have yet appears, with its title from the .webpage.yml.
  await openFile(page, "Contact.webpage.copy.html");
  await watch.until("Bo on /contact", eventOf("move", (e) => e.member.user.email === BO && e.to === "/contact"));
  const contact = watch.live.site("contoso")?.pages.find((p) => p.path === "/contact");
  assert.equal(contact?.title, "Contact us");

  // A save is recorded on its page, by Bo.
  await editAndSave(page, "<p>Call us</p>");
  const saved = await watch.until("Bo's save", eventOf("saved", (e) => e.save.user.email === BO));
  assert.equal(saved.event.save.page, "/contact");
  assert.equal(saved.event.save.forced, false);

  // Ann saves meanwhile, and comes to /products: Bo's view and status bar show her there.
  const annSave = await ann.save("contoso", { page: "/products", base_version: saved.event.save.version });
  await ann.putSession("contoso", "ann-studio", { page: "/products", client: "studio" });
  await waitForText(page, STATUS, "1");
  await expandView(page, "Copresence");
  // The view's rows: the page, and Ann on it with where she works from.
  await waitForText(page, `${VIEW} .monaco-list-row`, "Products");
  await waitForText(page, `${VIEW} .monaco-list-row`, "Ann Lee");
  assert.match(await waitForText(page, VIEW, "Last save"), /Last save: Ann Lee, \/products/);
  // Her card: e-mail, Teams, and Open where she is (her studio gave no address: the site's page).
  await page.evaluate((view: string) => {
    for (const row of document.querySelectorAll(`${view} .monaco-list-row`)) {
      if ((row as HTMLElement).innerText.includes("Ann Lee")) (row as HTMLElement).click();
    }
  }, VIEW);
  const card = await waitForText(page, ".quick-input-list", "Open");
  assert.match(card, /Send Email/);
  assert.match(card, /Chat in Teams/);
  assert.match(card, /Open\s*https:\/\/contoso\.example\/products/);
  await page.keyboard.press("Escape");
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "vscode-web-copresence.png") });

  // Bo's next save is on a stale version: the dialog names Ann.
  await editAndSave(page, "<p>Mail us</p>");
  const dialog = await waitForText(page, ".monaco-dialog-box", "Ann Lee saved");
  assert.match(dialog, /\/products/);
  assert.match(dialog, new RegExp(`now v${annSave.version}`));
  for (const button of ["Refresh", "Overwrite", "Chat in Teams"]) assert.match(dialog, new RegExp(button));
  // Chat in Teams opens the chat with Ann, by the core's link rules.
  const opened = browser!.waitForTarget((t) => t.url().startsWith("https://teams.microsoft.com/"), { timeout: 15_000 });
  await clickButton(page, ".monaco-dialog-box", "Chat in Teams");
  // The workbench asks before it opens a site it does not trust yet, showing the address.
  await waitForText(page, ".monaco-dialog-box", "external website");
  await clickButton(page, ".monaco-dialog-box", "Open");
  const teams = await opened;
  assert.match(teams.url(), /^https:\/\/teams\.microsoft\.com\/l\/chat\/0\/0\?users=ann@contoso\.test&message=About%20my%20save%20of%20%2Fcontact%20on%20Contoso%20Portal$/);
  // Back to the workbench: a tab in the background gets no frames, so nothing there would render.
  await (await teams.page())?.close();
  await page.bringToFront();

  // Saving again and choosing Overwrite records a forced save.
  await editAndSave(page, "<p>Write to us</p>");
  await waitForText(page, ".monaco-dialog-box", "Ann Lee saved");
  await clickButton(page, ".monaco-dialog-box", "Overwrite");
  const forced = await watch.until("Bo's forced save", eventOf("saved", (e) => e.save.user.email === BO && e.save.forced));
  assert.equal(forced.event.save.page, "/contact");

  // The maker closes the browser: Bo leaves once code-server gives up on the browser coming
  // back and the service's reconnect grace has passed, not at the end of the TTL.
  const closedAt = Date.now();
  await browser!.close();
  browser = undefined;
  const bound = (RECONNECTION_GRACE_S + SERVICE_GRACE_S) * 1000 + 5_000;
  await watch.until("Bo's leave", eventOf("leave", (e) => e.user.email === BO), bound);
  assert.ok(Date.now() - closedAt < bound, `left after ${Date.now() - closedAt} ms`);
}
