/**
 * `protocol/golden/links.json`, which the Rust core's `tests/golden_links.rs` reads too: both
 * clients build the same Teams and e-mail links and refuse the same ones.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { LinkError, hasTeams, mailto, teamsChat } from "@copresence/client";

interface Expected {
  comment: string;
  link?: string;
  error?: string;
}

const file = JSON.parse(
  readFileSync(new URL("../../../protocol/golden/links.json", import.meta.url), "utf8"),
) as {
  teams_chat: (Expected & { upn: string | null; message?: string })[];
  mailto: (Expected & { address: string; subject?: string; body?: string })[];
};

function check(expected: Expected, build: () => string): void {
  if (expected.link !== undefined) {
    assert.equal(build(), expected.link, expected.comment);
  } else {
    assert.throws(build, (error: unknown) => {
      assert.ok(error instanceof LinkError, expected.comment);
      assert.equal(error.code, expected.error, expected.comment);
      return true;
    });
  }
}

test("Teams chat links follow the golden file", () => {
  assert.ok(file.teams_chat.length >= 5);
  for (const c of file.teams_chat) {
    check(c, () => teamsChat(c.upn, c.message));
    assert.equal(hasTeams(c.upn), c.link !== undefined, c.comment);
  }
});

test("e-mail links follow the golden file", () => {
  assert.ok(file.mailto.length >= 5);
  for (const c of file.mailto) check(c, () => mailto(c.address, c.subject, c.body));
});
