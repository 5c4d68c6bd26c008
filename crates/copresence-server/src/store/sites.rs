//! Sites, their pages and their members: what a member may see and where they may be.
//!
//! A site one is not a member of does not exist, so every answer for a member goes through
//! the membership: listed by name (the `memberships` table), or matching one of the site's
//! rules (`site_rules`: a domain, a directory group, or the e-mail of someone not yet known,
//! [`MemberRule`]) with what the caller's sign-in says of them ([`Who`]). Identity, membership and page answers are served from memory for a short
//! while ([`FRESH`]): the heartbeat path asks them every time. A site's version changes on every
//! save, so answers that carry it always ask the database first ([`Policy::Fallback`]).

use std::sync::Arc;

use copresence_core::membership::MemberRule;
use copresence_core::{Page, SiteInfo, UserCard, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{user_columns, user_from, Store, StoreError, FRESH};
use crate::readcache::Policy;

/// A site as the store knows it: what is needed to answer for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredSite {
    pub info: SiteInfo,
    pub version: i64,
}

fn site_from(row: &AnyRow) -> Result<StoredSite, sqlx::Error> {
    Ok(StoredSite {
        info: SiteInfo {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            url: row.try_get(2)?,
        },
        version: row.try_get(3)?,
    })
}

/// Who asks, as membership sees them: the user, their e-mail, and the directory groups their
/// sign-in carries (none for an operator token).
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub groups: &'a [String],
}

impl Who<'_> {
    fn matches(&self, rule: &MemberRule) -> bool {
        rule.matches(self.email, self.groups)
    }
}

impl Store {
    /// The sites `who` is a member of, by name.
    pub async fn sites_of(&self, who: Who<'_>) -> Result<Vec<StoredSite>, StoreError> {
        let mut sites = self.listed_sites_of(who.id).await?;
        let mut by_rule: Vec<String> = self
            .site_rules()
            .await?
            .iter()
            .filter(|(site, rule)| who.matches(rule) && !sites.iter().any(|s| s.info.id == *site))
            .map(|(site, _)| site.clone())
            .collect();
        by_rule.dedup();
        for site in by_rule {
            if let Some(site) = self.site_of_any(&site).await? {
                sites.push(site);
            }
        }
        sites.sort_by(|a, b| (&a.info.name, &a.info.id).cmp(&(&b.info.name, &b.info.id)));
        Ok(sites)
    }

    /// Whether one of `site`'s rules takes `who` in.
    async fn member_by_rule(&self, who: Who<'_>, site: &str) -> Result<bool, StoreError> {
        Ok(self
            .site_rules()
            .await?
            .iter()
            .any(|(of, rule)| of == site && who.matches(rule)))
    }

    /// Every site's rules, `(site, rule)` in site order: a short list, asked on every check.
    pub async fn site_rules(&self) -> Result<Arc<Vec<(String, MemberRule)>>, StoreError> {
        self.cache
            .get("site_rules".to_owned(), FRESH, async {
                let rows = sqlx::query("SELECT site_id, rule FROM site_rules ORDER BY site_id")
                    .fetch_all(&self.pool)
                    .await?;
                let mut rules = Vec::with_capacity(rows.len());
                for row in &rows {
                    let (site, rule): (String, String) = (row.try_get(0)?, row.try_get(1)?);
                    // Only valid rules are written; one that no longer reads is skipped.
                    if let Ok(rule) = MemberRule::parse(&rule) {
                        rules.push((site, rule));
                    }
                }
                Ok(Arc::new(rules))
            })
            .await
    }

    /// The sites that list `user` by name.
    async fn listed_sites_of(&self, user: UserId) -> Result<Vec<StoredSite>, StoreError> {
        let key = format!("sites_of:{user}");
        self.cache
            .get(key, Policy::Fallback, async {
                let rows = sqlx::query(
                    "SELECT s.id, s.name, s.url, s.version FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 ORDER BY s.name, s.id",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map(site_from).collect::<Result<_, _>>()?)
            })
            .await
    }

    /// The site, if `who` is a member of it. A site one is not a member of does not exist.
    pub async fn site_of(
        &self,
        who: Who<'_>,
        site: &str,
    ) -> Result<Option<StoredSite>, StoreError> {
        if let Some(listed) = self.listed_site_of(who.id, site).await? {
            return Ok(Some(listed));
        }
        if self.member_by_rule(who, site).await? {
            return self.site_of_any(site).await;
        }
        Ok(None)
    }

