/**
 * `npm pack` makes a package that installs and works: packed, installed into an empty project
 * (its one dependency from npm's cache), imported by Node, and compiled against by TypeScript
 * with only Node's types, as a Node project would use it.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = fileURLToPath(new URL("../", import.meta.url));
const TSC = join(PACKAGE_DIR, "node_modules", "typescript", "bin", "tsc");

function npm(args: string[], cwd: string): string {
  // npm is a script on Windows; a shell finds npm.cmd there.
  return execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    shell: process.platform === "win32",
  });
}

test(
  "npm pack gives a package that installs, imports and type-checks",
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "copresence-client-pack-"));
    try {
      // --ignore-scripts: the test already built dist/; prepack would build it again.
      const packed = JSON.parse(
        npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir], PACKAGE_DIR),
      ) as {
        filename: string;
        files: { path: string }[];
      }[];
      const files = packed[0]!.files.map((f) => f.path).sort();
      for (const expected of [
        "README.md",
        "package.json",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/feed.js",
      ]) {
        assert.ok(files.includes(expected), `${expected} is packed: ${JSON.stringify(files)}`);
      }
      assert.deepEqual(
        files.filter((f) => !f.startsWith("dist/") && f !== "README.md" && f !== "package.json"),
        [],
      );

      const project = join(dir, "project");
      mkdirSync(project);
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      const tarball = join(
        dir,
        readdirSync(dir).find((name) => name.endsWith(".tgz"))!,
      );
      npm(
        ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball],
        project,
      );

      const imported = execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import("@copresence/client");
         const live = new m.LiveState();
         live.apply({ type: "snapshot", sites: [] });
         console.log([typeof m.Client, typeof m.Presence, typeof m.Feed, typeof m.ConflictError, live.size].join(" "));`,
        ],
        { cwd: project, encoding: "utf8" },
      );
      assert.equal(imported.trim(), "function function function function 0");

      writeFileSync(
        join(project, "use.ts"),
        `import { Client, ConflictError, Presence, type SiteState } from "@copresence/client";
const client = new Client({ server: "https://copresence.example", token: async () => "cpt_x" });
const tab = new Presence(client, { site: "contoso", page: "/", client: "studio",
  onChange: (state: SiteState | undefined) => console.log(state?.members.length) });
export async function save(version: number): Promise<string> {
  try { return String((await tab.save(version)).version); }
  catch (error) { return error instanceof ConflictError ? error.lastSave?.user.name ?? "" : "?"; }
}
`,
      );
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            noEmit: true,
            types: ["node"],
            typeRoots: [join(PACKAGE_DIR, "node_modules", "@types")],
          },
          files: ["use.ts"],
        }),
      );
      execFileSync(process.execPath, [TSC, "-p", project], { cwd: project, encoding: "utf8" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
