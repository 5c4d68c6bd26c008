/** The *Copresence* view in the explorer: people by page. This window is left out. */

import { hasTeams } from "@copresence/client";
import * as vscode from "vscode";

import type { PageOfPeople, PersonOnPage } from "../sitePresence.js";

type Node = { kind: "page"; page: PageOfPeople } | { kind: "person"; person: PersonOnPage };

export class PeopleView implements vscode.TreeDataProvider<Node> {
  readonly #changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  readonly view: vscode.TreeView<Node>;
  #pages: PageOfPeople[] = [];

  constructor() {
    this.view = vscode.window.createTreeView("copresence.people", {
      treeDataProvider: this,
      showCollapseAll: true,
    });
  }

  /** Show these pages; `message` above them (why nothing shows, or the last save). */
  show(pages: PageOfPeople[], message: string | undefined, description: string | undefined): void {
    this.#pages = pages;
    this.view.message = message;
    this.view.description = description;
    this.#changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (node === undefined) return this.#pages.map((page) => ({ kind: "page", page }));
    if (node.kind === "page") return node.page.people.map((person) => ({ kind: "person", person }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "page") {
      const { page } = node;
      const item = new vscode.TreeItem(page.title, vscode.TreeItemCollapsibleState.Expanded);
      item.description = page.title === page.path ? undefined : page.path;
      item.iconPath = new vscode.ThemeIcon("file");
      item.tooltip = `${page.path}: ${page.people.length} here`;
      return item;
    }
    const { person } = node;
    const item = new vscode.TreeItem(person.mine ? `You (${person.user.name})` : person.user.name);
    item.description = person.mine ? `${person.session.client}, another window` : person.session.client;
    item.tooltip = `${person.user.name} <${person.user.email}>`;
    item.iconPath = new vscode.ThemeIcon(person.mine ? "person" : "account");
    item.contextValue = hasTeams(person.user.teams) ? "person-teams" : "person";
    item.command = { command: "copresence.openCard", title: "Open Card", arguments: [person] };
    return item;
  }

  dispose(): void {
    this.view.dispose();
    this.#changed.dispose();
  }
}

/** A command run from a view item gets the node; from the card, the person. */
export function personOf(argument: unknown): PersonOnPage | undefined {
  if (typeof argument !== "object" || argument === null) return undefined;
  const node = argument as Partial<Node> & Partial<PersonOnPage>;
  if (node.kind === "person" && node.person !== undefined) return node.person;
  return node.user !== undefined && node.session !== undefined ? (node as PersonOnPage) : undefined;
}
