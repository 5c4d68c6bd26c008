/** How error answers become errors, without a service: the bodies are the protocol's examples. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { Client, ConflictError, CopresenceError } from "@copresence/client";

/** A client whose every request gets this answer. */
function answering(status: number, body: string, headers: Record<string, string> = {}): Client {
  return new Client({
    server: "http://copresence.test/base",
    token: "cpt_test",
    fetch: async () => new Response(body, { status, headers }),
  });
}

test("a 409 stale_version is a ConflictError with the current version and the last save", async () => {
  const lastSave = {
    version: 7,
    page: "/pricing",
    user: { id: 3, name: "Bo Chen", email: "bo@contoso.test" },
    at: 1795425827020,
    forced: false,
  };
  const body = JSON.stringify({
    error: {
      code: "stale_version",
      message: "the site is at version 7: refresh, or save with force to overwrite",
      current_version: 7,
      last_save: lastSave,
    },
  });
  const client = answering(409, body, { "Content-Type": "application/json" });
  await assert.rejects(client.save("contoso", { page: "/", base_version: 6 }), (error) => {
    assert.ok(error instanceof ConflictError);
    assert.equal(error.code, "stale_version");
    assert.equal(error.status, 409);
    assert.equal(error.currentVersion, 7);
    assert.deepEqual(error.lastSave, lastSave);
    return true;
  });
});

test("an error answer keeps the service's code, even one this version does not know", async () => {
  const body = JSON.stringify({ error: { code: "too_much_fun", message: "slow down" } });
  await assert.rejects(answering(429, body, { "Retry-After": "3" }).me(), (error) => {
    assert.ok(error instanceof CopresenceError && !(error instanceof ConflictError));
    assert.equal(error.code, "too_much_fun");
    assert.equal(error.message, "slow down");
    assert.equal(error.retryAfterMs, 3000);
    assert.ok(error.isRetryable);
    return true;
  });
});

test("a proxy's page gets a code from its status, and not its markup as the message", async () => {
  await assert.rejects(answering(502, "<html>Bad Gateway</html>").sites(), (error) => {
    assert.ok(error instanceof CopresenceError);
    assert.equal(error.code, "unavailable");
    assert.equal(error.message, "HTTP 502");
    return true;
  });
  await assert.rejects(answering(401, "").me(), (error) => {
    assert.ok(error instanceof CopresenceError && error.isUnauthorized && !error.isRetryable);
    return true;
  });
});

test("an answer that is not what the protocol promises is a decode error", async () => {
  await assert.rejects(answering(200, JSON.stringify({ user: { id: "3" } })).me(), {
    code: "decode",
  });
  await assert.rejects(answering(200, "not json").me(), { code: "decode" });
});

test("ids that a URL would resolve away are refused before anything is sent", async () => {
  const client = new Client({
    server: "http://copresence.test",
    token: "cpt_test",
    fetch: () => assert.fail("nothing is sent"),
  });
  for (const id of ["", ".", ".."]) {
    await assert.rejects(client.site(id), { code: "invalid_argument" });
  }
  assert.equal(
    client.url(["v1", "sites", "a/b?c"]).href,
    "http://copresence.test/v1/sites/a%2Fb%3Fc",
  );
  assert.throws(() => new Client({ server: "ftp://copresence.test", token: "t" }), {
    code: "invalid_url",
  });
  await assert.rejects(new Client({ server: "http://h.test", token: "a b" }).me(), {
    code: "invalid_token",
  });
});
