//! The subscription task: sign in with the kept credential, then report every update of the
//! event stream to the model until the task is aborted (new server or credential, sign-out,
//! quit). Each report carries the subscription's number, so one that was already on its way
//! when the task was replaced changes nothing.
//!
//! A sign-in with the organisation's account is renewed as it expires, and what renewing gives
//! is kept again (keychain or private file), so the next start has it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use copresence_client::signin::{KeptSignIn, RenewedToken, SignInKeeper};
use copresence_client::{Backoff, Client, SubscribeOptions};

use crate::inbox::Inbox;
use crate::model::{FeedEvent, Input, EXPIRED_SIGN_IN, REFUSED_TOKEN};
use crate::secret::{self, Credential};

/// The tray's kept sign-in for one server (keychain or private file). The app runs once per
/// user (a second launch hands over to the first), so no other process renews it: the lock
/// is only this process's.
struct Keeper {
    dir: PathBuf,
    server: String,
}

impl SignInKeeper for Keeper {
    fn lock(&self) -> std::io::Result<Box<dyn Send>> {
        Ok(Box::new(()))
    }

    fn load(&self) -> Option<KeptSignIn> {
        match secret::load(&self.dir, &self.server).credential {
            Some(Credential::SignIn(sign_in)) => Some(*sign_in),
            _ => None,
        }
    }

    fn keep(&self, kept: &KeptSignIn) {
        let credential = Credential::SignIn(Box::new(kept.clone()));
        if let Err(error) = secret::store(&self.dir, &self.server, &credential) {
            tracing::warn!(%error, "cannot keep the renewed sign-in");
        }
    }
}

/// A client of `server` with `credential`.
fn client(dir: PathBuf, server: &str, credential: Credential) -> Result<Client, String> {
    let client = match credential {
        Credential::Token(token) => Client::new(server, &token),
        Credential::SignIn(sign_in) => {
            let keeper = Keeper {
                dir,
                server: server.to_owned(),
            };
            let renewed = RenewedToken::new(*sign_in, Arc::new(keeper));
            renewed.and_then(|source| Client::with_token_source(server, Arc::new(source)))
        }
    };
    client.map_err(|error| error.to_string())
}

pub async fn run(
    inbox: Inbox,
    subscription: u64,
    dir: PathBuf,
    server: String,
    credential: Credential,
) {
    let report = |event: FeedEvent| {
        inbox.send(Input::Feed {
            subscription,
            event,
        })
    };
    let refused = match credential {
        Credential::Token(_) => REFUSED_TOKEN,
        Credential::SignIn(_) => EXPIRED_SIGN_IN,
    };
    let client = match client(dir, &server, credential) {
        Ok(client) => client,
        Err(error) => return report(FeedEvent::SignedOut(error)),
    };
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    let me = loop {
        match client.me().await {
            Ok(me) => break me.user,
            Err(error) if error.is_unauthorized() => {
                return report(FeedEvent::SignedOut(refused.into()))
            }
            Err(error) => {
                report(FeedEvent::Offline(error.to_string()));
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    report(FeedEvent::SignedIn(me));
    let mut subscription = client.subscribe(SubscribeOptions::all_sites());
    while let Some(update) = subscription.next().await {
        report(FeedEvent::Update(update));
    }
}
