//! The one-shot commands: whoami, sites, leave, save.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use copresence_client::{Client, Error};
use copresence_core::{validate_page_path, SaveRequest};

use crate::output::Out;
use crate::render;

/// Exit code of a save refused because the site moved on.
pub const EXIT_CONFLICT: u8 = 3;

/// A client error as the person at the terminal needs to read it.
pub fn explain(err: Error) -> anyhow::Error {
    match &err {
        Error::Api { message, .. } if err.is_unauthorized() => anyhow!(
            "the server refused the token: {message}; check --token, COPRESENCE_TOKEN or the config file"
        ),
        _ => anyhow::Error::from(err),
    }
}

pub async fn whoami(
    client: &Client,
    out: &mut Out,
    json: bool,
    signed_in: &str,
) -> Result<ExitCode> {
    let me = client.me().await.map_err(explain)?;
    if json {
        out.json(&me)?;
    } else {
        let user = &me.user;
        let mut line = format!("{} (id {})", render::person(user), user.id);
        if let Some(teams) = &user.teams {
            line.push_str(&format!(", Teams {teams}"));
        }
        out.line(line)?;
        out.line(format!("signed in {signed_in}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn sites(client: &Client, out: &mut Out, json: bool) -> Result<ExitCode> {
    let sites = client.sites().await.map_err(explain)?;
    if json {
        out.json(&sites)?;
    } else if sites.is_empty() {
        eprintln!("you are not a member of any site");
    } else {
        for line in render::site_lines(&sites) {
            out.line(line)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn leave(client: &Client, out: &mut Out, site: &str, session: &str) -> Result<ExitCode> {
    client
        .delete_session(site, session)
        .await
        .map_err(explain)?;
    out.line(format!("left {site} (session {session})"))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn save(
    client: &Client,
    out: &mut Out,
    site: &str,
    page: &str,
    base_version: Option<i64>,
    force: bool,
) -> Result<ExitCode> {
    validate_page_path(page).map_err(|e| anyhow!("{page:?}: {e}"))?;
    let base_version = match base_version {
        Some(version) => version,
        None => client.site(site).await.map_err(explain)?.version,
    };
    let request = SaveRequest {
        page: page.to_owned(),
        base_version,
        force,
    };
    match client.save(site, &request).await {
        Ok(record) => {
            let mut line = format!("saved {site} {page}: version {}", record.version);
            if record.forced {
                line.push_str(" (overwrote a newer version)");
            }
            out.line(line)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => match err.stale_version() {
            Some((current, last_save)) => {
                eprintln!("{}", conflict_message(site, current, last_save.as_ref()));
                Ok(ExitCode::from(EXIT_CONFLICT))
            }
            None => Err(explain(err)),
        },
    }
}

fn conflict_message(
    site: &str,
    current: i64,
    last_save: Option<&copresence_core::SaveRecord>,
) -> String {
    match last_save {
        Some(save) => format!(
            "conflict: {site} is at version {current}, last saved by {} at {} ({}); save with --force to overwrite",
            render::name(&save.user),
            render::date_time(save.at),
            save.page
        ),
        None => format!("conflict: {site} is at version {current}; save with --force to overwrite"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copresence_core::fixtures::{card, save};

    #[test]
    fn conflicts_name_the_last_saver() {
        let save = save(7, "/pricing", card(2, "Bo Chen"));
        let text = conflict_message("contoso", 7, Some(&save));
        assert!(text.starts_with("conflict: contoso is at version 7, last saved by Bo Chen at "));
        assert!(text.ends_with(" (/pricing); save with --force to overwrite"));
        assert!(text.contains(&render::date_time(save.at)));
        assert_eq!(
            conflict_message("contoso", 3, None),
            "conflict: contoso is at version 3; save with --force to overwrite"
        );
    }

    #[test]
    fn unauthorized_errors_point_at_the_token_settings() {
        let detail = copresence_core::ErrorDetail {
            code: copresence_core::ErrorCode::Unauthorized,
            message: "unknown token".into(),
            current_version: None,
            last_save: None,
        };
        let err = explain(Error::Api {
            status: 401,
            code: detail.code.clone(),
            message: detail.message.clone(),
            detail: Box::new(detail),
            retry_after: None,
        });
        let text = err.to_string();
        assert!(
            text.starts_with("the server refused the token: unknown token; check"),
            "{text}"
        );
        assert!(text.contains("COPRESENCE_TOKEN"), "{text}");
        let other = explain(Error::InvalidToken("the token is empty"));
        assert_eq!(other.to_string(), "invalid token: the token is empty");
    }
}
