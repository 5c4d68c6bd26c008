//! The durable store: users, sites, pages, memberships, token and ticket hashes, save history.
//!
//! One implementation over `sqlx`'s `Any` driver, so the same portable SQL (numbered `$N`
//! parameters, `ON CONFLICT`, `RETURNING`) runs on the embedded SQLite file and, for several
//! nodes, on PostgreSQL; only the table definitions differ. Live presence never touches this store:
//! it is what must survive a restart.
//!
//! This file opens the database and brings its schema up to date; each resource answers from a
//! file of its own: `users`, `sites` (with their pages and members), `saves`, `credentials`,
//! and `import` of the organisation file with its `prune`.

use std::path::Path;
use std::sync::Arc;

use copresence_core::UserCard;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

mod credentials;
mod import;
mod prune;
mod saves;
mod sites;
mod users;

pub use credentials::TokenGrant;
pub use credentials::{Credential, TicketGrant, TokenInfo};
pub use prune::PruneReport;
pub use saves::SaveError;
pub use sites::{PageAdded, PageCap, PageLimits, StoredSite, Who, DEFAULT_MAX_PAGES_PER_SITE};
pub use users::DirectoryPerson;

use crate::readcache::{LoadError, Policy, ReadCache};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
}

/// The cache answers from memory only when the database could not be reached: any other
/// refusal is the answer.
impl LoadError for StoreError {
    fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    cache: Arc<ReadCache<StoreError>>,
}

/// How long identity, membership and page answers are served from memory.
const FRESH: Policy = Policy::Fresh(std::time::Duration::from_secs(10));

/// The schema, one numbered migration after another (`migrations/<engine>/`); each database
/// records which it has applied, so a later change reaches databases made before it.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The columns of a user card, of the `users` table named `u`, in [`user_from`]'s order: a
/// macro, so queries are built with `concat!` at compile time.
macro_rules! user_columns {
    () => {
        "u.id, u.name, u.email, u.teams, u.photo"
    };
}
use user_columns;

/// How many columns [`user_columns!`] names.
const USER_COLUMN_COUNT: usize = 5;

/// A user card from the columns of [`user_columns!`] from `offset` on.
fn user_from(row: &AnyRow, offset: usize) -> Result<UserCard, sqlx::Error> {
    Ok(UserCard {
        id: row.try_get(offset)?,
        name: row.try_get(offset + 1)?,
        email: row.try_get(offset + 2)?,
        teams: row.try_get(offset + 3)?,
        photo: row.try_get(offset + 4)?,
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
            let old: String = include_str!("../../migrations/sqlite/0001_initial.sql")
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
        let groups = ["Makers".to_owned()];
        let who = Who {
            id: ann.id,
            email: &ann.email,
            groups: &groups,
        };
        let ticket = store
            .issue_ticket(who, Some(30_000), &["contoso".to_owned()], 1_000, 60_000)
            .await
            .expect("the ticket's new columns are there");
        let grant = store.ticket(&ticket.ticket, 2_000).await.unwrap().unwrap();
        assert_eq!(grant.sites, ["contoso"]);
        assert_eq!(grant.groups, groups);
        assert_eq!(
            grant.expires_at, 30_000,
            "not beyond what it was taken with"
        );
        assert_eq!(store.last_revocation().await.unwrap(), 0);
        // Opening again applies nothing twice.
        drop(store);
        Store::open_dir(dir.path(), 1 << 20).await.unwrap();
    }

    #[tokio::test]
    async fn a_directory_sign_in_binds_an_email_to_its_subject() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path(), 1 << 20).await.unwrap();
        let org = crate::org::Organisation::parse(
            "[[users]]\nemail = \"Ann@Contoso.test\"\nname = \"Ann Lee\"\n",
        )
        .unwrap();
        store
            .import(&org, sites::DEFAULT_MAX_PAGES_PER_SITE)
            .await
            .unwrap();
        let listed = store
            .user_by_email("ann@contoso.test")
            .await
            .unwrap()
            .unwrap();
        let person = |subject: &str, email: &str, name: &str| DirectoryPerson {
            subject: subject.into(),
            email: email.into(),
            name: name.into(),
            teams: None,
            photo: None,
        };
        // The file's Ann, whatever the case of her address, is bound to her first sign-in...
        let ann = store
            .directory_user(&person("idp ann", "ann@contoso.test", "Ann L."))
            .await
            .unwrap()
            .expect("Ann signs in");
        assert_eq!(ann.id, listed.id);
        assert_eq!(ann.name, "Ann L.", "her name follows the directory");
        // ...and nobody else can sign in as her, even with her address in their token.
        assert_eq!(
            store
                .directory_user(&person("idp mallory", "ann@contoso.test", "Ann"))
                .await
                .unwrap(),
            None
        );
        // Someone new is made known.
        let bo = store
            .directory_user(&person("idp bo", "bo@contoso.test", "Bo"))
            .await
            .unwrap()
            .expect("Bo is made known");
        assert_ne!(bo.id, ann.id);
    }
}
