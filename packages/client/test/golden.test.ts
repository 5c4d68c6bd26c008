/**
 * The shared golden files in `protocol/golden/`, which the Rust client's
 * `crates/copresence-client/tests/golden.rs` reads too: the same events must leave both clients
 * holding the same sites, step by step, and both must know the same error codes.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { LiveState, SERVICE_ERROR_CODES, readEvent } from "@copresence/client";

/** dist-test/ → packages/client/ → packages/ → the repository. */
const GOLDEN = new URL("../../../protocol/golden/", import.meta.url);

interface RosterFile {
  description: string;
  steps: {
    comment: string;
    /** What the server did; the Rust test derives the event from it. A client has no use for it. */
    server?: unknown;
    event: string;
    data: unknown;
    after: unknown[];
  }[];
}

const rosterFiles = readdirSync(new URL("roster/", GOLDEN))
  .filter((name) => name.endsWith(".json"))
  .sort();

test("the golden roster files are there", () => {
  assert.ok(rosterFiles.length >= 3, `found only ${JSON.stringify(rosterFiles)}`);
});

for (const name of rosterFiles) {
  const file = JSON.parse(readFileSync(new URL(`roster/${name}`, GOLDEN), "utf8")) as RosterFile;
  test(`golden roster ${name}: ${file.description}`, () => {
    const live = new LiveState();
    file.steps.forEach((step, index) => {
      // As the feed gets it: an event name and its data as text.
      const event = readEvent(step.event, JSON.stringify(step.data));
      if (event !== undefined) live.apply(event);
      assert.deepStrictEqual(live.sites(), step.after, `step ${index + 1}: ${step.comment}`);
    });
  });
}

test("the golden error codes are this package's", () => {
  const file = JSON.parse(readFileSync(new URL("error-codes.json", GOLDEN), "utf8")) as {
    codes: string[];
  };
  assert.deepStrictEqual([...SERVICE_ERROR_CODES], file.codes);
});
