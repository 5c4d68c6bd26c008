//! `import`: the organisation file into the store, all of it or nothing.
//!
//! Users, sites, pages and memberships are inserted or updated in one transaction, so a file
//! that fails half-way changes nothing; `import --prune` removes what the file no longer lists
//! in that same transaction ([`prune`]). A site's `open_pages` is set as the file says (on when
//! it says nothing), and its editors are replaced by the file's. A site's member listed by an e-mail the store knows is
//! a membership; a domain, a group, or an e-mail nobody has signed in with yet is a rule.

use copresence_core::membership::MemberRule;

use super::{prune, PruneReport, Store, StoreError};
use crate::org::Organisation;

impl Store {
    /// Insert or update everything in the organisation file, in one transaction: a file that
    /// fails half-way changes nothing.
    /// `max_pages_per_site` bounds the editors' page tables ([`Organisation::validate`]).
    pub async fn import(
        &self,
        org: &Organisation,
        max_pages_per_site: usize,
    ) -> Result<(), StoreError> {
        org.validate(max_pages_per_site)
            .map_err(StoreError::Invalid)?;
        let mut tx = self.pool.begin().await?;
        upsert(&mut tx, org).await?;
        tx.commit().await?;
        // Whoever imported reads what they imported: not the pages or sites held from before.
        self.forget_cached();
        Ok(())
    }

    /// [`Store::import`], then remove the members, pages and users the file no longer lists
    /// ([`prune`]), all in one transaction. With `dry_run`, nothing is kept: the report says
    /// what would go.
    pub async fn import_pruning(
        &self,
        org: &Organisation,
        max_pages_per_site: usize,
        dry_run: bool,
        now: i64,
    ) -> Result<PruneReport, StoreError> {
        org.validate(max_pages_per_site)
            .map_err(StoreError::Invalid)?;
        let mut tx = self.pool.begin().await?;
        upsert(&mut tx, org).await?;
        let report = prune::prune_missing(&mut tx, org, now).await?;
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
            self.forget_cached();
        }
        Ok(report)
    }
}

/// Insert or update every user, site, page and membership of `org`, inside `tx`.
async fn upsert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &Organisation,
) -> Result<(), StoreError> {
    for user in &org.users {
        sqlx::query(
            "INSERT INTO users (email, name, teams, photo) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (email) DO UPDATE
                 SET name = excluded.name, teams = excluded.teams, photo = excluded.photo",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.teams.clone())
        .bind(user.photo.clone())
        .execute(&mut **tx)
        .await?;
    }
    for site in &org.sites {
        // A site's editors are the file's, whole: importing replaces them, so a site whose file
        // no longer describes an editor stops serving it, with or without --prune.
        let editors = serde_json::to_string(&site.editors())
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sites (id, name, url, open_pages, editors) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE
                 SET name = excluded.name, url = excluded.url, open_pages = excluded.open_pages,
                     editors = excluded.editors",
        )
        .bind(&site.id)
        .bind(&site.name)
        .bind(&site.url)
        .bind(i64::from(site.open_pages))
        .bind(editors)
        .execute(&mut **tx)
        .await?;
        // A page an editor added that the file now lists is the file's from here on: its title
        // is the file's, and it no longer counts as that editor's.
        for page in &site.pages {
            sqlx::query(
                "INSERT INTO pages (site_id, path, title) VALUES ($1, $2, $3)
                     ON CONFLICT (site_id, path) DO UPDATE
                     SET title = excluded.title, added_by = NULL",
            )
            .bind(&site.id)
            .bind(&page.path)
            .bind(&page.title)
            .execute(&mut **tx)
            .await?;
        }
        for entry in &site.members {
            let rule = MemberRule::parse(entry).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let known = match &rule {
                MemberRule::Email(email) => {
                    sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1")
                        .bind(email)
                        .fetch_optional(&mut **tx)
                        .await?
                }
                MemberRule::Domain(_) | MemberRule::Group(_) => None,
            };
            // Someone not known yet is a member by rule, from the day they first sign in.
            let Some(user) = known else {
                sqlx::query(
                    "INSERT INTO site_rules (site_id, rule) VALUES ($1, $2)
                         ON CONFLICT (site_id, rule) DO NOTHING",
                )
                .bind(&site.id)
                .bind(rule.to_string())
                .execute(&mut **tx)
                .await?;
                continue;
            };
            sqlx::query(
                "INSERT INTO memberships (site_id, user_id) VALUES ($1, $2)
                     ON CONFLICT (site_id, user_id) DO NOTHING",
            )
            .bind(&site.id)
            .bind(user)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
