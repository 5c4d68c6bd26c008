/**
 * The maker's credential for a service, kept in VS Code's SecretStorage (the OS keychain on the
 * desktop, the browser's storage on the Web), one per service address: a credential is only
 * ever sent to the service it was got for.
 *
 * A credential is an operator's token, or what a sign-in with the organisation's provider gave
 * (a bearer that expires within the hour, and a refresh token). The bearer is renewed here, just
 * before it expires; a renewal is not a change of who is signed in, so it starts nothing again.
 */

import { credentialIdentity as identity, needsRenewal, renewCredential, type Credential } from "@copresence/client";
import * as vscode from "vscode";

const KEY_PREFIX = "copresence.token:";

export type { Credential };

export class Credentials implements vscode.Disposable {
  readonly #secrets: vscode.SecretStorage;
  readonly #changed = new vscode.EventEmitter<void>();
  readonly #listener: vscode.Disposable;
  /** Who each service's credential was last seen to be, to tell a sign-in from a renewal. */
  readonly #seen = new Map<string, string>();
  /** Renewals under way, so that concurrent requests wait for one. */
  readonly #renewing = new Map<string, Promise<string>>();

  constructor(secrets: vscode.SecretStorage) {
    this.#secrets = secrets;
    this.#listener = secrets.onDidChange(async (e) => {
      if (!e.key.startsWith(KEY_PREFIX)) return;
      const who = identity(await this.#read(e.key));
      if (this.#seen.get(e.key) === who) return;
      this.#seen.set(e.key, who);
      this.#changed.fire();
    });
  }

  /** Fired when who is signed in to a service changed, in this window or another. */
  get onDidChange(): vscode.Event<void> {
    return this.#changed.event;
  }

  dispose(): void {
    this.#listener.dispose();
    this.#changed.dispose();
  }

  static keyOf(server: string): string {
    return KEY_PREFIX + new URL(server).origin;
  }

  async has(server: string): Promise<boolean> {
    const key = Credentials.keyOf(server);
    const credential = await this.#read(key);
    this.#seen.set(key, identity(credential));
    return credential !== undefined;
  }

  /** The bearer to send now, renewed first when it is about to expire; undefined when signed out. */
  async bearer(server: string): Promise<string | undefined> {
    const key = Credentials.keyOf(server);
    const credential = await this.#read(key);
    if (credential === undefined) return undefined;
    if (credential.kind === "token") return credential.token;
    if (!needsRenewal(credential)) return credential.bearer;
    let renewal = this.#renewing.get(key);
    if (renewal === undefined) {
      renewal = this.#renew(server, key, credential).finally(() => this.#renewing.delete(key));
      this.#renewing.set(key, renewal);
    }
    return renewal;
  }

  async keep(server: string, credential: Credential): Promise<void> {
    const key = Credentials.keyOf(server);
    this.#seen.delete(key); // a sign-in is a change, even as the same person
    await this.#secrets.store(key, JSON.stringify(credential));
  }

  async forget(server: string): Promise<void> {
    await this.#secrets.delete(Credentials.keyOf(server));
  }

  async #renew(server: string, key: string, credential: Credential & { kind: "signIn"; refreshToken: string }): Promise<string> {
    try {
      const renewed = await renewCredential(server, credential);
      if (renewed.kind !== "signIn") return credential.bearer;
      // Kept only if nothing changed meanwhile: a sign-out, another sign-in, or another
      // window's renewal must not be undone by this one.
      const now = await this.#read(key);
      if (renewed !== credential && now?.kind === "signIn" && now.refreshToken === credential.refreshToken) {
        await this.#secrets.store(key, JSON.stringify(renewed));
      }
      return renewed.bearer;
    } catch {
      // Another window may have renewed it first, spending a refresh token that rotates.
      const now = await this.#read(key);
      return now?.kind === "signIn" ? now.bearer : credential.bearer;
    }
  }

  async #read(key: string): Promise<Credential | undefined> {
    const stored = await this.#secrets.get(key);
    if (!stored) return undefined;
    if (!stored.startsWith("{")) return { kind: "token", token: stored };
    try {
      return JSON.parse(stored) as Credential;
    } catch {
      return undefined;
    }
  }
}
