/** A person's card: who they are, where they are, and ways to reach them. */

import { hasTeams } from "@copresence/client";
import * as vscode from "vscode";

import type { PersonOnPage } from "../sitePresence.js";
import { chatInTeams, sendEmail } from "./links.js";

export async function showCard(person: PersonOnPage, siteName: string): Promise<void> {
  const { user, session } = person;
  type Action = vscode.QuickPickItem & { run: () => Promise<void> };
  const about = `${siteName}, ${session.page}`;
  const actions: Action[] = [
    {
      label: "$(mail) Send Email",
      description: user.email,
      run: () => sendEmail(user, about),
    },
  ];
  if (hasTeams(user.teams)) {
    actions.push({
      label: "$(comment-discussion) Chat in Teams",
      description: user.teams ?? "",
      run: () => chatInTeams(user, `About ${about}`),
    });
  }
  const chosen = await vscode.window.showQuickPick(actions, {
    title: `${person.mine ? "You" : user.name}: ${session.page} (${session.client}${person.mine ? ", another window" : ""})`,
    placeHolder: `${user.name} <${user.email}>`,
  });
  await chosen?.run();
}
