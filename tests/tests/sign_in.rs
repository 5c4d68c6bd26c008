//! Sign-in with the organisation's accounts, for real: the service on loopback takes access
//! tokens from a real OpenID provider (`oidc-provider`, run by the harness), makes people known
//! on their first sign-in, lets them in by domain and by directory group, refuses every token it
//! must not take, and ends an event stream when its token does.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use copresence_client::Client;
use copresence_core::{AuthInfo, PutSession};
use copresence_tests::oidc::{Account, OidcOptions, OidcProvider};
use copresence_tests::TestServer;

/// Ann is listed by name; the Contoso Portal also takes everyone at fabrikam.test, and the
/// Studio everyone in the Makers group.
const ORG: &str = r#"
[[users]]
email = "ann@contoso.test"
name = "Ann Lee"

[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["ann@contoso.test", "*@fabrikam.test"]
pages = [ { path = "/", title = "Home" }, { path = "/pricing", title = "Pricing" } ]

[[sites]]
id = "studio"
name = "Studio"
url = "https://studio.example"
members = ["group:Makers"]
pages = [ { path = "/", title = "Home" } ]
"#;

fn accounts() -> Vec<Account> {
    vec![
        Account::new("ann@contoso.test", "Ann Lee", &[]),
        Account::new("cy@fabrikam.test", "Cy Diaz", &[]).with_upn("cy.diaz@fabrikam.test"),
        Account::new("gil@elsewhere.test", "Gil Ozturk", &["Makers"]),
    ]
}

/// The provider with [`accounts`], its access tokens good for `lifetime`.
async fn provider_whose_tokens_last(lifetime: Duration) -> OidcProvider {
    let options = OidcOptions {
        access_token_ttl: lifetime,
        ..OidcOptions::default()
    };
    OidcProvider::start(accounts(), options).await
}

async fn serve(provider: &OidcProvider, audience: &str, extra: &[&str]) -> TestServer {
    let mut args = vec![
        "--oidc-issuer",
        provider.issuer(),
        "--oidc-audience",
        audience,
        "--oidc-client-id",
        provider.client_id(),
        // Tests wait out expiries and rotations in seconds, not minutes.
        "--oidc-leeway",
        "0s",
        "--oidc-jwks-min-refresh",
        "1s",
    ];
    args.extend_from_slice(extra);
    TestServer::start_with_org(ORG, &args).await
}

fn client(server: &TestServer, token: &str) -> Client {
    Client::new(&server.url, token).expect("a valid server URL")
}

async fn site_ids(client: &Client) -> Vec<String> {
    let mut ids: Vec<String> = client
        .sites()
        .await
        .expect("the sites")
        .into_iter()
        .map(|s| s.site.id)
        .collect();
    ids.sort();
    ids
}

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: None,
    }
}

