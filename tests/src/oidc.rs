//! A real OpenID provider on loopback for the tests of OpenID Connect sign-in: panva's
//! `oidc-provider` (npm, OpenID Certified) run by Node from `tests/oidc/provider.mjs`, with one
//! public native client, accounts a test chooses, and JWT access tokens for the service's
//! audience. Nothing is mocked: [`OidcProvider::login`] runs the authorization-code flow with
//! PKCE over HTTP through the provider's own login and consent pages, as a browser would, and
//! [`OidcProvider::approve_device`] completes a device login on its verification pages.
//!
//! The provider's npm packages are installed outside the clone on first use
//! (`scripts/oidc-provider.sh`, once per package lock), so the tests need only Node and npm.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{redirect, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::process::Child;

use crate::launch;

/// Where [`OidcProvider::login`] says it would receive the authorization code: a native app's
/// loopback redirect on a port of its choosing. Any port matches the registered
/// `http://127.0.0.1/callback` (RFC 8252, section 7.3). Nothing listens there: the harness
/// reads the code from the redirect instead of following it.
const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";

/// The scopes every sign-in asks for; `offline_access` brings a refresh token.
const SCOPE: &str = "openid email profile groups offline_access";

/// The provider accepts any password on its development login page.
const PASSWORD: &str = "any password";

/// How long the provider may take to start (Node, then oidc-provider's first import).
const START_WITHIN: Duration = Duration::from_secs(30);

/// A person the provider can sign in, by e-mail.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    /// The subject: opaque and stable, as at a real provider.
    pub sub: String,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
    /// Entra ID's user principal name, when the account has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// A profile photo's address, when the account has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

impl Account {
    /// An account whose `sub` is derived from its e-mail (so rewriting the accounts keeps it).
    pub fn new(email: &str, name: &str, groups: &[&str]) -> Account {
        let digest = Sha256::digest(email.as_bytes());
        Account {
            sub: format!("sub-{}", &URL_SAFE_NO_PAD.encode(digest)[..16]),
            email: email.to_owned(),
            name: name.to_owned(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            upn: None,
            picture: None,
        }
    }

    pub fn with_upn(mut self, upn: &str) -> Account {
        self.upn = Some(upn.to_owned());
        self
    }

    pub fn with_picture(mut self, picture: &str) -> Account {
        self.picture = Some(picture.to_owned());
        self
    }
}

/// The client, audience and token lifetimes the provider starts with.
#[derive(Clone, Debug)]
pub struct OidcOptions {
    /// The public client's id.
    pub client_id: String,
    /// The resource indicator whose access tokens are JWTs with this `aud`.
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub device_code_ttl: Duration,
}

impl Default for OidcOptions {
    fn default() -> OidcOptions {
        OidcOptions {
            client_id: "copresence".to_owned(),
            audience: "api://copresence".to_owned(),
            access_token_ttl: Duration::from_secs(60),
            refresh_token_ttl: Duration::from_secs(24 * 3600),
            device_code_ttl: Duration::from_secs(600),
        }
    }
}

/// A token endpoint's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    /// A JWT for the audience.
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    /// The access token's lifetime in seconds.
    pub expires_in: u64,
}

/// The configuration file `provider.mjs` reads (see its header).
#[derive(Serialize)]
struct ProviderConfig<'a> {
    client_id: &'a str,
    audience: &'a str,
    access_token_ttl: u64,
    refresh_token_ttl: u64,
    device_code_ttl: u64,
    jwks: Value,
    /// Grants, sessions and tokens, kept across restarts.
    state: PathBuf,
    accounts: &'a [Account],
}

/// The running provider, killed when dropped. Its issuer is `http://127.0.0.1:PORT`, and stays
/// so across [`restart`](OidcProvider::restart) and [`rotate_key`](OidcProvider::rotate_key).
pub struct OidcProvider {
    /// First, so it is killed (dropped) before its directory is removed.
    child: Option<Child>,
    dir: tempfile::TempDir,
    script: PathBuf,
    options: OidcOptions,
    accounts: Vec<Account>,
    /// The private JWK it signs with.
    signing_key: Value,
    /// Empty until it first starts.
    issuer: String,
}

impl OidcProvider {
    /// Install the provider if needed, and start it on a free loopback port.
    pub async fn start(accounts: Vec<Account>, options: OidcOptions) -> OidcProvider {
        let script = installed_script().to_owned();
        let signing_key = new_signing_key(&script).await;
        let mut provider = OidcProvider {
            child: None,
            dir: tempfile::tempdir().expect("a temporary directory"),
            script,
            options,
            accounts,
            signing_key,
            issuer: String::new(),
        };
        provider.write_config();
        provider.spawn().await;
        provider
    }

