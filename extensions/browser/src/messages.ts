/**
 * What the extension's parts tell each other. Data flows one way: the service worker sees the
 * tabs and tells the live part (which holds the event stream); the live part publishes the
 * sites' state, which the worker keeps in session storage for the badge and the popup.
 *
 * Only the extension's own pages and worker send these (there is no content script, and
 * `externally_connectable` is not declared, so no web page can); each receiver still checks the
 * sender is this extension.
 */

import type { Editor, Member, Page, SaveRecord, SiteInfo } from "@copresence/client";

import type { Credential } from "./credential.js";

/** A tab as the worker sees it: its address only where the extension may read it. */
export interface TabSeen {
  id: number;
  url: string;
  /** When the maker last looked at it (ms since the epoch), to pick a site's current tab. */
  lastAccessed: number;
}

/** Where the worker sends what it sees. */
export type ToLive =
  | { to: "live"; kind: "configure"; server: string | undefined; credential: Credential | undefined }
  | { to: "live"; kind: "tabs"; tabs: TabSeen[] };

/** One site as the badge and the popup show it. */
export interface SiteView {
  site: SiteInfo;
  editors: Editor[];
  pages: Page[];
  members: Member[];
  lastSave: SaveRecord | null;
  /** The tabs on this site. */
  tabs: number[];
}

/** The live part's state, as it publishes it. */
export interface LiveView {
  /** The signed-in user's e-mail, once known. */
  me: string | undefined;
  /** What went wrong last, for the popup; undefined while all is well. */
  problem: string | undefined;
  sites: SiteView[];
}

/**
 * What the live part sends the worker: its view, a renewed credential to keep, or (on start) a
 * request for everything.
 */
export type FromLive =
  | { to: "worker"; kind: "view"; view: LiveView }
  | { to: "worker"; kind: "renewed"; server: string; credential: Credential }
  | { to: "worker"; kind: "hello" };

/** Where the extension keeps its settings and credential (`chrome.storage.local`). */
export interface Settings {
  server?: string;
  credential?: Credential;
}

/** The key of the live view in `chrome.storage.session`. */
export const VIEW_KEY = "view";
