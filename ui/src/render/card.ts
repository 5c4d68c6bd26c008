/**
 * The person card, drawn over the Sites tab when an avatar is clicked: who they are, where they
 * are and since when, each of their sessions when they have several, and the buttons to e-mail
 * them, chat with them in Teams, and open where they are (when the Rust side found an address).
 *
 * The card remembers the site and the person, not the person as they were: each draw looks
 * them up again in the current view, so it follows them as they move and closes by itself when
 * they leave. A failed e-mail or Teams link shows inside the card, next to the button pressed.
 */

import type { ContactKind, Person, SiteView } from "../types";
import { presence } from "../time";
import { avatarFace } from "./avatar";
import { errorMessage, type Ctx } from "./context";
import { button, el } from "./dom";

/** The person a card is about, wherever on the site they show. */
function findPerson(site: SiteView, userId: number): Person | undefined {
  const everyone = [
    ...site.toolbar,
    ...site.overflow,
    ...site.pages.flatMap((r) => [...r.here, ...r.rolled_up]),
  ];
  return everyone.find((p) => p.user_id === userId);
}

export function card(ctx: Ctx): HTMLElement | null {
  const { ui } = ctx;
  const open = ui.card;
  if (!open) return null;
  const site = ctx.view.sites.find((s) => s.id === open.site && s.account === open.account);
  const p = site && findPerson(site, open.userId);
  if (!site || !p) {
    ui.card = null; // they left, or the site is no longer followed
    return null;
  }
  const close = (): void => {
    ui.card = null;
    ui.focus = open.opener;
    ctx.redraw();
  };
  const act = (command: () => Promise<void>) => (): void => {
    if (open.error) {
      open.error = null;
      ctx.redraw();
    }
    command().catch((error: unknown) => {
      if (ui.card === open) {
        open.error = errorMessage(error);
        ctx.redraw();
      }
    });
  };
  const contact = (kind: ContactKind) =>
    act(() => ctx.actions.openContact(site.account, site.id, p.user_id, kind));
  const session = p.session;
  const sessions = p.sessions.length > 1 ? p.sessions : [];
  const aside = el(
    "aside",
    { class: "card", role: "dialog", "aria-label": p.name, "data-testid": "card" },
    el(
      "div",
      { class: "card-head" },
      avatarFace(p, "span"),
      el(
        "div",
        { class: "who" },
        el("strong", {}, p.is_me ? `${p.name} (you)` : p.name),
        el("span", { class: "muted" }, p.email),
      ),
      button(
        {
          class: "quiet close",
          "aria-label": "Close",
          "data-testid": "card-close",
          "data-focus": "card:close",
        },
        "×",
        close,
      ),
    ),
    p.page &&
      el(
        "p",
        { class: "where" },
        "On ",
        el("strong", {}, p.page_title),
        " ",
        el("span", { class: "muted" }, p.page),
      ),
    el(
      "p",
      { class: "muted" },
      [p.client && `in ${p.client}`, presence(p.since, ctx.now)].filter(Boolean).join(" · "),
    ),
    sessions.length > 0 &&
      el(
        "ul",
        { class: "sessions", "data-testid": "sessions" },
        ...sessions.map((s) =>
          el(
            "li",
            {},
            el("span", {}, s.page_title),
            el(
              "span",
              { class: "muted" },
              [s.client, presence(s.since, ctx.now)].filter(Boolean).join(" · "),
            ),
          ),
        ),
      ),
    el(
      "div",
      { class: "card-actions" },
      button(
        { class: "primary", "data-testid": "send-email", "data-focus": "card:email" },
        "Send email",
        contact("email"),
      ),
      button(
        {
          "data-testid": "chat-teams",
          "data-focus": "card:teams",
          disabled: !p.has_teams,
          title: p.has_teams ? null : "No Teams account",
        },
        "Chat in Teams",
        contact("teams"),
      ),
      p.open_address !== null &&
        session !== null &&
        button(
          {
            "data-testid": "open-session",
            "data-focus": "card:open",
            title: p.open_address,
          },
          "Open",
          act(() => ctx.actions.openSession(site.account, site.id, p.user_id, session)),
        ),
    ),
    !p.has_teams && el("p", { class: "muted", "data-testid": "no-teams" }, "No Teams account"),
    open.error && el("p", { class: "error-text", role: "alert", "data-testid": "card-error" }, open.error),
  );
  aside.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  return aside;
}
