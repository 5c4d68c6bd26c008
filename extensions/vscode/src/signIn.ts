/**
 * The maker's credential for a service, kept in VS Code's SecretStorage (the OS keychain on the
 * desktop, the browser's storage on the Web), one per service address: a token is only ever
 * sent to the service it was given for.
 */

import * as vscode from "vscode";

const KEY_PREFIX = "copresence.token:";

export class Credentials {
  readonly #secrets: vscode.SecretStorage;

  constructor(secrets: vscode.SecretStorage) {
    this.#secrets = secrets;
  }

  /** Fired when any service's credential changed, in this window or another. */
  get onDidChange(): vscode.Event<vscode.SecretStorageChangeEvent> {
    return this.#secrets.onDidChange;
  }

  static keyOf(server: string): string {
    return KEY_PREFIX + new URL(server).origin;
  }

  async token(server: string): Promise<string | undefined> {
    return (await this.#secrets.get(Credentials.keyOf(server))) || undefined;
  }

  async keep(server: string, token: string): Promise<void> {
    await this.#secrets.store(Credentials.keyOf(server), token);
  }

  async forget(server: string): Promise<void> {
    await this.#secrets.delete(Credentials.keyOf(server));
  }
}

/** Ask for an operator's token (`copresence-server token issue`) and keep it. */
export async function signInWithToken(credentials: Credentials, server: string): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: `Sign in to ${new URL(server).host}`,
    prompt: "Paste the Copresence token your operator gave you.",
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === "" ? "The token is empty." : undefined),
  });
  if (token === undefined) return false;
  await credentials.keep(server, token.trim());
  return true;
}