#[tokio::test]
async fn people_sign_in_with_the_directory_and_its_groups_decide_their_sites() {
    let mut provider = OidcProvider::start(accounts(), OidcOptions::default()).await;
    let server = serve(&provider, provider.audience(), &[]).await;

    // What a client needs to sign in, from the service's address alone.
    let auth: AuthInfo = reqwest::get(format!("{}/v1/auth", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(auth.operator_tokens);
    let [offered] = auth.providers.as_slice() else {
        panic!("one provider: {auth:?}")
    };
    assert_eq!(offered.issuer, provider.issuer());
    assert_eq!(offered.client_id.as_deref(), Some(provider.client_id()));
    assert_eq!(offered.audience, provider.audience());
    assert!(offered.endpoints.device_authorization_endpoint.is_some());
    assert!(offered.scopes.iter().any(|s| s == "offline_access"));

    // Cy was never imported: his first sign-in makes him known, with the directory's name and
    // Teams account, and his domain makes him a member of the Contoso Portal.
    let cy = client(
        &server,
        &provider
            .login("cy@fabrikam.test")
            .await
            .unwrap()
            .access_token,
    );
    let me = cy.me().await.expect("Cy is let in").user;
    assert_eq!(me.name, "Cy Diaz");
    assert_eq!(me.teams.as_deref(), Some("cy.diaz@fabrikam.test"));
    assert_eq!(site_ids(&cy).await, ["contoso"]);
    cy.put_session("contoso", "cy-tab", &at("/pricing"))
        .await
        .expect("Cy may be on the Contoso Portal");

    // Ann, listed by name, signs in the same way and sees Cy there.
    let ann = client(
        &server,
        &provider
            .login("ann@contoso.test")
            .await
            .unwrap()
            .access_token,
    );
    let contoso = ann.site("contoso").await.unwrap();
    assert!(contoso.members.member(me.id).is_some(), "Ann sees Cy");
    assert_eq!(site_ids(&ann).await, ["contoso"]);

    // Gil is in the Makers group: the Studio takes him, and only it.
    let gil = client(
        &server,
        &provider
            .login("gil@elsewhere.test")
            .await
            .unwrap()
            .access_token,
    );
    assert_eq!(site_ids(&gil).await, ["studio"]);
    gil.put_session("studio", "gil-tab", &at("/"))
        .await
        .unwrap();
    assert!(gil.site("contoso").await.unwrap_err().is_not_found());

    // He leaves the group: his next token no longer opens the Studio.
    provider.set_groups("gil@elsewhere.test", &[]);
    let gil = client(
        &server,
        &provider
            .login("gil@elsewhere.test")
            .await
            .unwrap()
            .access_token,
    );
    assert!(site_ids(&gil).await.is_empty());
    let refused = gil.put_session("studio", "gil-tab", &at("/")).await;
    assert!(
        refused.unwrap_err().is_not_found(),
        "the Studio is gone for him"
    );

    // The directory renames Cy: his card follows on his next sign-in.
    let mut renamed = accounts();
    renamed[1].name = "Cyrus Diaz".into();
    provider.set_accounts(renamed);
    let cy = client(
        &server,
        &provider
            .login("cy@fabrikam.test")
            .await
            .unwrap()
            .access_token,
    );
    assert_eq!(cy.me().await.unwrap().user.name, "Cyrus Diaz");

    // Operator tokens keep working beside the directory.
    let operator = server.token("ann@contoso.test");
    assert_eq!(
        client(&server, &operator).me().await.unwrap().user.name,
        "Ann Lee"
    );
}

/// A token's header and payload with another header, and a signature of our choosing.
fn with_header(token: &str, header: &str, signature: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(header);
    format!("{header}.{payload}.{signature}")
}

async fn refused(server: &TestServer, token: &str) -> bool {
    client(server, token)
        .me()
        .await
        .is_err_and(|e| e.is_unauthorized())
}

#[tokio::test]
async fn tokens_it_must_not_take_are_refused() {
    let mut provider = OidcProvider::start(accounts(), OidcOptions::default()).await;
    let server = serve(&provider, provider.audience(), &[]).await;
    let good = provider
        .login("ann@contoso.test")
        .await
        .unwrap()
        .access_token;
    assert!(!refused(&server, &good).await, "a good token is taken");

    // A signature that does not verify: the real one with one bit changed.
    let (head, signature) = good.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert!(refused(&server, &tampered).await, "bad signature");
    // No signature at all, or an HMAC "signed" with nothing the service holds.
    assert!(
        refused(&server, &with_header(&good, r#"{"alg":"none"}"#, "")).await,
        "alg none"
    );
    let kid = provider.kid().to_owned();
    let hmac = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
    assert!(
        refused(&server, &with_header(&good, &hmac, "c2ln")).await,
        "HMAC"
    );

    // For another service.
    let elsewhere = serve(&provider, "api://another-service", &[]).await;
    assert!(refused(&elsewhere, &good).await, "wrong audience");

    // From a provider the service does not trust (same audience, same client).
    let stranger = OidcProvider::start(accounts(), OidcOptions::default()).await;
    let foreign = stranger
        .login("ann@contoso.test")
        .await
        .unwrap()
        .access_token;
    assert!(refused(&server, &foreign).await, "wrong issuer");

    // The provider rotates its key: a token signed with the withdrawn key stops working once
    // the service has seen the new keys; a new token, under the new key, is taken.
    let before_rotation = provider
        .login("ann@contoso.test")
        .await
        .unwrap()
        .access_token;
    let old_kid = provider.kid().to_owned();
    let new_kid = provider.rotate_key().await;
    assert_ne!(old_kid, new_kid);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after_rotation = provider
        .login("ann@contoso.test")
        .await
        .unwrap()
        .access_token;
    assert!(
        !refused(&server, &after_rotation).await,
        "the new key is read and taken"
    );
    assert!(
        refused(&server, &before_rotation).await,
        "unknown kid after rotation"
    );
    assert!(
        refused(&server, &good).await,
        "a token verified before is checked again"
    );

    // Expired.
    let short = provider_whose_tokens_last(Duration::from_secs(2)).await;
    let server = serve(&short, short.audience(), &[]).await;
    let soon_expired = short.login("ann@contoso.test").await.unwrap().access_token;
    assert!(!refused(&server, &soon_expired).await);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(refused(&server, &soon_expired).await, "expired");
}

#[tokio::test]
async fn an_open_stream_ends_with_its_token_and_resumes_with_a_fresh_one_without_a_flap() {
    let provider = provider_whose_tokens_last(Duration::from_secs(4)).await;
    let server = serve(&provider, provider.audience(), &["--reconnect-grace", "3s"]).await;
    let watcher = client(&server, &server.token("ann@contoso.test"));
    let mut watch = watcher.subscribe(copresence_client::SubscribeOptions::sites(["contoso"]));
    loop {
        if let Some(copresence_client::Update::Snapshot(_)) = watch.next().await {
            break;
        }
    }

    let tokens = provider.login("cy@fabrikam.test").await.unwrap();
    let cy = client(&server, &tokens.access_token);
    cy.put_session("contoso", "cy-tab", &at("/")).await.unwrap();
    let http = reqwest::Client::new();
    let stream_url = format!("{}/v1/events?site=contoso&session=cy-tab", server.url);
    let mut stream = http
        .get(&stream_url)
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success());
    let mut text = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("event: end") {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its token: {text}");
    assert!(text.contains("credential_expired"), "{text}");
    let last_id = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("id: "))
        .expect("the stream's events had ids")
        .to_owned();

    // A fresh token (by refresh), and the stream resumes where it was.
    let fresh = provider.refresh(&tokens.refresh_token).await.unwrap();
    let resumed = http
        .get(&stream_url)
        .bearer_auth(&fresh.access_token)
        .header("Last-Event-ID", &last_id)
        .send()
        .await
        .unwrap();
    assert!(resumed.status().is_success(), "{}", resumed.status());

    // Ann saw Cy join once and never leave, watched past the grace.
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Some(update)) = tokio::time::timeout_at(deadline, watch.next()).await {
        if let copresence_client::Update::Event(event) = update {
            seen.push(event);
        }
    }
    let flaps: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, copresence_core::Event::Leave { .. }))
        .collect();
    assert!(flaps.is_empty(), "Cy flapped: {seen:?}");
    drop(resumed);
}

