/**
 * The extension's one owner of state: it reads the workspace's settings and credential, runs
 * this window's {@link SitePresence}, sends it what the maker does (switching files, saving),
 * and shows what it holds in the status bar, the view and the explorer. It starts again when
 * the settings, the project file or the credential change.
 */

import { CopresenceError } from "@copresence/client";
import * as vscode from "vscode";

import { PageMapper, type Page } from "./mapping.js";
import { fileTree, readSettings, relativePath, PROJECT_FILE, type WorkspaceSettings } from "./settings.js";
import { Credentials } from "./credentials.js";
import { SitePresence, type PersonOnPage } from "./sitePresence.js";
import { resolveConflict } from "./ui/conflict.js";
import { PeopleDecorations } from "./ui/decorations.js";
import { PeopleView } from "./ui/peopleView.js";

/** How long to wait before joining again after the service could not be reached. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export class Controller implements vscode.Disposable {
  readonly credentials: Credentials;
  readonly #status = vscode.window.createStatusBarItem("copresence.people", vscode.StatusBarAlignment.Left, 50);
  readonly #view = new PeopleView();
  readonly #decorations = new PeopleDecorations((uri) => this.#pageOfUri(uri).then((p) => p?.path));
  readonly #disposables: vscode.Disposable[] = [];
  #settings: WorkspaceSettings | undefined;
  #mapper: PageMapper | undefined;
  #presence: SitePresence | undefined;
  #generation = 0;
  #retry = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(context: vscode.ExtensionContext) {
    this.credentials = new Credentials(context.secrets);
    this.#status.name = "Copresence";
    const watcher = vscode.workspace.createFileSystemWatcher(`**/{${PROJECT_FILE},*.webpage.yml,website.yml}`);
    const filesChanged = (uri: vscode.Uri) => {
      if (uri.path.endsWith(`/${PROJECT_FILE}`)) void this.restart();
      else {
        this.#mapper?.forgetFiles();
        this.#render();
      }
    };
    this.#disposables.push(
      this.credentials,
      this.#status,
      this.#view,
      this.#decorations,
      watcher,
      watcher.onDidChange(filesChanged),
      watcher.onDidCreate(filesChanged),
      watcher.onDidDelete(filesChanged),
      vscode.window.registerFileDecorationProvider(this.#decorations),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("copresence")) void this.restart();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.restart()),
      this.credentials.onDidChange(() => void this.restart()),
      vscode.window.tabGroups.onDidChangeTabs(() => void this.#followActiveTab()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => void this.#followActiveTab()),
      vscode.window.onDidChangeActiveTextEditor(() => void this.#followActiveTab()),
      vscode.workspace.onDidSaveTextDocument((document) => void this.#saved(document.uri)),
    );
  }

  get presence(): SitePresence | undefined {
    return this.#presence;
  }

  get server(): string | undefined {
    return this.#settings?.server;
  }

  get siteName(): string {
    return this.#presence?.state?.site.name ?? this.#settings?.site ?? "the site";
  }

  /** Read everything again and join anew; the last presence leaves. */
  async restart(): Promise<void> {
    const generation = ++this.#generation;
    clearTimeout(this.#retryTimer);
    const old = this.#presence;
    this.#presence = undefined;
    await old?.close();
    const result = await readSettings();
    if (generation !== this.#generation) return;
    if (result.kind === "incomplete") {
      this.#settings = undefined;
      this.#mapper = undefined;
      this.#show("$(circle-slash) Copresence", result.problem, "workbench.action.openSettings", result.problem);
      return;
    }
    const settings = result.settings;
    this.#settings = settings;
    this.#mapper = new PageMapper(settings.rules, fileTree(settings.folder));
    for (const problem of this.#mapper.problems) {
      void vscode.window.showWarningMessage(`Copresence: page rule ${problem.rule + 1} is ignored: ${problem.message}`);
    }
    const signedIn = await this.credentials.has(settings.server);
    if (generation !== this.#generation) return;
    if (!signedIn) {
      this.#show("$(account) Sign in to Copresence", `Sign in to ${settings.server} to see who else works on ${settings.site}.`, "copresence.signIn", "Sign in to see who else works on this site.");
      return;
    }
    this.#show("$(sync~spin) Copresence", `Connecting to ${settings.server}…`, undefined, "Connecting…");
    const presence = new SitePresence({
      server: settings.server,
      site: settings.site,
      clientName: vscode.env.uiKind === vscode.UIKind.Web ? "vscode-web" : "vscode",
      token: () => this.#tokenFor(settings.server),
      page: (await this.#activePage()) ?? { path: "/" },
      onChange: () => {
        if (this.#presence === presence) this.#render();
      },
      onError: (error) => {
        if (this.#presence === presence) this.#failed(error, generation);
      },
    });
    this.#presence = presence;
    try {
      await presence.start();
      this.#retry = 0;
    } catch (error) {
      if (this.#presence === presence) this.#failed(asCopresenceError(error), generation);
      return;
    }
    this.#render();
    // The maker may have switched files while joining.
    await this.#followActiveTab();
  }

  async #tokenFor(server: string): Promise<string> {
    const token = await this.credentials.bearer(server);
    if (token === undefined) throw new CopresenceError("unauthorized", "signed out");
    return token;
  }

  #failed(error: CopresenceError, generation: number): void {
    if (generation !== this.#generation) return;
    if (error.status === 401 || error.code === "unauthorized") {
      this.#presence = undefined;
      this.#show("$(account) Sign in to Copresence", `The service refused the sign-in: ${error.message}`, "copresence.signIn", "The service refused your sign-in. Sign in again.");
      return;
    }
    if (error.status === 404 || error.status === 403) {
      this.#presence = undefined;
      this.#show("$(error) Copresence", error.message, "workbench.action.openSettings", `Not a site of yours: ${error.message}`);
      return;
    }
    if (this.#presence?.state !== undefined) return; // a heartbeat failed; the next one retries
    const wait = RETRY_MS[Math.min(this.#retry++, RETRY_MS.length - 1)]!;
    this.#show("$(warning) Copresence", `${error.message}: trying again`, undefined, `Cannot reach the service: ${error.message}. Trying again…`);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.restart(), wait);
  }

  /** The page of the file in the active tab (text, diff, notebook or custom editor). */
  async #activePage(): Promise<Page | undefined> {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    let uri: vscode.Uri | undefined;
    if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputNotebook) {
      uri = input.uri;
    } else if (input instanceof vscode.TabInputTextDiff || input instanceof vscode.TabInputNotebookDiff) {
      uri = input.modified;
    }
    uri ??= vscode.window.activeTextEditor?.document.uri;
    return uri === undefined ? undefined : this.#pageOfUri(uri);
  }

  async #pageOfUri(uri: vscode.Uri): Promise<Page | undefined> {
    const settings = this.#settings;
    const mapper = this.#mapper;
    if (settings === undefined || mapper === undefined) return undefined;
    const path = relativePath(settings.folder, uri);
    return path === undefined ? undefined : mapper.pageOf(path);
  }

  async #followActiveTab(): Promise<void> {
    const presence = this.#presence;
    if (presence === undefined) return;
    const page = await this.#activePage();
    if (page === undefined || presence !== this.#presence) return;
    try {
      await presence.moveTo(page);
    } catch (error) {
      this.#reportOnce(asCopresenceError(error));
    }
  }

  async #saved(uri: vscode.Uri): Promise<void> {
    const presence = this.#presence;
    const page = await this.#pageOfUri(uri);
    if (presence === undefined || page === undefined) return;
    try {
      const outcome = await presence.save(page);
      if (outcome.kind === "conflict") {
        await resolveConflict(outcome.conflict, page, presence, this.siteName);
      }
    } catch (error) {
      this.#reportOnce(asCopresenceError(error));
    }
    this.#render();
  }

  #reportOnce(error: CopresenceError): void {
    void vscode.window.showWarningMessage(`Copresence: ${error.message}`);
  }

  #show(text: string, tooltip: string, command: string | undefined, message: string): void {
    this.#status.text = text;
    this.#status.tooltip = tooltip;
    this.#status.command = command;
    this.#status.show();
    this.#view.show([], message, undefined);
    this.#decorations.update(() => []);
  }

  /** Show what the presence holds: the count, the people by page, the badges. */
  #render(): void {
    const presence = this.#presence;
    const state = presence?.state;
    if (presence === undefined || state === undefined) return;
    const pages = presence.people();
    const others = presence.others();
    const names = others.map((m) => m.user.name);
    this.#status.text = `$(organization) ${others.length}`;
    this.#status.tooltip = names.length === 0
      ? `Nobody else is on ${state.site.name}`
      : `On ${state.site.name}: ${names.join(", ")}`;
    this.#status.command = "copresence.showPeople";
    this.#status.show();
    const last = state.last_save;
    const message = last === null
      ? undefined
      : `Last save: ${last.user.id === presence.me?.id ? "you" : last.user.name}, ${last.page}, ${new Date(last.at).toLocaleTimeString()} (v${last.version})`;
    this.#view.show(pages, message ?? (pages.length === 0 ? `Nobody else is on ${state.site.name}.` : undefined), `${state.site.name}: ${others.length} here`);
    const byPage = new Map(pages.map((p) => [p.path, p.people] as const));
    this.#decorations.update((path: string): PersonOnPage[] => byPage.get(path) ?? []);
  }

  async dispose(): Promise<void> {
    this.#generation++;
    clearTimeout(this.#retryTimer);
    for (const d of this.#disposables) d.dispose();
    await this.#presence?.close();
  }
}

function asCopresenceError(error: unknown): CopresenceError {
  return error instanceof CopresenceError ? error : new CopresenceError("network", String(error), { cause: error });
}
