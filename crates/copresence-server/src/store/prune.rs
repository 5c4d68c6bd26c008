//! `import --prune`: what the organisation file no longer lists goes — members of the sites it
//! lists, pages of those sites, and users — in the same transaction as the import itself.
//! Pages a site's editors added stay while the site takes pages from them (`open_pages`); with
//! `open_pages = false` the site's pages are exactly the file's.
//!
//! A removed user's tokens, tickets and memberships go with them; their row stays while saves
//! name them, so the history keeps saying who saved. Sites the file does not list are left as
//! they are: removing a site would take its save history with it. Users who came from the
//! directory (OpenID Connect) are the directory's to remove.

use std::collections::HashSet;

use copresence_core::UserId;
use sqlx::Row;

use super::credentials::revoke_in;
use super::StoreError;
use crate::org::Organisation;

/// What a prune removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// `(site, e-mail)` of each membership removed.
    pub members: Vec<(String, String)>,
    /// `(site, path)` of each page removed.
    pub pages: Vec<(String, String)>,
    /// E-mails of the users removed.
    pub users: Vec<String>,
}

impl PruneReport {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.pages.is_empty() && self.users.is_empty()
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Remove from the store what `org` no longer lists, inside `tx`.
pub(super) async fn prune_missing(
    tx: &mut Tx<'_>,
    org: &Organisation,
    now: i64,
) -> Result<PruneReport, StoreError> {
    let mut report = PruneReport::default();
    let mut revoked: HashSet<UserId> = HashSet::new();
    let listed_users: HashSet<&str> = org.users.iter().map(|u| u.email.as_str()).collect();

    for site in &org.sites {
        let listed_members: HashSet<&str> = site.members.iter().map(String::as_str).collect();
        let rows = sqlx::query(
            "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.site_id = $1 ORDER BY u.email",
        )
        .bind(&site.id)
        .fetch_all(&mut **tx)
        .await?;
        for row in &rows {
            let (user, email): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            if !listed_members.contains(email.as_str()) {
                sqlx::query("DELETE FROM memberships WHERE site_id = $1 AND user_id = $2")
                    .bind(&site.id)
                    .bind(user)
                    .execute(&mut **tx)
                    .await?;
                revoked.insert(user);
                report.members.push((site.id.clone(), email));
            }
        }

        // Rules go too (a rule's members lose access on their next request: who they are is
        // known only from their sign-in).
        let rules: Vec<String> =
            sqlx::query_scalar("SELECT rule FROM site_rules WHERE site_id = $1 ORDER BY rule")
                .bind(&site.id)
                .fetch_all(&mut **tx)
                .await?;
        for rule in rules {
            if !listed_members.contains(rule.as_str()) {
                sqlx::query("DELETE FROM site_rules WHERE site_id = $1 AND rule = $2")
                    .bind(&site.id)
                    .bind(&rule)
                    .execute(&mut **tx)
                    .await?;
                report.members.push((site.id.clone(), rule));
            }
        }

        // Pages the site's editors added are not the file's to list while the site takes them:
        // they stay. A site that no longer takes them is exactly the file's pages.
        let listed_pages: HashSet<&str> = site.pages.iter().map(|p| p.path.as_str()).collect();
        let rows = sqlx::query("SELECT path, added_by FROM pages WHERE site_id = $1 ORDER BY path")
            .bind(&site.id)
            .fetch_all(&mut **tx)
            .await?;
        for row in &rows {
            let (path, added_by): (String, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            let editors_keep = added_by.is_some() && site.open_pages;
            if !listed_pages.contains(path.as_str()) && !editors_keep {
                sqlx::query("DELETE FROM pages WHERE site_id = $1 AND path = $2")
                    .bind(&site.id)
                    .bind(&path)
                    .execute(&mut **tx)
                    .await?;
                report.pages.push((site.id.clone(), path));
            }
        }
    }

    // Users from the directory come and go with it, not with this file.
    let users = sqlx::query("SELECT id, email FROM users WHERE from_directory = 0 ORDER BY email")
        .fetch_all(&mut **tx)
        .await?;
    for row in &users {
        let (user, email): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        if listed_users.contains(email.as_str()) {
            continue;
        }
        // A member of a site the file lists is listed by it, even without a [[users]] entry.
        let member_of_listed = org.sites.iter().any(|s| s.members.contains(&email));
        if member_of_listed {
            continue;
        }
        for statement in [
            "DELETE FROM memberships WHERE user_id = $1",
            "DELETE FROM tokens WHERE user_id = $1",
        ] {
            sqlx::query(statement).bind(user).execute(&mut **tx).await?;
        }
        let saves: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saves WHERE user_id = $1")
            .bind(user)
            .fetch_one(&mut **tx)
            .await?;
        revoke_in(tx, user, now).await?;
        revoked.remove(&user);
        if saves == 0 {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user)
                .execute(&mut **tx)
                .await?;
        }
        report.users.push(email);
    }
    for user in revoked {
        revoke_in(tx, user, now).await?;
    }
    Ok(report)
}
