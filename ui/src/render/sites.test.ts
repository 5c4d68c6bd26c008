// @vitest-environment jsdom
/**
 * A site's section against hand-made sites: the page tree (who is on each row, roll-up into a
 * collapsed row, your own avatar ringed) and the wording of the last save.
 */

import { describe, expect, it } from "vitest";
import { all, draw, freshPopupEachTest, names, NOW, page, person, q, row, site, view } from "./fixtures";
import type { View } from "../types";

freshPopupEachTest();

describe("page tree", () => {
  const bo = person(2, "Bo Chen", { page: "/products/pricing" });
  const tree = (): View =>
    view([
      site({
        toolbar: [bo],
        pages: [
          page("/", "Home", 0, { has_children: true, rolled_up: [bo] }),
          page("/products", "Products", 1, { has_children: true, rolled_up: [bo] }),
          page("/products/pricing", "Pricing", 2, { here: [bo], rolled_up: [bo] }),
          page("/about", "About", 1),
        ],
      }),
    ]);

  it("rolls people up into a collapsed row and hides its children", () => {
    draw(tree());
    expect(names(row("/products")!)).toEqual([]);
    expect(names(row("/products/pricing")!)).toEqual(["Bo Chen"]);

    q<HTMLButtonElement>('[data-testid="toggle"]', row("/products"))!.click();

    expect(names(row("/products")!)).toEqual(["Bo Chen"]);
    expect(row("/products/pricing")).toBeUndefined();
    expect(row("/about")).toBeDefined(); // a sibling stays
    expect(q('[data-testid="toggle"]', row("/products"))!.getAttribute("aria-expanded")).toBe("false");

    // Collapsing survives a new view, and expanding brings the child back.
    draw(tree());
    expect(row("/products/pricing")).toBeUndefined();
    q<HTMLButtonElement>('[data-testid="toggle"]', row("/products"))!.click();
    expect(names(row("/products/pricing")!)).toEqual(["Bo Chen"]);
  });

  it("shows several people on a page and rings your own avatar", () => {
    const me = person(99, "You Self", { is_me: true });
    draw(view([site({ pages: [page("/", "Home", 0, { here: [bo, me], rolled_up: [bo, me] })] })]));
    const avatars = all('[data-testid="avatar"]', row("/")!);
    expect(avatars.map((a) => a.dataset.name)).toEqual(["Bo Chen", "You Self"]);
    expect(avatars[1].classList.contains("me")).toBe(true);
    expect(avatars[0].classList.contains("me")).toBe(false);
  });
});

describe("saves", () => {
  it("words the last save", () => {
    draw(
      view([
        site({
          last_save: {
            name: "Bo Chen",
            page_title: "Pricing",
            version: 5,
            at: NOW - 5 * 60_000,
            forced: false,
          },
        }),
      ]),
    );
    expect(q('[data-testid="last-save"]')!.textContent).toBe(
      "Last saved by Bo Chen · Pricing · 5 min ago · v5",
    );
  });
});
