/**
 * Which page of the site a file is: the rules a workspace gives, then the built-in ones.
 *
 * 1. The workspace's rules (`copresence.pages`, or `"pages"` in `.copresence.json`), in order: a
 *    regular expression matched against the whole path relative to the workspace folder, and a
 *    replacement (`$<name>`, `$1`) that gives the page; an empty page puts those files on none.
 * 2. A Power Pages site downloaded with the Power Platform CLI (`pac powerpages download`): a
 *    file under `web-pages/<folder>/` is that web page, whose URL is its partial URL under its
 *    parent's, read from the `.webpage.yml` files ({@link PowerPagesIndex}). Other files of such
 *    a site (a folder with `website.yml`: templates, snippets, web files) are on no page.
 * 3. Otherwise, the path without its extension (`docs/intro.md` → `/docs/intro`), where an
 *    `index` file is its folder's page (`docs/index.html` → `/docs`).
 *
 * A file on no page does not move its editor: they stay on the page they were on. Nothing here
 * touches VS Code, so the rules are tested as they are.
 */

import { PowerPagesIndex, type FileTree } from "./powerPages.js";

/** A workspace's rule, as written in settings or `.copresence.json`. */
export interface PageRule {
  /** A regular expression for the whole path relative to the workspace folder (`/`-separated). */
  files: string;
  /** The page: a replacement for the match; empty for no page. */
  page: string;
  /** The page's title when the file registers it: a replacement too. */
  title?: string;
}

/** Where a file is on the site: the page's path and, when known, its title. */
export interface Page {
  path: string;
  title?: string;
}

/** A rule that could not be used, with why: shown to the user, never thrown at them. */
export interface RuleProblem {
  rule: number;
  message: string;
}

interface CompiledRule {
  files: RegExp;
  page: string;
  title: string | undefined;
}

/** The longest page path the service takes; a longer one is no page rather than an error. */
const MAX_PAGE_BYTES = 1024;

export class PageMapper {
  readonly problems: RuleProblem[] = [];
  readonly #rules: CompiledRule[] = [];
  readonly #powerPages: PowerPagesIndex;

  constructor(rules: readonly PageRule[], tree: FileTree) {
    rules.forEach((rule, index) => {
      if (typeof rule?.files !== "string" || typeof rule.page !== "string") {
        this.problems.push({ rule: index, message: 'a rule needs "files" and "page" strings' });
        return;
      }
      try {
        // `u` for Unicode paths; anchored, so a rule describes whole paths.
        this.#rules.push({
          files: new RegExp(`^(?:${rule.files})$`, "u"),
          page: rule.page,
          title: typeof rule.title === "string" ? rule.title : undefined,
        });
      } catch (error) {
        this.problems.push({ rule: index, message: `"files" is not a regular expression: ${String(error)}` });
      }
    });
    this.#powerPages = new PowerPagesIndex(tree);
  }

  /** Forget what was read of the workspace's files (a `.webpage.yml` changed). */
  forgetFiles(): void {
    this.#powerPages.forget();
  }

  /** The page of a path relative to the workspace folder (`/`-separated), or none. */
  async pageOf(relativePath: string): Promise<Page | undefined> {
    const path = relativePath.replace(/^\/+/, "");
    if (path === "") return undefined;
    for (const rule of this.#rules) {
      if (!rule.files.test(path)) continue;
      const page = path.replace(rule.files, rule.page);
      const title = rule.title === undefined ? undefined : path.replace(rule.files, rule.title);
      return page.trim() === "" ? undefined : withTitle(normalisePage(page), title);
    }
    const powerPages = PowerPagesIndex.locate(path);
    if (powerPages !== undefined) {
      const page = await this.#powerPages.pageOf(powerPages);
      return page === undefined ? undefined : withTitle(normalisePage(page.path), page.title);
    }
    if (await this.#powerPages.inSite(path)) return undefined;
    return withTitle(normalisePage(withoutExtension(path)), undefined);
  }
}

function withTitle(path: string | undefined, title: string | undefined): Page | undefined {
  if (path === undefined) return undefined;
  const trimmed = title?.trim();
  return trimmed ? { path, title: trimmed } : { path };
}

/** `docs/intro.md` → `docs/intro`; `docs/index.html` → `docs`; `index.html` → ``. */
function withoutExtension(path: string): string {
  const slash = path.lastIndexOf("/");
  const folder = path.slice(0, slash + 1);
  let name = path.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  // `.eslintrc` is a name, not an extension.
  if (dot > 0) name = name.slice(0, dot);
  return name === "index" ? folder : folder + name;
}

/**
 * One leading `/`, no empty segments, no trailing `/` (but `/` itself); `undefined` for what
 * the service would refuse (control characters, too long).
 */
export function normalisePage(page: string): string | undefined {
  const segments = page.split("/").filter((s) => s !== "" && s !== ".");
  const path = `/${segments.join("/")}`;
  if (/\p{Cc}/u.test(path) || new TextEncoder().encode(path).length > MAX_PAGE_BYTES) {
    return undefined;
  }
  return path;
}
