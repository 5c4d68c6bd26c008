//! The publisher: what makes events happen, for the service and for the floor alike.
//!
//! On the service it is a maker moving through numbered pages with the client library
//! (`PUT …/sessions/…`): page `/p/7` is event 7, so a subscriber can tell from an event alone
//! which one it got. On the floor it posts a move event of the same shape and size, serialised
//! from the same protocol types, so both fan out comparable bytes.

use anyhow::{Context, Result};
use copresence_client::Client;
use copresence_core::{Event, Member, PutSession, SessionInfo, UserCard};

const SESSION: &str = "bench-publisher";
const CLIENT: &str = "bench";

pub enum Publisher {
    Service {
        client: Client,
        site: String,
    },
    Floor {
        http: reqwest::Client,
        url: String,
        site: String,
    },
}

impl Publisher {
    /// The service's publisher: the publisher user on `site`.
    pub fn service(url: &str, token: &str, site: &str) -> Result<Publisher> {
        let client = Client::new(url, token).context("cannot make a client for the service")?;
        Ok(Publisher::Service {
            client,
            site: site.to_owned(),
        })
    }

    /// The floor's publisher, sending move events that look like `site`'s.
    pub fn floor(url: &str, site: &str) -> Result<Publisher> {
        let http = reqwest::Client::builder()
            .build()
            .context("cannot make an HTTP client")?;
        Ok(Publisher::Floor {
            http,
            url: format!("{url}/publish"),
            site: site.to_owned(),
        })
    }

    /// Join at `<prefix>0`, before anyone subscribes: the first numbered event is then a move.
    pub async fn begin(&self, prefix: &str) -> Result<()> {
        match self {
            Publisher::Service { client, site } => {
                let body = PutSession {
                    page: format!("{prefix}0"),
                    client: CLIENT.to_owned(),
                    title: None,
                    url: None,
                };
                client
                    .put_session(site, SESSION, &body)
                    .await
                    .context("the publisher cannot join")?;
            }
            // The floor has no roster to join.
            Publisher::Floor { .. } => {}
        }
        Ok(())
    }

    /// Move to `<prefix><n>`: event number `n`.
    pub async fn publish(&self, prefix: &str, n: u32) -> Result<()> {
        let page = format!("{prefix}{n}");
        match self {
            Publisher::Service { client, site } => {
                let body = PutSession {
                    page,
                    client: CLIENT.to_owned(),
                    title: None,
                    url: None,
                };
                client
                    .put_session(site, SESSION, &body)
                    .await
                    .with_context(|| format!("publishing event {n} failed"))?;
            }
            Publisher::Floor { http, url, site } => {
                let body = floor_event(site, &format!("{prefix}{}", n.saturating_sub(1)), page);
                let answer = http
                    .post(url.as_str())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("publishing event {n} to the floor failed"))?;
                answer
                    .error_for_status()
                    .with_context(|| format!("the floor refused event {n}"))?;
            }
        }
        Ok(())
    }

    /// Leave the site.
    pub async fn end(&self) -> Result<()> {
        if let Publisher::Service { client, site } = self {
            client
                .delete_session(site, SESSION)
                .await
                .context("the publisher cannot leave")?;
        }
        Ok(())
    }
}

/// A move event as the service would send it for the publisher going from `from` to `to`.
fn floor_event(site: &str, from: &str, to: String) -> String {
    let now = chrono::Utc::now().timestamp_millis();
    let event = Event::Move {
        site: site.to_owned(),
        member: Member {
            user: UserCard {
                id: 2,
                name: "Pat Publisher".to_owned(),
                email: "publisher@bench.test".to_owned(),
                teams: None,
                photo: None,
            },
            sessions: vec![SessionInfo {
                id: SESSION.to_owned(),
                page: to.clone(),
                client: CLIENT.to_owned(),
                since: now,
                page_since: now,
                url: None,
            }],
        },
        session: SESSION.to_owned(),
        from: Some(from.to_owned()),
        to: Some(to),
        at: now,
    };
    // Serialising plain data into a String cannot fail.
    serde_json::to_string(&event).unwrap_or_default()
}