    /// `http://127.0.0.1:PORT`, exactly as in its tokens' `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.options.client_id
    }

    pub fn audience(&self) -> &str {
        &self.options.audience
    }

    /// The `kid` of the key it signs with now.
    pub fn kid(&self) -> &str {
        self.signing_key["kid"]
            .as_str()
            .expect("a signing key has a kid")
    }

    /// Replace every account; the next sign-in, refresh or token sees the change.
    pub fn set_accounts(&mut self, accounts: Vec<Account>) {
        self.accounts = accounts;
        self.write_config();
    }

    /// Put the account with this e-mail in these groups (and no others).
    pub fn set_groups(&mut self, email: &str, groups: &[&str]) {
        let account = self
            .accounts
            .iter_mut()
            .find(|a| a.email == email)
            .unwrap_or_else(|| panic!("no account has the e-mail {email}"));
        account.groups = groups.iter().map(|g| g.to_string()).collect();
        self.write_config();
    }

    /// Sign with a new key from now on: restart on the same port with only the new key in the
    /// JWKS, so the old `kid` is gone. Grants and refresh tokens survive. Returns the new kid.
    pub async fn rotate_key(&mut self) -> String {
        self.signing_key = new_signing_key(&self.script).await;
        self.write_config();
        self.restart().await;
        self.kid().to_owned()
    }

    /// Kill the provider and start it again on the same port, with the same state.
    pub async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        self.spawn().await;
    }

    /// Its discovery document (`/.well-known/openid-configuration`).
    pub async fn discovery(&self) -> anyhow::Result<Value> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        get_json(&reqwest::Client::new(), &url).await
    }

    /// Its public signing keys, from the `jwks_uri` that discovery names.
    pub async fn jwks(&self) -> anyhow::Result<Value> {
        let jwks_uri = endpoint(&self.discovery().await?, "jwks_uri")?;
        get_json(&reqwest::Client::new(), jwks_uri.as_str()).await
    }

    /// Sign in as the account with this e-mail, in a new browser session: the authorization-code
    /// flow with PKCE (S256), `state` and `nonce`, for the audience, through the provider's login
    /// and consent pages; then the code is exchanged at the token endpoint.
    pub async fn login(&self, email: &str) -> anyhow::Result<Tokens> {
        let discovery = self.discovery().await?;
        let verifier = random_token();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = random_token();
        let nonce = random_token();
        let mut authorization = endpoint(&discovery, "authorization_endpoint")?;
        authorization
            .query_pairs_mut()
            .append_pair("client_id", self.client_id())
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", SCOPE)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("resource", self.audience())
            // oidc-provider drops `offline_access` (so: no refresh token) unless consent is
            // prompted for, as OpenID Connect Core 1.0, section 11 allows.
            .append_pair("prompt", "consent");

        let browser = Browser::new()?;
        let redirect = match browser
            .complete(authorization, email, None)
            .await
            .context("signing in")?
        {
            Finished::Redirected(url) => url,
            Finished::Page(text) => bail!("sign-in ended on a page, not the redirect: {text}"),
        };
        let answer: std::collections::HashMap<String, String> =
            redirect.query_pairs().into_owned().collect();
        if let Some(error) = answer.get("error") {
            bail!(
                "the provider refused the sign-in: {error}: {}",
                answer.get("error_description").map_or("", String::as_str)
            );
        }
        ensure!(
            answer.get("state") == Some(&state),
            "the redirect's state is not ours"
        );
        // RFC 9207: the redirect names its issuer, against mix-up attacks.
        ensure!(
            answer.get("iss").map(String::as_str) == Some(self.issuer()),
            "the redirect's iss is not the issuer"
        );
        let code = answer
            .get("code")
            .ok_or_else(|| anyhow!("the redirect has no code: {redirect}"))?;

        let tokens = self
            .token_request(
                &discovery,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", &verifier),
                ],
            )
            .await?;
        ensure!(
            jwt_claims(&tokens.id_token)["nonce"] == nonce.as_str(),
            "the ID token's nonce is not ours"
        );
        Ok(tokens)
    }

    /// New tokens for a refresh token (which the provider rotates: use the new one next).
    pub async fn refresh(&self, refresh_token: &str) -> anyhow::Result<Tokens> {
        let discovery = self.discovery().await?;
        self.token_request(
            &discovery,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// Sign in as the account with this e-mail at an authorization URL some client made (the
    /// tray app's, as its browser would get it): the provider's sign-in and consent pages, up
    /// to the redirect back to the client, which is returned, not followed.
    pub async fn authorize(&self, authorization_url: &str, email: &str) -> anyhow::Result<Url> {
        let browser = Browser::new()?;
        match browser
            .complete(authorization_url.parse()?, email, None)
            .await
            .context("signing in at the provider")?
        {
            Finished::Redirected(url) => Ok(url),
            Finished::Page(text) => bail!("the sign-in ended on a page: {text}"),
        }
    }

    /// Approve a device login (RFC 8628) as the account with this e-mail, in a new browser
    /// session: enter `user_code` on the verification page, confirm it, sign in and consent.
    /// The device's next poll of the token endpoint then gets its tokens.
    pub async fn approve_device(&self, user_code: &str, email: &str) -> anyhow::Result<()> {
        // oidc-provider's verification page; the device authorization response names it too.
        let verification: Url = format!("{}/device", self.issuer).parse()?;
        let browser = Browser::new()?;
        match browser
            .complete(verification, email, Some(user_code))
            .await
            .context("approving the device")?
        {
            Finished::Page(text) if text.contains("Sign-in Success") => Ok(()),
            Finished::Page(text) => bail!("the device was not approved: {text}"),
            Finished::Redirected(url) => bail!("the device approval redirected to {url}"),
        }
    }

    /// POST to the token endpoint as the public client, for the audience.
    async fn token_request(
        &self,
        discovery: &Value,
        params: &[(&str, &str)],
    ) -> anyhow::Result<Tokens> {
        let mut form = params.to_vec();
        form.extend([
            ("client_id", self.client_id()),
            ("resource", self.audience()),
        ]);
        let response = reqwest::Client::new()
            .post(endpoint(discovery, "token_endpoint")?)
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        ensure!(
            status.is_success(),
            "the token endpoint said {status}: {body}"
        );
        serde_json::from_str(&body).with_context(|| format!("not the expected tokens: {body}"))
    }

    fn write_config(&self) {
        let config = ProviderConfig {
            client_id: &self.options.client_id,
            audience: &self.options.audience,
            access_token_ttl: self.options.access_token_ttl.as_secs(),
            refresh_token_ttl: self.options.refresh_token_ttl.as_secs(),
            device_code_ttl: self.options.device_code_ttl.as_secs(),
            jwks: json!({ "keys": [self.signing_key] }),
            state: self.dir.path().join("state.json"),
            accounts: &self.accounts,
        };
        let path = self.config_path();
        let staging = path.with_extension("json.new");
        // Replaced whole: the provider reads the file at every account lookup, never half of it.
        std::fs::write(&staging, serde_json::to_vec_pretty(&config).unwrap())
            .and_then(|()| std::fs::rename(&staging, &path))
            .expect("the provider's configuration is written");
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("provider.log")
    }

    async fn spawn(&mut self) {
        let port = match self.issuer.rsplit_once(':') {
            Some((_, port)) => port.to_owned(),
            None => "0".to_owned(),
        };
        // Its warnings (Node 20 is older than it would like; development pages are on) would
        // be noise on every start: they go to a log, shown only if it fails to start.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the provider's log opens");
        let started = launch::start(
            Path::new("node"),
            [
                self.script.as_os_str(),
                self.config_path().as_os_str(),
                port.as_ref(),
            ],
            Stdio::from(log),
            START_WITHIN,
        )
        .await
        .unwrap_or_else(|error| {
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            panic!("the OpenID provider did not start: {error}\n{log}")
        });
        self.issuer = started.url;
        self.child = Some(started.child);
    }
}

/// The decoded (not verified) payload of a JWT, for assertions.
pub fn jwt_claims(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// The decoded header of a JWT (`alg`, `kid`, `typ`).
pub fn jwt_header(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

fn jwt_part(jwt: &str, index: usize) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT (an opaque token?): {jwt}");
    let part = parts[index];
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("not base64url: {part}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON: {part}: {e}"))
}

/// `provider.mjs` next to its installed `node_modules`, installed by `scripts/oidc-provider.sh`
/// once per test process (the script itself copes with several processes at once).
fn installed_script() -> &'static Path {
    static SCRIPT: OnceLock<PathBuf> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let installer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/oidc-provider.sh");
        let output = std::process::Command::new("bash")
            .arg(&installer)
            .arg("install")
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", installer.display()));
        assert!(
            output.status.success(),
            "{} install failed: the OpenID provider needs Node and npm (make deps)",
            installer.display()
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let script = stdout.lines().last().unwrap_or_default().trim();
        PathBuf::from(script)
    })
}

