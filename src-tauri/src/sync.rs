//! The subscription task: sign in with the token, then feed every update of the event stream
//! to the shell until the task is aborted (new server or token, sign-out, quit).

use std::sync::Arc;
use std::time::Duration;

use copresence_client::{Backoff, Client, SubscribeOptions};

use crate::shell::Shell;

pub async fn run(shell: Arc<Shell>, server: String, token: String) {
    let client = match Client::new(&server, &token) {
        Ok(client) => client,
        Err(error) => return shell.on_signed_out(error.to_string()),
    };
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    let me = loop {
        match client.me().await {
            Ok(me) => break me.user,
            Err(error) if error.is_unauthorized() => {
                return shell.on_signed_out(
                    "The server refused your token: sign in again in Settings.".into(),
                )
            }
            Err(error) => {
                shell.on_offline(error.to_string());
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    shell.on_signed_in(me);
    let mut subscription = client.subscribe(SubscribeOptions::all_sites());
    while let Some(update) = subscription.next().await {
        shell.on_update(update);
    }
}
