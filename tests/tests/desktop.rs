//! The tray app end to end, for real: a headless desktop (Xvfb, D-Bus, dunst), the real
//! service, the real `copresence-tray` driven over WebDriver, and another user publishing with
//! the `copresence` CLI. Asserts what the user would see and hear: the freedesktop `Notify`
//! calls, the avatar on the right page (a page added as someone opens it included), the exact
//! links handed to the operating system, the offline banner when the server goes away, and no
//! second announcement when it comes back; and Open, from a card and from a notification's
//! action, going where someone is.

use std::path::PathBuf;
use std::time::Duration;

use copresence_tests::chromium::Chromium;
use copresence_tests::desktop::{Desktop, PhotoServer, Tray, TrayApp};
use copresence_tests::oidc::{Account, OidcOptions, OidcProvider};
use copresence_tests::{bin, TestServer, ORG};
use fantoccini::Locator;

const ZOE: &str = "Zoë <b>Quinn</b>";
const ZOE_EMAIL: &str = "z?o&e#%@contoso.test";

fn cli(server: &TestServer, token: &str) -> std::process::Command {
    let mut command = std::process::Command::new(bin("copresence"));
    command
        .env("COPRESENCE_SERVER", &server.url)
        .env("COPRESENCE_TOKEN", token)
        .env("XDG_CONFIG_HOME", server.dir.path());
    command
}

