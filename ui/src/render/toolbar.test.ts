// @vitest-environment jsdom
/**
 * The toolbar against hand-made sites: three avatars then "+N", the list it opens, and the
 * line shown when nobody else is on the site; photos in the circles.
 */

import { describe, expect, it } from "vitest";
import { setPhotos } from "./avatar";
import { all, draw, freshPopupEachTest, names, person, q, site, view } from "./fixtures";

freshPopupEachTest();

describe("toolbar", () => {
  it("shows three avatars and +2 for five others, expanding to all five", () => {
    const others = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Eze", "Ed Fox"].map((n, i) => person(i + 1, n));
    draw(view([site({ toolbar: others.slice(0, 3), overflow: others.slice(3) })]));

    const bar = q(".toolbar")!;
    expect(names(bar)).toEqual(["Ann Lee", "Bo Chen", "Cy Diaz"]);
    const more = q<HTMLButtonElement>('[data-testid="overflow"]')!;
    expect(more.textContent).toBe("+2");
    expect(q('[data-testid="overflow-list"]')).toBeNull();

    more.click();
    const list = q('[data-testid="overflow-list"]')!;
    expect(all("li", list).map((li) => li.querySelector(".name")?.textContent)).toEqual([
      "Ann Lee",
      "Bo Chen",
      "Cy Diaz",
      "Di Eze",
      "Ed Fox",
    ]);
    expect(list.textContent).toContain("Pricing");
  });

  it("says nobody else is here when nobody is", () => {
    draw(view([site()]));
    expect(q(".toolbar")!.textContent).toBe("Nobody else here");
    expect(q('[data-testid="overflow"]')).toBeNull();
  });
});

describe("photos", () => {
  it("shows a fetched photo in the circle, and initials for anyone else", () => {
    setPhotos({ p1: "data:image/png;base64,iVBORw0KGgo=", p2: "https://evil.test/track.png" });
    const ann = { ...person(1, "Ann Lee"), photo: "p1" };
    const bo = { ...person(2, "Bo Chen"), photo: "p2" };
    draw(view([site({ toolbar: [ann, bo, person(3, "Cy Diaz")] })]));
    const [first, second, third] = all('.toolbar [data-testid="avatar"]');
    expect(first.querySelector("img")!.getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
    expect(first.textContent).toBe("");
    expect(second.querySelector("img")).toBeNull();
    expect(second.textContent).toBe("BC");
    expect(third.textContent).toBe("CD");
  });
});