/// The CLI with its own config directory and no keychain (so the sign-in goes to a file there).
fn cli(server: &TestServer, config: &std::path::Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(copresence_tests::bin("copresence"));
    command
        .arg("--server")
        .arg(&server.url)
        .arg("--config")
        .arg(config)
        .env_remove("COPRESENCE_TOKEN")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .kill_on_drop(true);
    command
}

async fn output_of(command: &mut tokio::process::Command) -> (bool, String) {
    let output = command.output().await.expect("the CLI runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn the_cli_signs_in_by_device_code_renews_its_sign_in_and_publishes() {
    use tokio::io::AsyncBufReadExt;

    let provider = provider_whose_tokens_last(Duration::from_secs(3)).await;
    let server = serve(&provider, provider.audience(), &[]).await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "").unwrap();

    // `copresence login` shows a code; Cy enters it on the provider's page.
    let mut login = cli(&server, &config)
        .arg("login")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(login.stdout.take().unwrap()).lines();
    let mut said = String::new();
    let code = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the CLI shows a code")
            .unwrap()
            .unwrap_or_else(|| panic!("the CLI ended without a code: {said}"));
        said.push_str(&line);
        said.push('\n');
        if let Some((_, code)) = line.split_once("enter the code ") {
            break code.trim_end_matches(')').trim().to_owned();
        }
    };
    provider
        .approve_device(&code, "cy@fabrikam.test")
        .await
        .expect("Cy approves the device");
    let rest = tokio::time::timeout(Duration::from_secs(20), async {
        let mut rest = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    })
    .await
    .expect("the CLI finishes signing in");
    assert!(login.wait().await.unwrap().success(), "{said}{rest}");
    assert!(rest.contains("as Cy Diaz"), "{rest}");
    let kept: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("sign-in-"))
        .collect();
    assert_eq!(kept.len(), 1, "the sign-in is kept beside the config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = kept[0].metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable only by its owner");
    }

    let (ok, text) = output_of(cli(&server, &config).arg("whoami")).await;
    assert!(ok, "{text}");
    assert!(text.contains("Cy Diaz"), "{text}");
    assert!(text.contains("with your organisation's account"), "{text}");

    // Past the access token's lifetime the CLI renews the sign-in by itself, and Ann sees Cy
    // join from it.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let ann = client(&server, &server.token("ann@contoso.test"));
    let mut watch = ann.subscribe(copresence_client::SubscribeOptions::sites(["contoso"]));
    loop {
        if let Some(copresence_client::Update::Snapshot(_)) = watch.next().await {
            break;
        }
    }
    let (ok, text) =
        output_of(cli(&server, &config).args(["join", "contoso", "/pricing", "--once"])).await;
    assert!(ok, "{text}");
    let joined = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(copresence_client::Update::Event(copresence_core::Event::Join {
                member,
                ..
            })) = watch.next().await
            {
                return member;
            }
        }
    })
    .await
    .expect("Ann sees Cy join");
    assert_eq!(joined.user.name, "Cy Diaz");

    // Two commands at once, both past the token's lifetime: one renews, the other takes what it
    // kept. (Both spending the one refresh token would make the provider revoke the sign-in.)
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (mut one, mut two) = (cli(&server, &config), cli(&server, &config));
    let (first, second) = tokio::join!(output_of(one.arg("whoami")), output_of(two.arg("whoami")),);
    assert!(first.0 && second.0, "{first:?} {second:?}");
    let (ok, text) = output_of(cli(&server, &config).arg("sites")).await;
    assert!(ok, "the sign-in survived two renewals at once: {text}");

    // Signed out, the CLI says how to sign in again.
    let (ok, text) = output_of(cli(&server, &config).arg("logout")).await;
    assert!(ok && text.contains("Signed out"), "{text}");
    let (ok, text) = output_of(cli(&server, &config).arg("whoami")).await;
    assert!(!ok, "{text}");
    assert!(text.contains("run `copresence login`"), "{text}");
}
