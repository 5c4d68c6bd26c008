/**
 * The Sites tab: one section per followed site — its name and address, its toolbar, its page
 * tree with who is on each page, and a footer with the last and first saves.
 *
 * Rows arrive in tree order with both who is on a page and who is under it; collapsing a row
 * is the popup's own state, so the tree only picks which of the two lists a row shows and skips
 * the rows under a collapsed one.
 */

import type { PageRow, SiteView } from "../types";
import { ago, date } from "../time";
import { avatar } from "./avatar";
import type { Ctx } from "./context";
import { button, el } from "./dom";
import { everyoneList, toolbar } from "./toolbar";

/** A tree row's key in `UiState.collapsed`. */
export const rowKey = (site: string, path: string): string => `${site}\n${path}`;

export function sitesPanel(ctx: Ctx): HTMLElement {
  const panel = el("div", { class: "sites" });
  if (ctx.view.sites.length === 0) {
    panel.append(el("p", { class: "empty" }, "No sites to show. Choose the sites you follow in Settings."));
  }
  let account: string | null = null;
  for (const site of ctx.view.sites) {
    // Signed in to several services: each one's sites under its name.
    if (site.account_label !== null && site.account !== account) {
      account = site.account;
      panel.append(el("h2", { class: "account-heading", "data-testid": "account-heading" }, site.account_label));
    }
    panel.append(siteSection(ctx, site));
  }
  return panel;
}

function siteSection(ctx: Ctx, site: SiteView): HTMLElement {
  return el(
    "section",
    {
      class: ctx.ui.highlight === site.id ? "site highlight" : "site",
      "data-testid": "site",
      "data-site": site.id,
      "data-account": site.account,
    },
    el("div", { class: "site-head" }, el("h2", {}, site.name), el("span", { class: "url" }, site.url)),
    toolbar(ctx, site),
    ctx.ui.expanded.has(site.id) && everyoneList(ctx, site),
    pageTree(ctx, site),
    saves(ctx, site),
  );
}

function pageTree(ctx: Ctx, site: SiteView): HTMLElement {
  const tree = el("ul", { class: "tree" });
  let hiddenBelow: number | null = null; // rows deeper than this sit under a collapsed row
  for (const row of site.pages) {
    if (hiddenBelow !== null && row.depth > hiddenBelow) continue;
    hiddenBelow = null;
    const collapsed = row.has_children && ctx.ui.collapsed.has(rowKey(site.id, row.path));
    if (collapsed) hiddenBelow = row.depth;
    tree.append(pageRow(ctx, site, row, collapsed));
  }
  return tree;
}

function pageRow(ctx: Ctx, site: SiteView, row: PageRow, collapsed: boolean): HTMLElement {
  const key = rowKey(site.id, row.path);
  const toggle = row.has_children
    ? button(
        {
          class: "toggle",
          "data-testid": "toggle",
          "data-focus": `toggle:${key}`,
          "aria-expanded": String(!collapsed),
          "aria-label": `${collapsed ? "Expand" : "Collapse"} ${row.title}`,
        },
        collapsed ? "▸" : "▾",
        () => {
          if (collapsed) ctx.ui.collapsed.delete(key);
          else ctx.ui.collapsed.add(key);
          ctx.redraw();
        },
      )
    : el("span", { class: "toggle" });
  const people = collapsed ? row.rolled_up : row.here;
  const li = el(
    "li",
    { class: collapsed ? "page collapsed" : "page", "data-testid": "page", "data-path": row.path },
    toggle,
    el("span", { class: "title", title: row.path }, row.title),
    el("span", { class: "avatars" }, ...people.map((p) => avatar(ctx, site, p, `page:${row.path}`))),
  );
  li.style.setProperty("--depth", String(row.depth));
  return li;
}

function saves(ctx: Ctx, site: SiteView): HTMLElement {
  const last = site.last_save;
  const first = site.first_save;
  return el(
    "footer",
    { class: "saves" },
    el(
      "p",
      { "data-testid": "last-save" },
      last
        ? [`Last saved by ${last.name}`, last.page_title, ago(last.at, ctx.now), `v${last.version}`]
            .filter(Boolean)
            .join(" · ") + (last.forced ? " (forced)" : "")
        : `Not saved yet · v${site.version}`,
    ),
    first && el("p", { class: "muted" }, `First saved by ${first.name} on ${date(first.at, ctx.now)}`),
  );
}
