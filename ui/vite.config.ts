/**
 * Build of the popup: `index.html` here → `dist/` with relative URLs (Tauri serves it from its
 * own protocol); one script and one stylesheet file, nothing inline, for a strict CSP.
 * Also the Vitest set-up (jsdom).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "./",
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: ["es2021", "chrome105", "safari15"],
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    environment: "jsdom",
  },
});
