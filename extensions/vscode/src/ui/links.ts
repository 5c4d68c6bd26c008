/**
 * Opening a card's links: an e-mail and a Teams chat, built by `@copresence/client`'s rules (the
 * Rust core's), opened by the system through VS Code.
 */

import { LinkError, mailto, teamsChat, type UserCard } from "@copresence/client";
import * as vscode from "vscode";

/**
 * Open a link built by the rules, as it was built. It goes to `openExternal` as a string: a
 * `Uri` would be decoded and encoded again on its way, and its query encoder leaves `&` and `=`
 * alone, so a `%26` in a hostile address would turn back into a parameter separator.
 */
export async function openLink(link: string): Promise<void> {
  await vscode.env.openExternal(link as unknown as vscode.Uri);
}

export async function sendEmail(user: UserCard, subject?: string): Promise<void> {
  try {
    await openLink(mailto(user.email, subject));
  } catch (error) {
    await refused(user, error);
  }
}

export async function chatInTeams(user: UserCard, message?: string): Promise<void> {
  try {
    await openLink(teamsChat(user.teams, message));
  } catch (error) {
    await refused(user, error);
  }
}

async function refused(user: UserCard, error: unknown): Promise<void> {
  const why = error instanceof LinkError ? error.message : String(error);
  await vscode.window.showWarningMessage(`Cannot contact ${user.name}: ${why}.`);
}
