//! Sites, their pages and their members: what a member may see and where they may be.
//!
//! A site one is not a member of does not exist, so every answer for a member goes through
//! the membership: listed by name (the `memberships` table), or matching one of the site's
//! rules (`site_rules`: a domain, a directory group, or the e-mail of someone not yet known,
//! [`MemberRule`]) with what the caller's sign-in says of them ([`Who`]). Identity, membership and page answers are served from memory for a short
//! while ([`FRESH`]): the heartbeat path asks them every time. A site's version changes on every
//! save, so answers that carry it always ask the database first ([`Policy::Fallback`]); so do
//! the pages a snapshot carries, which an editor on another node may have just added.
//!
//! A site that takes pages from its editors (`open_pages`) gets a page added when one of them
//! opens it ([`Store::add_page`]), up to a cap per user and per site ([`PageLimits`]).

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

/// A site's row as `SITE_COLUMNS` selects it.
fn site_from(row: &AnyRow) -> Result<StoredSite, sqlx::Error> {
    Ok(StoredSite {
        info: info_from(row)?,
        version: row.try_get(4)?,
    })
}

/// A site's id, name, URL and editors, the first four columns of `SITE_COLUMNS`.
fn info_from(row: &AnyRow) -> Result<SiteInfo, sqlx::Error> {
    let editors: String = row.try_get(3)?;
    Ok(SiteInfo {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        url: row.try_get(2)?,
        // Only editors the import validated are written: a column that does not read (a
        // hand-edited database) is a site without editors rather than a site that fails.
        editors: serde_json::from_str(&editors).unwrap_or_default(),
    })
}

