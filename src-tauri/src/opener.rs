//! What the app hands to the operating system's opener, and the one place it does.
//!
//! A [`Link`] is built only by the core's rules, from what the app knows of a person on a site
//! of the current roster: an e-mail, a Teams chat, or where "Open" goes
//! ([`copresence_core::editors::open_address`]). The popup names a person, a session, a kind of
//! contact — never an address — so nothing the webview says is ever opened as it says it.

use copresence_core::editors::open_address;
use copresence_core::{links, SessionInfo, SiteInfo, UserCard};
use tauri::AppHandle;
use tauri_plugin_opener::OpenerExt;

use crate::error::{ErrorCode, TrayError};

/// An address one of the core's rules produced, ready for the opener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link(String);

impl Link {
    /// `mailto:` the person.
    pub fn email(user: &UserCard) -> Result<Link, TrayError> {
        Ok(Link(links::mailto(&user.email, None, None)?))
    }

    /// A Teams 1:1 chat with the person.
    pub fn teams(user: &UserCard) -> Result<Link, TrayError> {
        Ok(Link(links::teams_chat(user.teams.as_deref(), None)?))
    }

    /// Where "Open" on `session`'s card goes on `site`: the studio's address when the site's
    /// editors map it to the session's page, else the page on the site; none when neither is.
    pub fn open(site: &SiteInfo, session: &SessionInfo) -> Option<Link> {
        open_address(&site.url, &site.editors, session).map(Link)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hand `link` to the operating system (the browser, the mail app, Teams).
pub fn open(app: &AppHandle, link: &Link) -> Result<(), TrayError> {
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| {
            TrayError::new(
                ErrorCode::OpenFailed,
                format!("could not open the link: {e}"),
            )
        })
}
