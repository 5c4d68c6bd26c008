/**
 * Debian's Chromium with the extension loaded, driven by puppeteer-core, for the end-to-end
 * tests.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import puppeteer, { type Browser, type WebWorker } from "puppeteer-core";

import { CONTOSO, people } from "../../../packages/client/test/harness.js";

/** The repository (this file runs from extensions/browser/dist-test/extensions/browser/test/). */
export const REPOSITORY = fileURLToPath(new URL("../../../../../../", import.meta.url));
export const EXTENSION = join(REPOSITORY, "extensions/browser");
export const ARTIFACTS = join(REPOSITORY, "target/artifacts");

/**
 * The extension as packaged, but granted the loopback studio and service at install (a test
 * cannot click the browser's own permission prompt); returns the folder of the builds.
 */
export function buildForTests(): string {
  const build = mkdtempSync(join(tmpdir(), "copresence-browser-extension-"));
  execFileSync("node", ["build.mjs", "--out", build, "--host-permission", "http://127.0.0.1/*", "--host-permission", "http://127.0.0.2/*"], {
    cwd: EXTENSION,
    stdio: "inherit",
  });
  return build;
}

/** Chromium, headless, with the Chromium build of the extension loaded. */
export async function launchWithExtension(build: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    pipe: true,
    enableExtensions: [join(build, "chromium")],
    args: ["--no-sandbox", "--disable-gpu"],
  });
}

/** The studio's ids: of the site, and of its pages. */
export const STUDIO_SITE = "c0ffee00-0000-4000-8000-000000000001";
export const HOME_ID = "0a000000-0000-4000-8000-000000000001";
export const PRODUCTS_ID = "0a000000-0000-4000-8000-000000000002";
export const HOSTILE = `<img src=x onerror="document.title='owned'">Ann`;

/** Ann (named `annName`), Bo, and Contoso's site built in the studio at `studio`. */
export function organisation(studio: string, annName?: string): string {
  return `${people(annName)}${CONTOSO}
[[sites.editors]]
name = "Contoso's studio"
pattern = "${studio}/studio/sites/:site/pages/:page"
site = "${STUDIO_SITE}"
pages = { "${HOME_ID}" = "/", "${PRODUCTS_ID}" = "/products" }
`;
}

export interface Studio {
  server: Server;
  url: string;
}

/** A single-page studio on loopback: its links change the address with history.pushState, not a load. */
export function startStudio(): Promise<Studio> {
  const page = `<!doctype html><title>Studio</title>
<a id="products" href="#">Products</a>
<script>
  document.getElementById("products").onclick = (e) => {
    e.preventDefault();
    history.pushState({}, "", location.pathname.replace(/pages\\/[^/]+$/, "pages/${PRODUCTS_ID}"));
  };
</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html" }).end(page);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** The extension's service worker, once it runs. */
export async function serviceWorker(browser: Browser): Promise<WebWorker> {
  const target = await browser.waitForTarget((t) => t.type() === "service_worker" && t.url().endsWith("/background.js"), { timeout: 20_000 });
  return (await target.worker())!;
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