    async fn listed_site_of(
        &self,
        user: UserId,
        site: &str,
    ) -> Result<Option<StoredSite>, StoreError> {
        let key = format!("site_of:{user}:{site}");
        self.cache
            .get(key, Policy::Fallback, async {
                let row = sqlx::query(
                    "SELECT s.id, s.name, s.url, s.version FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 AND s.id = $2",
                )
                .bind(user)
                .bind(site)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| site_from(&r)).transpose()?)
            })
            .await
    }

    /// The site's id, name and URL if `user` is a member of it, from memory for a short while
    /// like the other identity and membership answers: what the heartbeat path checks. Without
    /// the version, which changes on every save and which only [`Store::site_of`] reads.
    pub async fn member_site(
        &self,
        who: Who<'_>,
        site: &str,
    ) -> Result<Option<SiteInfo>, StoreError> {
        if let Some(listed) = self.listed_member_site(who.id, site).await? {
            return Ok(Some(listed));
        }
        if self.member_by_rule(who, site).await? {
            return Ok(self.site_of_any(site).await?.map(|s| s.info));
        }
        Ok(None)
    }

    async fn listed_member_site(
        &self,
        user: UserId,
        site: &str,
    ) -> Result<Option<SiteInfo>, StoreError> {
        let key = format!("member_site:{user}:{site}");
        self.cache
            .get(key, FRESH, async {
                let row = sqlx::query(
                    "SELECT s.id, s.name, s.url FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 AND s.id = $2",
                )
                .bind(user)
                .bind(site)
                .fetch_optional(&self.pool)
                .await?;
                let info = |r: &AnyRow| -> Result<SiteInfo, sqlx::Error> {
                    Ok(SiteInfo {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        url: r.try_get(2)?,
                    })
                };
                Ok(row.as_ref().map(info).transpose()?)
            })
            .await
    }

    /// A site by id, with no membership filter: for callers that already checked it.
    pub async fn site_of_any(&self, site: &str) -> Result<Option<StoredSite>, StoreError> {
        let key = format!("site:{site}");
        self.cache
            .get(key, Policy::Fallback, async {
                let row = sqlx::query("SELECT id, name, url, version FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| site_from(&r)).transpose()?)
            })
            .await
    }

    /// Every site, with no membership filter: for the demo's simulated makers.
    pub async fn all_sites(&self) -> Result<Vec<StoredSite>, StoreError> {
        let rows = sqlx::query("SELECT id, name, url, version FROM sites ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(site_from).collect::<Result<_, _>>()?)
    }

    pub async fn members_of(&self, site: &str) -> Result<Vec<UserCard>, StoreError> {
        let key = format!("members:{site}");
        self.cache
            .get(key, FRESH, async {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users u JOIN memberships m ON m.user_id = u.id
                     WHERE m.site_id = $1 ORDER BY u.id"
                ))
                .bind(site)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .iter()
                    .map(|r| user_from(r, 0))
                    .collect::<Result<_, _>>()?)
            })
            .await
    }

    pub async fn pages(&self, site: &str) -> Result<Vec<Page>, StoreError> {
        Ok(self.shared_pages(site).await?.as_ref().clone())
    }

    /// A site's pages, shared with the cache rather than copied out of it.
    async fn shared_pages(&self, site: &str) -> Result<Arc<Vec<Page>>, StoreError> {
        let key = format!("pages:{site}");
        self.cache
            .get(key, FRESH, async {
                let rows =
                    sqlx::query("SELECT path, title FROM pages WHERE site_id = $1 ORDER BY path")
                        .bind(site)
                        .fetch_all(&self.pool)
                        .await?;
                let pages = rows
                    .iter()
                    .map(|r| {
                        Ok(Page {
                            path: r.try_get(0)?,
                            title: r.try_get(1)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                Ok(Arc::new(pages))
            })
            .await
    }

    /// Whether a site has this page: answered from the site's page list, so that every page
    /// of a site seen recently is known while the database is away.
    pub async fn page_exists(&self, site: &str, path: &str) -> Result<bool, StoreError> {
        Ok(self
            .shared_pages(site)
            .await?
            .iter()
            .any(|page| page.path == path))
    }
}
