//! The commands the popup may call. Each is thin: it names what the user did and hands it to
//! the [`Shell`]. Errors carry a stable `code` the popup matches, and a message for people.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::State;

use crate::popup;
use crate::shell::{ContactKind, Shell};
use crate::view::View;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl CommandError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
        }
    }
}

impl From<copresence_client::Error> for CommandError {
    fn from(error: copresence_client::Error) -> Self {
        let code = if error.is_unauthorized() {
            "unauthorized"
        } else {
            match error {
                copresence_client::Error::Transport(_) => "network",
                copresence_client::Error::InvalidUrl { .. } => "invalid_server_url",
                copresence_client::Error::InvalidToken(_) => "invalid_token",
                _ => "server_error",
            }
        };
        CommandError::new(code, error.to_string())
    }
}

impl From<copresence_core::links::LinkError> for CommandError {
    fn from(error: copresence_core::links::LinkError) -> Self {
        let code = match error {
            copresence_core::links::LinkError::NoTeamsAccount => "no_teams_account",
            copresence_core::links::LinkError::InvalidAddress => "invalid_address",
        };
        CommandError::new(code, error.to_string())
    }
}

type Shared<'a> = State<'a, Arc<Shell>>;

#[tauri::command]
pub fn view(shell: Shared<'_>) -> View {
    shell.view()
}

#[tauri::command]
pub fn open_contact(
    shell: Shared<'_>,
    site: String,
    user_id: i64,
    kind: ContactKind,
) -> Result<(), CommandError> {
    shell.open_contact(&site, user_id, kind)
}

#[tauri::command]
pub fn set_follow(shell: Shared<'_>, site: String, follow: bool) -> Result<(), CommandError> {
    shell.set_follow(&site, follow)
}

/// Notification preferences as the settings form sends them.
#[derive(Debug, Clone, Deserialize)]
pub struct Preferences {
    pub notify_joins: bool,
    pub notify_saves: bool,
    pub quiet_hours_enabled: bool,
    pub quiet_start: String,
    pub quiet_end: String,
}

#[tauri::command]
pub fn update_preferences(shell: Shared<'_>, preferences: Preferences) -> Result<(), CommandError> {
    shell.update_preferences(preferences)
}

#[tauri::command]
pub fn set_autostart(shell: Shared<'_>, enabled: bool) -> Result<(), CommandError> {
    shell.set_autostart(enabled)
}

#[tauri::command]
pub async fn sign_in(shell: Shared<'_>, server: String, token: String) -> Result<(), CommandError> {
    let shell = Arc::clone(&shell);
    shell.sign_in(server, token).await
}

#[tauri::command]
pub fn sign_out(shell: Shared<'_>) {
    shell.sign_out();
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseUntil {
    Hour,
    Tomorrow,
}

#[tauri::command]
pub fn pause(shell: Shared<'_>, until: PauseUntil) -> Result<(), CommandError> {
    shell.pause(matches!(until, PauseUntil::Tomorrow))
}

#[tauri::command]
pub fn resume(shell: Shared<'_>) -> Result<(), CommandError> {
    shell.resume()
}

#[tauri::command]
pub fn hide_popup(app: tauri::AppHandle) {
    popup::hide(&app);
}
