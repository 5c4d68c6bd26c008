/**
 * What the end-to-end tests share: Contoso's organisation file and its Power Pages site as a
 * maker has it on disk, the workbench's settings, and where things are in the workbench.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { CONTOSO, people } from "../../../../packages/client/test/harness.js";
import { EXTENSION, REPOSITORY } from "./codeServer.js";

export const ORG = people() + CONTOSO;

/** A Power Pages site as `pac powerpages download` leaves it; /contact is not imported yet. */
export const SITE_FILES: Record<string, string> = {
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
export const SERVICE_GRACE_S = 3;

/** The extension's status-bar item (the workbench prefixes its id with the extension's). */
export const STATUS = '.statusbar-item[id$="copresence.people"]';
/** The Copresence view in the explorer. */
export const VIEW = '[id="workbench.view.explorer"] .pane:has(.pane-header[aria-label^="Copresence"])';
export const ARTIFACTS = join(REPOSITORY, "target/artifacts");
export const VSIX = join(EXTENSION, "dist/copresence.vsix");

/** The user settings of the workbench under test. */
export const WORKBENCH_SETTINGS = {
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
};

/** A workspace with Contoso's site files, whose `.copresence.json` names the service. */
export function contosoWorkspace(server: string): string {
  const workspace = mkdtempSync(join(tmpdir(), "copresence-workspace-"));
  for (const [path, text] of Object.entries(SITE_FILES)) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  writeFileSync(join(workspace, ".copresence.json"), JSON.stringify({ server, site: "contoso" }));
  return workspace;
}
