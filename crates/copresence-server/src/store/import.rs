//! `import`: the organisation file into the store, all of it or nothing.
//!
//! Users, sites, pages and memberships are inserted or updated in one transaction, so a file
//! that fails half-way changes nothing; `import --prune` removes what the file no longer lists
//! in that same transaction ([`prune`]).

use super::{prune, PruneReport, Store, StoreError};
use crate::org::Organisation;

impl Store {
    /// Insert or update everything in the organisation file, in one transaction: a file that
    /// fails half-way changes nothing.
    pub async fn import(&self, org: &Organisation) -> Result<(), StoreError> {
        org.validate().map_err(StoreError::Invalid)?;
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
        dry_run: bool,
        now: i64,
    ) -> Result<PruneReport, StoreError> {
        org.validate().map_err(StoreError::Invalid)?;
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
        sqlx::query(
            "INSERT INTO sites (id, name, url) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url",
        )
        .bind(&site.id)
        .bind(&site.name)
        .bind(&site.url)
        .execute(&mut **tx)
        .await?;
        for page in &site.pages {
            sqlx::query(
                "INSERT INTO pages (site_id, path, title) VALUES ($1, $2, $3)
                     ON CONFLICT (site_id, path) DO UPDATE SET title = excluded.title",
            )
            .bind(&site.id)
            .bind(&page.path)
            .bind(&page.title)
            .execute(&mut **tx)
            .await?;
        }
        for email in &site.members {
            let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut **tx)
                .await?;
            let user = user.ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "site {:?} lists member {email:?}, who is neither in this file's users nor already known",
                        site.id
                    ))
                })?;
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
