// @vitest-environment jsdom
/**
 * The top of the popup: the connection banner shows while the connection is not live, and a
 * strip while the desktop's Do Not Disturb is on.
 */

import { describe, expect, it } from "vitest";
import { draw, freshPopupEachTest, q, site, view } from "./fixtures";

freshPopupEachTest();

describe("banner", () => {
  it("shows when offline and is absent when connected", () => {
    draw(view([site()], { status: { connection: "offline", message: "connection refused" } }));
    const banner = q('[data-testid="banner"]')!;
    expect(banner.dataset.connection).toBe("offline");
    expect(banner.textContent).toContain("Offline");
    expect(banner.textContent).toContain("connection refused");

    draw(view([site()]));
    expect(q('[data-testid="banner"]')).toBeNull();
  });
});

describe("do not disturb", () => {
  it("says the desktop silences notifications while its Do Not Disturb is on", () => {
    draw(view([site()], { do_not_disturb: true }));
    expect(q('[data-testid="do-not-disturb"]')!.textContent).toContain("Do Not Disturb is on");
    draw(view([site()]));
    expect(q('[data-testid="do-not-disturb"]')).toBeNull();
  });
});
