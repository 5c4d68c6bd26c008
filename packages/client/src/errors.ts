/**
 * Errors, with a stable machine `code` to branch on: the service's own code for an error answer
 * (`copresence_core::ErrorCode`, listed in `protocol/golden/error-codes.json`), or one of this
 * package's for what never was an answer. The message is for people.
 */

import type { SaveRecord } from "./types.js";

/** Every code the service answers with, in the order of `copresence_core::ErrorCode`. */
export const SERVICE_ERROR_CODES = [
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "bad_request",
  "invalid_json",
  "invalid_body",
  "invalid_path",
  "invalid_query",
  "invalid_session_id",
  "invalid_client",
  "invalid_page",
  "invalid_title",
  "invalid_redirect",
  "invalid_url",
  "invalid_site_id",
  "unknown_page",
  "too_many_sites",
  "too_many_pages",
  "unsupported_media_type",
  "payload_too_large",
  "uri_too_long",
  "headers_too_large",
  "stale_version",
  "too_many_requests",
  "too_many_sessions",
  "too_many_connections",
  "store_unavailable",
  "internal",
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

/**
 * This package's codes, the Rust client's names for the same things: the request got no answer
 * (`network`), an answer did not read as the protocol promises (`decode`), an argument could not
 * be sent (`invalid_url`, `invalid_token`, `invalid_argument`), the service ended a feed's stream
 * itself (`stream_ended`, which the feed mends by reconnecting), or a closed {@link Presence} was
 * asked to move (`closed`). For error answers without a service code (a
 * proxy's page) a code is derived from the status, the service's where it has one.
 */
export type ClientErrorCode =
  | "network"
  | "decode"
  | "invalid_url"
  | "invalid_token"
  | "invalid_argument"
  | "stream_ended"
  | "closed"
  | "forbidden"
  | "timeout"
  | "conflict"
  | "unavailable"
  | "server_error"
  | "http_error";

/**
 * A code to match on. A code this version does not know (from a newer service) comes as it was
 * sent, hence the open `string`.
 */
export type ErrorCode = ServiceErrorCode | ClientErrorCode | (string & {});

/** The body of every error answer: `{"error": {"code", "message", …}}`. */
export interface ErrorDetail {
  code: string;
  message: string;
  /** On `stale_version`: the site's current version. */
  current_version?: number;
  /** On `stale_version`: who saved last, and when. */
  last_save?: SaveRecord;
}

/** Anything a {@link Client} call, a {@link Feed} or a {@link Presence} fails with. */
export class CopresenceError extends Error {
  override name = "CopresenceError";
  /** The code to branch on. */
  readonly code: ErrorCode;
  /** The HTTP status of an error answer; absent for what never was one. */
  readonly status: number | undefined;
  /** How long the service asked to wait before trying again (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The token was refused: ask for another one rather than retrying. */
  get isUnauthorized(): boolean {
    return this.status === 401 || this.code === "unauthorized";
  }

  /**
   * A request that may succeed when tried again later: it got no answer, or met a passing
   * condition (5xx, 408, 429).
   */
  get isRetryable(): boolean {
    if (this.code === "network") return true;
    return this.status !== undefined && isRetryableStatus(this.status);
  }
}

/**
 * `409 stale_version`: the save was made on top of an old version. Talk to whoever saved last
 * ({@link lastSave}), or save again with `force: true` to overwrite.
 */
export class ConflictError extends CopresenceError {
  override name = "ConflictError";
  /** The site's version now. */
  readonly currentVersion: number;
  /** The save that made it so: who, which page, when. */
  readonly lastSave: SaveRecord | undefined;

  constructor(
    message: string,
    currentVersion: number,
    lastSave: SaveRecord | undefined,
    options: { status?: number } = {},
  ) {
    super("stale_version", message, { status: options.status ?? 409 });
    this.currentVersion = currentVersion;
    this.lastSave = lastSave;
  }
}

/** 5xx, 408 and 429 are passing conditions; other 4xx will fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Longest piece of a non-JSON error body kept as the message. */
const MAX_FALLBACK_MESSAGE = 200;

/**
 * The error for an error answer: from its JSON error body when it has one, else with a code and
 * a message derived from the status (the rules of the Rust client's `Error::from_parts`).
 */
export function errorFromAnswer(
  status: number,
  body: string,
  retryAfter: string | null,
): CopresenceError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const detail = readErrorBody(body);
  if (detail === undefined) {
    return new CopresenceError(fallbackCode(status), fallbackMessage(status, body), {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (detail.code === "stale_version") {
    // The current version is the last save's when the body leaves it out, as in the Rust client.
    const currentVersion = detail.current_version ?? detail.last_save?.version;
    if (currentVersion !== undefined) {
      return new ConflictError(detail.message, currentVersion, detail.last_save, { status });
    }
  }
  return new CopresenceError(detail.code, detail.message, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function readErrorBody(body: string): ErrorDetail | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !isObject(parsed.error)) return undefined;
  const { code, message, current_version, last_save } = parsed.error;
  if (typeof code !== "string" || code === "") return undefined;
  return {
    code,
    message: typeof message === "string" ? message : code,
    ...(typeof current_version === "number" ? { current_version } : {}),
    ...(isObject(last_save) ? { last_save: last_save as unknown as SaveRecord } : {}),
  };
}

/** `Retry-After` in its seconds form (the service does not send the date form). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

function fallbackCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 408:
      return "timeout";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "too_many_requests";
  }
  if (status >= 502 && status <= 504) return "unavailable";
  if (status >= 500 && status <= 599) return "server_error";
  return "http_error";
}

/** The body's text when it is short plain text (not a proxy's markup), the status otherwise. */
function fallbackMessage(status: number, body: string): string {
  const text = body.trim();
  if (text === "" || text.startsWith("<")) return `HTTP ${status}`;
  const oneLine = text.split(/\s+/).join(" ");
  const chars = Array.from(oneLine);
  return chars.length > MAX_FALLBACK_MESSAGE
    ? `${chars.slice(0, MAX_FALLBACK_MESSAGE).join("")}…`
    : oneLine;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
