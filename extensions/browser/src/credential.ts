/**
 * The maker's credential, kept in `chrome.storage.local` under {@link Settings.credential}, which
 * no web page can read; its rules (who it is, when and how it is renewed) are
 * `@copresence/client`'s.
 */

import { needsRenewal, renewCredential, type Credential } from "@copresence/client";

export { credentialIdentity as identity, type Credential } from "@copresence/client";

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
    if (!needsRenewal(credential)) return credential.bearer;
    this.#renewal ??= renewCredential(this.#server, credential)
      .then((renewed) => {
        this.#credential = renewed;
        if (renewed !== credential) this.#renewed(renewed);
        return renewed.kind === "token" ? renewed.token : renewed.bearer;
      })
      .finally(() => (this.#renewal = undefined));
    return this.#renewal;
  }
}
