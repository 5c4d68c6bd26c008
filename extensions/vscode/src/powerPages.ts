/**
 * Power Pages sites as the Power Platform CLI downloads them (`pac powerpages download`):
 *
 * ```text
 * <site folder>/web-pages/<folder>/<Name>.webpage.yml          adx_webpageid, adx_partialurl,
 *                                                              adx_parentpageid, adx_name
 * <site folder>/web-pages/<folder>/<Name>.webpage.copy.html    the page's content, its CSS, JS…
 * <site folder>/web-pages/<folder>/content-pages/…             per-language copies of the same page
 * ```
 *
 * Its other files (templates, snippets, web files, settings) are on no page.
 *
 * A page's URL is its partial URL under its parent's (the home page's is `/`), so a page's path
 * needs every `.webpage.yml` of the site: they are read once per site folder, when first needed,
 * and again after {@link PowerPagesIndex.forget} (a `.webpage.yml` changed).
 */

import { parse } from "yaml";

/** What the mapping reads of the workspace: VS Code's file system, or a test's files. */
export interface FileTree {
  /** A file's text, or undefined when there is none. */
  readText(path: string): Promise<string | undefined>;
  /** A folder's entries (names, with whether each is a folder), or empty when there is none. */
  list(path: string): Promise<{ name: string; folder: boolean }[]>;
}

/** A file inside a downloaded site's `web-pages/<folder>/`. */
export interface PowerPagesFile {
  /** The site's folder, relative to the workspace (`` when the workspace is the site). */
  siteFolder: string;
  /** The web page's folder name under `web-pages/`. */
  pageFolder: string;
}

interface WebPage {
  id: string;
  partialUrl: string;
  parentId: string | undefined;
  name: string | undefined;
}

interface SiteIndex {
  /** By `adx_webpageid`. */
  byId: Map<string, WebPage>;
  /** By folder under `web-pages/`. */
  byFolder: Map<string, WebPage>;
}

/** A parent chain longer than this is a loop in the files, not a site. */
const MAX_DEPTH = 64;

export class PowerPagesIndex {
  readonly #tree: FileTree;
  readonly #sites = new Map<string, Promise<SiteIndex>>();
  /** Whether a folder is a downloaded site's (holds `website.yml`), by folder. */
  readonly #siteFolders = new Map<string, Promise<boolean>>();

  constructor(tree: FileTree) {
    this.#tree = tree;
  }

  /** Whether a path is inside some site's `web-pages/<folder>`; the folder itself counts. */
  static locate(path: string): PowerPagesFile | undefined {
    const segments = path.split("/");
    const at = segments.lastIndexOf("web-pages");
    const pageFolder = segments[at + 1];
    if (at < 0 || pageFolder === undefined || pageFolder === "") return undefined;
    return { siteFolder: segments.slice(0, at).join("/"), pageFolder };
  }

  forget(): void {
    this.#sites.clear();
    this.#siteFolders.clear();
  }

  /** Whether a path is inside a downloaded site (a folder above it holds `website.yml`). */
  async inSite(path: string): Promise<boolean> {
    const segments = path.split("/");
    for (let end = segments.length - 1; end >= 0; end--) {
      const folder = segments.slice(0, end).join("/");
      let known = this.#siteFolders.get(folder);
      if (known === undefined) {
        known = this.#tree.readText(join(folder, "website.yml")).then((t) => t !== undefined);
        this.#siteFolders.set(folder, known);
      }
      if (await known) return true;
    }
    return false;
  }

  /** The web page a file belongs to: its URL path and name; none when its files say nothing. */
  async pageOf(file: PowerPagesFile): Promise<{ path: string; title?: string } | undefined> {
    let site = this.#sites.get(file.siteFolder);
    if (site === undefined) {
      site = this.#read(file.siteFolder);
      this.#sites.set(file.siteFolder, site);
    }
    const index = await site;
    const page = index.byFolder.get(file.pageFolder);
    if (page === undefined) return undefined;
    const path = urlOf(page, index);
    if (path === undefined) return undefined;
    return page.name === undefined ? { path } : { path, title: page.name };
  }

  async #read(siteFolder: string): Promise<SiteIndex> {
    const index: SiteIndex = { byId: new Map(), byFolder: new Map() };
    const webPages = join(siteFolder, "web-pages");
    for (const entry of await this.#tree.list(webPages)) {
      if (!entry.folder) continue;
      const folder = join(webPages, entry.name);
      // The page itself is the `.webpage.yml` directly in its folder; content-pages/ holds
      // its copies per language.
      const files = await this.#tree.list(folder);
      const yml = files.find((f) => !f.folder && f.name.toLowerCase().endsWith(".webpage.yml"));
      if (yml === undefined) continue;
      const page = readWebPage(await this.#tree.readText(join(folder, yml.name)));
      if (page === undefined) continue;
      index.byId.set(page.id, page);
      index.byFolder.set(entry.name, page);
    }
    return index;
  }
}

function join(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

/** A `.webpage.yml`'s fields, or undefined when it is not one. */
export function readWebPage(text: string | undefined): WebPage | undefined {
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const fields = doc as Record<string, unknown>;
  const id = scalar(fields.adx_webpageid);
  const partialUrl = scalar(fields.adx_partialurl);
  if (id === undefined || partialUrl === undefined) return undefined;
  return {
    id,
    partialUrl,
    parentId: scalar(fields.adx_parentpageid),
    name: scalar(fields.adx_name),
  };
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
  if (typeof value === "number") return String(value);
  return undefined;
}

/** The page's URL path: the partial URLs from the home page down. */
function urlOf(page: WebPage, index: SiteIndex): string | undefined {
  const parts: string[] = [];
  let current: WebPage | undefined = page;
  for (let depth = 0; current !== undefined; depth++) {
    if (depth > MAX_DEPTH) return undefined;
    const partial = current.partialUrl.replace(/^\/+|\/+$/g, "");
    if (partial !== "") parts.unshift(partial);
    // The home page (`/`) is the root even when it names a parent.
    if (current.partialUrl.trim() === "/" || current.parentId === undefined) break;
    current = index.byId.get(current.parentId);
    // A parent that is not in the download: the page is placed under the root.
  }
  return `/${parts.join("/")}`;
}
