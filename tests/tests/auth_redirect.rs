//! `GET /v1/auth/redirect` end to end: the real server sends a browser on to the return address
//! its state names, with the provider's answer as it came, only where the operator allows; every
//! other answer is `400 invalid_redirect`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use copresence_tests::TestServer;
use reqwest::{redirect, StatusCode};

/// An editor in VS Code for the Web, whose workbench serves on this origin.
const WORKBENCH: &str = "http://127.0.0.1:8080";

/// A browser that does not follow redirects, so each answer is seen as it is.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The state an editor sends the provider: its CSRF value, a dot, the return address.
fn state(opaque: &str, return_to: &str) -> String {
    format!("{opaque}.{}", URL_SAFE_NO_PAD.encode(return_to))
}

/// `GET /v1/auth/redirect?{query}`, as the provider sends the browser there.
async fn arrive(server: &TestServer, query: &str) -> reqwest::Response {
    browser()
        .get(format!("{}/v1/auth/redirect?{query}", server.url))
        .send()
        .await
        .expect("the service answers")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("an ASCII header")
}

/// The answer is a 303 to exactly `location`, kept from caches and Referer.
async fn assert_sent_to(server: &TestServer, query: &str, location: &str) {
    let response = arrive(server, query).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{query}");
    assert_eq!(header(&response, "location"), location);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
}

/// The answer is `400 invalid_redirect` with a message; returns the message.
async fn refused(server: &TestServer, query: &str) -> String {
    let response = arrive(server, query).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert!(response.headers().get("location").is_none());
    let body: serde_json::Value = response.json().await.expect("errors are JSON");
    assert_eq!(body["error"]["code"], "invalid_redirect", "{query}: {body}");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(!message.is_empty());
    message.to_owned()
}

#[tokio::test]
async fn an_allowed_return_gets_the_providers_answer_as_it_came() {
    let server = TestServer::start(&[
        "--allow-origin",
        WORKBENCH,
        "--allow-origin",
        "https://editor.example",
    ])
    .await;

    // VS Code for the Web: the return already has a query, so the answer follows a `&`.
    let web = format!(
        "{WORKBENCH}/callback?vscode-reqid=3&vscode-scheme=code-oss\
         &vscode-authority=copresence.copresence&vscode-path=%2Fsigned-in"
    );
    let query = format!(
        "code=Spl%2Bx_q-1.2~3&state={}&iss=https%3A%2F%2Flogin.example%2Ftenant%2Fv2.0\
         &session_state=9f8e7d",
        state("c5rf-V4lue_", &web)
    );
    assert_sent_to(&server, &query, &format!("{web}&{query}")).await;

    // Desktop VS Code: no query on the return, so the answer follows a `?`. The opaque part
    // may hold dots: the last one splits.
    let desktop = "vscode://copresence.copresence/signed-in";
    let query = format!("code=abc&state={}", state("a.b.c", desktop));
    assert_sent_to(&server, &query, &format!("{desktop}?{query}")).await;

    // The provider's refusal goes back too, for the editor to tell its user.
    let query = format!(
        "error=access_denied&error_description=The%20user%20cancelled&state={}",
        state("x", desktop)
    );
    assert_sent_to(&server, &query, &format!("{desktop}?{query}")).await;

    // Compared as the URL standard serialises it: the host in capitals is the allowed origin.
    let query = format!(
        "code=abc&state={}",
        state("x", "https://EDITOR.example/signed-in")
    );
    assert_sent_to(
        &server,
        &query,
        &format!("https://editor.example/signed-in?{query}"),
    )
    .await;
}

#[tokio::test]
async fn a_sign_in_return_prefix_replaces_the_defaults() {
    let server = TestServer::start(&["--sign-in-return", "https://ide.example/auth/"]).await;
    let done = "https://ide.example/auth/done";
    let query = format!("code=abc&state={}", state("x", done));
    assert_sent_to(&server, &query, &format!("{done}?{query}")).await;

    let message = refused(
        &server,
        &format!(
            "code=abc&state={}",
            state("x", "vscode://copresence.copresence/signed-in")
        ),
    )
    .await;
    assert!(
        message.contains("vscode://copresence.copresence"),
        "{message}"
    );
    refused(
        &server,
        &format!("code=abc&state={}", state("x", "https://ide.example/other")),
    )
    .await;
}

#[tokio::test]
async fn returns_it_may_not_send_a_browser_to_are_refused() {
    let server = TestServer::start(&["--allow-origin", "https://editor.example"]).await;

    let message = refused(
        &server,
        &format!("code=abc&state={}", state("x", "https://evil.example/")),
    )
    .await;
    assert!(
        message.contains("https://evil.example")
            && message.contains("--allow-origin")
            && message.contains("--sign-in-return"),
        "{message}"
    );
    for hostile in [
        // On the allowed origin to the eye, on another to the browser.
        "https://editor.example@evil.example/",
        "https://editor.example.evil.example/",
        "http://editor.example/",
        "https://editor.example/#fragment",
        "javascript:alert(1)",
        "/signed-in",
    ] {
        refused(&server, &format!("code=abc&state={}", state("x", hostile))).await;
    }

    assert!(refused(&server, "code=abc").await.contains("no state"));
    refused(&server, "").await;
    refused(&server, "code=abc&state=").await;
    refused(&server, "code=abc&state=nodot").await;
    refused(&server, "code=abc&state=x.").await;
    // Not base64url: another alphabet's characters, padding.
    refused(&server, "code=abc&state=x.aHR0c%2B%2F").await;
    refused(&server, "code=abc&state=x.aGk%3D").await;
    // Not UTF-8.
    refused(&server, "code=abc&state=x.__8").await;
    let two = state("x", "https://editor.example/");
    refused(&server, &format!("state={two}&state={two}")).await;

    // The return address is bounded, within the bound on the request target.
    let long = format!("https://editor.example/{}", "a".repeat(4096));
    let message = refused(&server, &format!("state={}", state("x", &long))).await;
    assert!(message.contains("4096"), "{message}");
    let huge = format!("https://editor.example/{}", "a".repeat(9000));
    let response = arrive(&server, &format!("state={}", state("x", &huge))).await;
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);

    // None of it hurt the service.
    let health = browser()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_default_returns_are_the_extensions_own() {
    let server = TestServer::start(&[]).await;
    for scheme in ["vscode", "vscode-insiders", "vscodium", "code-oss"] {
        let back = format!("{scheme}://copresence.copresence/signed-in");
        let query = format!("code=abc&state={}", state("x", &back));
        assert_sent_to(&server, &query, &format!("{back}?{query}")).await;
    }
    refused(
        &server,
        &format!(
            "code=abc&state={}",
            state("x", "vscode://someone.else/signed-in")
        ),
    )
    .await;
}
