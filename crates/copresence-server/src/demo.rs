//! The demo: an organisation of three sites and eight makers, and a loop that has the makers
//! join, move between pages, save and leave, so whoever opens a client sees a living system.
//!
//! The makers act through the same store and presence calls as the HTTP API, so everything a
//! client sees of them is exactly what real makers would produce.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use copresence_core::roster::SessionPut;
use copresence_core::UserCard;

use crate::clock::now_ms;
use crate::org::Organisation;
use crate::presence::Presence;
use crate::store::{SaveError, Store, StoreError, DEFAULT_MAX_PAGES_PER_SITE};

/// The local user the demo signs in.
pub const YOU: &str = "you@example.com";
/// Where `demo` leaves your token, readable only by you.
pub const TOKEN_FILE: &str = "you.token";

pub const ORGANISATION: &str = r#"
[[users]]
email = "you@example.com"
name = "You"
teams = "you@example.com"

[[users]]
email = "ann.lee@contoso.test"
name = "Ann Lee"
teams = "ann.lee@contoso.test"

[[users]]
email = "bo.chen@contoso.test"
name = "Bo Chen"
teams = "bo.chen@contoso.test"

[[users]]
email = "carla.diaz@contoso.test"
name = "Carla Díaz"
teams = "carla.diaz@contoso.test"

[[users]]
email = "dev.patel@fabrikam.test"
name = "Dev Patel"
teams = "dev.patel@fabrikam.test"

[[users]]
email = "emma.wilson@fabrikam.test"
name = "Emma Wilson"

[[users]]
email = "farid.haddad@contoso.test"
name = "Farid Haddad"
teams = "farid.haddad@contoso.test"

[[users]]
email = "grace.kim@northwind.test"
name = "Grace Kim"
teams = "grace.kim@northwind.test"

[[users]]
email = "hiro.tanaka@northwind.test"
name = "Hiro Tanaka"

[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["you@example.com", "ann.lee@contoso.test", "bo.chen@contoso.test", "carla.diaz@contoso.test", "farid.haddad@contoso.test", "dev.patel@fabrikam.test"]
pages = [
  { path = "/", title = "Home" },
  { path = "/products", title = "Products" },
  { path = "/products/pricing", title = "Pricing" },
  { path = "/products/compare", title = "Compare plans" },
  { path = "/support", title = "Support" },
  { path = "/support/faq", title = "FAQ" },
  { path = "/support/contact", title = "Contact us" },
  { path = "/about", title = "About" },
]

[[sites]]
id = "fabrikam"
name = "Fabrikam Careers"
url = "https://careers.fabrikam.example"
members = ["you@example.com", "dev.patel@fabrikam.test", "emma.wilson@fabrikam.test", "ann.lee@contoso.test"]
pages = [
  { path = "/", title = "Home" },
  { path = "/jobs", title = "Open positions" },
  { path = "/jobs/engineering", title = "Engineering" },
  { path = "/jobs/design", title = "Design" },
  { path = "/life", title = "Life at Fabrikam" },
]

[[sites]]
id = "northwind"
name = "Northwind Traders"
url = "https://northwind.example"
members = ["you@example.com", "grace.kim@northwind.test", "hiro.tanaka@northwind.test", "bo.chen@contoso.test"]
pages = [
  { path = "/", title = "Home" },
  { path = "/catalog", title = "Catalog" },
  { path = "/catalog/beverages", title = "Beverages" },
  { path = "/catalog/condiments", title = "Condiments" },
  { path = "/orders", title = "Orders" },
  { path = "/orders/history", title = "Order history" },
]
"#;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the demo token: {0}")]
    Io(#[from] std::io::Error),
}

/// Import the demo organisation (idempotent) and issue a token for [`YOU`], also written to
/// [`TOKEN_FILE`] in `dir`.
pub async fn prepare(store: &Store, dir: &Path) -> Result<String, DemoError> {
    let org = Organisation::parse(ORGANISATION).expect("the demo organisation parses");
    store.import(&org, DEFAULT_MAX_PAGES_PER_SITE).await?;
    let token = store.issue_token(YOU, now_ms(), None).await?;
    let path = dir.join(TOKEN_FILE);
    write_private(&path, &token)?;
    Ok(token)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())
}

/// A simulated maker and where they are.
struct Maker {
    user: UserCard,
    sites: Vec<String>,
    client: &'static str,
    at: Option<(String, String)>,
}

/// Which of the demo's makers a node simulates: the `index`-th of every `of` (1-based), so the
/// nodes of a cluster demo share them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MakerShare {
    pub index: usize,
    pub of: usize,
}

impl MakerShare {
    pub const ALL: MakerShare = MakerShare { index: 1, of: 1 };

    fn includes(self, position: usize) -> bool {
        position % self.of.max(1) == (self.index.max(1) - 1) % self.of.max(1)
    }
}

impl std::str::FromStr for MakerShare {
    type Err = String;

