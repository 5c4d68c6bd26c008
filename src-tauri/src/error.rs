//! The one error the popup and the tray menu get back: a stable [`ErrorCode`] the popup matches,
//! and a message for people. Every failure the app can report — a refused command, a link that
//! cannot be built, a token the server would not take, a settings file that cannot be written —
//! becomes one here, so the popup has a single shape to read.

use serde::Serialize;

/// What went wrong, for the popup to match on (sent as `snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The server refused the token.
    Unauthorized,
    /// The server could not be reached.
    Network,
    /// Signing in with the organisation's account did not complete.
    SignInFailed,
    InvalidServerUrl,
    InvalidToken,
    /// The server answered with some other error.
    ServerError,
    /// Quiet hours need times as `HH:MM`.
    InvalidTime,
    SettingsNotSaved,
    TokenNotSaved,
    AutostartFailed,
    /// Not a shortcut, or one another app holds.
    ShortcutUnavailable,
    /// A toolbar size that cannot be chosen.
    InvalidToolbarSize,
    /// The person has no Teams account to chat with.
    NoTeamsAccount,
    /// The person's e-mail address cannot go into a link.
    InvalidAddress,
    /// The person left the site before the click.
    UnknownUser,
    /// The site has no address (https, or http on this machine) to open a page at.
    NoAddress,
    OpenFailed,
    /// The app is quitting: nothing is done any more.
    Quitting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct TrayError {
    pub code: ErrorCode,
    pub message: String,
}

impl TrayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TrayError {
            code,
            message: message.into(),
        }
    }
}

impl From<copresence_client::Error> for TrayError {
    fn from(error: copresence_client::Error) -> Self {
        let code = if error.is_unauthorized() {
            ErrorCode::Unauthorized
        } else {
            match error {
                copresence_client::Error::Transport(_) => ErrorCode::Network,
                copresence_client::Error::InvalidUrl { .. } => ErrorCode::InvalidServerUrl,
                copresence_client::Error::InvalidToken(_) => ErrorCode::InvalidToken,
                copresence_client::Error::SignIn(_) => ErrorCode::SignInFailed,
                _ => ErrorCode::ServerError,
            }
        };
        TrayError::new(code, error.to_string())
    }
}

impl From<copresence_core::links::LinkError> for TrayError {
    fn from(error: copresence_core::links::LinkError) -> Self {
        let code = match error {
            copresence_core::links::LinkError::NoTeamsAccount => ErrorCode::NoTeamsAccount,
            copresence_core::links::LinkError::InvalidAddress => ErrorCode::InvalidAddress,
        };
        TrayError::new(code, error.to_string())
    }
}
