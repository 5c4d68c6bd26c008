/**
 * The settings page: the service's address and the maker's sign-in, kept in the extension's own
 * storage (`chrome.storage.local`, which no web page can read; the extension has no content
 * script). Connecting asks for access to the service's origin, then to the studios its sites
 * are built in, each with a click, since the browser grants access only at a click: the
 * extension reads no tab's address anywhere else.
 */

import { BrowserSignIn, Client, type SiteSummary } from "@copresence/client";

import type { Credential } from "./credential.js";
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
  const settings = (await chrome.storage.local.get(["server", "credential"])) as Settings;
  server.value = settings.server ?? "";
  if (!settings.server || !settings.credential) {
    say("Not connected.");
    return;
  }
  const credential = settings.credential;
  try {
    const bearer = credential.kind === "token" ? credential.token : credential.bearer;
    const client = new Client({ server: settings.server, token: bearer });
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
  let credential: Credential | undefined;
  if (token.value.trim()) {
    credential = { kind: "token", token: token.value.trim() };
  } else {
    try {
      credential = await signIn(address);
    } catch (error) {
      say(`The sign-in failed: ${error instanceof Error ? error.message : String(error)}`, true);
      return;
    }
    if (credential === undefined) return;
  }
  await chrome.storage.local.set({ server: address, credential } satisfies Settings);
  token.value = "";
  await check();
};

/**
 * Sign in with the organisation's provider, when the service offers one: its page opens in a
 * window of the browser's own (`identity.launchWebAuthFlow`), which ends when the service's
 * redirect sends it to the extension's address (`identity.getRedirectURL`; the operator lists it
 * with `--sign-in-return`, docs/sign-in.md).
 */
async function signIn(address: string): Promise<Credential | undefined> {
  const auth = await new Client({ server: address, token: "" }).auth();
  const provider = auth.providers.find((p) => p.client_id);
  if (provider === undefined) {
    say("This service takes tokens only: paste the one your operator gave you.", true);
    return undefined;
  }
  const pending = await BrowserSignIn.start({ server: address, provider, returnTo: chrome.identity.getRedirectURL("signed-in") });
  say(`Signing in at ${new URL(provider.issuer).host}…`);
  const returned = await chrome.identity.launchWebAuthFlow({ url: pending.url, interactive: true });
  if (!returned) {
    say("The sign-in was cancelled.", true);
    return undefined;
  }
  const tokens = await pending.finish(new URL(returned));
  return { kind: "signIn", issuer: provider.issuer, ...tokens };
}

allow.onclick = async () => {
  if (await chrome.permissions.request({ origins: wanted })) await check();
};

(document.getElementById("sign-out") as HTMLButtonElement).onclick = async () => {
  await chrome.storage.local.remove("credential");
  await check();
};

document.getElementById("return")!.textContent = chrome.identity.getRedirectURL();
void check();
