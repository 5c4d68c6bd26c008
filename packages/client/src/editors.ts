/**
 * Which page a web editor's tab is on, and where a card's **Open** goes: the Rust core's rules
 * (`copresence_core::editors`), held to them by `protocol/golden/editors.json` and
 * `protocol/golden/open.json`.
 *
 * Patterns are URL patterns, the web's standard (`URLPattern`), so that the service, which
 * checks with the same standard's Rust implementation, and the browser agree on every address.
 * Where the platform has no `URLPattern` (Node before 23), the standard's polyfill stands in.
 */

import { URLPattern as URLPatternPolyfill } from "urlpattern-polyfill/urlpattern";

import type { Editor, SessionInfo } from "./types.js";

/** The longest tab address taken, in bytes of UTF-8. */
export const MAX_ADDRESS_BYTES = 2048;
/** The longest page path, in bytes of UTF-8 (the service's `invalid_page`). */
const MAX_PAGE_BYTES = 1024;

type Pattern = InstanceType<typeof URLPatternPolyfill>;
const URLPatternClass: typeof URLPatternPolyfill =
  (globalThis as { URLPattern?: typeof URLPatternPolyfill }).URLPattern ?? URLPatternPolyfill;

/** Patterns are compiled once: a browser matches every tab change against every site's editors. */
const compiled = new Map<string, Pattern | null>();

function patternOf(source: string): Pattern | null {
  let pattern = compiled.get(source);
  if (pattern === undefined) {
    try {
      pattern = new URLPatternClass(source);
    } catch {
      pattern = null;
    }
    compiled.set(source, pattern);
  }
  return pattern;
}

const utf8 = new TextEncoder();

/** An address the service would take: https, or http to this machine, within the length. */
function addressOf(address: string): URL | undefined {
  if (utf8.encode(address).length > MAX_ADDRESS_BYTES) return undefined;
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.protocol === "https:") return url;
  const loopback = url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return url.protocol === "http:" && loopback ? url : undefined;
}

/** A page path the service takes: from `/`, within the length, no control characters. */
function isPagePath(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  return path.startsWith("/") && utf8.encode(path).length <= MAX_PAGE_BYTES && !/[\u0000-\u001f\u007f-\u009f]/.test(path);
}

/** The page of the site `address` is on in `editor`, or undefined when it is on none. */
export function pageOfAddress(editor: Editor, address: string): string | undefined {
  const url = addressOf(address);
  const pattern = patternOf(editor.pattern);
  // No user name or password: an address that signs in somewhere is not a page to open.
  if (url === undefined || pattern === null || url.username !== "" || url.password !== "") return undefined;
  const result = pattern.exec(url.href);
  if (!result) return undefined;
  const groups: Record<string, string | undefined> = {};
  for (const component of [
    result.protocol,
    result.username,
    result.password,
    result.hostname,
    result.port,
    result.pathname,
    result.search,
    result.hash,
  ]) {
    Object.assign(groups, component.groups);
  }
  const page = groups.page;
  if (!page) return undefined;
  if (editor.site !== undefined && groups.site !== editor.site) return undefined;
  let path: string | undefined;
  if (editor.pages !== undefined) {
    path = Object.prototype.hasOwnProperty.call(editor.pages, page) ? editor.pages[page] : undefined;
  } else {
    path = page.startsWith("/") ? page : `/${page}`;
  }
  return path !== undefined && isPagePath(path) ? path : undefined;
}

/** The page `address` is on by the first of `editors` that maps it, if any. */
export function pageOfAddressIn(editors: readonly Editor[], address: string): string | undefined {
  for (const editor of editors) {
    const page = pageOfAddress(editor, address);
    if (page !== undefined) return page;
  }
  return undefined;
}

/**
 * Where a card's **Open** goes for a session: its editor's address when one of the site's
 * editors maps it to the session's page (checked here again: never an address a publisher chose
 * freely), else the site's address with the page's path; undefined when there is neither.
 */
export function openAddress(
  siteUrl: string,
  editors: readonly Editor[],
  session: Pick<SessionInfo, "page" | "url">,
): string | undefined {
  if (session.url !== undefined && editors.some((e) => pageOfAddress(e, session.url!) === session.page)) {
    return new URL(session.url).href;
  }
  const site = addressOf(siteUrl);
  if (site === undefined || !isPagePath(session.page)) return undefined;
  // The page after the site's own path; the URL standard's path setter encodes what a path
  // cannot hold (a `?` or `#` in a page path), as the Rust core's `url` does.
  site.pathname = site.pathname.replace(/\/+$/, "") + session.page;
  site.search = "";
  site.hash = "";
  return site.href;
}
