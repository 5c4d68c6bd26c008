/**
 * An avatar: the person's photo, or their initials on their colour, in a circle that stands for
 * them in the header, the toolbar, the "+N" list, the page tree and the card.
 *
 * A view names a photo by a short key; the photos themselves arrive apart from the views (they
 * would otherwise travel again with every move of everyone) as `data:` URLs the app fetched:
 * the popup loads nothing from anywhere else.
 *
 * Wherever it stands for someone on a site it is a button that opens their card; each one gets
 * a `data-focus` key of its own (site, place, person) so focus returns to the very avatar that
 * opened the card, though the same person shows in several places.
 */

import type { Person, SiteView } from "../types";
import type { Ctx } from "./context";
import { el, type Attrs } from "./dom";

let photos: Record<string, string> = {};

/** The photos the app has fetched so far, by key; the next draw shows them. */
export function setPhotos(next: Record<string, string>): void {
  photos = next;
}

/** The circle, as a button or a span; `ring` marks you among others. */
export function avatarFace<K extends "button" | "span">(
  p: Person,
  tag: K,
  ring = p.is_me,
  attrs: Attrs = {},
): HTMLElementTagNameMap[K] {
  const colour = ((Math.trunc(p.colour) % 8) + 8) % 8;
  const data = p.photo === null ? undefined : photos[p.photo];
  const photo =
    data !== undefined && data.startsWith("data:image/")
      ? el("img", { class: "photo", "data-testid": "photo", src: data, alt: "" })
      : null;
  return el(tag, { class: `avatar c${colour}${ring ? " me" : ""}`, ...attrs }, photo ?? p.initials);
}

/** `p` on `site`, at `where` (the toolbar, the list, a page row), opening their card on a click. */
export function avatar(ctx: Ctx, site: SiteView, p: Person, where: string): HTMLButtonElement {
  const label = p.page_title ? `${p.name} — ${p.page_title}` : p.name;
  const focusKey = `avatar:${site.account}:${site.id}:${where}:${p.user_id}`;
  const b = avatarFace(p, "button", p.is_me, {
    type: "button",
    "data-testid": "avatar",
    "data-user-id": p.user_id,
    "data-name": p.name,
    "data-focus": focusKey,
    title: label,
    "aria-label": p.is_me ? `${label} (you)` : label,
  });
  b.addEventListener("click", () => {
    ctx.ui.card = { account: site.account, site: site.id, userId: p.user_id, error: null, opener: focusKey };
    ctx.ui.focus = "card:close";
    ctx.redraw();
  });
  return b;
}
