/**
 * The settings page: the service's address and the maker's sign-in, kept in the extension's own
 * storage (`chrome.storage.local`, which no web page can read; the extension has no content
 * script). Connecting asks for access to the service's origin, then to the studios its sites
 * are built in, each with a click, since the browser grants access only at a click: the
 * extension reads no tab's address anywhere else.
 */

import { Client, type SiteSummary } from "@copresence/client";

import type { Settings } from "./messages.js";

const form = document.getElementById("connect") as HTMLFormElement;
const server = document.getElementById("server") as HTMLInputElement;
const token = document.getElementById("token") as HTMLInputElement;
const status = document.getElementById("status")!;
const studios = document.getElementById("studios")!;
const studiosText = document.getElementById("studios-text")!;
const allow = document.getElementById("allow") as HTMLButtonElement;
let wanted: string[] = [];

function say(text: string, problem = false): void {
  status.textContent = text;
  status.className = problem ? "problem" : "";
}

/** The origins to ask for: the service's, as a match pattern. */
function originPattern(address: string): string {
  const url = new URL(address);
  return `${url.protocol}//${url.hostname}/*`;
}

/** The hosts the sites' editors name, as match patterns (a pattern's host may be a wildcard). */
function studioPatterns(sites: SiteSummary[]): string[] {
  const patterns = new Set<string>();
  for (const summary of sites) {
    for (const editor of summary.site.editors ?? []) {
      const match = /^(https?):\/\/([^/:?#]+)/.exec(editor.pattern);
      if (match && !/[*:()]/.test(match[2]!)) patterns.add(`${match[1]}://${match[2]}/*`);
    }
  }
  return [...patterns];
}

async function check(): Promise<void> {
  const settings = (await chrome.storage.local.get(["server", "token"])) as Settings;
  server.value = settings.server ?? "";
  if (!settings.server || !settings.token) {
    say("Not connected.");
    return;
  }
  try {
    const client = new Client({ server: settings.server, token: settings.token });
    const [me, sites] = await Promise.all([client.me(), client.sites()]);
    say(`Connected as ${me.user.name} (${me.user.email}): ${sites.length} site${sites.length === 1 ? "" : "s"}.`);
    const missing: string[] = [];
    for (const pattern of studioPatterns(sites)) {
      if (!(await chrome.permissions.contains({ origins: [pattern] }))) missing.push(pattern);
    }
    wanted = missing;
    studios.hidden = missing.length === 0;
    studiosText.textContent = `Allow Copresence to see which page you have open on ${missing.map((p) => new URL(p.replace("/*", "/")).host).join(", ")}.`;
  } catch (error) {
    say(`Cannot connect: ${error instanceof Error ? error.message : String(error)}`, true);
  }
}

form.onsubmit = async (event) => {
  event.preventDefault();
  let address: string;
  try {
    address = new URL(server.value.trim()).origin;
  } catch {
    say("That is not an address.", true);
    return;
  }
  // Asked first, while the click still counts as one.
  if (!(await chrome.permissions.request({ origins: [originPattern(address)] }))) {
    say(`Copresence needs access to ${address} to connect.`, true);
    return;
  }
  const settings: Record<string, string> = { server: address };
  if (token.value.trim()) settings.token = token.value.trim();
  await chrome.storage.local.set(settings);
  token.value = "";
  await check();
};

allow.onclick = async () => {
  if (await chrome.permissions.request({ origins: wanted })) await check();
};

(document.getElementById("sign-out") as HTMLButtonElement).onclick = async () => {
  await chrome.storage.local.remove("token");
  await check();
};

void check();
