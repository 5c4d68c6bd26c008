/**
 * `protocol/golden/editors.json` and `protocol/golden/open.json`, which the Rust core's
 * `tests/golden_editors.rs` reads too: both sides put a studio tab on the same page, and send a
 * card's Open to the same address.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { openAddress, pageOfAddress, type Editor, type SessionInfo } from "@copresence/client";

function golden<T>(name: string): { cases: T[] } {
  return JSON.parse(readFileSync(new URL(`../../../protocol/golden/${name}`, import.meta.url), "utf8")) as { cases: T[] };
}

test("a tab's address is on the page the golden file says", () => {
  const file = golden<{ name: string; editor: Editor; address: string; page: string | null }>("editors.json");
  assert.ok(file.cases.length >= 10);
  for (const c of file.cases) assert.equal(pageOfAddress(c.editor, c.address) ?? null, c.page, c.name);
});

test("Open goes where the golden file says", () => {
  const file = golden<{ name: string; site_url: string; editors: Editor[]; session: Pick<SessionInfo, "page" | "url">; open: string | null }>(
    "open.json",
  );
  assert.ok(file.cases.length >= 10);
  for (const c of file.cases) assert.equal(openAddress(c.site_url, c.editors, c.session) ?? null, c.open, c.name);
});
