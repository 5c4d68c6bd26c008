// @vitest-environment jsdom
/**
 * Names, initials and page titles that hold markup reach the page as text, through the parts
 * that show a stranger's words: the "+N" list and the card.
 */

import { describe, expect, it } from "vitest";
import { all, draw, freshPopupEachTest, person, q, site, view } from "./fixtures";

freshPopupEachTest();

describe("hostile data", () => {
  it("renders markup in a name as text", () => {
    const name = "<img src=x onerror=alert(1)>";
    const evil = person(7, name, { initials: "<I", page_title: "<b>Pricing</b>" });
    draw(
      view([
        site({
          toolbar: [person(1, "Ann Lee"), person(2, "Bo Chen"), person(3, "Cy Diaz")],
          overflow: [evil],
        }),
      ]),
    );

    q<HTMLButtonElement>('[data-testid="overflow"]')!.click();
    expect(q('[data-testid="overflow-list"]')!.textContent).toContain(name);
    all('[data-testid="avatar"]')
      .find((a) => a.dataset.userId === "7")!
      .click();

    expect(q('[data-testid="card"]')!.textContent).toContain(name);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
  });
});