/// Stops Zoë's editor however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run a CLI command to its end; it must succeed.
fn run_ok(command: &mut std::process::Command) {
    let output = command.output().expect("the CLI starts");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("artifacts")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tray_app_shows_announces_and_links_presence_for_real() {
    let _one_desktop_at_a_time = ONE_DESKTOP.lock().await;
    tokio::time::timeout(Duration::from_secs(180), tray_end_to_end())
        .await
        .expect("the desktop test finishes within 3 minutes");
}

/// The desktop tests run one after the other: each drives a whole desktop, and their waits are
/// for one app's pace, not two at once on a small machine.
static ONE_DESKTOP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn the_tray_app_signs_in_with_the_organisations_account() {
    let _one_desktop_at_a_time = ONE_DESKTOP.lock().await;
    tokio::time::timeout(Duration::from_secs(120), tray_signs_in())
        .await
        .expect("the sign-in test finishes within 2 minutes");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tray_app_opens_where_they_are_from_the_card_and_the_notification() {
    let _one_desktop_at_a_time = ONE_DESKTOP.lock().await;
    tokio::time::timeout(Duration::from_secs(120), tray_opens_where_they_are())
        .await
        .expect("the Open test finishes within 2 minutes");
}

/// A studio on loopback that Contoso's editors read pages from; nothing serves it, as nothing
/// loads it: the opener's stand-in only records the address.
const STUDIO: &str = "http://127.0.0.1:9/studio/pages/";

/// Wait until the opener has been handed `count` addresses; all of them so far.
async fn opened(app: &TrayApp, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.opened().len() < count && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.opened()
}

async fn tray_opens_where_they_are() {
    let desktop = Desktop::start();
    let editors = format!(
        "[[sites.editors]]\nname = \"Studio\"\npattern = \"{STUDIO}:page*\"\n\n[[sites]]\nid = \"private\""
    );
    let org = ORG.replacen("[[sites]]\nid = \"private\"", &editors, 1);
    assert_ne!(org, ORG);
    let server = TestServer::start_with_org(&org, &[]).await;
    let app = TrayApp::launch(&desktop, &server.url, &server.token("bo@contoso.test")).await;
    let wait = Duration::from_secs(20);
    app.wait_for(r#"[data-testid="site"][data-site="contoso"]"#, wait)
        .await;
    app.wait_gone(r#"[data-testid="banner"]"#, wait).await;

    // Zoë opens Pricing in the studio: her join is announced with Open and Chat in Teams.
    let pricing = format!("{STUDIO}products/pricing");
    let before = desktop.notifications().len();
    let zoe_token = server.token(ZOE_EMAIL);
    run_ok(cli(&server, &zoe_token).args([
        "join",
        "contoso",
        "/products/pricing",
        "--url",
        &pricing,
        "--once",
    ]));
    let joined = desktop.wait_for_notification(before, "joined", Duration::from_secs(10));
    assert_eq!(joined.summary, format!("{ZOE} joined Contoso Portal"));
    let keys: Vec<&str> = joined.actions.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["default", "open", "teams"], "{:?}", joined.actions);
    assert!(joined.actions.contains(&("open".into(), "Open".into())));
    assert!(joined
        .actions
        .contains(&("teams".into(), "Chat in Teams".into())));

    // Open, chosen from dunst's menu, hands exactly her studio address to the opener.
    desktop.choose_action("open");
    assert_eq!(opened(&app, 1).await, [pricing.as_str()]);

    // Her card's Open goes there too.
    app.click(
        r#"[data-site="contoso"] [data-testid="page"][data-path="/products/pricing"] [data-testid="avatar"]"#,
        wait,
    )
    .await;
    app.click(r#"[data-testid="card"] [data-testid="open-session"]"#, wait)
        .await;
    assert_eq!(opened(&app, 2).await, [pricing.as_str(), pricing.as_str()]);
    app.click(r#"[data-testid="card-close"]"#, wait).await;

    // An address the site's editors do not read is refused by the service; Ann, in with none,
    // is offered the page on the site.
    let ann_token = server.token("ann@contoso.test");
    let refused = cli(&server, &ann_token)
        .args([
            "join",
            "contoso",
            "/products",
            "--url",
            "https://studio.evil.example/pages/products",
            "--once",
        ])
        .output()
        .expect("the CLI starts");
    assert!(
        !refused.status.success(),
        "an address no editor reads was kept"
    );
    run_ok(cli(&server, &ann_token).args(["join", "contoso", "/products", "--once"]));
    app.click(
        r#"[data-site="contoso"] [data-testid="page"][data-path="/products"] [data-testid="avatar"][data-name="Ann Lee"]"#,
        wait,
    )
    .await;
    app.click(r#"[data-testid="card"] [data-testid="open-session"]"#, wait)
        .await;
    assert_eq!(
        opened(&app, 3).await,
        [
            pricing.as_str(),
            pricing.as_str(),
            "https://contoso.example/products"
        ]
    );
    app.quit().await;
}

async fn tray_signs_in() {
    let provider = OidcProvider::start(
        vec![Account::new("bo@contoso.test", "Bo Chen", &[])],
        OidcOptions::default(),
    )
    .await;
    let server = TestServer::start(&[
        "--oidc-issuer",
        provider.issuer(),
        "--oidc-audience",
        provider.audience(),
        "--oidc-client-id",
        provider.client_id(),
    ])
    .await;
    let desktop = Desktop::start();
    let app = TrayApp::launch_signed_out(&desktop, &server.url).await;
    let wait = Duration::from_secs(20);
    let tray = Tray::find(&desktop, wait);
    tray.wait_until("the signed-out icon", wait, |t| t.icon() == Some("error"));

    // Settings → Sign in: the provider's page opens in the browser (the xdg-open stand-in
    // records it); Bo signs in there, and the browser is sent back to the tray app.
    app.click(r#"[data-testid="tab-settings"]"#, wait).await;
    app.click(r#"[data-testid="sign-in-account"]"#, wait).await;
    let deadline = std::time::Instant::now() + wait;
    let authorization = loop {
        if let Some(url) = app
            .opened()
            .into_iter()
            .find(|u| u.starts_with(provider.issuer()))
        {
            break url;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sign-in page opened: {:?}",
            app.opened()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let browser = Chromium::start().await;
    browser
        .sign_in(&authorization, "bo@contoso.test", "go back to Copresence")
        .await;

    // Signed in: his account, the live roster, and notifications.
    let account = app.wait_for(r#"[data-testid="signed-in-as"]"#, wait).await;
    let text = account.text().await.unwrap();
    assert!(text.contains("Bo Chen"), "{text}");
    assert!(text.contains("organisation's account"), "{text}");
    tray.wait_until("the idle icon", wait, |t| {
        t.icon() == Some("idle") && t.menu_labels().iter().any(|l| l == "Contoso Portal")
    });
    let before = desktop.notifications().len();
    let ann_token = server.token("ann@contoso.test");
    run_ok(cli(&server, &ann_token).args(["join", "contoso", "/", "--once"]));
    let joined = desktop.wait_for_notification(before, "joined", Duration::from_secs(10));
    assert_eq!(joined.summary, "Ann Lee joined Contoso Portal");

    // A second service beside the first (a consultant's other client), signed in to with a
    // token: each one's sites under its name, notifications from both.
    let other = TestServer::start(&[]).await;
    let other_token = other.token("bo@contoso.test");
    app.click(r#"[data-testid="tab-settings"]"#, wait).await;
    let server_field = app.wait_for(r#"[data-testid="server"]"#, wait).await;
    server_field.clear().await.unwrap();
    server_field.send_keys(&other.url).await.unwrap();
    app.click(r#".with-token summary"#, wait).await;
    app.wait_for(r#"[data-testid="token"]"#, wait)
        .await
        .send_keys(&other_token)
        .await
        .unwrap();
    app.click(r#"[data-testid="sign-in-token"]"#, wait).await;
    let other_host = other.url.trim_start_matches("http://").to_owned();
    tray.wait_until("both services in the menu", wait, |t| {
        let menu = t.menu_labels();
        menu.iter().any(|l| l.starts_with(&other_host))
            && menu
                .iter()
                .filter(|l| l.starts_with("Contoso Portal"))
                .count()
                == 2
    });
    app.click(r#"[data-testid="tab-sites"]"#, wait).await;
    let headings = app
        .webdriver
        .find_all(Locator::Css(r#"[data-testid="account-heading"]"#))
        .await
        .unwrap();
    assert_eq!(headings.len(), 2, "each service's sites under its name");
    let before = desktop.notifications().len();
    let zoe = other.token(ZOE_EMAIL);
    run_ok(cli(&other, &zoe).args(["join", "contoso", "/", "--once"]));
    let joined = desktop.wait_for_notification(before, "joined", Duration::from_secs(10));
    assert_eq!(joined.summary, format!("{ZOE} joined Contoso Portal"));

    // Signed out of the second service: its sites go, the first's stay.
    app.click(r#"[data-testid="tab-settings"]"#, wait).await;
    app.click(
        &format!(
            r#"[data-testid="account"][data-server="{}"] [data-testid="sign-out"]"#,
            other.url
        ),
        wait,
    )
    .await;
    tray.wait_until("the second service gone", wait, |t| {
        let menu = t.menu_labels();
        !menu.iter().any(|l| l.starts_with(&other_host))
            && menu
                .iter()
                .filter(|l| l.starts_with("Contoso Portal"))
                .count()
                == 1
    });

    // Signed out of the first too, Bo's sign-in is forgotten: the tray says so.
    app.click(r#"[data-testid="sign-out"]"#, wait).await;
    tray.wait_until("signed out again", wait, |t| t.icon() == Some("error"));
    app.quit().await;
}

async fn tray_end_to_end() {
    let desktop = Desktop::start();
    // A short TTL makes the CLI heartbeat every second, so Zoë's editor is back within a
    // second of the server's restart.
    // Ann has a profile photo, served on loopback.
    let photos = PhotoServer::start().await;
    let org = ORG.replacen(
        "teams = \"ann@contoso.test\"",
        &format!("teams = \"ann@contoso.test\"\nphoto = \"{}\"", photos.url),
        1,
    );
    assert_ne!(org, ORG);
    let mut server = TestServer::start_with_org(&org, &["--session-ttl", "3s"]).await;
    let tray_user = server.token("bo@contoso.test");
    let zoe_token = server.token(ZOE_EMAIL);
    let app = TrayApp::launch(&desktop, &server.url, &tray_user).await;
    let wait = Duration::from_secs(20);

    app.wait_for(r#"[data-testid="site"][data-site="contoso"]"#, wait)
        .await;
    app.wait_gone(r#"[data-testid="banner"]"#, wait).await;
    let tray = Tray::find(&desktop, wait);
    tray.wait_until("the idle icon", wait, |t| {
        t.icon() == Some("idle")
            && t.label().is_empty()
            && t.menu_labels()
                .iter()
                .any(|l| l == "Nobody else on your sites")
    });

    // A global shortcut, chosen in Settings (none until then), hides and shows the popup.
    assert!(desktop.popup_visible());
    desktop.press("alt+shift+c");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        desktop.popup_visible(),
        "a shortcut acted before it was chosen"
    );
    app.click(r#"[data-testid="tab-settings"]"#, wait).await;
    app.click(r#"[data-testid="shortcut-enabled"]"#, wait).await;
    let deadline = std::time::Instant::now() + wait;
    // Found again each time: a view published meanwhile renders the field anew, and the one
    // found before is gone (a stale element).
    while app
        .wait_for(r#"[data-testid="shortcut"]"#, wait)
        .await
        .prop("value")
        .await
        .ok()
        .flatten()
        .as_deref()
        != Some("Alt+Shift+C")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no shortcut suggested"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Bound once the view says so (the checkbox stays ticked).
    app.wait_for(
        r#"[data-testid="shortcut"][data-initial="Alt+Shift+C"]"#,
        wait,
    )
    .await;
    desktop.press("alt+shift+c");
    desktop.wait_for_popup(false, wait);
    desktop.press("alt+shift+c");
    desktop.wait_for_popup(true, wait);
    app.click(r#"[data-testid="tab-sites"]"#, wait).await;

    // Zoë opens Pricing in her editor.
    let before = desktop.notifications().len();
    let zoe = cli(&server, &zoe_token)
        .args([
            "join",
            "contoso",
            "/products/pricing",
            "--session",
            "zoe-studio",
            "--client",
            "studio",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the CLI starts");
    let zoe = KillOnDrop(zoe);
    let joined = desktop.wait_for_notification(before, "joined", Duration::from_secs(10));
    assert_eq!(joined.summary, format!("{ZOE} joined Contoso Portal"));
    assert_eq!(joined.body, "on Pricing");
    assert_eq!(joined.app, "Copresence");
    tray.wait_until("Zoë on Contoso Portal", wait, |t| {
        let menu = t.menu_labels();
        t.icon() == Some("active")
            && t.label() == "1"
            && menu.iter().any(|l| l == "1 person on your sites")
            && menu.iter().any(|l| l == "Contoso Portal (1)")
            && menu.iter().any(|l| l == &format!("    {ZOE} — Pricing"))
    });

    // Her avatar is on Pricing, her name as text (no markup rendered).
    let avatar = app
        .wait_for(
            r#"[data-site="contoso"] [data-testid="page"][data-path="/products/pricing"] [data-testid="avatar"]"#,
            wait,
        )
        .await;
    assert_eq!(
        avatar.attr("data-name").await.unwrap().as_deref(),
        Some(ZOE)
    );
    let bold = app
        .webdriver
        .find_all(Locator::Css("b, img:not(.photo)"))
        .await
        .unwrap();
    assert!(bold.is_empty(), "markup from a name was rendered");

    // Her card, and the exact links handed to the operating system.
    avatar.click().await.unwrap();
    let card = app.wait_for(r#"[data-testid="card"]"#, wait).await;
    let text = card.text().await.unwrap();
    for expected in [ZOE, ZOE_EMAIL, "Pricing", "studio"] {
        assert!(
            text.contains(expected),
            "the card lacks {expected:?}: {text:?} in {}",
            card.html(false).await.unwrap_or_default()
        );
    }
    app.click(r#"[data-testid="chat-teams"]"#, wait).await;
    app.click(r#"[data-testid="send-email"]"#, wait).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.opened().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.opened(),
        [
            "https://teams.microsoft.com/l/chat/0/0?users=zo%C3%AB%20quinn@contoso.test",
            "mailto:z%3Fo%26e%23%25@contoso.test",
        ]
    );
    desktop.screenshot(&artifacts().join("popup.png"));

    // Zoë saves Pricing.
    let before = desktop.notifications().len();
    run_ok(cli(&server, &zoe_token).args(["save", "contoso", "/products/pricing"]));
    let notice = desktop.wait_for_notification(before, "saved", Duration::from_secs(10));
    assert_eq!(
        notice.summary,
        format!("{ZOE} saved Pricing on Contoso Portal")
    );
    // She saves again at once: the notice on screen becomes "2 saves", whose body names her.
    // The daemon (dunst) reads bodies as markup, so her name reaches it escaped, to show as
    // written rather than in bold.
    let before = desktop.notifications().len();
    run_ok(cli(&server, &zoe_token).args(["save", "contoso", "/products/pricing"]));
    let notice = desktop.wait_for_notification(before, "2 saves", Duration::from_secs(10));
    assert_eq!(notice.summary, "2 saves on Contoso Portal");
    assert_ne!(notice.replaces_id, 0, "the burst stacked a second notice");
    assert!(
        notice
            .body
            .starts_with("Latest: Zoë &lt;b&gt;Quinn&lt;/b&gt; saved Pricing (version "),
        "the body's markup is not escaped: {:?}",
        notice.body
    );
    let last_save = app
        .wait_for(r#"[data-site="contoso"] [data-testid="last-save"]"#, wait)
        .await;
    let deadline = std::time::Instant::now() + wait;
    while !last_save.text().await.unwrap().contains(ZOE) {
        assert!(
            std::time::Instant::now() < deadline,
            "the last save does not name Zoë"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Paused from the tray menu: Ann's arrival shows in the tray but raises nothing. She opens
    // a page Contoso does not list yet: it appears in place in the popup's tree, with her on it.
    tray.click("For 1 hour");
    tray.wait_until("the pause", wait, |t| {
        let menu = t.menu_labels();
        menu.iter().any(|l| l == "Notifications paused")
            && menu.iter().any(|l| l == "Resume notifications")
    });
    let before = desktop.notifications().len();
    let ann_token = server.token("ann@contoso.test");
    run_ok(cli(&server, &ann_token).args([
        "join",
        "contoso",
        "/products/compare",
        "--title",
        "Compare plans",
        "--once",
    ]));
    tray.wait_until("Ann beside Zoë", wait, |t| {
        t.menu_labels()
            .iter()
            .any(|l| l == "    Ann Lee — Compare plans")
    });
    let new_page = app
        .wait_for(
            r#"[data-site="contoso"] [data-testid="page"][data-path="/products/compare"]"#,
            wait,
        )
        .await;
    let shown = new_page
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(shown.contains("Compare plans"), "{shown:?}");
    app.wait_for(
        r#"[data-site="contoso"] [data-testid="page"][data-path="/products/compare"] [data-testid="avatar"][data-name="Ann Lee"]"#,
        wait,
    )
    .await;
    // Her photo, fetched by the app and shown as data, in place of her initials.
    let photo = app
        .wait_for(
            r#"[data-site="contoso"] [data-testid="avatar"][data-name="Ann Lee"] img.photo"#,
            wait,
        )
        .await;
    let src = photo.attr("src").await.unwrap().unwrap_or_default();
    assert!(src.starts_with("data:image/png;base64,iVBOR"), "{src:.40}");
    std::thread::sleep(Duration::from_millis(1500));
    let during_pause: Vec<_> = desktop.notifications().into_iter().skip(before).collect();
    assert!(
        during_pause.is_empty(),
        "notified while paused: {during_pause:#?}"
    );
    tray.click("Resume notifications");
    tray.wait_until("notifications resumed", wait, |t| {
        t.menu_labels().iter().any(|l| l == "Pause notifications")
    });

    // The desktop's own Do Not Disturb silences the app as its Pause does, for as long as it
    // is on: dunst's pause, then GNOME's "show banners" off. Each time Ann (gone with her
    // one-off session's TTL) comes back, is shown, and is not announced.
    let quiet_modes: [(&str, [&str; 3], [&str; 3]); 2] = [
        (
            "dunstctl",
            ["set-paused", "true", ""],
            ["set-paused", "false", ""],
        ),
        (
            "gsettings",
            [
                "set",
                "org.gnome.desktop.notifications",
                "show-banners false",
            ],
            [
                "set",
                "org.gnome.desktop.notifications",
                "show-banners true",
            ],
        ),
    ];
    for (tool, on, off) in quiet_modes {
        let args = |words: [&str; 3]| -> Vec<String> {
            words
                .iter()
                .flat_map(|w| w.split_whitespace())
                .map(str::to_owned)
                .collect()
        };
        tray.wait_until("Ann gone", wait, |t| {
            !t.menu_labels().iter().any(|l| l.contains("Ann Lee"))
        });
        run_ok(desktop.command(tool).args(args(on)));
        tray.wait_until("Do Not Disturb", wait, |t| {
            t.menu_labels().iter().any(|l| l == "Do Not Disturb is on")
        });
        app.wait_for(r#"[data-testid="do-not-disturb"]"#, wait)
            .await;
        let before = desktop.notifications().len();
        run_ok(cli(&server, &ann_token).args(["join", "contoso", "/", "--once"]));
        tray.wait_until("Ann back", wait, |t| {
            t.menu_labels().iter().any(|l| l == "    Ann Lee — Home")
        });
        std::thread::sleep(Duration::from_millis(1500));
        let during: Vec<_> = desktop.notifications().into_iter().skip(before).collect();
        assert!(
            during.is_empty(),
            "notified during {tool}'s Do Not Disturb: {during:#?}"
        );
        run_ok(desktop.command(tool).args(args(off)));
        tray.wait_until("Do Not Disturb over", wait, |t| {
            !t.menu_labels().iter().any(|l| l == "Do Not Disturb is on")
        });
    }
    assert_eq!(
        photos.requests(),
        1,
        "Ann's photo is fetched once, however often she comes back"
    );

    // The server goes away: the popup and the tray say so.
    server.stop().await;
    app.wait_for(r#"[data-testid="banner"][data-connection="offline"]"#, wait)
        .await;
    tray.wait_until("the offline icon", wait, |t| {
        t.icon() == Some("offline")
            && t.menu_labels()
                .iter()
                .any(|l| l == "Offline — reconnecting…")
    });

    // It comes back: the app recovers by itself, Zoë's editor heartbeats back in, and nobody
    // is announced again.
    let before = desktop.notifications().len();
    server.restart().await;
    app.wait_gone(r#"[data-testid="banner"]"#, Duration::from_secs(30))
        .await;
    app.wait_for(
        r#"[data-site="contoso"] [data-testid="page"][data-path="/products/pricing"] [data-testid="avatar"]"#,
        wait,
    )
    .await;
    tray.wait_until("Zoë back", wait, |t| {
        t.icon() == Some("active") && t.label() == "1"
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again: Vec<_> = desktop.notifications().into_iter().skip(before).collect();
    assert!(
        again.is_empty(),
        "announced again after the restart: {again:#?}"
    );

    drop(zoe);
    app.quit().await;
}
