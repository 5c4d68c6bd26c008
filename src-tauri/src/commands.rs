//! The commands the popup may call. Each only names what the user did and waits for the
//! model's answer ([`Inbox::ask`]); errors carry a stable [`ErrorCode`](crate::error::ErrorCode)
//! the popup matches, and a message for people.

use tauri::State;

use crate::error::TrayError;
use crate::inbox::Inbox;
use crate::model::{Command, ContactKind, PauseUntil, Preferences};
use crate::view::{PhotoData, PhotoSets, View, Views};

#[tauri::command]
pub fn view(views: State<'_, Views>) -> View {
    views.borrow().clone()
}

/// The photos fetched so far, by the keys views name them with.
#[tauri::command]
pub fn photos(photos: State<'_, PhotoSets>) -> PhotoData {
    photos.borrow().clone()
}

#[tauri::command]
pub async fn open_contact(
    inbox: State<'_, Inbox>,
    server: String,
    site: String,
    user_id: i64,
    kind: ContactKind,
) -> Result<(), TrayError> {
    inbox
        .ask(Command::OpenContact {
            server,
            site,
            user: user_id,
            kind,
        })
        .await
}

/// Open where someone is: the popup names their session; the address comes from the roster.
#[tauri::command]
pub async fn open_session(
    inbox: State<'_, Inbox>,
    server: String,
    site: String,
    user_id: i64,
    session: String,
) -> Result<(), TrayError> {
    inbox
        .ask(Command::OpenSession {
            server,
            site,
            user: user_id,
            session,
        })
        .await
}

#[tauri::command]
pub async fn set_follow(
    inbox: State<'_, Inbox>,
    server: String,
    site: String,
    follow: bool,
) -> Result<(), TrayError> {
    inbox
        .ask(Command::SetFollow {
            server,
            site,
            follow,
        })
        .await
}

#[tauri::command]
pub async fn update_preferences(
    inbox: State<'_, Inbox>,
    preferences: Preferences,
) -> Result<(), TrayError> {
    inbox.ask(Command::UpdatePreferences(preferences)).await
}

#[tauri::command]
pub async fn set_autostart(inbox: State<'_, Inbox>, enabled: bool) -> Result<(), TrayError> {
    inbox.ask(Command::SetAutostart(enabled)).await
}

#[tauri::command]
pub async fn set_toolbar_avatars(inbox: State<'_, Inbox>, count: usize) -> Result<(), TrayError> {
    inbox.ask(Command::SetToolbarAvatars(count)).await
}

#[tauri::command]
pub async fn set_shortcut(
    inbox: State<'_, Inbox>,
    shortcut: Option<String>,
) -> Result<(), TrayError> {
    inbox.ask(Command::SetShortcut(shortcut)).await
}

#[tauri::command]
pub async fn sign_in(
    inbox: State<'_, Inbox>,
    server: String,
    token: String,
) -> Result<(), TrayError> {
    inbox.ask(Command::SignIn { server, token }).await
}

/// Sign in with the organisation's account: the provider's page opens in the browser.
#[tauri::command]
pub async fn sign_in_with_account(
    inbox: State<'_, Inbox>,
    server: String,
) -> Result<(), TrayError> {
    inbox.ask(Command::SignInWithAccount { server }).await
}

#[tauri::command]
pub async fn sign_out(inbox: State<'_, Inbox>, server: String) -> Result<(), TrayError> {
    inbox.ask(Command::SignOut { server }).await
}

#[tauri::command]
pub async fn pause(inbox: State<'_, Inbox>, until: PauseUntil) -> Result<(), TrayError> {
    inbox.ask(Command::Pause(until)).await
}

#[tauri::command]
pub async fn resume(inbox: State<'_, Inbox>) -> Result<(), TrayError> {
    inbox.ask(Command::Resume).await
}

#[tauri::command]
pub fn hide_popup(inbox: State<'_, Inbox>) {
    inbox.tell(Command::HidePopup);
}
