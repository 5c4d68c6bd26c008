/**
 * Links that open a conversation with someone: a Teams 1:1 chat and an e-mail, by the Rust
 * core's rules (`copresence_core::links`), held to them by `protocol/golden/links.json`.
 *
 * Every value is percent-encoded as UTF-8 with spaces as `%20`, so a hostile address such as
 * `a?b&c#d%@x.test` cannot smuggle a query, a fragment or a second recipient into the link. A
 * link that could not be built safely is refused with a {@link LinkError}, not patched.
 */

/** Where every Teams deep link starts. */
export const TEAMS_CHAT_PREFIX = "https://teams.microsoft.com/l/chat/0/0?users=";

export type LinkErrorCode = "no_teams_account" | "invalid_address";

export class LinkError extends Error {
  readonly code: LinkErrorCode;
  constructor(code: LinkErrorCode) {
    super(
      code === "no_teams_account"
        ? "this user has no Teams account"
        : "not an e-mail address: it needs one '@' with text on both sides and no control characters",
    );
    this.name = "LinkError";
    this.code = code;
  }
}

const CONTROL = /\p{Cc}/u;

/**
 * RFC 3986's unreserved characters stay; everything else is encoded. `encodeURIComponent` also
 * leaves `!'()*` alone, which the rule encodes.
 */
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** In an address `@` may stay literal (RFC 6068 `some-delims`). */
function encodeAddress(address: string): string {
  return encodeValue(address).replace(/%40/g, "@");
}

function isPlausibleAddress(address: string): boolean {
  const at = address.lastIndexOf("@");
  return at > 0 && at < address.length - 1 && !CONTROL.test(address);
}

/** `https://teams.microsoft.com/l/chat/0/0?users=UPN[&message=TEXT]`. */
export function teamsChat(upn: string | null | undefined, message?: string | null): string {
  const trimmed = upn?.trim() ?? "";
  if (trimmed === "") throw new LinkError("no_teams_account");
  if (CONTROL.test(trimmed)) throw new LinkError("invalid_address");
  let link = TEAMS_CHAT_PREFIX + encodeAddress(trimmed);
  if (message) link += `&message=${encodeValue(message)}`;
  return link;
}

/** Whether a card offers a Teams chat: exactly when {@link teamsChat} can build its link. */
export function hasTeams(upn: string | null | undefined): boolean {
  try {
    teamsChat(upn);
    return true;
  } catch {
    return false;
  }
}

/** `mailto:ADDRESS[?subject=…&body=…]` per RFC 6068; line breaks in the body become `%0D%0A`. */
export function mailto(address: string, subject?: string | null, body?: string | null): string {
  const trimmed = address.trim();
  if (!isPlausibleAddress(trimmed)) throw new LinkError("invalid_address");
  let link = `mailto:${encodeAddress(trimmed)}`;
  const crlfBody = body?.replace(/\r\n/g, "\n").replace(/\n/g, "\r\n");
  let separator = "?";
  for (const [name, value] of [
    ["subject", subject],
    ["body", crlfBody],
  ] as const) {
    if (value) {
      link += `${separator}${name}=${encodeValue(value)}`;
      separator = "&";
    }
  }
  return link;
}
