/**
 * Signing in through the service's redirect: `protocol/golden/sign-in.json`, which the Rust
 * core's `tests/golden_sign_in.rs` reads too, and the authorization request an editor opens.
 * The whole flow, through a real provider's pages and the service's redirect into VS Code for
 * the Web, is extensions/vscode's end-to-end test.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  BrowserSignIn,
  bearerIsIdToken,
  sendsResource,
  signInRedirectUri,
  type SignInProvider,
} from "@copresence/client";

const golden = JSON.parse(
  readFileSync(new URL("../../../protocol/golden/sign-in.json", import.meta.url), "utf8"),
) as { cases: { name: string; provider: SignInProvider; sends_resource: boolean; bearer_is_id_token: boolean }[] };

test("which token is the bearer and whether to name the resource follow the golden file", () => {
  assert.ok(golden.cases.length >= 4);
  for (const c of golden.cases) {
    assert.equal(sendsResource(c.provider), c.sends_resource, c.name);
    assert.equal(bearerIsIdToken(c.provider), c.bearer_is_id_token, c.name);
  }
});

test("the service's redirect is under its address, a path prefix kept", () => {
  assert.equal(signInRedirectUri("https://copresence.example"), "https://copresence.example/v1/auth/redirect");
  assert.equal(signInRedirectUri("https://example.com/presence"), "https://example.com/presence/v1/auth/redirect");
});

test("the authorization request returns through the service, carrying where to come back to", async () => {
  const provider = golden.cases.find((c) => c.sends_resource)!.provider;
  const returnTo = "http://127.0.0.1:8080/callback?vscode-reqid=3&vscode-scheme=code-oss&vscode-authority=copresence.copresence&vscode-path=/signed-in";
  const pending = await BrowserSignIn.start({ server: "https://copresence.example", provider, returnTo });
  const url = new URL(pending.url);
  assert.equal(`${url.origin}${url.pathname}`, provider.authorization_endpoint);
  const query = url.searchParams;
  assert.equal(query.get("redirect_uri"), "https://copresence.example/v1/auth/redirect");
  assert.equal(query.get("client_id"), provider.client_id);
  assert.equal(query.get("response_type"), "code");
  assert.equal(query.get("code_challenge_method"), "S256");
  assert.match(query.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.ok(query.get("nonce"));
  assert.equal(query.get("resource"), provider.audience);
  assert.equal(query.get("prompt"), "consent"); // offline_access asked for
  assert.deepEqual(query.get("scope")?.split(" ").sort(), [...new Set(["openid", ...provider.scopes])].sort());
  // state: ours, then the return address in base64url, which the service decodes.
  const state = query.get("state")!;
  assert.equal(state, pending.state);
  const encoded = state.slice(state.lastIndexOf(".") + 1);
  assert.match(encoded, /^[A-Za-z0-9_-]+$/);
  assert.equal(Buffer.from(encoded, "base64url").toString("utf8"), returnTo);
  assert.ok(pending.answers(new URLSearchParams({ state, code: "c" })));
  assert.ok(!pending.answers(new URLSearchParams({ state: "another", code: "c" })));
});
