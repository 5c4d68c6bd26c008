//! `watch`: follow presence and saves live, as text or as one JSON object per line.

use std::process::ExitCode;

use anyhow::Result;
use copresence_client::{Client, LiveState, SubscribeOptions, Update};
use copresence_core::Event;
use serde::Serialize;

use crate::commands::explain;
use crate::output::Out;
use crate::render;

pub async fn run(
    client: &Client,
    out: &mut Out,
    sites: Vec<String>,
    session: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let watched = sites.clone();
    let mut subscription = client.subscribe(SubscribeOptions { sites, session });
    let mut live = LiveState::new();
    let mut ever_connected = false;
    while let Some(update) = subscription.next().await {
        match update {
            Update::Connected => {
                if json {
                    out.json(&Status::new("connected"))?;
                } else if ever_connected {
                    out.line(format!("{} reconnected", render::clock_now()))?;
                } else {
                    out.line(format!(
                        "{} connected to {}",
                        render::clock_now(),
                        client.server_url()
                    ))?;
                }
                ever_connected = true;
            }
            Update::Snapshot(sites) => {
                live.replace(sites.iter().cloned());
                if json {
                    out.json(&Event::Snapshot { sites })?;
                } else {
                    for state in &sites {
                        for line in render::roster(state) {
                            out.line(line)?;
                        }
                    }
                }
            }
            Update::Event(event) => {
                if json {
                    out.json(&event)?;
                } else if let Some(line) = render::event(&live, &event) {
                    out.line(line)?;
                }
                live.apply_event(&event);
            }
            Update::Disconnected { error, retry_in } => {
                if json {
                    out.json(&Status {
                        error: Some(error),
                        retry_in_ms: Some(u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX)),
                        ..Status::new("disconnected")
                    })?;
                } else {
                    let what = if ever_connected {
                        "connection lost"
                    } else {
                        "cannot connect"
                    };
                    out.line(format!(
                        "{} {what}: {error}; retrying in {}",
                        render::clock_now(),
                        render::seconds(retry_in)
                    ))?;
                }
            }
            Update::Fatal(error) => {
                if json {
                    out.json(&Status {
                        code: Some(error.code().to_owned()),
                        error: Some(error.to_string()),
                        ..Status::new("fatal")
                    })?;
                }
                if error.is_not_found() && !watched.is_empty() {
                    return Err(explain(error).context(format!(
                        "cannot watch {}: no such site, or you are not a member",
                        watched.join(", ")
                    )));
                }
                return Err(explain(error));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--json` status line: `{"type":"status","state":"disconnected","error":"…","retry_in_ms":N}`.
#[derive(Debug, Serialize)]
struct Status {
    #[serde(rename = "type")]
    kind: &'static str,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_in_ms: Option<u64>,
}

impl Status {
    fn new(state: &'static str) -> Status {
        Status {
            kind: "status",
            state,
            code: None,
            error: None,
            retry_in_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_lead_with_their_type() {
        assert_eq!(
            serde_json::to_string(&Status::new("connected")).unwrap(),
            r#"{"type":"status","state":"connected"}"#
        );
        let lost = Status {
            error: Some("gone".into()),
            retry_in_ms: Some(1200),
            ..Status::new("disconnected")
        };
        assert_eq!(
            serde_json::to_string(&lost).unwrap(),
            r#"{"type":"status","state":"disconnected","error":"gone","retry_in_ms":1200}"#
        );
    }
}
