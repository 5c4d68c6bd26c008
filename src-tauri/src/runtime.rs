//! The one task that owns the [`Model`]: it reads the [`Inbox`] in order, applies each input,
//! performs the effects, answers commands, and publishes the view on a `watch` that the tray
//! and the popup render from. Between inputs it sleeps until the model's next deadline (the end
//! of a pause), which then arrives as an [`Input::Tick`]. It also starts the watch on the
//! desktop's "do not disturb", another source of inputs.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{Offset, Timelike};
use copresence_core::notify::Moment;
use tauri::{AppHandle, Emitter};
use tokio::sync::{mpsc, oneshot, watch};

use crate::effects::Effects;
use crate::error::TrayError;
use crate::inbox::{Inbox, Message};
use crate::model::{Effect, Input, Model, Now, ReplyId};
use crate::view::{PhotoData, PhotoSets, View, Views};
use crate::{do_not_disturb, tray};

fn now() -> Now {
    let local = chrono::Local::now();
    Now {
        moment: Moment {
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            local_minute: (local.hour() * 60 + local.minute()) as u16,
        },
        utc_offset_minutes: local.offset().fix().local_minus_utc() / 60,
    }
}

/// Start the owning task and the renderer; returns the views they publish.
pub fn start(
    app: &AppHandle,
    model: Model,
    inbox: Inbox,
    messages: mpsc::UnboundedReceiver<Message>,
    config_dir: PathBuf,
) -> (Views, PhotoSets) {
    let (publish_view, views) = watch::channel(model.view(now().moment.now));
    let (publish_photos, photos) = watch::channel(model.photos().clone());
    tauri::async_runtime::spawn(do_not_disturb::watch(inbox.clone()));
    let effects = Effects::new(app.clone(), inbox, config_dir);
    let published = Published {
        views: publish_view,
        photos: publish_photos,
    };
    tauri::async_runtime::spawn(own(model, effects, messages, published));
    tauri::async_runtime::spawn(render(app.clone(), views.clone(), photos.clone()));
    (views, photos)
}

/// Where the owning task publishes what the tray and the popup render.
struct Published {
    views: watch::Sender<View>,
    photos: watch::Sender<PhotoData>,
}

/// The answer a command gets: the model's verdict, unless an effect it caused failed.
fn settle(verdict: Result<(), TrayError>, failed: Option<TrayError>) -> Result<(), TrayError> {
    match (verdict, failed) {
        (Ok(()), Some(failure)) => Err(failure),
        (verdict, _) => verdict,
    }
}

async fn own(
    mut model: Model,
    mut effects: Effects,
    mut messages: mpsc::UnboundedReceiver<Message>,
    published: Published,
) {
    let mut waiting: HashMap<ReplyId, oneshot::Sender<Result<(), TrayError>>> = HashMap::new();
    let mut next_reply = 0;
    let mut inputs = VecDeque::from([Input::Start]);
    loop {
        // Answers wait until what they did shows: a popup told "done" reads the new view.
        let mut answers = Vec::new();
        while let Some(input) = inputs.pop_front() {
            let mut failed: Option<TrayError> = None;
            for effect in model.apply(input, now()) {
                match effect {
                    Effect::Reply(id, verdict) => {
                        answers.push((id, settle(verdict, failed.take())));
                    }
                    effect => match effects.perform(effect).await {
                        Ok(Some(next)) => inputs.push_back(next),
                        Ok(None) => {}
                        Err(error) => {
                            tracing::warn!(code = ?error.code, message = %error.message, "cannot do what was asked");
                            failed = Some(error);
                        }
                    },
                }
            }
        }
        publish_view(&published.views, model.view(now().moment.now));
        published.photos.send_if_modified(|shown| {
            let new = shown.len() != model.photos().len();
            if new {
                *shown = model.photos().clone();
            }
            new
        });
        for (id, verdict) in answers {
            match (waiting.remove(&id), verdict) {
                (Some(answer), verdict) => {
                    let _ = answer.send(verdict);
                }
                (None, Err(error)) => {
                    tracing::warn!(code = ?error.code, message = %error.message, "command failed")
                }
                (None, Ok(())) => {}
            }
        }
        let deadline = model.next_deadline().map(|at| {
            let wait = at.saturating_sub(now().moment.now).max(0) as u64;
            tokio::time::Instant::now() + Duration::from_millis(wait)
        });
        let asleep = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = messages.recv() => match message {
                None => return,
                Some(Message::Input(input)) => inputs.push_back(input),
                Some(Message::Command(command, answer)) => {
                    next_reply += 1;
                    let id = ReplyId(next_reply);
                    if let Some(answer) = answer {
                        waiting.insert(id, answer);
                    }
                    inputs.push_back(Input::Command(id, command));
                }
            },
            () = asleep => inputs.push_back(Input::Tick),
        }
    }
}

/// Publish `view` if it differs from the last one, numbered after it.
fn publish_view(publish: &watch::Sender<View>, mut view: View) {
    publish.send_if_modified(|current| {
        view.revision = current.revision;
        if *current == view {
            return false;
        }
        view.revision += 1;
        *current = view;
        true
    });
}

/// Redraw the tray and re-render the popup with every new view; hand the popup each new
/// photo.
async fn render(app: AppHandle, mut views: Views, mut photos: PhotoSets) {
    let show_view = |view: &View| {
        tray::update(&app, view);
        if let Err(error) = app.emit("view", view) {
            tracing::warn!(%error, "cannot update the popup");
        }
    };
    show_view(&views.borrow_and_update().clone());
    loop {
        tokio::select! {
            changed = views.changed() => {
                if changed.is_err() {
                    return;
                }
                show_view(&views.borrow_and_update().clone());
            }
            changed = photos.changed() => {
                if changed.is_err() {
                    return;
                }
                let data = photos.borrow_and_update().clone();
                if let Err(error) = app.emit("photos", &data) {
                    tracing::warn!(%error, "cannot hand the popup its photos");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_failed_effect_turns_a_commands_success_into_that_failure() {
        let failure = TrayError::new(ErrorCode::SettingsNotSaved, "disk full");
        assert_eq!(settle(Ok(()), None), Ok(()));
        assert_eq!(settle(Ok(()), Some(failure.clone())), Err(failure.clone()));
        let refused = TrayError::new(ErrorCode::InvalidTime, "no");
        assert_eq!(settle(Err(refused.clone()), Some(failure)), Err(refused));
    }
}
