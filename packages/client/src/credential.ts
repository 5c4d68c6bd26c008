/**
 * A maker's credential for a service, as an editor keeps it: an operator's token, or what a
 * sign-in with the organisation's provider gave (a bearer that expires within the hour, and a
 * refresh token). Where it is kept is the editor's business (VS Code's secret storage, a browser
 * extension's storage); who it is, when to renew it and how are the same everywhere, here.
 */

import { Client } from "./client.js";
import { refreshSignIn, type SignInTokens } from "./signIn.js";

export type Credential = { kind: "token"; token: string } | ({ kind: "signIn"; issuer: string } & SignInTokens);

/** How long before it expires a bearer is renewed. */
export const RENEW_BEFORE_MS = 60_000;

/** Who a credential signs in as: a change of it is a new sign-in; a renewal keeps it. */
export function credentialIdentity(credential: Credential | undefined): string {
  if (credential === undefined) return "";
  return credential.kind === "token" ? `token ${credential.token}` : `${credential.issuer} ${credential.subject ?? ""}`;
}

/** Whether the credential's bearer should be renewed before it is sent now. */
export function needsRenewal(credential: Credential, now = Date.now()): credential is Credential & { kind: "signIn"; refreshToken: string } {
  return credential.kind === "signIn" && credential.refreshToken !== undefined && credential.expiresAt - RENEW_BEFORE_MS <= now;
}

/**
 * The credential renewed with its refresh token, at the provider the service names for its
 * issuer; the same one when the service no longer names that provider (the service will then
 * refuse it, and say so).
 */
export async function renewCredential(
  server: string | URL,
  credential: Credential & { kind: "signIn"; refreshToken: string },
  fetchImpl?: typeof fetch,
): Promise<Credential> {
  const auth = await new Client({ server, token: "", ...(fetchImpl ? { fetch: fetchImpl } : {}) }).auth();
  const provider = auth.providers.find((p) => p.issuer === credential.issuer);
  if (provider === undefined) return credential;
  return { ...credential, ...(await refreshSignIn(provider, credential.refreshToken, fetchImpl)) };
}
