/**
 * Copresence for VS Code and VS Code for the Web: publishes which page of the site the maker is
 * on (from the file in the active tab), records saves, and shows who else is where.
 *
 * The same code runs in desktop VS Code's extension host (`main`) and in the web worker one
 * (`browser`): its network is `fetch` and `EventSource`, its files `vscode.workspace.fs`.
 */

import * as vscode from "vscode";

import { Controller } from "./controller.js";
import { SignInReturns, signIn, signInWithToken } from "./signIn.js";
import { showCard } from "./ui/card.js";
import { chatInTeams, sendEmail } from "./ui/links.js";
import { personOf } from "./ui/peopleView.js";

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const owner = new Controller(context);
  controller = owner;
  const needServer = async (): Promise<string | undefined> => {
    if (owner.server !== undefined) return owner.server;
    void vscode.window.showWarningMessage("Set copresence.server and copresence.site (or add a .copresence.json) first.");
    return undefined;
  };
  const returns = new SignInReturns();
  context.subscriptions.push(
    owner,
    vscode.window.registerUriHandler(returns),
    vscode.commands.registerCommand("copresence.signIn", async () => {
      const server = await needServer();
      if (server !== undefined) await signIn(owner.credentials, returns, server);
    }),
    vscode.commands.registerCommand("copresence.signInWithToken", async () => {
      const server = await needServer();
      if (server !== undefined) await signInWithToken(owner.credentials, server);
    }),
    vscode.commands.registerCommand("copresence.signOut", async () => {
      const server = await needServer();
      if (server !== undefined) await owner.credentials.forget(server);
    }),
    vscode.commands.registerCommand("copresence.showPeople", async () => {
      const presence = owner.presence;
      if (presence === undefined) return;
      const items = presence.people().flatMap((page) =>
        page.people.map((person) => ({
          label: person.mine ? `You (${person.user.name})` : person.user.name,
          description: page.title === page.path ? page.path : `${page.title} ${page.path}`,
          detail: `${person.session.client}${person.mine ? ", another window" : ""}`,
          person,
        })),
      );
      const chosen = await vscode.window.showQuickPick(items, {
        title: `Who is where on ${owner.siteName}`,
        placeHolder: items.length === 0 ? "Nobody else is here" : "Open someone's card",
        matchOnDescription: true,
      });
      if (chosen !== undefined) await showCard(chosen.person, owner.siteName, owner.presence?.state?.site);
    }),
    vscode.commands.registerCommand("copresence.openCard", async (argument: unknown) => {
      const person = personOf(argument);
      if (person !== undefined) await showCard(person, owner.siteName, owner.presence?.state?.site);
    }),
    vscode.commands.registerCommand("copresence.sendEmail", async (argument: unknown) => {
      const person = personOf(argument);
      if (person !== undefined) await sendEmail(person.user, `${owner.siteName}, ${person.session.page}`);
    }),
    vscode.commands.registerCommand("copresence.chatInTeams", async (argument: unknown) => {
      const person = personOf(argument);
      if (person !== undefined) await chatInTeams(person.user, `About ${owner.siteName}, ${person.session.page}`);
    }),
  );
  void owner.restart();
}

export async function deactivate(): Promise<void> {
  // Leave at once rather than after the TTL; the feed's grace covers a host that dies.
  await controller?.dispose();
  controller = undefined;
}
