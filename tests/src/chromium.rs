//! Headless Chromium driven over WebDriver (`chromedriver`), for what a person does in a
//! browser: here, signing in on an OpenID provider's pages from the address an app opened.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::{free_port, wait_until};

/// Chromium with its own profile, killed when dropped.
pub struct Chromium {
    pub webdriver: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    pub async fn start() -> Chromium {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "chromedriver is needed for the sign-in tests: run `make test`, which installs it",
            );
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        wait_until("chromedriver", Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let profile = tempfile::tempdir().expect("a profile directory");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let webdriver = ClientBuilder::new(connector)
            .capabilities(capabilities.as_object().cloned().unwrap())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with Chromium");
        Chromium {
            webdriver,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Open `url` (a provider's authorization page), sign in as `email` on its login page,
    /// consent, and wait until the browser has been sent back to the app and shows its page.
    pub async fn sign_in(&self, url: &str, email: &str, back_says: &str) {
        let browser = &self.webdriver;
        browser.goto(url).await.expect("the sign-in page opens");
        let wait = Duration::from_secs(20);
        let login = browser
            .wait()
            .at_most(wait)
            .for_element(Locator::Css(r#"input[name="login"]"#))
            .await
            .expect("the provider's login form");
        login.send_keys(email).await.unwrap();
        browser
            .find(Locator::Css(r#"input[name="password"]"#))
            .await
            .unwrap()
            .send_keys("any password")
            .await
            .unwrap();
        browser
            .find(Locator::Css(r#"button[type="submit"]"#))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Consent, where the provider asks for it; then back to the app.
        let deadline = std::time::Instant::now() + wait;
        loop {
            let page = browser.source().await.unwrap_or_default();
            if page.contains(back_says) {
                return;
            }
            if let Ok(confirm) = browser
                .find(Locator::Css(r#"form button[type="submit"]"#))
                .await
            {
                let _ = confirm.click().await;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the browser did not get back to the app: {page}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
