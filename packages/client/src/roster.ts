/**
 * A site's live state, kept current by the rules of the Rust core (`roster.rs`, `pages.rs`): the
 * server derives join, move and leave from session changes; a client applies them, saves and
 * added pages here. Both sides hold members sorted by user id, so a client's view is the
 * server's, delayed by the network.
 *
 * The shared golden files in `protocol/golden/roster/` hold this and the Rust client to the same
 * results, event by event.
 *
 * Nothing here changes what it is given: a change makes a new array or state, so a UI can tell
 * what changed by identity.
 */

import type { Member, Page, ProtocolEvent, SiteState, UserId } from "./types.js";

/**
 * Apply a join, move or leave to a site's members. A join or a move carries the user's whole
 * state: it replaces what was held for them, or adds them in user-id order (a move for someone
 * not held, after a missed join, adds them too). A leave removes them. Other events change
 * nothing. Returns `members` itself when nothing changed.
 */
export function applyToMembers(members: Member[], event: ProtocolEvent): Member[] {
  switch (event.type) {
    case "join":
    case "move": {
      const { found, index } = findMember(members, event.member.user.id);
      return [
        ...members.slice(0, index),
        event.member,
        ...members.slice(found ? index + 1 : index),
      ];
    }
    case "leave": {
      const { found, index } = findMember(members, event.user.id);
      return found ? [...members.slice(0, index), ...members.slice(index + 1)] : members;
    }
    case "snapshot":
    case "saved":
    case "pages":
      return members;
  }
}

/**
 * Add pages to a site's pages (kept in path order), each unless one with its path is there
 * already, whose title then stays: the rule of the Rust core's `pages::add_page`. The same list
 * comes out however often a page is added and in whatever order additions arrive. Returns
 * `pages` itself when none was added.
 */
export function addPages(pages: Page[], added: readonly Page[]): Page[] {
  let result = pages;
  for (const page of added) {
    if (result.some((held) => held.path === page.path)) continue;
    const at = result.findIndex((held) => comparePaths(held.path, page.path) > 0);
    const index = at === -1 ? result.length : at;
    result = [...result.slice(0, index), page, ...result.slice(index)];
  }
  return result;
}

/**
 * Paths in the order Rust compares strings: by Unicode code point (UTF-8 byte order), which is
 * not the order of `<` on UTF-16 strings once characters beyond U+FFFF meet ones above U+D7FF.
 */
function comparePaths(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/**
 * Apply an event about this site. A `saved` moves the version on only when it is newer than the
 * state's, so a save seen both in a snapshot and in the stream counts once and a late one never
 * takes the version back; the first save seen becomes `first_save` when there was none. A
 * `pages` adds the pages the state does not list yet ({@link addPages}).
 * Returns `state` itself when nothing changed.
 */
export function applyToSite(state: SiteState, event: ProtocolEvent): SiteState {
  if (event.type === "pages") {
    const pages = addPages(state.pages, event.added);
    return pages === state.pages ? state : { ...state, pages };
  }
  if (event.type === "saved") {
    const { save } = event;
    if (save.version <= state.version) return state;
    return {
      ...state,
      version: save.version,
      first_save: state.first_save ?? save,
      last_save: save,
    };
  }
  const members = applyToMembers(state.members, event);
  return members === state.members ? state : { ...state, members };
}

/**
 * Where `user` is in `members` (sorted by user id), or where they would go: a binary search, as
 * the Rust roster's `index_of`.
 */
function findMember(members: Member[], user: UserId): { found: boolean; index: number } {
  let low = 0;
  let high = members.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const id = members[middle]!.user.id;
    if (id === user) return { found: true, index: middle };
    if (id < user) low = middle + 1;
    else high = middle;
  }
  return { found: false, index: low };
}