/// A new private RSA signing key (JWK) with a random `kid`, from `provider.mjs --new-key`.
async fn new_signing_key(script: &Path) -> Value {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .arg("--new-key")
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "provider.mjs --new-key failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("provider.mjs --new-key prints a JWK")
}

/// 32 random bytes, base64url: a PKCE verifier, a `state`, a `nonce`.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A URL that discovery names.
fn endpoint(discovery: &Value, name: &str) -> anyhow::Result<Url> {
    let url = discovery[name]
        .as_str()
        .ok_or_else(|| anyhow!("discovery has no {name}"))?;
    Ok(url.parse()?)
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = client.get(url).send().await?;
    let status = response.status();
    ensure!(status.is_success(), "GET {url} said {status}");
    Ok(response.json().await?)
}

/// How a walk through the provider's pages ended.
enum Finished {
    /// At the client's loopback redirect URI (not followed).
    Redirected(Url),
    /// On a page with no form to fill, as its text.
    Page(String),
}

/// What a person does in a browser on the provider's pages: follow redirects, keep cookies, and
/// fill and submit each form (sign-in, consent, user code, confirmation).
struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            // Followed by hand, to stop at the client's redirect URI.
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Browser { http })
    }

    /// Open `start` and go on until the client's redirect URI or a page without a form.
    async fn complete(
        &self,
        start: Url,
        email: &str,
        user_code: Option<&str>,
    ) -> anyhow::Result<Finished> {
        let mut request = self.http.get(start.clone());
        let mut url = start;
        let mut submitted: Vec<(String, Vec<String>)> = Vec::new();
        // A sign-in takes six requests, a device approval nine.
        for _ in 0..20 {
            let response = request.send().await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .ok_or_else(|| anyhow!("{status} without a Location from {url}"))?
                    .to_str()?;
                url = url.join(location)?;
                // A native client's loopback redirect, on whatever port it listens.
                if url.scheme() == "http"
                    && url.host_str() == Some("127.0.0.1")
                    && url.path() == "/callback"
                {
                    return Ok(Finished::Redirected(url));
                }
                request = self.http.get(url.clone());
                continue;
            }
            let html = response.text().await?;
            ensure!(
                status == StatusCode::OK,
                "{url} said {status}: {}",
                page_text(&html)
            );
            let Some(mut form) = forms(&html).into_iter().next() else {
                return Ok(Finished::Page(page_text(&html)));
            };
            // The same form twice: the provider did not take the first answer
            // (a wrong user code, an interrupted sign-in). Its page says why.
            let seen = (form.action.clone(), form.names());
            ensure!(
                !submitted.contains(&seen),
                "{url} asked again: {}",
                page_text(&html)
            );
            submitted.push(seen);
            form.set_if_present("login", email);
            form.set_if_present("password", PASSWORD);
            if let Some(code) = user_code {
                form.set_if_present("user_code", code);
            }
            url = url.join(&form.action)?;
            request = self.http.post(url.clone()).form(&form.fields);
        }
        bail!("no end after 20 requests, at {url}")
    }
}

