/**
 * VS Code for the Web, for real: `code-server` (installed once into a cache folder by
 * `scripts/code-server.sh`) serving a workspace with the packed extension installed, driven in
 * Debian's Chromium by puppeteer-core as a maker would: the command palette, Quick Open, typing,
 * saving, dialogs.
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";

/** The repository (this file runs from extensions/vscode/dist-test/extensions/vscode/test/e2e/). */
export const REPOSITORY = fileURLToPath(new URL("../../../../../../../", import.meta.url));
export const EXTENSION = join(REPOSITORY, "extensions/vscode");

/** How long code-server keeps a closed browser's extension host (see `start`). */
export const RECONNECTION_GRACE_S = 5;

/** How long code-server may take to listen. */
const START_TIMEOUT_MS = 60_000;

export class CodeServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #home: string;
  log = "";

  private constructor(child: ChildProcess, home: string, url: string) {
    this.#child = child;
    this.#home = home;
    this.url = url;
  }

  /**
   * code-server on a loopback port with the packed extension installed, its HOME and data in a
   * temporary folder (it writes to ~/.config and ~/.local whatever its flags say).
   */
  static async start(vsix: string, userSettings: Record<string, unknown>): Promise<CodeServer> {
    const cache = execFileSync(join(REPOSITORY, "scripts/code-server.sh"), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim().split("\n").pop()!;
    const node = join(cache, "node24/bin/node");
    const entry = join(cache, "code-server/node_modules/code-server/out/node/entry.js");
    const home = mkdtempSync(join(tmpdir(), "copresence-code-server-"));
    const userData = join(home, "user-data");
    const extensions = join(home, "extensions");
    mkdirSync(join(userData, "User"), { recursive: true });
    writeFileSync(join(userData, "User/settings.json"), JSON.stringify(userSettings, null, 2));
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local/share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_RUNTIME_DIR: join(home, "run"),
      PATH: `${dirname(node)}:${process.env.PATH ?? ""}`,
    };
    const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
    execFileSync(node, [entry, ...common, "--install-extension", vsix], { env, stdio: "pipe" });
    const child = spawn(
      node,
      [
        entry,
        ...common,
        "--auth", "none",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        // The extension runs in code-server's extension host, which outlives a closed browser
        // by this long in case it comes back (3 hours by default): how long a maker who closed
        // the browser is still shown.
        "--reconnection-grace-time", String(RECONNECTION_GRACE_S),
        "--bind-addr", "127.0.0.1:0",
      ],
      // Its own process group, ended as a whole: it starts a dozen processes.
      { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const server = new CodeServer(child, home, "");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      server.log = (server.log + chunk).slice(-50_000);
    });
    try {
      const url = await listening(child, (line) => {
        server.log = (server.log + line + "\n").slice(-50_000);
      });
      return Object.assign(new CodeServer(child, home, url), { log: server.log });
    } catch (error) {
      await server.stop();
      throw new Error(`code-server did not start: ${String(error)}\n${server.log}`);
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid) {
      const exited = new Promise((resolve) => this.#child.once("exit", resolve));
      try {
        process.kill(-this.#child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      try {
        process.kill(-this.#child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    rmSync(this.#home, { recursive: true, force: true });
  }
}

/** code-server prints `HTTP server listening on http://127.0.0.1:PORT/`. */
function listening(child: ChildProcess, onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("no address in time")), START_TIMEOUT_MS);
    lines.on("line", (line) => {
      onLine(line);
      const match = /HTTP server listening on (http:\/\/[^\s]+?)\/?$/.exec(line.trim());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}`));
    });
  });
}

/** Debian's Chromium, headless, driven by puppeteer-core (which never downloads a browser). */
export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--window-size=1400,900"],
    defaultViewport: { width: 1400, height: 900 },
  });
}

/** The workbench of a folder, once it shows. */
export async function openWorkbench(browser: Browser, codeServer: string, folder: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${codeServer}/?folder=${encodeURIComponent(folder)}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench .part.statusbar", { timeout: 60_000 });
  return page;
}

/** Run a command from the palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(title);
  // The row of exactly this command: others may start with its title.
  const row = await page.waitForFunction(
    (want: string) => {
      for (const row of document.querySelectorAll(".quick-input-list .monaco-list-row")) {
        if (row.querySelector(".label-name")?.textContent?.trim() === want) return row;
      }
      return null;
    },
    { timeout: 20_000 },
    title,
  );
  await (row.asElement() as ElementHandle<Element>).click();
}

/** Open a file by Quick Open (Ctrl+P), as a maker does. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.down("Control");
  await page.keyboard.press("KeyP");
  await page.keyboard.up("Control");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(name);
  await waitForText(page, ".quick-input-list .monaco-list-row", name);
  await page.keyboard.press("Enter");
  // A tab shows its name and extension in two spans, so its text breaks between them.
  await page.waitForSelector(`.tabs-container .tab.active[data-resource-name="${name}"]`, { timeout: 20_000 });
}

/** Type at the end of the open file, then save it (Ctrl+S). */
export async function editAndSave(page: Page, text: string): Promise<void> {
  await page.click(".editor-instance .monaco-editor .view-lines");
  await page.keyboard.down("Control");
  await page.keyboard.press("End");
  await page.keyboard.up("Control");
  await page.keyboard.type(text);
  await page.keyboard.down("Control");
  await page.keyboard.press("KeyS");
  await page.keyboard.up("Control");
}

/** Wait until an element matching `selector` contains `text`; returns its whole text. */
export async function waitForText(page: Page, selector: string, text: string, timeout = 20_000): Promise<string> {
  const handle = await page.waitForFunction(
    (sel: string, want: string) => {
      for (const element of document.querySelectorAll(sel)) {
        const seen = (element as HTMLElement).innerText ?? element.textContent ?? "";
        if (seen.includes(want)) return seen;
      }
      return false;
    },
    { timeout, polling: 200 },
    selector,
    text,
  );
  return (await handle.jsonValue()) as string;
}

/** Click the button labelled `label` inside the element `within` (a dialog, say). */
export async function clickButton(page: Page, within: string, label: string): Promise<void> {
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
  if (!clicked) throw new Error(`no button ${label} in ${within}`);
}

/** Open a collapsed view of the explorer by its header, as a maker clicks it. */
export async function expandView(page: Page, title: string): Promise<void> {
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