/// The columns [`site_from`] reads, from `sites s`.
macro_rules! site_columns {
    () => {
        "s.id, s.name, s.url, s.editors, s.version"
    };
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
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    site_columns!(),
                    " FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 ORDER BY s.name, s.id"
                ))
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
                let row = sqlx::query(concat!(
                    "SELECT ",
                    site_columns!(),
                    " FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 AND s.id = $2"
                ))
                .bind(user)
                .bind(site)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| site_from(&r)).transpose()?)
            })
            .await
    }

    /// The site's id, name, URL and editors if `user` is a member of it, from memory for a short while
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
                    "SELECT s.id, s.name, s.url, s.editors FROM sites s
                 JOIN memberships m ON m.site_id = s.id WHERE m.user_id = $1 AND s.id = $2",
                )
                .bind(user)
                .bind(site)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.as_ref().map(info_from).transpose()?)
            })
            .await
    }

    /// A site by id, with no membership filter: for callers that already checked it.
    pub async fn site_of_any(&self, site: &str) -> Result<Option<StoredSite>, StoreError> {
        let key = format!("site:{site}");
        self.cache
            .get(key, Policy::Fallback, async {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    site_columns!(),
                    " FROM sites s WHERE s.id = $1"
                ))
                .bind(site)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| site_from(&r)).transpose()?)
            })
            .await
    }

    /// Every site, with no membership filter: for the demo's simulated makers.
    pub async fn all_sites(&self) -> Result<Vec<StoredSite>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            site_columns!(),
            " FROM sites s ORDER BY s.id"
        ))
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

    /// A site's pages, in path order, from memory for a short while ([`FRESH`]).
    pub async fn pages(&self, site: &str) -> Result<Vec<Page>, StoreError> {
        Ok(self.shared_pages(site, FRESH).await?.as_ref().clone())
    }

    /// A site's pages as the database has them now (from memory only while it is away): what a
    /// snapshot carries. A page added on another node a moment ago is in it, so a subscriber
    /// whose snapshot comes after that page's event still gets the page.
    pub async fn current_pages(&self, site: &str) -> Result<Vec<Page>, StoreError> {
        Ok(self
            .shared_pages(site, Policy::Fallback)
            .await?
            .as_ref()
            .clone())
    }

    /// A site's pages, shared with the cache rather than copied out of it. In path order as
    /// Rust compares strings (byte order), whatever the database's collation: the order
    /// [`copresence_core::pages::add_page`] keeps, so a client's list reads the same whether a
    /// page came in a snapshot or an event.
    async fn shared_pages(&self, site: &str, policy: Policy) -> Result<Arc<Vec<Page>>, StoreError> {
        let key = format!("pages:{site}");
        self.cache
            .get(key, policy, async {
                let rows = sqlx::query("SELECT path, title FROM pages WHERE site_id = $1")
                    .bind(site)
                    .fetch_all(&self.pool)
                    .await?;
                let mut pages = rows
                    .iter()
                    .map(|r| {
                        Ok(Page {
                            path: r.try_get(0)?,
                            title: r.try_get(1)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                pages.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(Arc::new(pages))
            })
            .await
    }

    /// Whether a site has this page: answered from the site's page list, so that every page
    /// of a site seen recently is known while the database is away.
    pub async fn page_exists(&self, site: &str, path: &str) -> Result<bool, StoreError> {
        Ok(self
            .shared_pages(site, FRESH)
            .await?
            .iter()
            .any(|page| page.path == path))
    }

    /// Whether the site takes pages from its editors, from memory for a short while: asked on
    /// every session `PUT` on a page the site does not have, so a closed site refuses those
    /// without a write. [`Store::add_page`] asks the database again.
    async fn takes_pages(&self, site: &str) -> Result<bool, StoreError> {
        let key = format!("open_pages:{site}");
        self.cache
            .get(key, FRESH, async {
                let open: Option<i64> =
                    sqlx::query_scalar("SELECT open_pages FROM sites WHERE id = $1")
                        .bind(site)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(open.is_some_and(|open| open != 0))
            })
            .await
    }

    /// Add `page` to `site` for `user`, who opened it in an editor: if the site takes pages
    /// from its editors and neither `user` nor the site is at its cap.
    ///
    /// The site's row is locked first (a write that changes nothing), so additions to one site
    /// are one at a time on every node: of two editors opening the same new page at once, one
    /// adds it and the other finds it there, and the caps are counted exactly.
    pub async fn add_page(
        &self,
        site: &str,
        page: &Page,
        user: UserId,
        limits: PageLimits,
    ) -> Result<PageAdded, StoreError> {
        if !self.takes_pages(site).await? {
            return Ok(PageAdded::Closed);
        }
        let mut tx = self.pool.begin().await?;
        let open: Option<i64> = sqlx::query_scalar(
            "UPDATE sites SET open_pages = open_pages WHERE id = $1 RETURNING open_pages",
        )
        .bind(site)
        .fetch_optional(&mut *tx)
        .await?;
        let listed: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM pages WHERE site_id = $1 AND path = $2")
                .bind(site)
                .bind(&page.path)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = if listed.is_some() {
            PageAdded::Listed
        } else if open.is_none_or(|open| open == 0) {
            PageAdded::Closed
        } else {
            let on_site: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pages WHERE site_id = $1")
                .bind(site)
                .fetch_one(&mut *tx)
                .await?;
            let by_user: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pages WHERE site_id = $1 AND added_by = $2",
            )
            .bind(site)
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
            if on_site >= limits.per_site as i64 {
                PageAdded::TooMany(PageCap::Site(limits.per_site))
            } else if by_user >= limits.per_user as i64 {
                PageAdded::TooMany(PageCap::User(limits.per_user))
            } else {
                sqlx::query(
                    "INSERT INTO pages (site_id, path, title, added_by) VALUES ($1, $2, $3, $4)",
                )
                .bind(site)
                .bind(&page.path)
                .bind(&page.title)
                .bind(user)
                .execute(&mut *tx)
                .await?;
                PageAdded::Added
            }
        };
        if outcome == PageAdded::Added {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        // This node asks the database next time: a page that is there (added now, or by another
        // node since this node last read the site's pages) is then known without a write.
        self.cache.forget(&format!("pages:{site}"));
        if outcome == PageAdded::Closed {
            self.cache.forget(&format!("open_pages:{site}"));
        }
        Ok(outcome)
    }
}

/// The most pages a site may hold by default (`--max-pages-per-site`).
pub const DEFAULT_MAX_PAGES_PER_SITE: usize = 5000;

/// How many pages a site's editors may add by opening them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    /// Pages one user may add to one site.
    pub per_user: usize,
    /// Pages a site may hold for a new one to be added, whoever listed or added them.
    pub per_site: usize,
}

/// What [`Store::add_page`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAdded {
    /// The page is new: publish it.
    Added,
    /// The site has the page already (listed, or added by someone else meanwhile).
    Listed,
    /// The site does not take pages from its editors (or no longer exists).
    Closed,
    /// A cap is reached; nothing was added.
    TooMany(PageCap),
}

/// Which cap on added pages a new page would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCap {
    User(usize),
    Site(usize),
}

