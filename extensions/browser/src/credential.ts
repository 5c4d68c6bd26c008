/**
 * The maker's credential for the service: an operator's token, or what a sign-in with the
 * organisation's provider gave (a bearer that expires within the hour, and a refresh token).
 * Kept in `chrome.storage.local` under {@link Settings.credential}, which no web page can read.
 */

import { Client, refreshSignIn, type SignInTokens } from "@copresence/client";

export type Credential = { kind: "token"; token: string } | ({ kind: "signIn"; issuer: string } & SignInTokens);

/** How long before it expires a bearer is renewed. */
const RENEW_BEFORE_MS = 60_000;

/** Who a credential signs in as: a change of it starts the presence again, a renewal does not. */
export function identity(credential: Credential | undefined): string {
  if (credential === undefined) return "";
  return credential.kind === "token" ? `token ${credential.token}` : `${credential.issuer} ${credential.subject ?? ""}`;
}

/**
 * The bearer to send, renewed first when it is about to expire. `renewed` is told of a renewed
 * credential, to keep it (only the background can write the extension's storage).
 */
export class Bearer {
  #credential: Credential;
  #renewal: Promise<string> | undefined;
  readonly #server: string;
  readonly #renewed: (credential: Credential) => void;

  constructor(server: string, credential: Credential, renewed: (credential: Credential) => void) {
    this.#server = server;
    this.#credential = credential;
    this.#renewed = renewed;
  }

  /**
   * The same person's credential, as the extension's storage has it. An older one than held
   * (storage read before a renewal was kept) is ignored: its refresh token is spent, and using
   * it again would make the provider revoke the sign-in.
   */
  update(credential: Credential): void {
    const held = this.#credential;
    if (credential.kind === "signIn" && held.kind === "signIn" && credential.expiresAt <= held.expiresAt) return;
    this.#credential = credential;
  }

  async token(): Promise<string> {
    const credential = this.#credential;
    if (credential.kind === "token") return credential.token;
    if (credential.expiresAt - RENEW_BEFORE_MS > Date.now() || credential.refreshToken === undefined) {
      return credential.bearer;
    }
    this.#renewal ??= this.#renew(credential).finally(() => (this.#renewal = undefined));
    return this.#renewal;
  }

  async #renew(credential: Credential & { kind: "signIn" }): Promise<string> {
    const auth = await new Client({ server: this.#server, token: "" }).auth();
    const provider = auth.providers.find((p) => p.issuer === credential.issuer);
    if (provider === undefined) return credential.bearer; // the service will say what is wrong
    const tokens = await refreshSignIn(provider, credential.refreshToken!);
    const renewed: Credential = { ...credential, ...tokens };
    this.#credential = renewed;
    this.#renewed(renewed);
    return renewed.bearer;
  }
}