    /// `K/N`, e.g. `2/3`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (index, of) = text
            .split_once('/')
            .ok_or_else(|| format!("expected K/N such as 1/3, got {text:?}"))?;
        let index: usize = index
            .trim()
            .parse()
            .map_err(|_| format!("not a number: {index:?}"))?;
        let of: usize = of
            .trim()
            .parse()
            .map_err(|_| format!("not a number: {of:?}"))?;
        if of == 0 || index == 0 || index > of {
            return Err(format!("K/N needs 1 ≤ K ≤ N, got {text:?}"));
        }
        Ok(MakerShare { index, of })
    }
}

/// Run the simulated makers until the process ends. Errors are logged and the loop goes on.
pub async fn run_makers(store: Store, presence: Arc<dyn Presence>, share: MakerShare) {
    let mut makers = Vec::new();
    let clients = ["studio", "vscode-web", "studio", "cli"];
    for site in store.all_sites().await.unwrap_or_default() {
        for user in store.members_of(&site.info.id).await.unwrap_or_default() {
            if user.email == YOU {
                continue;
            }
            match makers
                .iter_mut()
                .find(|m: &&mut Maker| m.user.id == user.id)
            {
                Some(maker) => maker.sites.push(site.info.id.clone()),
                None => makers.push(Maker {
                    client: clients[makers.len() % clients.len()],
                    user,
                    sites: vec![site.info.id.clone()],
                    at: None,
                }),
            }
        }
    }
    let mut position = 0;
    makers.retain(|_| {
        position += 1;
        share.includes(position - 1)
    });
    if makers.is_empty() {
        return;
    }
    // Half the makers are already at work when the demo opens: nobody starts on an empty room.
    for maker in makers.iter_mut().step_by(2) {
        if let Err(error) = act(&store, presence.as_ref(), maker).await {
            tracing::warn!(%error, "demo maker");
        }
    }
    loop {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(700..2200))).await;
        let pick = fastrand::usize(..makers.len());
        let maker = &mut makers[pick];
        if let Err(error) = act(&store, presence.as_ref(), maker).await {
            tracing::warn!(%error, "demo maker");
        }
        // Everyone present heartbeats, so nobody the demo still wants expires.
        for maker in makers.iter().filter(|m| m.at.is_some()) {
            let (site, page) = maker.at.clone().unwrap_or_default();
            let _ = presence
                .put_session(
                    &site,
                    &maker.user,
                    "demo",
                    SessionPut::new(&page, maker.client),
                )
                .await;
        }
    }
}

async fn act(
    store: &Store,
    presence: &dyn Presence,
    maker: &mut Maker,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let pages_of = |site: String| async move {
        store
            .pages(&site)
            .await
            .map(|pages| pages.into_iter().map(|p| p.path).collect::<Vec<_>>())
    };
    match maker.at.clone() {
        None => {
            let site = maker.sites[fastrand::usize(..maker.sites.len())].clone();
            let pages = pages_of(site.clone()).await?;
            let page = pages[fastrand::usize(..pages.len())].clone();
            presence
                .put_session(
                    &site,
                    &maker.user,
                    "demo",
                    SessionPut::new(&page, maker.client),
                )
                .await?;
            maker.at = Some((site, page));
        }
        Some((site, page)) => match fastrand::u8(..100) {
            0..=54 => {
                let pages = pages_of(site.clone()).await?;
                let next = pages[fastrand::usize(..pages.len())].clone();
                presence
                    .put_session(
                        &site,
                        &maker.user,
                        "demo",
                        SessionPut::new(&next, maker.client),
                    )
                    .await?;
                maker.at = Some((site, next));
            }
            55..=74 => {
                let version = store.site_of_any(&site).await?.map_or(0, |s| s.version);
                match store
                    .save(&site, &maker.user, &page, version, false, now_ms())
                    .await
                {
                    Ok(save) => presence.publish_saved(&site, save).await?,
                    Err(SaveError::Stale { .. }) => {}
                    Err(SaveError::Store(e)) => return Err(e.into()),
                }
            }
            75..=89 => {
                presence.end_session(&site, maker.user.id, "demo").await?;
                maker.at = None;
            }
            _ => {}
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maker_shares_split_everyone_exactly_once() {
        let shares: Vec<MakerShare> = ["1/3", "2/3", "3/3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        for position in 0..8 {
            assert_eq!(shares.iter().filter(|s| s.includes(position)).count(), 1);
        }
        assert!((0..8).all(|p| MakerShare::ALL.includes(p)));
        for bad in ["0/3", "4/3", "1/0", "x", "1/x"] {
            assert!(bad.parse::<MakerShare>().is_err(), "{bad}");
        }
    }

    #[test]
    fn demo_organisation_is_valid_and_has_eight_makers_and_you() {
        let org = Organisation::parse(ORGANISATION).unwrap();
        org.validate(DEFAULT_MAX_PAGES_PER_SITE).unwrap();
        assert_eq!(org.users.len(), 9);
        assert!(org.sites.iter().all(|s| s.members.iter().any(|m| m == YOU)));
    }
}
