/**
 * Explorer decorations: a badge on the files (and Power Pages folders) whose page has people on
 * it, with their names. VS Code asks file by file; each is mapped to its page by the same rules
 * that publish it.
 */

import * as vscode from "vscode";

import type { PersonOnPage } from "../sitePresence.js";

export class PeopleDecorations implements vscode.FileDecorationProvider {
  readonly #changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeFileDecorations = this.#changed.event;
  readonly #pageOf: (uri: vscode.Uri) => Promise<string | undefined>;
  #peopleOn: (path: string) => PersonOnPage[] = () => [];

  constructor(pageOf: (uri: vscode.Uri) => Promise<string | undefined>) {
    this.#pageOf = pageOf;
  }

  /** Who is where changed: VS Code asks again for the files it shows. */
  update(peopleOn: (path: string) => PersonOnPage[]): void {
    this.#peopleOn = peopleOn;
    this.#changed.fire(undefined);
  }

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    const page = await this.#pageOf(uri);
    if (page === undefined) return undefined;
    const names = [...new Set(this.#peopleOn(page).filter((p) => !p.mine).map((p) => p.user.name))];
    if (names.length === 0) return undefined;
    const decoration = new vscode.FileDecoration(
      names.length > 9 ? "9+" : String(names.length),
      `On ${page}: ${names.join(", ")}`,
      new vscode.ThemeColor("charts.blue"),
    );
    decoration.propagate = false;
    return decoration;
  }

  dispose(): void {
    this.#changed.dispose();
  }
}
