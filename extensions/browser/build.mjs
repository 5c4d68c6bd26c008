// The extension for Chromium-based browsers (dist/chromium/, zipped to
// dist/copresence-chromium.zip) and for Firefox (dist/firefox/, zipped to
// dist/copresence-firefox.xpi): one source, two backgrounds (see src/chromium.ts and
// src/firefox.ts), two manifests.
//
//   node build.mjs                              the packages
//   node build.mjs --host-permission PATTERN    also granted at install (the tests' loopback
//                 --out DIR                     studio and service), besides the optional ones,
//                                               into DIR instead of dist
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { "host-permission": { type: "string", multiple: true, default: [] }, out: { type: "string", default: "dist" } },
});
const dist = values.out;
const version = JSON.parse(readFileSync("package.json", "utf8")).version;

const common = {
  name: "Copresence",
  version,
  description: "See who else is working on the web sites you build, and on which page, from your web studio.",
  icons: { 32: "icons/32.png", 128: "icons/128.png" },
  action: { default_popup: "popup.html", default_title: "Copresence", default_icon: { 32: "icons/32.png" } },
  options_ui: { page: "options.html", open_in_tab: true },
  // Access is asked for at a click in the settings: the service's origin, then the studios its
  // sites name. No content script: the extension reads tab addresses, never a page.
  optional_host_permissions: ["https://*/*", "http://127.0.0.1/*", "http://localhost/*"],
  host_permissions: values["host-permission"],
};

const targets = {
  chromium: {
    manifest: {
      manifest_version: 3,
      ...common,
      minimum_chrome_version: "116",
      background: { service_worker: "background.js", type: "module" },
      permissions: ["storage", "offscreen", "identity"],
    },
    entries: { background: "src/chromium.ts", offscreen: "src/offscreen.ts", "live-worker": "src/live-worker.ts" },
    pages: ["offscreen.html"],
  },
  firefox: {
    manifest: {
      manifest_version: 3,
      ...common,
      background: { scripts: ["background.js"], type: "module" },
      permissions: ["storage", "identity"],
      browser_specific_settings: {
        gecko: {
          id: "copresence@copresence.dev",
          // 142: the first to take data_collection_permissions, and to have URLPattern of its own.
          strict_min_version: "142.0",
          // What leaves the browser, to the organisation's own service only: which studio page
          // a tab is on, and the maker's sign-in.
          data_collection_permissions: { required: ["browsingActivity", "authenticationInfo"] },
        },
      },
    },
    entries: { background: "src/firefox.ts" },
    pages: [],
  },
};

rmSync(dist, { recursive: true, force: true });
for (const [target, { manifest, entries, pages }] of Object.entries(targets)) {
  const out = join(dist, target);
  await build({
    entryPoints: { ...entries, popup: "src/popup.ts", options: "src/options.ts" },
    outdir: out,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    // No source maps: stores review what ships, and errors name bundled functions well enough.
    sourcemap: false,
    logLevel: "warning",
  });
  for (const page of ["popup.html", "popup.css", "options.html", "options.css", ...pages]) {
    copyFileSync(join("src", page), join(out, page));
  }
  mkdirSync(join(out, "icons"));
  copyFileSync("../../icons/32x32.png", join(out, "icons/32.png"));
  copyFileSync("../../icons/128x128.png", join(out, "icons/128.png"));
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  const archive = target === "chromium" ? "copresence-chromium.zip" : "copresence-firefox.xpi";
  execFileSync("npx", ["web-ext", "build", "--source-dir", out, "--artifacts-dir", dist, "--filename", archive, "--overwrite-dest"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}
