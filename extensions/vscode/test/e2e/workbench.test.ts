/**
 * The extension in real VS Code for the Web (code-server) against the real service, seen from
 * another maker's event stream: what a maker does in the workbench is what the others see, and
 * what the others do shows in the workbench.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";

import type { Browser, ElementHandle, Page } from "puppeteer-core";

import type { Client } from "@copresence/client";

import { ANN, BO, TestService, Watch, eventOf } from "../../../../packages/client/test/harness.js";
import {
  CodeServer,
  EXTENSION,
  RECONNECTION_GRACE_S,
  REPOSITORY,
  editAndSave,
  launchChromium,
  openFile,
  openWorkbench,
  runCommand,
  waitForText,
} from "./codeServer.js";

const ORG = `
[[users]]
email = "${ANN}"
name = "Ann Lee"
teams = "${ANN}"

[[users]]
email = "${BO}"
name = "Bo Chen"

[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["${ANN}", "${BO}"]
pages = [
  { path = "/", title = "Home" },
  { path = "/products", title = "Products" },
]
`;

/** A Power Pages site as `pac powerpages download` leaves it; /contact is not imported yet. */
const SITE_FILES: Record<string, string> = {
  "contoso/website.yml": "adx_websiteid: 5e1c\nadx_name: Contoso Portal\n",
  "contoso/web-pages/home/Home.webpage.yml": "adx_name: Home\nadx_partialurl: /\nadx_webpageid: home-id\n",
  "contoso/web-pages/home/Home.webpage.copy.html": "<h1>Welcome</h1>\n",
  "contoso/web-pages/products/Products.webpage.yml":
    "adx_name: Products\nadx_parentpageid: home-id\nadx_partialurl: products\nadx_webpageid: products-id\n",
  "contoso/web-pages/products/Products.webpage.copy.html": "<h1>Products</h1>\n",
  "contoso/web-pages/contact/Contact.webpage.yml":
    "adx_name: Contact us\nadx_parentpageid: home-id\nadx_partialurl: contact\nadx_webpageid: contact-id\n",
  "contoso/web-pages/contact/Contact.webpage.copy.html": "<h1>Contact</h1>\n",
};

/** The service's reconnect grace: how long a session outlives its closed stream. */
const SERVICE_GRACE_S = 3;

/** The extension's status-bar item (the workbench prefixes its id with the extension's). */
const STATUS = '.statusbar-item[id$="copresence.people"]';
/** The Copresence view in the explorer. */
const VIEW = '[id="workbench.view.explorer"] .pane:has(.pane-header[aria-label^="Copresence"])';
const ARTIFACTS = join(REPOSITORY, "target/artifacts");
const VSIX = join(EXTENSION, "dist/copresence.vsix");

let service: TestService;
let codeServer: CodeServer;
let browser: Browser | undefined;
let workspace: string;

before(async () => {
  // The harness looks beside its own source, which this compiled copy is not.
  process.env.COPRESENCE_BIN_DIR ??= join(REPOSITORY, "target/debug");
  codeServer = await CodeServer.start(VSIX, {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "telemetry.telemetryLevel": "off",
    "window.dialogStyle": "custom",
    // What a maker sees of the workbench, without the chat panel or completions over the text typed.
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "html.autoClosingTags": false,
  });
  // The web worker extension host calls the service from the workbench's origin.
  service = await TestService.start(["--allow-origin", codeServer.url, "--reconnect-grace", `${SERVICE_GRACE_S}s`], ORG);
  workspace = mkdtempSync(join(tmpdir(), "copresence-workspace-"));
  for (const [path, text] of Object.entries(SITE_FILES)) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  writeFileSync(join(workspace, ".copresence.json"), JSON.stringify({ server: service.url, site: "contoso" }));
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

async function clickButton(page: Page, within: string, label: string): Promise<void> {
  const clicked = await page.evaluate(
    (sel: string, text: string) => {
      const box = document.querySelector(sel);
      for (const button of box?.querySelectorAll("a.monaco-button, .monaco-button") ?? []) {
        if ((button as HTMLElement).innerText.trim() === text) {
          (button as HTMLElement).click();
          return true;
        }
      }
      return false;
    },
    within,
    label,
  );
  assert.ok(clicked, `no button ${label}`);
}

/** Open a collapsed view of the explorer by its header, as a maker clicks it. */
async function expandView(page: Page, title: string): Promise<void> {
  const header = await page.waitForFunction(
    (want: string) => {
      for (const header of document.querySelectorAll('[id="workbench.view.explorer"] .pane-header')) {
        if ((header as HTMLElement).innerText.trim().split("\n")[0] === want) return header;
      }
      return null;
    },
    { timeout: 20_000 },
    title,
  );
  const element = header.asElement() as ElementHandle<Element>;
  if ((await element.evaluate((e) => e.getAttribute("aria-expanded"))) !== "true") await element.click();
}
