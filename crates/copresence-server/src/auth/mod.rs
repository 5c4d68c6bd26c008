//! Who a bearer token signs in: an access token from the organisation's OpenID Connect provider
//! ([`oidc`], for people), or an operator token the service issued (for bots and scripts).
//!
//! A token that verifies as the directory's makes its person known here on first use (just in
//! time) and keeps their name, Teams account and photo the directory's ([`claims`]); its groups
//! decide the sites they may see on that request, with nothing stored. Checking a signature on
//! every heartbeat would cost more than the heartbeat, so a verified token's [`Principal`] is
//! kept in memory until the token expires, in a bounded map.

pub mod claims;
pub mod oidc;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use copresence_core::UserCard;

use crate::clock::now_ms;
use crate::secret;
use crate::store::{Credential, Store, StoreError, Who};
use oidc::OidcVerifier;

/// Someone signed in, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: UserCard,
    /// Their directory groups (none for an operator token).
    pub groups: Vec<String>,
    /// What they signed in with, to check again when access may have been taken away.
    pub credential: Credential,
    /// When their credential stops being valid (ms since the epoch); an event stream ends then.
    pub expires_at: Option<i64>,
}

impl Principal {
    /// Who they are, as membership sees them.
    pub fn who(&self) -> Who<'_> {
        Who {
            id: self.user.id,
            email: &self.user.email,
            groups: &self.groups,
        }
    }
}

/// Checks bearer tokens.
pub struct Authenticator {
    store: Store,
    oidc: Option<OidcVerifier>,
    /// Verified directory tokens by hash, with the generation of keys they were verified under.
    verified: Mutex<HashMap<String, (Principal, u64)>>,
    max_verified: usize,
}

impl Authenticator {
    /// `max_verified`: how many verified directory tokens are kept in memory at most.
    pub fn new(store: Store, oidc: Option<OidcVerifier>, max_verified: usize) -> Arc<Self> {
        Arc::new(Authenticator {
            store,
            oidc,
            verified: Mutex::new(HashMap::new()),
            max_verified,
        })
    }

    pub fn oidc(&self) -> Option<&OidcVerifier> {
        self.oidc.as_ref()
    }

    /// Who `token` signs in now, if anyone.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let now = now_ms();
        if let Some(verifier) = &self.oidc {
            if OidcVerifier::looks_like_jwt(token) {
                return self.directory_principal(verifier, token, now).await;
            }
        }
        let grant = self.store.user_by_token(token, now).await?;
        Ok(grant.map(|grant| Principal {
            user: grant.user,
            groups: Vec::new(),
            credential: Credential::Token(secret::hash(token)),
            expires_at: grant.expires_at,
        }))
    }

    async fn directory_principal(
        &self,
        verifier: &OidcVerifier,
        token: &str,
        now: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let key = secret::hash(token);
        let generation = verifier.keys_generation();
        if let Some((known, verified_under)) = self.lock().get(&key) {
            if known.expires_at.is_some_and(|at| now < at) && *verified_under == generation {
                return Ok(Some(known.clone()));
            }
        }
        let verified = match verifier.verify(token).await {
            Ok(verified) => verified,
            Err(reason) => {
                tracing::info!(%reason, "an access token was refused");
                return Ok(None);
            }
        };
        let Some(user) = self.store.directory_user(&verified.person).await? else {
            tracing::warn!(
                email = %verified.person.email,
                subject = %verified.person.subject,
                "a token names an e-mail bound to another sign-in: refused"
            );
            return Ok(None);
        };
        let principal = Principal {
            user,
            groups: verified.groups,
            credential: Credential::Directory {
                expires_at: verified.expires_at,
            },
            expires_at: Some(verified.expires_at),
        };
        let mut verified_tokens = self.lock();
        if verified_tokens.len() >= self.max_verified {
            verified_tokens.retain(|_, (p, _)| p.expires_at.is_some_and(|at| now < at));
            if verified_tokens.len() >= self.max_verified {
                // Still full of live tokens: start again rather than grow; they verify again.
                verified_tokens.clear();
            }
        }
        verified_tokens.insert(key, (principal.clone(), generation));
        Ok(Some(principal))
    }

    /// Forget the verified tokens of `users`, whose access was just taken away: their next
    /// request is checked afresh, against a store that no longer lets them in.
    pub fn forget_users(&self, users: &[copresence_core::UserId]) {
        self.lock()
            .retain(|_, (principal, _)| !users.contains(&principal.user.id));
    }

    /// Forget every verified token (news of revocations was missed).
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Principal, u64)>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}
