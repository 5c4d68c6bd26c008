/**
 * What every part of the popup draws from and acts through: the `Actions` (the commands of the
 * Rust side; tests pass fakes), the `UiState` only the popup keeps, and the `Ctx` a part is
 * handed when it draws.
 *
 * Parts change presentational state by updating `UiState` and calling `redraw`; everything
 * else is a command, run so that its failure has somewhere to show.
 */

import type { ContactKind, PauseUntil, Preferences, Tab, View } from "../types";

/** The commands of the Rust side; each rejects with a `CommandError` on failure. */
export interface Actions {
  openContact(server: string, site: string, userId: number, kind: ContactKind): Promise<void>;
  /** Open where someone is: named by their session; the Rust side finds the address. */
  openSession(server: string, site: string, userId: number, session: string): Promise<void>;
  setFollow(server: string, site: string, follow: boolean): Promise<void>;
  updatePreferences(preferences: Preferences): Promise<void>;
  setAutostart(enabled: boolean): Promise<void>;
  setToolbarAvatars(count: number): Promise<void>;
  /** `null` turns the shortcut off. */
  setShortcut(shortcut: string | null): Promise<void>;
  signIn(server: string, token: string): Promise<void>;
  /** Sign in with the organisation's account: resolves once the browser came back. */
  signInWithAccount(server: string): Promise<void>;
  signOut(server: string): Promise<void>;
  pause(until: PauseUntil): Promise<void>;
  resume(): Promise<void>;
}

/** What the popup remembers by itself, none of it shared with Rust. */
export interface UiState {
  tab: Tab;
  /** Collapsed tree rows, as `rowKey(site, path)`; rows are expanded by default. */
  collapsed: Set<string>;
  /** Sites whose "+N" list is open. */
  expanded: Set<string>;
  /** The open user card; `opener` is where focus goes back to when it closes. */
  card: {
    account: string;
    site: string;
    userId: number;
    error: string | null;
    opener: string | null;
  } | null;
  pauseMenu: boolean;
  signIn: { busy: boolean; error: string | null };
  /** The failure of the last command that has no place of its own to show it. */
  error: string | null;
  /** A site flashed after the tray asked to show it. */
  highlight: string | null;
  /** A `data-focus` key to move focus to after the next draw. */
  focus: string | null;
}

export function initialUi(): UiState {
  return {
    tab: "sites",
    collapsed: new Set(),
    expanded: new Set(),
    card: null,
    pauseMenu: false,
    signIn: { busy: false, error: null },
    error: null,
    highlight: null,
    focus: null,
  };
}

/** Everything a part of the popup needs to draw itself and react. */
export interface Ctx {
  root: HTMLElement;
  view: View;
  ui: UiState;
  actions: Actions;
  now: number;
  redraw: () => void;
  /** Run a command; a failure shows in the error line. */
  run: (command: Promise<void>) => void;
}

/** The message of a command's rejection (`{code, message}`, or a bare string from Tauri). */
export function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  if (error && typeof error === "object" && "message" in error && typeof error.message === "string") {
    return error.message;
  }
  return "Something went wrong.";
}
