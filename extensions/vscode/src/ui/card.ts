/** A person's card: who they are, where they are, and ways to reach them. */

import { hasTeams, openAddress, type SiteInfo } from "@copresence/client";
import * as vscode from "vscode";

import type { PersonOnPage } from "../sitePresence.js";
import { chatInTeams, openLink, sendEmail } from "./links.js";

/** `site`: the site as the service gave it (its address and editors), once known. */
export async function showCard(person: PersonOnPage, siteName: string, site?: SiteInfo): Promise<void> {
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
  // Where they are: their studio's address when the site's editors map it to their page, else
  // the site's page (the Rust core's rule).
  const open = site === undefined ? undefined : openAddress(site.url, site.editors ?? [], session);
  if (open !== undefined) {
    actions.push({ label: "$(link-external) Open", description: open, run: () => openLink(open) });
  }
  const chosen = await vscode.window.showQuickPick(actions, {
    title: `${person.mine ? "You" : user.name}: ${session.page} (${session.client}${person.mine ? ", another window" : ""})`,
    placeHolder: `${user.name} <${user.email}>`,
  });
  await chosen?.run();
}
