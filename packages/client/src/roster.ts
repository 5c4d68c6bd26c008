/**
 * A site's live state, kept current by the rules of the Rust core (`roster.rs`): the server
 * derives join, move and leave from session changes; a client applies them here. Both sides hold
 * members sorted by user id, so a client's view is the server's, delayed by the network.
 *
 * The shared golden files in `protocol/golden/roster/` hold this and the Rust client to the same
 * results, event by event.
 *
 * Nothing here changes what it is given: a change makes a new array or state, so a UI can tell
 * what changed by identity.
 */

import type { Member, ProtocolEvent, SiteState, UserId } from "./types.js";

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
      return members;
  }
}

/**
 * Apply an event about this site. A `saved` moves the version on only when it is newer than the
 * state's, so a save seen both in a snapshot and in the stream counts once and a late one never
 * takes the version back; the first save seen becomes `first_save` when there was none.
 * Returns `state` itself when nothing changed.
 */
export function applyToSite(state: SiteState, event: ProtocolEvent): SiteState {
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
