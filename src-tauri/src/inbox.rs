//! The way in to the model: every source of change — the subscription task, the popup's
//! commands, the tray menu, a notification's click — holds an [`Inbox`] and only sends
//! [`Input`]s or [`Command`]s through it. The task that owns the model reads them in order
//! ([`crate::runtime`]), so no two changes interleave and none needs a lock.

use tokio::sync::{mpsc, oneshot};

use crate::error::TrayError;
use crate::model::{Command, Input};

/// What arrives at the owning task.
pub enum Message {
    Input(Input),
    /// A command whose answer someone awaits (the popup) or not (`None`: the tray menu).
    Command(Command, Option<oneshot::Sender<Result<(), TrayError>>>),
}

#[derive(Clone)]
pub struct Inbox(mpsc::UnboundedSender<Message>);

impl Inbox {
    pub fn new() -> (Inbox, mpsc::UnboundedReceiver<Message>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Inbox(sender), receiver)
    }

    pub fn send(&self, input: Input) {
        // Refused only once the app is quitting, when nothing is left to change.
        let _ = self.0.send(Message::Input(input));
    }

    /// Do `command` without waiting for its answer; a failure is logged.
    pub fn tell(&self, command: Command) {
        let _ = self.0.send(Message::Command(command, None));
    }

    /// Do `command` and wait for its answer.
    pub async fn ask(&self, command: Command) -> Result<(), TrayError> {
        let (answer, answered) = oneshot::channel();
        self.0
            .send(Message::Command(command, Some(answer)))
            .map_err(|_| quitting())?;
        answered.await.map_err(|_| quitting())?
    }
}

fn quitting() -> TrayError {
    TrayError::new(crate::error::ErrorCode::Quitting, "the app is quitting")
}
