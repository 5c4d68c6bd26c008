//! Saves: a site's version and the history of who saved what, when.
//!
//! A save names the version it was made on; it is refused as stale when someone else saved
//! first, unless forced. The check and the increment are one statement, so this holds across
//! nodes sharing a database.

use copresence_core::{SaveRecord, UserCard};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{user_columns, user_from, Store, StoreError};
use crate::readcache::Policy;

/// Why a save was refused.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the site is at version {current}, not the base version of this save")]
    Stale {
        current: i64,
        last_save: Option<SaveRecord>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The columns [`save_from`] reads, in its order: the save, then who made it.
const SAVE_COLUMNS: &str = concat!("s.version, s.page, s.at, s.forced, ", user_columns!());

fn save_from(row: &AnyRow) -> Result<SaveRecord, sqlx::Error> {
    Ok(SaveRecord {
        version: row.try_get(0)?,
        page: row.try_get(1)?,
        at: row.try_get(2)?,
        forced: row.try_get::<i64, _>(3)? != 0,
        user: user_from(row, 4)?,
    })
}

impl Store {
    /// The first and the most recent save of a site.
    pub async fn first_and_last_save(
        &self,
        site: &str,
    ) -> Result<(Option<SaveRecord>, Option<SaveRecord>), StoreError> {
        let key = format!("first_last_save:{site}");
        self.cache
            .get(key, Policy::Fallback, async {
                let query = |order: &str| {
                    format!(
                        "SELECT {SAVE_COLUMNS} FROM saves s JOIN users u ON u.id = s.user_id
                     WHERE s.site_id = $1 ORDER BY s.version {order} LIMIT 1"
                    )
                };
                let first = sqlx::query(&query("ASC"))
                    .bind(site)
                    .fetch_optional(&self.pool)
                    .await?;
                let last = sqlx::query(&query("DESC"))
                    .bind(site)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok((
                    first.map(|r| save_from(&r)).transpose()?,
                    last.map(|r| save_from(&r)).transpose()?,
                ))
            })
            .await
    }

    /// A site's save history, newest first.
    pub async fn saves(&self, site: &str, limit: i64) -> Result<Vec<SaveRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SAVE_COLUMNS} FROM saves s JOIN users u ON u.id = s.user_id
             WHERE s.site_id = $1 ORDER BY s.version DESC LIMIT $2"
        ))
        .bind(site)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(save_from).collect::<Result<_, _>>()?)
    }

    /// Record a save on top of `base_version`. The version check and the increment are one
    /// statement, so two nodes saving at once cannot both win.
    pub async fn save(
        &self,
        site: &str,
        user: &UserCard,
        page: &str,
        base_version: i64,
        force: bool,
        now: i64,
    ) -> Result<SaveRecord, SaveError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let bump = if force {
            "UPDATE sites SET version = version + 1 WHERE id = $1 RETURNING version"
        } else {
            "UPDATE sites SET version = version + 1 WHERE id = $1 AND version = $2 RETURNING version"
        };
        let version: Option<i64> = sqlx::query_scalar(bump)
            .bind(site)
            .bind(base_version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let Some(version) = version else {
            drop(tx);
            let current: i64 = sqlx::query_scalar("SELECT version FROM sites WHERE id = $1")
                .bind(site)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::from)?;
            let (_, last_save) = self.first_and_last_save(site).await?;
            return Err(SaveError::Stale { current, last_save });
        };
        let forced = force && version - 1 != base_version;
        sqlx::query(
            "INSERT INTO saves (site_id, version, page, user_id, at, forced)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(site)
        .bind(version)
        .bind(page)
        .bind(user.id)
        .bind(now)
        .bind(i64::from(forced))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(SaveRecord {
            version,
            page: page.to_owned(),
            user: user.clone(),
            at: now,
            forced,
        })
    }
}
