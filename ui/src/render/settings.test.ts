// @vitest-environment jsdom
/**
 * The Settings tab: warnings, preferences sent whole, the token sent and then cleared, and
 * typing that survives a presence update. Commands are fakes.
 */

import { describe, expect, it, vi } from "vitest";
import { account, actions, all, draw, freshPopupEachTest, person, q, site, ui, view } from "./fixtures";

freshPopupEachTest();

describe("settings", () => {
  it("sends the whole preferences object and the token, and clears the token after", async () => {
    ui.tab = "settings";
    draw(view([site()], { accounts: [account({ storage_warning: "Stored in a file" })] }));
    expect(q('[data-testid="storage-warning"]')!.textContent).toBe("Stored in a file");
    draw(view([site()], { accounts: [account({ server_warning: "plain http" })] }));
    expect(q('[data-testid="server-warning"]')!.textContent).toBe("plain http");

    q<HTMLInputElement>('[data-testid="notify-saves"]')!.click();
    expect(actions.updatePreferences).toHaveBeenCalledWith({
      notify_joins: true,
      notify_saves: false,
      quiet_hours_enabled: false,
      quiet_start: "18:00",
      quiet_end: "08:00",
    });

    const token = q<HTMLInputElement>('[data-testid="token"]')!;
    token.value = "secret";
    q<HTMLFormElement>('[data-testid="sign-in"]')!.requestSubmit();
    expect(actions.signIn).toHaveBeenCalledWith("http://127.0.0.1:7878", "secret");
    await vi.waitFor(() => expect(q<HTMLInputElement>('[data-testid="token"]')!.value).toBe(""));
  });

  it("offers the toolbar sizes Rust allows and sends the one chosen", () => {
    ui.tab = "settings";
    draw(view([site()], { settings: { ...view([]).settings, toolbar_avatars: 4 } }));
    const select = q<HTMLSelectElement>('[data-testid="toolbar-avatars"]')!;
    expect([...select.options].map((o) => o.value)).toEqual(["3", "4"]);
    expect(select.value).toBe("4");
    select.value = "3";
    select.dispatchEvent(new Event("change"));
    expect(actions.setToolbarAvatars).toHaveBeenCalledWith(3);
  });

  it("turns the shortcut on with a suggestion, sends an edit, and turns it off", () => {
    ui.tab = "settings";
    draw(view([site()]));
    const enabled = q<HTMLInputElement>('[data-testid="shortcut-enabled"]')!;
    expect(enabled.checked).toBe(false);
    enabled.click();
    expect(actions.setShortcut).toHaveBeenLastCalledWith("Alt+Shift+C");

    draw(view([site()], { settings: { ...view([]).settings, shortcut: "Alt+Shift+C", shortcut_problem: "taken" } }));
    expect(q('[data-testid="shortcut-problem"]')!.textContent).toBe("taken");
    const input = q<HTMLInputElement>('[data-testid="shortcut"]')!;
    input.value = "Ctrl+Alt+K";
    input.dispatchEvent(new Event("change"));
    expect(actions.setShortcut).toHaveBeenLastCalledWith("Ctrl+Alt+K");
    q<HTMLInputElement>('[data-testid="shortcut-enabled"]')!.click();
    expect(actions.setShortcut).toHaveBeenLastCalledWith(null);
  });

  it("signs in with the organisation's account by the server alone, and says how you are signed in", async () => {
    ui.tab = "settings";
    draw(view([site()], { accounts: [account({ signed_in_with: "https://login.contoso.test" })] }));
    expect(q('[data-testid="signed-in-as"]')!.textContent).toContain("with your organisation's account");
    q<HTMLButtonElement>('[data-testid="sign-in-account"]')!.click();
    expect(actions.signInWithAccount).toHaveBeenCalledWith("http://127.0.0.1:7878");
    expect(actions.signIn).not.toHaveBeenCalled();
  });

  it("lists each account with its own Sign out, and follows a site on its own service", () => {
    ui.tab = "settings";
    const b = "https://b.test";
    draw(
      view([site(), site({ account: b, account_label: "b.test — me@b.test" })], {
        accounts: [account(), account({ server: b, label: "b.test — me@b.test", signed_in_as: "Me <me@b.test>" })],
      }),
    );
    const accounts = all('[data-testid="account"]');
    expect(accounts.map((a) => a.dataset.server)).toEqual(["http://127.0.0.1:7878", b]);
    expect(accounts[1].textContent).toContain("Signed in to b.test as Me <me@b.test>");
    accounts[1].querySelector<HTMLButtonElement>('[data-testid="sign-out"]')!.click();
    expect(actions.signOut).toHaveBeenCalledWith(b);
    const follows = all(`[data-testid="follow"]`) as HTMLInputElement[];
    expect(follows).toHaveLength(2);
    follows[1].click();
    expect(actions.setFollow).toHaveBeenCalledWith(b, "contoso", false);
  });

  it("keeps what is being typed when a presence update arrives", () => {
    ui.tab = "settings";
    draw(view([site()]));
    const token = q<HTMLInputElement>('[data-testid="token"]')!;
    token.value = "half-typed";
    token.focus();

    draw(view([site({ toolbar: [person(1, "Ann Lee")] })]));
    expect(q<HTMLInputElement>('[data-testid="token"]')!.value).toBe("half-typed");
    expect(document.activeElement).toBe(q('[data-testid="token"]'));
  });
});
