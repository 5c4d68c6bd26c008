/**
 * A site's toolbar: the avatars of the people on it (at most three, never you) and the "+N"
 * that opens the list of everyone.
 *
 * Who is in the toolbar and who overflows arrive decided; this only draws them. The list opens
 * in place under the toolbar, one avatar, name and page per line, toolbar people first.
 */

import type { SiteView } from "../types";
import { avatar } from "./avatar";
import type { Ctx } from "./context";
import { button, el } from "./dom";

export function toolbar(ctx: Ctx, site: SiteView): HTMLElement {
  const bar = el("div", { class: "toolbar" });
  if (site.toolbar.length === 0 && site.overflow.length === 0) {
    bar.append(el("span", { class: "muted" }, "Nobody else here"));
    return bar;
  }
  for (const p of site.toolbar) bar.append(avatar(ctx, site, p, "bar"));
  if (site.overflow.length > 0) {
    const open = ctx.ui.expanded.has(site.id);
    bar.append(
      button(
        {
          class: "more",
          "data-testid": "overflow",
          "data-focus": `overflow:${site.id}`,
          "aria-expanded": String(open),
          title: open ? "Hide the list" : "Everyone on this site",
        },
        `+${site.overflow.length}`,
        () => {
          if (open) ctx.ui.expanded.delete(site.id);
          else ctx.ui.expanded.add(site.id);
          ctx.redraw();
        },
      ),
    );
  }
  return bar;
}

/** The open "+N": everyone on the site, the toolbar's people then the overflow. */
export function everyoneList(ctx: Ctx, site: SiteView): HTMLElement {
  return el(
    "ul",
    { class: "people", "data-testid": "overflow-list" },
    ...[...site.toolbar, ...site.overflow].map((p) =>
      el(
        "li",
        {},
        avatar(ctx, site, p, "list"),
        el("span", { class: "name" }, p.name),
        el("span", { class: "muted" }, p.page_title),
      ),
    ),
  );
}
