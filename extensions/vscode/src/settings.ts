/**
 * Where this workspace publishes: the service, the site and the page rules.
 *
 * A `.copresence.json` at the root of a workspace folder is the project's own choice, shared
 * with everyone who clones it, so it wins over the user's settings (`copresence.server`,
 * `copresence.site`, `copresence.pages`), which fill in what it leaves out. The first folder
 * with a `.copresence.json` is the one; a window publishes to one site.
 */

import * as vscode from "vscode";

import type { PageRule } from "./mapping.js";

export const PROJECT_FILE = ".copresence.json";

export interface WorkspaceSettings {
  server: string;
  site: string;
  rules: PageRule[];
  /** The folder page paths are relative to. */
  folder: vscode.Uri;
}

export type SettingsResult =
  | { kind: "ready"; settings: WorkspaceSettings }
  /** Something is missing or wrong: the words say what, for the status bar and the view. */
  | { kind: "incomplete"; problem: string };

interface ProjectFile {
  server?: unknown;
  site?: unknown;
  pages?: unknown;
}

export async function readSettings(): Promise<SettingsResult> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) return { kind: "incomplete", problem: "Open a folder to publish where you are." };
  let project: ProjectFile = {};
  let folder = folders[0]!.uri;
  for (const candidate of folders) {
    const file = vscode.Uri.joinPath(candidate.uri, PROJECT_FILE);
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    } catch {
      continue;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return { kind: "incomplete", problem: `${PROJECT_FILE} must hold a JSON object.` };
      }
      project = parsed as ProjectFile;
    } catch (error) {
      return { kind: "incomplete", problem: `${PROJECT_FILE} is not JSON: ${String(error)}` };
    }
    folder = candidate.uri;
    break;
  }
  const config = vscode.workspace.getConfiguration("copresence");
  const server = stringOr(project.server, config.get<string>("server", ""));
  const site = stringOr(project.site, config.get<string>("site", ""));
  const rules = [
    ...(Array.isArray(project.pages) ? (project.pages as PageRule[]) : []),
    ...config.get<PageRule[]>("pages", []),
  ];
  if (server === "") {
    return { kind: "incomplete", problem: "Set copresence.server to your Copresence service's address." };
  }
  if (site === "") {
    return { kind: "incomplete", problem: "Set copresence.site to the id of the site this workspace builds." };
  }
  return { kind: "ready", settings: { server: server.replace(/\/+$/, ""), site, rules, folder } };
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback.trim();
}

/** The workspace's files as the page mapping reads them: VS Code's file system (works on the Web). */
export function fileTree(folder: vscode.Uri) {
  const at = (path: string) => (path === "" ? folder : vscode.Uri.joinPath(folder, ...path.split("/")));
  return {
    async readText(path: string): Promise<string | undefined> {
      try {
        return new TextDecoder().decode(await vscode.workspace.fs.readFile(at(path)));
      } catch {
        return undefined;
      }
    },
    async list(path: string): Promise<{ name: string; folder: boolean }[]> {
      try {
        const entries = await vscode.workspace.fs.readDirectory(at(path));
        return entries.map(([name, type]) => ({
          name,
          folder: (type & vscode.FileType.Directory) !== 0,
        }));
      } catch {
        return [];
      }
    },
  };
}

/** A file's path relative to the folder, `/`-separated; undefined when it is outside it. */
export function relativePath(folder: vscode.Uri, file: vscode.Uri): string | undefined {
  if (file.scheme !== folder.scheme || file.authority !== folder.authority) return undefined;
  const base = folder.path.endsWith("/") ? folder.path : `${folder.path}/`;
  return file.path.startsWith(base) ? file.path.slice(base.length) : undefined;
}
