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
use crate::view::View;
use crate::{do_not_disturb, tray};

/// The latest view, for whoever renders it (and the popup's `view` command).
pub type Views = watch::Receiver<View>;

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
) -> Views {
    let (publish, views) = watch::channel(model.view(now().moment.now));
    tauri::async_runtime::spawn(do_not_disturb::watch(inbox.clone()));
    let effects = Effects::new(app.clone(), inbox, config_dir);
    tauri::async_runtime::spawn(own(model, effects, messages, publish));
    tauri::async_runtime::spawn(render(app.clone(), views.clone()));
    views
}

async fn own(
    mut model: Model,
    mut effects: Effects,
    mut messages: mpsc::UnboundedReceiver<Message>,
    publish: watch::Sender<View>,
) {
    let mut waiting: HashMap<ReplyId, oneshot::Sender<Result<(), TrayError>>> = HashMap::new();
    let mut next_reply = 0;
    let mut inputs = VecDeque::from([Input::Start]);
    loop {
        while let Some(input) = inputs.pop_front() {
            let at = now();
            let mut failed: Option<TrayError> = None;
            for effect in model.apply(input, at) {
                match effect {
                    Effect::Reply(id, verdict) => {
                        let verdict = match (verdict, failed.take()) {
                            (Ok(()), Some(failure)) => Err(failure),
                            (verdict, _) => verdict,
                        };
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
            publish_view(&publish, model.view(at.moment.now));
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

/// Redraw the tray and re-render the popup with every new view.
async fn render(app: AppHandle, mut views: Views) {
    loop {
        let view = views.borrow_and_update().clone();
        tray::update(&app, &view);
        if let Err(error) = app.emit("view", &view) {
            tracing::warn!(%error, "cannot update the popup");
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}
