//! The OpenID provider harness (`copresence_tests::oidc`) is a real provider: its discovery,
//! JWT access tokens, refresh, key rotation and device flow work as a client of any standard
//! provider would see them, and a wrong sign-in fails.

use std::time::Duration;

use copresence_tests::oidc::{jwt_claims, jwt_header, Account, OidcOptions, OidcProvider};
use serde_json::{json, Value};

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn accounts() -> Vec<Account> {
    vec![
        Account::new("ann@contoso.test", "Ann Lee", &["staff", "sales"])
            .with_upn("ann@contoso.onmicrosoft.com")
            .with_picture("https://photos.contoso.test/ann.png"),
        Account::new("bo@contoso.test", "Bo Chen", &["staff"]),
    ]
}

fn options() -> OidcOptions {
    OidcOptions {
        access_token_ttl: Duration::from_secs(8),
        ..OidcOptions::default()
    }
}

/// The `kid`s the provider publishes.
async fn published_kids(provider: &OidcProvider) -> Vec<String> {
    let jwks = provider.jwks().await.expect("the JWKS");
    jwks["keys"]
        .as_array()
        .expect("a JWKS has keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("each key has a kid").to_owned())
        .collect()
}

/// An access token for the audience, signed with a published key, about this account.
async fn assert_access_token(provider: &OidcProvider, access_token: &str, account: &Account) {
    let header = jwt_header(access_token);
    assert_eq!(header["typ"], "at+jwt");
    let kid = header["kid"].as_str().expect("the token names its key");
    assert!(
        published_kids(provider).await.iter().any(|k| k == kid),
        "{kid} is not in the JWKS"
    );
    let claims = jwt_claims(access_token);
    assert_eq!(claims["iss"], provider.issuer());
    assert_eq!(claims["aud"], provider.audience());
    assert_eq!(claims["client_id"], provider.client_id());
    assert_eq!(claims["sub"], account.sub.as_str());
    assert_eq!(claims["email"], account.email.as_str());
    assert_eq!(claims["name"], account.name.as_str());
    assert_eq!(claims["groups"], json!(account.groups));
    assert_eq!(claims["upn"], json!(account.upn));
    assert_eq!(claims["picture"], json!(account.picture));
}

#[tokio::test]
async fn a_real_provider_signs_in_refreshes_rotates_keys_and_approves_devices() {
    let accounts = accounts();
    let (ann, bo) = (&accounts[0], &accounts[1]);
    let mut provider = OidcProvider::start(accounts.clone(), options()).await;
    let issuer = provider.issuer().to_owned();
    assert!(
        issuer.starts_with("http://127.0.0.1:") && !issuer.ends_with('/'),
        "{issuer}"
    );

    let discovery = provider.discovery().await.expect("discovery");
    assert_eq!(discovery["issuer"], issuer.as_str());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
        "jwks_uri",
    ] {
        let url = discovery[endpoint].as_str().unwrap_or_default();
        assert!(url.starts_with(&issuer), "{endpoint}: {url:?}");
    }
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );

    // Sign-in: a JWT access token for the audience, and an ID token for the client.
    let tokens = provider
        .login("ann@contoso.test")
        .await
        .expect("Ann signs in");
    assert_access_token(&provider, &tokens.access_token, ann).await;
    assert_eq!(tokens.expires_in, 8);
    let id_token = jwt_claims(&tokens.id_token);
    assert_eq!(id_token["aud"], provider.client_id());
    assert_eq!(id_token["email"], "ann@contoso.test");

    // Someone the provider does not know is refused.
    let refused = provider
        .login("mallory@contoso.test")
        .await
        .expect_err("a stranger is refused");
    assert!(
        format!("{refused:#}").contains("access_denied: no account has the e-mail"),
        "{refused:#}"
    );

    // Groups change between sign-ins: the next sign-in and the next refresh carry them.
    provider.set_groups("ann@contoso.test", &["staff", "support"]);
    let ann_now = Account {
        groups: vec!["staff".to_owned(), "support".to_owned()],
        ..ann.clone()
    };
    let again = provider.login("ann@contoso.test").await.expect("Ann again");
    assert_access_token(&provider, &again.access_token, &ann_now).await;
    let refreshed = provider
        .refresh(&tokens.refresh_token)
        .await
        .expect("the first refresh token still works");
    assert_access_token(&provider, &refreshed.access_token, &ann_now).await;
    assert_ne!(refreshed.refresh_token, tokens.refresh_token, "rotated");

    // Key rotation: the same issuer publishes only the new key and signs with it; refresh
    // tokens outlive the restart.
    let old_kid = provider.kid().to_owned();
    assert_eq!(published_kids(&provider).await, vec![old_kid.clone()]);
    let new_kid = provider.rotate_key().await;
    assert_ne!(new_kid, old_kid);
    assert_eq!(provider.issuer(), issuer, "the same port after a restart");
    assert_eq!(published_kids(&provider).await, vec![new_kid.clone()]);
    let after_rotation = provider
        .refresh(&refreshed.refresh_token)
        .await
        .expect("a refresh token outlives a key rotation");
    assert_eq!(jwt_header(&after_rotation.access_token)["kid"], new_kid);
    assert_access_token(&provider, &after_rotation.access_token, &ann_now).await;

    // Reuse of a rotated refresh token, as a thief's would be, revokes the whole grant.
    assert!(
        provider.refresh(&tokens.refresh_token).await.is_err(),
        "a rotated refresh token is not accepted twice"
    );
    assert!(
        provider
            .refresh(&after_rotation.refresh_token)
            .await
            .is_err(),
        "the grant was revoked"
    );

    // Device flow, as a CLI runs it: ask for a code, have Bo approve it, poll for tokens.
    let http = reqwest::Client::new();
    let device: Value = http
        .post(discovery["device_authorization_endpoint"].as_str().unwrap())
        .form(&[
            ("client_id", provider.client_id()),
            ("scope", "openid email profile groups offline_access"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_code = device["device_code"].as_str().expect("a device code");
    let user_code = device["user_code"].as_str().expect("a user code");
    let poll = async || -> Value {
        http.post(discovery["token_endpoint"].as_str().unwrap())
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", device_code),
                ("client_id", provider.client_id()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    assert_eq!(poll().await["error"], "authorization_pending");
    let wrong_code = provider
        .approve_device("WRNG-CODE", "bo@contoso.test")
        .await
        .expect_err("a wrong user code is not approved");
    assert!(
        format!("{wrong_code:#}").contains("code you entered is incorrect"),
        "{wrong_code:#}"
    );
    provider
        .approve_device(user_code, "bo@contoso.test")
        .await
        .expect("Bo approves the device");
    let device_tokens = poll().await;
    let access_token = device_tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("tokens after approval: {device_tokens}"));
    assert_access_token(&provider, access_token, bo).await;

    // Bo leaves the directory: his refresh token no longer brings tokens.
    provider.set_accounts(vec![ann_now]);
    let bo_refresh = device_tokens["refresh_token"]
        .as_str()
        .expect("a refresh token");
    assert!(
        provider.refresh(bo_refresh).await.is_err(),
        "no tokens for a removed account"
    );
}
