//! Web editors described per site, end to end: the service serves a site's editors with the
//! site, keeps a session's editor address only on the page an editor reads from it, and shows
//! it to everyone on the site; an organisation file with an editor that does not hold is
//! refused at import, naming the site and the editor. Runs on two nodes with
//! `COPRESENCE_TEST_CLUSTER=1`, like the service suite.

use std::time::Duration;

use copresence_client::{SubscribeOptions, Subscription};
use copresence_core::editors::Editor;
use copresence_core::{Event, PutSession};
use copresence_tests::{bin, events_within, first_snapshot, launch, next_event, TestServer, ORG};

const SOON: Duration = Duration::from_secs(5);

const STUDIO: &str = "https://make.powerpages.microsoft.com/e/env-1/sites/5e1c0d2a-7b1e-4a55-9d7e-0c1f3b2a9e11/pages/";
const PRODUCTS_ID: &str = "8a1b0000-0000-0000-0000-000000000002";
const HOME_ID: &str = "8a1b0000-0000-0000-0000-000000000001";

/// [`ORG`] with two editors on Contoso: the Power Pages design studio with a pages table, and a
/// studio on this machine whose path is the page.
fn org_with_editors() -> String {
    ORG.replace(
        "\n[[sites]]\nid = \"private\"",
        r#"
[[sites.editors]]
name = "Power Pages design studio"
pattern = "https://make.powerpages.microsoft.com/e/:environment/sites/:site/pages/:page"
site = "5e1c0d2a-7b1e-4a55-9d7e-0c1f3b2a9e11"
pages = { "8a1b0000-0000-0000-0000-000000000001" = "/", "8a1b0000-0000-0000-0000-000000000002" = "/products" }

[[sites.editors]]
name = "Local studio"
pattern = "http://127.0.0.1\\:*/edit/:page*"

[[sites]]
id = "private""#,
    )
}

/// The next event, which must be a move: where from, where to, and the mover's address.
async fn next_move(watch: &mut Subscription) -> (Option<String>, Option<String>, Option<String>) {
    match next_event(watch, SOON).await {
        Event::Move {
            from, to, member, ..
        } => (from, to, member.sessions[0].url.clone()),
        other => panic!("expected a move, got {other:?}"),
    }
}

