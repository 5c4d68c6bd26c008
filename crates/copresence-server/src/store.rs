//! The durable store: users, sites, pages, memberships, token and ticket hashes, save history.
//!
//! One implementation over `sqlx`'s `Any` driver, so the same portable SQL (numbered `$N`
//! parameters, `ON CONFLICT`, `RETURNING`) runs on the embedded SQLite file and, for several
//! nodes, on PostgreSQL; only the table definitions differ. Live presence never touches this store:
//! it is what must survive a restart.

use std::path::Path;
use std::sync::Arc;

use copresence_core::{Page, SaveRecord, SiteInfo, UserCard, UserId};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

mod credentials;
mod prune;

pub use credentials::{Credential, TicketGrant, TokenInfo};
pub use prune::PruneReport;

use crate::org::Organisation;
use crate::readcache::{Policy, ReadCache};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A site as the store knows it: what is needed to answer for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredSite {
    pub info: SiteInfo,
    pub version: i64,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    cache: Arc<ReadCache>,
}

/// How long identity, membership and page answers are served from memory.
const FRESH: Policy = Policy::Fresh(std::time::Duration::from_secs(10));

/// The schema, one numbered migration after another (`migrations/<engine>/`); each database
/// records which it has applied, so a later change reaches databases made before it.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

const SAVE_COLUMNS: &str = "s.version, s.page, s.at, s.forced, u.id, u.name, u.email, u.teams";

fn user_from(row: &AnyRow, offset: usize) -> Result<UserCard, sqlx::Error> {
    Ok(UserCard {
        id: row.try_get(offset)?,
        name: row.try_get(offset + 1)?,
        email: row.try_get(offset + 2)?,
        teams: row.try_get(offset + 3)?,
    })
}

fn save_from(row: &AnyRow) -> Result<SaveRecord, sqlx::Error> {
    Ok(SaveRecord {
        version: row.try_get(0)?,
        page: row.try_get(1)?,
        at: row.try_get(2)?,
        forced: row.try_get::<i64, _>(3)? != 0,
        user: user_from(row, 4)?,
    })
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

/// The data directory (0700) and the database file (0600), created readable by this user only:
/// they hold every member's name and e-mail and the token hashes. SQLite gives its `-wal` and
/// `-shm` files the database file's permissions.
#[cfg(unix)]
fn private_files(dir: &Path, db: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(db)?;
    std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600))
}

/// Elsewhere the directory inherits the user profile's access rules.
#[cfg(not(unix))]
fn private_files(dir: &Path, _db: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

impl Store {
    /// Open (creating if needed) the embedded SQLite store in `dir`, keeping up to
    /// `cache_bytes` of recent answers in memory.
    pub async fn open_dir(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let path = dir.join("copresence.db");
        private_files(dir, &path).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot prepare the data directory {}: {e}",
                dir.display()
            ))
        })?;
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::open(&url, cache_bytes).await
    }

    /// Open a store by URL: `sqlite://…` or `postgres://…`.
    pub async fn open(url: &str, cache_bytes: u64) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL (want sqlite:// or postgres://): {url}"
            )));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            // A database that does not answer soon is reported as unavailable (503 with
            // Retry-After) rather than holding the request.
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect(url)
            .await?;
        let store = Store {
            pool,
            cache: Arc::new(ReadCache::new(cache_bytes)),
        };
        store.migrate(backend).await?;
        Ok(store)
    }

    async fn migrate(&self, backend: Backend) -> Result<(), StoreError> {
        let migrator = match backend {
            Backend::Sqlite => {
                // WAL lets readers carry on while a save commits; it persists in the file.
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&self.pool)
                    .await?;
                &SQLITE_MIGRATIONS
            }
            // sqlx takes an advisory lock on PostgreSQL: nodes starting together migrate once.
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|error| match error {
            sqlx::migrate::MigrateError::Execute(e) => StoreError::Unavailable(e),
            other => StoreError::Invalid(format!(
                "cannot bring the database schema up to date: {other}"
            )),
        })
    }

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
            "INSERT INTO users (email, name, teams) VALUES ($1, $2, $3)
                 ON CONFLICT (email) DO UPDATE SET name = excluded.name, teams = excluded.teams",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.teams.clone())
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

impl Store {
    /// A user's card, if `viewer` may see it: themselves, or someone sharing a site with them.
    pub async fn user_visible_to(
        &self,
        viewer: UserId,
        user: UserId,
    ) -> Result<Option<UserCard>, StoreError> {
        let key = format!("visible:{viewer}:{user}");
        self.cache
            .get(key, FRESH, async {
            let row = sqlx::query(
                "SELECT u.id, u.name, u.email, u.teams FROM users u WHERE u.id = $1 AND (u.id = $2 OR EXISTS (
                     SELECT 1 FROM memberships a JOIN memberships b ON a.site_id = b.site_id
                     WHERE a.user_id = $1 AND b.user_id = $2))",
            )
            .bind(user)
            .bind(viewer)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|r| user_from(&r, 0)).transpose()?)
            })
            .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserCard>, StoreError> {
        let row = sqlx::query("SELECT id, name, email, teams FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| user_from(&r, 0)).transpose()?)
    }

    /// The sites `user` is a member of, by name.
    pub async fn sites_of(&self, user: UserId) -> Result<Vec<StoredSite>, StoreError> {
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

    /// The site, if `user` is a member of it. A site one is not a member of does not exist.
    pub async fn site_of(
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
                let rows = sqlx::query(
                    "SELECT u.id, u.name, u.email, u.teams FROM users u
                 JOIN memberships m ON m.user_id = u.id WHERE m.site_id = $1 ORDER BY u.id",
                )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_made_before_migrations_is_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copresence.db");
        // The schema as the service created it before versioned migrations, with a user.
        {
            sqlx::any::install_default_drivers();
            let pool = AnyPoolOptions::new()
                .connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .unwrap();
            let old: String = include_str!("../migrations/sqlite/0001_initial.sql")
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            for statement in old.split(';').filter(|s| !s.trim().is_empty()) {
                sqlx::query(statement).execute(&pool).await.unwrap();
            }
            sqlx::query("INSERT INTO users (email, name) VALUES ('ann@x.test', 'Ann')")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let store = Store::open_dir(dir.path(), 1 << 20).await.unwrap();
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let ticket = store
            .issue_ticket(ann.id, &["contoso".to_owned()], 1_000, 60_000)
            .await
            .expect("the ticket's new column is there");
        let grant = store.ticket(&ticket.ticket, 2_000).await.unwrap().unwrap();
        assert_eq!(grant.sites, ["contoso"]);
        assert_eq!(store.last_revocation().await.unwrap(), 0);
        // Opening again applies nothing twice.
        drop(store);
        Store::open_dir(dir.path(), 1 << 20).await.unwrap();
    }
}
