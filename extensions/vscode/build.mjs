// Two bundles of one source: `dist/node/` for desktop VS Code's extension host (`main`) and
// `dist/web/` for VS Code for the Web's web worker one (`browser`). Both are CommonJS, as VS
// Code loads them, with `vscode` left to the host.
import { build } from "esbuild";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const common = {
  entryPoints: ["src/extension.ts"],
  bundle: true,
  format: "cjs",
  external: ["vscode"],
  target: "es2022",
  // No source maps: they would double the package for nobody (errors name bundled functions).
  sourcemap: false,
  logLevel: "warning",
};
await build({ ...common, platform: "node", outfile: "dist/node/extension.cjs" });
// The web bundle must not reach for Node: esbuild fails on any Node built-in it would need.
await build({ ...common, platform: "browser", outfile: "dist/web/extension.cjs" });
