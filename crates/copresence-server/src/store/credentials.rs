//! Credentials: operator tokens and `EventSource` tickets, and the log of access taken away.
//!
//! Only hashes are stored. A token is named, in `token list` and `token revoke --id`, by the
//! start of its hash: enough to tell one from another, useless for signing in.
//!
//! Every revocation (tokens revoked, a member or user pruned) appends the user to
//! `revocations`. Each node reads what is new there every second ([`Store::revocations_after`])
//! and ends the event streams it concerns: that is how a revocation made by the command line
//! reaches the open streams of every node, whatever caches they hold.

use copresence_core::{validate_site_id, Ticket, UserCard, UserId};
use sqlx::Row;

use super::{user_columns, user_from, Store, StoreError, Who, FRESH, USER_COLUMN_COUNT};
use crate::secret;

/// How many hex digits of a token's hash name it.
pub const TOKEN_ID_LEN: usize = 12;
/// The fewest digits `token revoke --id` takes: fewer could match several tokens by chance.
pub const MIN_TOKEN_ID_LEN: usize = 8;

/// An operator token as `token list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The start of the token's hash.
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: i64,
    /// When it stops signing in (ms since the epoch); never when `None`.
    pub expires_at: Option<i64>,
}

/// Who an operator token signs in, and until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenGrant {
    pub user: UserCard,
    pub expires_at: Option<i64>,
}

/// What a ticket is good for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketGrant {
    pub user: UserCard,
    /// The sites it was asked for.
    pub sites: Vec<String>,
    pub expires_at: i64,
    /// The directory groups its holder signed in with.
    pub groups: Vec<String>,
}

/// What an event stream was opened with, kept to check it again when access may have been
/// taken away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token, by its hash.
    Token(String),
    /// A ticket, by its hash.
    Ticket(String),
    /// An access token from the organisation's directory (OpenID Connect): it holds until it
    /// expires, and is checked by its signature, not by anything stored here.
    Directory { expires_at: i64 },
}

