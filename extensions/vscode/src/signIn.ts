/**
 * Signing in: with the organisation's OpenID provider when the service offers one, else with a
 * token an operator gave.
 *
 * The provider's answer comes back through the service's redirect to an address of this
 * extension that VS Code routes to its {@link SignInReturns} handler: `vscode://…` on the
 * desktop; on the Web, the workbench's own callback page, whose address `asExternalUri` gives.
 */

import { BrowserSignIn, Client, type SignInProvider } from "@copresence/client";
import * as vscode from "vscode";

import type { Credentials } from "./credentials.js";
import { openLink } from "./ui/links.js";

/** The path of this extension's address that takes a provider's answer. */
const RETURN_PATH = "/signed-in";

/** How long a sign-in waits for the maker to come back from the provider. */
const SIGN_IN_WAIT_MS = 10 * 60_000;

/** Hands each provider answer that comes back to the sign-in waiting for it. */
export class SignInReturns implements vscode.UriHandler {
  readonly #waiting = new Map<string, (returned: URLSearchParams) => void>();

  handleUri(uri: vscode.Uri): void {
    if (uri.path !== RETURN_PATH) return;
    const returned = new URLSearchParams(uri.query);
    this.#waiting.get(returned.get("state") ?? "")?.(returned);
  }

  /** The provider's answer for `state`, or undefined when the maker cancels or it takes too long. */
  wait(state: string, token: vscode.CancellationToken): Promise<URLSearchParams | undefined> {
    return new Promise((resolve) => {
      const done = (returned: URLSearchParams | undefined) => {
        this.#waiting.delete(state);
        clearTimeout(timer);
        cancelled.dispose();
        resolve(returned);
      };
      const timer = setTimeout(() => done(undefined), SIGN_IN_WAIT_MS);
      const cancelled = token.onCancellationRequested(() => done(undefined));
      this.#waiting.set(state, done);
    });
  }
}

/** Sign in the way the service offers: its provider, else an operator's token. */
export async function signIn(credentials: Credentials, returns: SignInReturns, server: string): Promise<boolean> {
  let providers: SignInProvider[];
  try {
    providers = (await new Client({ server, token: "" }).auth()).providers.filter((p) => p.client_id);
  } catch (error) {
    void vscode.window.showErrorMessage(`Cannot reach ${server}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  const provider = await choose(providers);
  if (provider === undefined) return signInWithToken(credentials, server);
  return signInWithProvider(credentials, returns, server, provider);
}

async function choose(providers: SignInProvider[]): Promise<SignInProvider | undefined> {
  if (providers.length <= 1) return providers[0];
  const chosen = await vscode.window.showQuickPick(
    providers.map((provider) => ({ label: new URL(provider.issuer).host, detail: provider.issuer, provider })),
    { title: "Sign in to Copresence with", ignoreFocusOut: true },
  );
  return chosen?.provider;
}

async function signInWithProvider(
  credentials: Credentials,
  returns: SignInReturns,
  server: string,
  provider: SignInProvider,
): Promise<boolean> {
  const own = vscode.Uri.parse(`${vscode.env.uriScheme}://copresence.copresence${RETURN_PATH}`);
  // As is, not re-encoded: on the Web this is the workbench's callback page with its query.
  const returnTo = (await vscode.env.asExternalUri(own)).toString(true);
  try {
    const pending = await BrowserSignIn.start({ server, provider, returnTo });
    const returned = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Signing in to Copresence at ${new URL(provider.issuer).host} in your browser…`,
        cancellable: true,
      },
      async (_progress, token) => {
        const answer = returns.wait(pending.state, token);
        await openLink(pending.url);
        return answer;
      },
    );
    if (returned === undefined) return false;
    const tokens = await pending.finish(returned);
    await credentials.keep(server, { kind: "signIn", issuer: provider.issuer, subject: tokens.subject ?? "", ...tokens });
    return true;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Copresence: ${why}`);
    return false;
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
  await credentials.keep(server, { kind: "token", token: token.trim() });
  return true;
}
