//! `login` and `logout`: signing in with the organisation's account, and forgetting it.
//!
//! `login` asks the service how to sign in (`GET /v1/auth`), runs the device authorization
//! grant (a code to enter in a browser, here or on a phone) or, with `--browser`, the browser
//! flow with a loopback redirect, and keeps the result ([`crate::kept`]); later commands renew
//! it as it expires.

use std::process::ExitCode;

use anyhow::{Context, Result};
use copresence_client::signin::{auth_info, KeptSignIn, SignIn};
use copresence_client::Client;

use crate::config::Server;
use crate::kept;
use crate::output::Out;
use crate::render;

pub async fn login(server: &Server, out: &mut Out, browser: bool) -> Result<ExitCode> {
    let info = auth_info(&server.server)
        .await
        .with_context(|| format!("cannot ask {} how to sign in", server.server))?;
    let signin = SignIn::new(&info)?;
    out.line(format!(
        "Signing in to {} with {}",
        server.server,
        signin.provider().issuer
    ))?;
    let tokens = if browser {
        let login = signin.start_browser().await?;
        out.line(format!(
            "Opening your browser to sign in. If it does not open, go to:\n  {}",
            login.url()
        ))?;
        // Only ever an https page (or one on this machine): `start_browser` checked it.
        if let Err(error) = open::that_detached(login.url().as_str()) {
            tracing::info!(%error, "cannot open a browser");
        }
        login.finish().await?
    } else {
        let login = signin.start_device().await?;
        match login.verification_uri_complete() {
            Some(complete) => out.line(format!(
                "To sign in, open {complete}\n  (or go to {} and enter the code {})",
                login.verification_uri(),
                login.user_code()
            ))?,
            None => out.line(format!(
                "To sign in, go to {} and enter the code {}",
                login.verification_uri(),
                login.user_code()
            ))?,
        }
        login.finish().await?
    };
    let kept = KeptSignIn {
        server: server.server.clone(),
        provider: signin.provider().clone(),
        tokens,
    };
    let me = Client::new(&server.server, &kept.tokens.bearer)?
        .me()
        .await
        .map_err(crate::commands::explain)?;
    let place = kept::store(&server.dir, &kept)?;
    out.line(format!(
        "Signed in to {} as {} (kept in {place})",
        server.server,
        render::person(&me.user)
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(server: &Server, out: &mut Out) -> Result<ExitCode> {
    let Some(kept) = kept::load(&server.dir, &server.server) else {
        out.line(format!("Not signed in to {}", server.server))?;
        return Ok(ExitCode::SUCCESS);
    };
    kept::forget(&server.dir, &server.server);
    let revoked = match (
        &kept.tokens.refresh_token,
        SignIn::with_provider(kept.provider),
    ) {
        (Some(refresh), Ok(signin)) => signin.revoke(refresh).await.unwrap_or(false),
        _ => false,
    };
    out.line(if revoked {
        format!("Signed out of {} (and the sign-in revoked)", server.server)
    } else {
        format!("Signed out of {}", server.server)
    })?;
    Ok(ExitCode::SUCCESS)
}
