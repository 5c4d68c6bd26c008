/**
 * `@copresence/client`: the Copresence protocol (docs/protocol.md) for browsers and Node ≥ 20.
 *
 * - {@link Client}: one method per REST endpoint.
 * - {@link Feed}: the live event stream, resuming with `Last-Event-ID` and renewing its ticket.
 * - {@link LiveState}, {@link applyToSite}: the sites' state kept current from the events, by
 *   the Rust core's rules (held to them by the shared golden files in `protocol/golden/`).
 * - {@link Presence}: an editor tab's session: join, heartbeat, move, save, leave.
 * - {@link teamsChat}, {@link mailto}: the links a user card opens, by the Rust core's rules.
 * - {@link pageOfAddress}, {@link openAddress}: which page a web editor's tab is on, and where a
 *   card's Open goes, by the Rust core's rules.
 * - {@link BrowserSignIn}: signing in with the organisation's OpenID provider through the
 *   service's redirect, for editors in a browser.
 * - {@link CopresenceError}, {@link ConflictError}: errors with the service's codes.
 */

export { Client, DEFAULT_TIMEOUT_MS, type ClientOptions, type TokenSource } from "./client.js";
export { readEvent } from "./decode.js";
export {
  ConflictError,
  CopresenceError,
  SERVICE_ERROR_CODES,
  type ClientErrorCode,
  type ErrorCode,
  type ServiceErrorCode,
} from "./errors.js";
export {
  Feed,
  type EventSourceClass,
  type EventSourceLike,
  type FeedOptions,
  type FeedUpdate,
} from "./feed.js";
export {
  LinkError,
  TEAMS_CHAT_PREFIX,
  hasTeams,
  mailto,
  teamsChat,
  type LinkErrorCode,
} from "./links.js";
export { LiveState } from "./live.js";
export { Presence, type PresenceOptions } from "./presence.js";
export { applyToMembers, applyToSite } from "./roster.js";
export * from "./types.js";
export {
  BrowserSignIn,
  SignInError,
  bearerIsIdToken,
  refreshSignIn,
  sendsResource,
  signInRedirectUri,
  type BrowserSignInOptions,
  type SignInTokens,
} from "./signIn.js";
export { MAX_ADDRESS_BYTES, openAddress, pageOfAddress, pageOfAddressIn } from "./editors.js";
export {
  RENEW_BEFORE_MS,
  credentialIdentity,
  needsRenewal,
  renewCredential,
  type Credential,
} from "./credential.js";
