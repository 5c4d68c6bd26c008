/**
 * The contract with the Rust side: the JSON shape of `View` (src-tauri/src/view.rs), the
 * payload of the `show` event, and the error every failing command rejects with.
 * Keys stay snake_case, exactly as serde sends them.
 */

export type Connection = "connected" | "connecting" | "offline" | "signed_out";

export interface Status {
  connection: Connection;
  /** For people: why offline or signed out. */
  message: string | null;
}

export interface PersonSession {
  page: string;
  /** What the page is called: its title, or its path when it has none (the core's rule). */
  page_title: string;
  client: string;
  /** ms since the epoch */
  since: number;
}

/** Someone on a site, with what their avatar and card show. */
export interface Person extends PersonSession {
  user_id: number;
  name: string;
  initials: string;
  /** Index into the palette, 0..7. */
  colour: number;
  /** Their photo's key among the photos the app hands over apart (`photos`), once fetched. */
  photo: string | null;
  is_me: boolean;
  email: string;
  has_teams: boolean;
  /** The id of the session `page`… name: what Open asks for. */
  session: string | null;
  /** Where Open goes for that session (their studio, else the page on the site); none: no Open. */
  open_address: string | null;
  /** Every open session; `page`… above are the most recent one's. */
  sessions: PersonSession[];
}

/** One page of a site's tree; rows arrive in tree order (parents before children). */
export interface PageRow {
  path: string;
  /** What the page is called: its title, or its path when it has none (the core's rule). */
  title: string;
  depth: number;
  has_children: boolean;
  /** Who is on this page itself: what an expanded row shows. */
  here: Person[];
  /** Who is on this page or under it: what a collapsed row shows. */
  rolled_up: Person[];
}

export interface SaveView {
  name: string;
  /** What the page is called: its title, or its path when it has none (the core's rule). */
  page_title: string;
  version: number;
  at: number;
  forced: boolean;
}

export interface SiteView {
  /** The server of the account it is seen through. */
  account: string;
  /** That account's name, when signed in to several services: its sites go under it. */
  account_label: string | null;
  id: string;
  name: string;
  url: string;
  version: number;
  /** At most three avatars, never you. */
  toolbar: Person[];
  /** Everyone else: the "+N", expanding to `toolbar` followed by these. */
  overflow: Person[];
  pages: PageRow[];
  first_save: SaveView | null;
  last_save: SaveView | null;
}

export type TokenStorage = "keychain" | "file" | "environment" | "none";

export interface FollowChoice {
  account: string;
  id: string;
  name: string;
  followed: boolean;
}

/** One service signed in to (or signed out of, still listed). */
export interface AccountView {
  server: string;
  /** The service's host, and who you are there once known. */
  label: string;
  connection: Connection;
  message: string | null;
  signed_in_as: string | null;
  /** The organisation's sign-in (its issuer), when signed in with an account rather than a token. */
  signed_in_with: string | null;
  token_storage: TokenStorage;
  storage_warning: string | null;
  server_warning: string | null;
}

export interface SettingsView {
  /** What the sign-in form starts with. */
  server: string;
  notify_joins: boolean;
  notify_saves: boolean;
  quiet_hours_enabled: boolean;
  /** "HH:MM", local time */
  quiet_start: string;
  quiet_end: string;
  autostart: boolean;
  /** Avatars in a site's toolbar before "+N", and the sizes that may be chosen. */
  toolbar_avatars: number;
  toolbar_avatar_choices: number[];
  /** The global shortcut that shows or hides the popup, if one is chosen, and why it fails. */
  shortcut: string | null;
  shortcut_problem: string | null;
  sites: FollowChoice[];
}

/** Everything the popup renders. */
export interface View {
  /** Grows with every change on the Rust side: an older view is dropped. */
  revision: number;
  status: Status;
  me: Person | null;
  /** Followed sites: each account's in turn, in name order. */
  sites: SiteView[];
  /** Notifications are paused until then (ms since the epoch). */
  paused_until: number | null;
  /** The desktop's own Do Not Disturb is on: nothing is announced while it is. */
  do_not_disturb: boolean;
  accounts: AccountView[];
  settings: SettingsView;
}

/** The argument of `update_preferences` (inner keys stay snake_case). */
export interface Preferences {
  notify_joins: boolean;
  notify_saves: boolean;
  quiet_hours_enabled: boolean;
  quiet_start: string;
  quiet_end: string;
}

export type Tab = "sites" | "settings";
export type ContactKind = "email" | "teams";
export type PauseUntil = "hour" | "tomorrow";

/** Payload of the `show` event: the tray asks the popup to show a tab (and maybe a site). */
export interface ShowRequest {
  tab: Tab;
  site: string | null;
}

/** What a failing command rejects with. */
export interface CommandError {
  code: string;
  message: string;
}