impl Store {
    /// Store the hash of a new bearer token for the user with this e-mail, good until
    /// `expires_at` (ms since the epoch; forever when `None`), and return the token.
    pub async fn issue_token(
        &self,
        email: &str,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<String, StoreError> {
        let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        let user = user.ok_or_else(|| {
            StoreError::Invalid(format!(
                "no user with e-mail {email:?}: add them with `import` first"
            ))
        })?;
        let token = secret::new_token("cpt");
        sqlx::query(
            "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret::hash(&token))
        .bind(user)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// Who a bearer token signs in at `now`, from memory for a short while. Unknown tokens are
    /// never kept: anyone can make up any number of them.
    pub async fn user_by_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<TokenGrant>, StoreError> {
        self.user_by_token_hash(&secret::hash(token), now).await
    }

    /// [`Store::user_by_token`], by the token's hash.
    pub async fn user_by_token_hash(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<TokenGrant>, StoreError> {
        let key = format!("token:{hash}");
        let grant = self
            .cache
            .get_kept_if(key, FRESH, Option::is_some, async {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.hash = $1"
                ))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                let grant = |r: &sqlx::any::AnyRow| -> Result<TokenGrant, sqlx::Error> {
                    Ok(TokenGrant {
                        user: user_from(r, 0)?,
                        expires_at: r.try_get(USER_COLUMN_COUNT)?,
                    })
                };
                Ok(row.as_ref().map(grant).transpose()?)
            })
            .await?;
        // Checked on every use, cached or not: a token stops at its expiry, not 10 s later.
        Ok(grant.filter(|g| g.expires_at.is_none_or(|at| now < at)))
    }

    /// The operator tokens, of one user or of everyone, oldest first.
    pub async fn tokens(&self, email: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.hash, u.email, u.name, t.created_at, t.expires_at FROM tokens t
             JOIN users u ON u.id = t.user_id
             WHERE $1 = '' OR u.email = $1 ORDER BY t.created_at, t.hash",
        )
        .bind(email.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get(0)?;
                Ok(TokenInfo {
                    id: hash[..TOKEN_ID_LEN.min(hash.len())].to_owned(),
                    email: row.try_get(1)?,
                    name: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                    expires_at: row.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Revoke every token of the user with this e-mail, and their tickets. Returns how many
    /// tokens went.
    pub async fn revoke_tokens_of(&self, email: &str, now: i64) -> Result<usize, StoreError> {
        let user = self
            .user_by_email(email)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no user with e-mail {email:?}")))?
            .id;
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query("DELETE FROM tokens WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        revoke_in(&mut tx, user, now).await?;
        tx.commit().await?;
        Ok(revoked as usize)
    }

    /// Revoke the one token whose id (the start of its hash, as `token list` shows) is `id`,
    /// and its user's tickets. Returns the user's e-mail.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<String, StoreError> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() < MIN_TOKEN_ID_LEN || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "a token id is at least {MIN_TOKEN_ID_LEN} hex digits, as `token list` shows"
            )));
        }
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT t.hash, t.user_id, u.email FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash LIKE $1",
        )
        .bind(format!("{id}%"))
        .fetch_all(&mut *tx)
        .await?;
        let [row] = rows.as_slice() else {
            return Err(StoreError::Invalid(match rows.len() {
                0 => format!("no token has the id {id}"),
                n => format!("{n} tokens start with {id}: give more of the id"),
            }));
        };
        let hash: String = row.try_get(0)?;
        let user: i64 = row.try_get(1)?;
        let email: String = row.try_get(2)?;
        sqlx::query("DELETE FROM tokens WHERE hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        revoke_in(&mut tx, user, now).await?;
        tx.commit().await?;
        Ok(email)
    }

    /// A short-lived ticket for `GET /v1/events?ticket=` for `who`, good for `sites` only and
    /// not beyond `credential_expires_at` (the expiry of what they signed in with); expired
    /// tickets are swept on the way.
    pub async fn issue_ticket(
        &self,
        who: Who<'_>,
        credential_expires_at: Option<i64>,
        sites: &[String],
        now: i64,
        lifetime_ms: i64,
    ) -> Result<Ticket, StoreError> {
        sqlx::query("DELETE FROM tickets WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let ticket = secret::new_token("cpk");
        let expires_at =
            credential_expires_at.map_or(now + lifetime_ms, |at| at.min(now + lifetime_ms));
        let sites_json = serde_json::to_string(sites).expect("site ids always serialise");
        let groups_json = serde_json::to_string(who.groups).expect("groups always serialise");
        sqlx::query(
            "INSERT INTO tickets (hash, user_id, expires_at, sites, groups)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secret::hash(&ticket))
        .bind(who.id)
        .bind(expires_at)
        .bind(sites_json)
        .bind(groups_json)
        .execute(&self.pool)
        .await?;
        Ok(Ticket { ticket, expires_at })
    }

    /// What a ticket is good for, while it is.
    pub async fn ticket(&self, ticket: &str, now: i64) -> Result<Option<TicketGrant>, StoreError> {
        self.ticket_by_hash(&secret::hash(ticket), now).await
    }

    /// [`Store::ticket`], by the ticket's hash.
    pub async fn ticket_by_hash(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<TicketGrant>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", t.sites, t.expires_at, t.groups FROM tickets t
             JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND t.expires_at >= $2"
        ))
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let sites: String = row.try_get(USER_COLUMN_COUNT)?;
        // Tickets from before they were scoped carry no sites: they are good for none.
        let sites: Vec<String> = serde_json::from_str::<Vec<String>>(&sites)
            .unwrap_or_default()
            .into_iter()
            .filter(|site| validate_site_id(site).is_ok())
            .collect();
        let groups: String = row.try_get(USER_COLUMN_COUNT + 2)?;
        Ok(Some(TicketGrant {
            user: user_from(&row, 0)?,
            sites,
            expires_at: row.try_get(USER_COLUMN_COUNT + 1)?,
            groups: serde_json::from_str(&groups).unwrap_or_default(),
        }))
    }

    /// Whether `credential` still signs in `user`, asking the database (not the cache).
    pub async fn credential_holds(
        &self,
        credential: &Credential,
        user: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(match credential {
            Credential::Token(hash) => {
                self.cache.forget(&format!("token:{hash}"));
                self.user_by_token_hash(hash, now)
                    .await?
                    .is_some_and(|g| g.user.id == user)
            }
            Credential::Directory { expires_at } => now < *expires_at,
            Credential::Ticket(hash) => self
                .ticket_by_hash(hash, now)
                .await?
                .is_some_and(|t| t.user.id == user),
        })
    }

    /// The newest entry of the revocation log (0 when it is empty).
    pub async fn last_revocation(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM revocations")
            .fetch_one(&self.pool)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// The users whose access was taken away after log entry `after`, and the newest entry.
    pub async fn revocations_after(&self, after: i64) -> Result<(Vec<UserId>, i64), StoreError> {
        let rows = sqlx::query("SELECT seq, user_id FROM revocations WHERE seq > $1 ORDER BY seq")
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
        let mut last = after;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            last = last.max(row.try_get(0)?);
            users.push(row.try_get(1)?);
        }
        users.sort_unstable();
        users.dedup();
        Ok((users, last))
    }

    /// Forget every answer held in memory: after a revocation, nothing may come from before it.
    pub fn forget_cached(&self) {
        self.cache.forget_all();
    }
}

/// Log that `user` lost access, and drop their tickets, inside `tx`. Old log entries go on the
/// way: a node reads the log every second, so a day's worth is far more than any needs.
pub(super) async fn revoke_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: UserId,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM tickets WHERE user_id = $1")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO revocations (user_id, at) VALUES ($1, $2)")
        .bind(user)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM revocations WHERE at < $1")
        .bind(now - 86_400_000)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