fn at(page: &str, url: Option<&str>) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: url.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_sites_editors_are_served_with_it_and_only_where_it_has_them() {
    let server = TestServer::start_with_org(&org_with_editors(), &[]).await;
    let ann = server.client("ann@contoso.test");
    let dee = server.client("dee@contoso.test");

    let sites = ann.sites().await.unwrap();
    let editors: &[Editor] = &sites[0].site.editors;
    assert_eq!(editors.len(), 2);
    assert_eq!(editors[0].name, "Power Pages design studio");
    assert_eq!(
        editors[0].site.as_deref(),
        Some("5e1c0d2a-7b1e-4a55-9d7e-0c1f3b2a9e11")
    );
    assert_eq!(
        editors[0].pages.as_ref().unwrap().get(PRODUCTS_ID).unwrap(),
        "/products"
    );
    assert_eq!(
        (editors[1].site.as_ref(), editors[1].pages.as_ref()),
        (None, None)
    );

    // On the wire: as in the file, `site` and `pages` only where given.
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/sites", server.url))
        .bearer_auth(server.token("ann@contoso.test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        raw[0]["site"]["editors"][1],
        serde_json::json!({"name": "Local studio", "pattern": "http://127.0.0.1\\:*/edit/:page*"})
    );

    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    let snapshot = first_snapshot(&mut watch).await;
    assert_eq!(snapshot[0].site.editors, sites[0].site.editors);
    assert_eq!(ann.site("contoso").await.unwrap().site.editors.len(), 2);

    // A site without editors leaves them out.
    let private = dee.sites().await.unwrap();
    assert!(private[0].site.editors.is_empty());
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/sites", server.url))
        .bearer_auth(server.token("dee@contoso.test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw[0]["site"].get("editors").is_none(), "{raw}");
}

#[tokio::test]
async fn an_editor_address_is_kept_on_its_page_and_reaches_everyone() {
    let server = TestServer::start_with_org(&org_with_editors(), &[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    let products = format!("{STUDIO}{PRODUCTS_ID}?tab=styling");
    let state = bo
        .put_session("contoso", "tab", &at("/products", Some(&products)))
        .await
        .unwrap();
    assert_eq!(state.session.url.as_deref(), Some(products.as_str()));
    match next_event(&mut watch, SOON).await {
        Event::Join { member, .. } => {
            assert_eq!(member.sessions[0].url.as_deref(), Some(products.as_str()));
        }
        other => panic!("expected Bo's join, got {other:?}"),
    }

    // Another address of the same page: a move from the page to itself, with the new address.
    let same_page = format!("{STUDIO}{PRODUCTS_ID}");
    bo.put_session("contoso", "tab", &at("/products", Some(&same_page)))
        .await
        .unwrap();
    assert_eq!(
        next_move(&mut watch).await,
        (
            Some("/products".to_owned()),
            Some("/products".to_owned()),
            Some(same_page.clone())
        )
    );

    // A heartbeat with the same address is silent; a page change moves with its address.
    bo.put_session("contoso", "tab", &at("/products", Some(&same_page)))
        .await
        .unwrap();
    let home = format!("{STUDIO}{HOME_ID}");
    bo.put_session("contoso", "tab", &at("/", Some(&home)))
        .await
        .unwrap();
    assert_eq!(
        next_move(&mut watch).await,
        (
            Some("/products".to_owned()),
            Some("/".to_owned()),
            Some(home.clone())
        )
    );

    // The studio on this machine reads the path.
    let local = "http://127.0.0.1:9/edit/products/pricing";
    bo.put_session("contoso", "tab", &at("/products/pricing", Some(local)))
        .await
        .unwrap();
    assert_eq!(next_move(&mut watch).await.2.as_deref(), Some(local));

    // A PUT without the address clears it: the tab left the studio's page form.
    bo.put_session("contoso", "tab", &at("/products/pricing", None))
        .await
        .unwrap();
    assert_eq!(next_move(&mut watch).await.2, None);
    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.members.members()[0].sessions[0].url, None);
}

#[tokio::test]
async fn an_address_of_another_page_or_host_is_refused_and_changes_nothing() {
    let server = TestServer::start_with_org(&org_with_editors(), &[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let products = format!("{STUDIO}{PRODUCTS_ID}");
    bo.put_session("contoso", "tab", &at("/products", Some(&products)))
        .await
        .unwrap();
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    let before = first_snapshot(&mut watch).await;

    let too_long = format!("{products}?{}", "a".repeat(2048));
    let another_site = products.replace("5e1c0d2a-7b1e-4a55-9d7e-0c1f3b2a9e11", "0badc0de");
    let refused = [
        // The home page's address, on a session that says it is on Products.
        at("/products", Some(&format!("{STUDIO}{HOME_ID}"))),
        // A move to Pricing with the Products address.
        at("/products/pricing", Some(&products)),
        at(
            "/products",
            Some("https://studio.evil.example/edit/products"),
        ),
        at(
            "/products",
            Some("http://studio.contoso.example:80/edit/products"),
        ),
        at("/products", Some(&another_site)),
        at("/products", Some("not an address")),
        at("/products", Some(&too_long)),
        // A new page is not added for an address that is refused.
        at("/brand-new", Some("https://studio.evil.example/brand-new")),
    ];
    for put in &refused {
        let error = bo.put_session("contoso", "tab", put).await.unwrap_err();
        assert_eq!(
            (error.status(), error.code()),
            (Some(400), "invalid_url"),
            "{put:?}"
        );
    }
    let message = bo
        .put_session("contoso", "tab", &refused[0])
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("\"/\""), "names the page it is: {message}");
    assert!(
        events_within(&mut watch, Duration::from_millis(800))
            .await
            .is_empty(),
        "nothing to announce"
    );
    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.pages, before[0].pages, "no page was added");
    let session = &site.members.members()[0].sessions[0];
    assert_eq!(
        (session.page.as_str(), session.url.as_deref()),
        ("/products", Some(products.as_str()))
    );

    // A site without editors keeps no address at all.
    let dee = server.client("dee@contoso.test");
    let error = dee
        .put_session("private", "tab", &at("/", Some("https://private.example/")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_url");
}

/// `copresence-server import` of `org` into a fresh store: its error, if it fails.
fn import(org: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.toml");
    std::fs::write(&file, org).unwrap();
    let data = dir.path().join("data");
    let args = [
        "import",
        "--data",
        data.to_str().unwrap(),
        file.to_str().unwrap(),
    ];
    launch::admin(&bin("copresence-server"), &args)
        .err()
        .map(|error| format!("{error:#}"))
}

fn with_editor(editor: &str) -> String {
    ORG.replace(
        "\n[[sites]]\nid = \"private\"",
        &format!("\n[[sites.editors]]\n{editor}\n\n[[sites]]\nid = \"private\""),
    )
}

#[test]
fn an_organisation_file_with_an_editor_that_does_not_hold_is_refused_naming_it() {
    assert_eq!(import(&org_with_editors()), None);
    let cases = [
        (
            "name = \"Broken\"\npattern = \"https://studio.example/:page(\"",
            "not a URL pattern",
        ),
        (
            "name = \"No page\"\npattern = \"https://studio.example/edit/:id\"",
            "no group named `page`",
        ),
        (
            "name = \"Plain\"\npattern = \"http://studio.example/edit/:page*\"",
            "https",
        ),
        (
            "name = \"Site\"\npattern = \"https://studio.example/:page\"\nsite = \"s1\"",
            "no group named `site`",
        ),
        (
            "name = \"Table\"\npattern = \"https://studio.example/:page\"\npages = { a = \"products\" }",
            "not a page path",
        ),
        (
            "name = \"Typo\"\npattern = \"https://studio.example/:page\"\npage = { a = \"/\" }",
            "unknown field",
        ),
    ];
    for (editor, says) in cases {
        let error = import(&with_editor(editor)).expect("the import is refused");
        assert!(error.contains(says), "{editor}: {error}");
        if says != "unknown field" {
            assert!(error.contains("site \"contoso\", editor"), "{error}");
        }
    }
    let many: Vec<String> = (0..21)
        .map(|i| format!("name = \"Studio {i}\"\npattern = \"https://s{i}.example/:page*\""))
        .collect();
    let error = import(&with_editor(&many.join("\n\n[[sites.editors]]\n"))).unwrap();
    assert!(error.contains("21 editors"), "{error}");
}
