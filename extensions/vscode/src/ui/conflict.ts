/**
 * A save refused because the site moved on: who saved last and when, and what to do — take
 * their version on (**Refresh**), save over it (**Overwrite**), or talk to them (**Chat in
 * Teams**), as the model-driven app designer offers.
 */

import { hasTeams, type ConflictError } from "@copresence/client";
import * as vscode from "vscode";

import type { Page } from "../mapping.js";
import type { SitePresence } from "../sitePresence.js";
import { chatInTeams } from "./links.js";

export async function resolveConflict(
  conflict: ConflictError,
  page: Page,
  presence: SitePresence,
  siteName: string,
): Promise<void> {
  const last = conflict.lastSave;
  const mine = last !== undefined && last.user.id === presence.me?.id;
  const who = last === undefined ? "Someone" : mine ? "You" : last.user.name;
  const when = last === undefined ? "" : ` at ${new Date(last.at).toLocaleTimeString()}`;
  const where = last === undefined ? siteName : `${last.page} on ${siteName}`;
  const message = `${who} saved ${where}${when}${mine ? " in another window" : ""}, after the version you started from (v${presence.baseVersion ?? 0}; now v${conflict.currentVersion}).`;
  const buttons = ["Refresh", "Overwrite"];
  if (last !== undefined && !mine && hasTeams(last.user.teams)) buttons.push("Chat in Teams");
  const chosen = await vscode.window.showWarningMessage(
    message,
    {
      modal: true,
      detail:
        "Refresh takes their changes on: get them, then save again. Overwrite records your save over theirs.",
    },
    ...buttons,
  );
  if (chosen === "Refresh") {
    presence.adopt(conflict.currentVersion);
    void vscode.window.showInformationMessage(
      `Your save of ${page.path} was not recorded. Take on ${who === "You" ? "your other window's" : `${who}'s`} changes, then save again.`,
    );
  } else if (chosen === "Overwrite") {
    const outcome = await presence.save(page, true);
    if (outcome.kind === "saved") {
      void vscode.window.showInformationMessage(`Saved ${page.path} over v${conflict.currentVersion} (v${outcome.save.version}).`);
    }
  } else if (chosen === "Chat in Teams" && last !== undefined) {
    await chatInTeams(last.user, `About my save of ${page.path} on ${siteName}`);
  }
}