impl std::fmt::Display for PageCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageCap::User(n) => write!(
                f,
                "you have added {n} pages to this site, the most allowed: open a page it has, or ask its operator to list yours"
            ),
            PageCap::Site(n) => write!(
                f,
                "the site has {n} pages, the most editors may add to: open a page it has, or ask its operator"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Organisation;

    const ORG: &str = r#"
[[users]]
email = "ann@x.test"
name = "Ann"

[[users]]
email = "bo@x.test"
name = "Bo"

[[sites]]
id = "open"
name = "Open"
url = "u"
members = ["ann@x.test", "bo@x.test"]
pages = [ { path = "/", title = "Home" } ]

[[sites]]
id = "closed"
name = "Closed"
url = "u"
members = ["ann@x.test"]
open_pages = false
pages = [ { path = "/", title = "Home" } ]
"#;

    fn page(path: &str, title: &str) -> Page {
        Page {
            path: path.into(),
            title: title.into(),
        }
    }

    fn paths(pages: &[Page]) -> Vec<&str> {
        pages.iter().map(|p| p.path.as_str()).collect()
    }

    async fn store() -> (tempfile::TempDir, Store, UserId, UserId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path(), 1 << 20).await.unwrap();
        store
            .import(
                &Organisation::parse(ORG).unwrap(),
                DEFAULT_MAX_PAGES_PER_SITE,
            )
            .await
            .unwrap();
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap().id;
        let bo = store.user_by_email("bo@x.test").await.unwrap().unwrap().id;
        (dir, store, ann, bo)
    }

    const ROOMY: PageLimits = PageLimits {
        per_user: 10,
        per_site: 100,
    };

    #[tokio::test]
    async fn an_open_site_adds_a_page_once_and_a_closed_one_never() {
        let (_dir, store, ann, bo) = store().await;
        let blog = page("/blog", "Blog");
        assert_eq!(
            store.add_page("open", &blog, ann, ROOMY).await.unwrap(),
            PageAdded::Added
        );
        assert!(
            store.page_exists("open", "/blog").await.unwrap(),
            "known at once"
        );
        assert_eq!(
            store
                .add_page("open", &page("/blog", "Other"), bo, ROOMY)
                .await
                .unwrap(),
            PageAdded::Listed
        );
        assert_eq!(
            store
                .add_page("open", &page("/", "Start"), ann, ROOMY)
                .await
                .unwrap(),
            PageAdded::Listed
        );
        let pages = store.current_pages("open").await.unwrap();
        assert_eq!(pages, vec![page("/", "Home"), blog]);
        assert_eq!(
            store
                .add_page("closed", &page("/x", ""), ann, ROOMY)
                .await
                .unwrap(),
            PageAdded::Closed
        );
        assert_eq!(paths(&store.current_pages("closed").await.unwrap()), ["/"]);
        assert_eq!(
            store
                .add_page("nowhere", &page("/x", ""), ann, ROOMY)
                .await
                .unwrap(),
            PageAdded::Closed
        );
    }

    #[tokio::test]
    async fn caps_count_a_users_pages_and_the_sites_and_add_nothing_past_them() {
        let (_dir, store, ann, bo) = store().await;
        let limits = PageLimits {
            per_user: 2,
            per_site: 4,
        };
        for path in ["/a", "/b"] {
            let added = store.add_page("open", &page(path, ""), ann, limits).await;
            assert_eq!(added.unwrap(), PageAdded::Added);
        }
        assert_eq!(
            store
                .add_page("open", &page("/c", ""), ann, limits)
                .await
                .unwrap(),
            PageAdded::TooMany(PageCap::User(2))
        );
        assert_eq!(
            store
                .add_page("open", &page("/c", ""), bo, limits)
                .await
                .unwrap(),
            PageAdded::Added,
            "the cap is per user"
        );
        assert_eq!(
            store
                .add_page("open", &page("/d", ""), bo, limits)
                .await
                .unwrap(),
            PageAdded::TooMany(PageCap::Site(4)),
            "the home page counts toward the site's cap"
        );
        assert_eq!(
            paths(&store.current_pages("open").await.unwrap()),
            ["/", "/a", "/b", "/c"]
        );
    }

    #[tokio::test]
    async fn import_keeps_editors_pages_and_prune_removes_them_only_from_a_closed_site() {
        let (_dir, store, ann, _bo) = store().await;
        for path in ["/draft", "/listed"] {
            store
                .add_page("open", &page(path, "by Ann"), ann, ROOMY)
                .await
                .unwrap();
        }
        // The file now lists one of them; importing again keeps the other.
        let listing = ORG.replace(
            r#"pages = [ { path = "/", title = "Home" } ]

[[sites]]
id = "closed""#,
            r#"pages = [ { path = "/", title = "Home" }, { path = "/listed", title = "Listed" } ]

[[sites]]
id = "closed""#,
        );
        let org = Organisation::parse(&listing).unwrap();
        let report = store
            .import_pruning(&org, DEFAULT_MAX_PAGES_PER_SITE, false, 1)
            .await
            .unwrap();
        assert!(report.pages.is_empty(), "{report:?}");
        let pages = store.current_pages("open").await.unwrap();
        assert_eq!(paths(&pages), ["/", "/draft", "/listed"]);
        assert_eq!(pages[2].title, "Listed", "a listed page is the file's");
        // The listed page no longer counts as Ann's.
        let one = PageLimits {
            per_user: 2,
            per_site: 100,
        };
        assert_eq!(
            store
                .add_page("open", &page("/more", ""), ann, one)
                .await
                .unwrap(),
            PageAdded::Added
        );

        // Closed: the tree is the file's, and editors add no more.
        let closing = listing.replacen(
            "members = [\"ann@x.test\", \"bo@x.test\"]",
            "members = [\"ann@x.test\", \"bo@x.test\"]\nopen_pages = false",
            1,
        );
        let org = Organisation::parse(&closing).unwrap();
        let dry = store
            .import_pruning(&org, DEFAULT_MAX_PAGES_PER_SITE, true, 2)
            .await
            .unwrap();
        assert_eq!(
            dry.pages,
            [
                ("open".to_owned(), "/draft".to_owned()),
                ("open".to_owned(), "/more".to_owned())
            ]
        );
        store
            .import_pruning(&org, DEFAULT_MAX_PAGES_PER_SITE, false, 2)
            .await
            .unwrap();
        assert_eq!(
            paths(&store.current_pages("open").await.unwrap()),
            ["/", "/listed"]
        );
        assert_eq!(
            store
                .add_page("open", &page("/again", ""), ann, ROOMY)
                .await
                .unwrap(),
            PageAdded::Closed
        );
    }
}
