// @vitest-environment jsdom
/**
 * The person card: opened from an avatar, what it says about them, the e-mail and Teams
 * buttons, and a failed command shown inside it. Commands are fakes.
 */

import { describe, expect, it, vi } from "vitest";
import { actions, all, draw, freshPopupEachTest, NOW, person, q, site, view } from "./fixtures";

freshPopupEachTest();

describe("user card", () => {
  const ann = person(1, "Ann Lee", {
    has_teams: false,
    sessions: [
      { page: "/pricing", page_title: "Pricing", client: "studio", since: NOW - 5 * 60_000 },
      { page: "/faq", page_title: "FAQ", client: "vscode-web", since: NOW - 3 * 3_600_000 },
    ],
  });

  it("opens from an avatar, offers e-mail, and says when there is no Teams account", () => {
    draw(view([site({ toolbar: [ann] })]));
    q<HTMLButtonElement>('.toolbar [data-testid="avatar"]')!.click();

    const card = q('[data-testid="card"]')!;
    expect(card.textContent).toContain("ann@contoso.test");
    expect(card.textContent).toContain("Pricing");
    expect(card.textContent).toContain("for 5 min");
    expect(all("li", q('[data-testid="sessions"]', card)!)).toHaveLength(2);
    expect(q<HTMLButtonElement>('[data-testid="chat-teams"]', card)!.disabled).toBe(true);
    expect(q('[data-testid="no-teams"]', card)!.textContent).toBe("No Teams account");

    q<HTMLButtonElement>('[data-testid="send-email"]', card)!.click();
    expect(actions.openContact).toHaveBeenCalledWith("http://127.0.0.1:7878", "contoso", 1, "email");
  });

  it("offers Open where the Rust side found an address, and asks for it by the session", () => {
    const studio = "https://studio.example/edit/pricing";
    draw(view([site({ toolbar: [person(1, "Ann Lee", { open_address: studio, session: "tab-1" })] })]));
    q<HTMLButtonElement>('[data-testid="avatar"]')!.click();
    const open = q<HTMLButtonElement>('[data-testid="open-session"]')!;
    expect(open.textContent).toBe("Open");
    expect(open.title).toBe(studio);
    open.click();
    expect(actions.openSession).toHaveBeenCalledWith("http://127.0.0.1:7878", "contoso", 1, "tab-1");
  });

  it("offers no Open when there is nowhere to open", () => {
    draw(view([site({ toolbar: [person(1, "Ann Lee", { open_address: null })] })]));
    q<HTMLButtonElement>('[data-testid="avatar"]')!.click();
    expect(q('[data-testid="card"]')).not.toBeNull();
    expect(q('[data-testid="open-session"]')).toBeNull();
  });

  it("shows a failure inline and closes", async () => {
    actions.openContact.mockImplementation(() =>
      Promise.reject({ code: "invalid_address", message: "No valid e-mail address" }),
    );
    draw(view([site({ toolbar: [person(1, "Ann Lee")] })]));
    q<HTMLButtonElement>('[data-testid="avatar"]')!.click();
    q<HTMLButtonElement>('[data-testid="send-email"]')!.click();
    await vi.waitFor(() =>
      expect(q('[data-testid="card-error"]')?.textContent).toBe("No valid e-mail address"),
    );

    q<HTMLButtonElement>('[data-testid="card-close"]')!.click();
    expect(q('[data-testid="card"]')).toBeNull();
  });
});