/// An HTML form: where it posts and its inputs.
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn names(&self) -> Vec<String> {
        self.fields.iter().map(|(name, _)| name.clone()).collect()
    }

    fn set_if_present(&mut self, name: &str, value: &str) {
        for field in self.fields.iter_mut().filter(|(n, _)| n == name) {
            field.1 = value.to_owned();
        }
    }
}

/// The forms of one of the provider's pages and their `<input>`s: enough HTML for pages it
/// generates from its own templates (double-quoted attributes).
fn forms(html: &str) -> Vec<Form> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let tag_end = after.find('>').map_or(after.len(), |i| i + 1);
        let end = after.find("</form>").unwrap_or(after.len());
        let attributes = tag_attributes(&after[..tag_end]);
        let inner = &after[tag_end.min(end)..end];
        let fields = inner
            .split("<input")
            .skip(1)
            .filter_map(|input| {
                let input = tag_attributes(&input[..input.find('>').unwrap_or(input.len())]);
                let name = input.iter().find(|(k, _)| k == "name")?.1.clone();
                let value = input
                    .iter()
                    .find(|(k, _)| k == "value")
                    .map_or_else(String::new, |(_, v)| v.clone());
                Some((name, value))
            })
            .collect();
        let action = attributes
            .iter()
            .find(|(k, _)| k == "action")
            .map_or_else(String::new, |(_, v)| v.clone());
        found.push(Form { action, fields });
        rest = &after[end..];
    }
    found
}

/// The `name="value"` attributes of a tag (bare ones, like `required`, are left out).
fn tag_attributes(tag: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    let mut rest = tag;
    while let Some(equals) = rest.find("=\"") {
        let name = rest[..equals]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let value_start = equals + 2;
        let Some(length) = rest[value_start..].find('"') else {
            break;
        };
        attributes.push((name, unescape(&rest[value_start..value_start + length])));
        rest = &rest[value_start + length + 1..];
    }
    attributes
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A page's visible text, in one line, to say in an error what the provider showed.
fn page_text(html: &str) -> String {
    let body = html.split("</style>").last().unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}
