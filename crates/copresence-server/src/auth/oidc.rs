//! Access tokens from the organisation's OpenID Connect provider: the service is a resource
//! server that checks them itself.
//!
//! For each configured issuer the service reads its discovery document
//! (`/.well-known/openid-configuration`) and its keys (JWKS), and keeps them. A token is taken
//! when its signature verifies with one of those keys under an asymmetric algorithm the key is
//! for (never `none`, never an HMAC keyed with a public key), its `iss` is the issuer exactly,
//! its `aud` names this service, and `exp`/`nbf` hold within a small leeway. A token signed
//! with a key the service has not seen makes it read the keys again — that is how a provider's
//! key rotation arrives — but not more often than a set interval, so made-up key ids cannot
//! make it hammer the provider. Signature checking is `jsonwebtoken`'s: the well-kept JOSE
//! crate for verifying JWTs, with the pure-Rust RustCrypto backend.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use copresence_core::address::is_https_or_loopback;
pub use copresence_core::ProviderMetadata;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use super::claims::{person_of, ClaimNames};
use crate::store::DirectoryPerson;

/// Signature algorithms taken: RSA, RSA-PSS, ECDSA and EdDSA. Not HMAC: its key is a shared
/// secret, and a provider's published key must never be usable as one.
const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// How often every issuer's keys are read again, whatever tokens arrive.
pub const KEYS_READ_EVERY: Duration = Duration::from_secs(3600);

/// How long a request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// One provider whose tokens are taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Exactly as the provider writes `iss`.
    pub issuer: String,
    /// What `aud` must name.
    pub audience: String,
    /// The public client the tray and the CLI sign in with (told to them by `GET /v1/auth`).
    pub client_id: Option<String>,
    /// The scopes they ask for.
    pub scopes: Vec<String>,
}

/// Everything that decides which tokens are taken.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuers: Vec<IssuerConfig>,
    pub claims: ClaimNames,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The least time between two readings of an issuer's keys.
    pub jwks_min_refresh: Duration,
}

/// Why a token was not taken (for the log: the caller is told only that it was not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not a JWT: {0}")]
    Malformed(String),
    #[error("algorithm {0} is not taken")]
    Algorithm(String),
    #[error("issued by {0:?}, not a configured issuer")]
    UnknownIssuer(String),
    #[error("no key {0:?} at the issuer")]
    UnknownKey(String),
    #[error("the issuer cannot be reached: {0}")]
    IssuerUnavailable(String),
    #[error("{0}")]
    Invalid(String),
}

/// A token that was taken: who it is, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub person: DirectoryPerson,
    pub groups: Vec<String>,
    /// ms since the epoch.
    pub expires_at: i64,
}

/// Whether `url` may be an issuer's or its keys' address: https, or http only on loopback
/// (a test's provider).
pub fn check_provider_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !is_https_or_loopback(&parsed) {
        return Err(format!(
            "{url:?}: an OpenID provider must be reached over https (http only on this machine)"
        ));
    }
    Ok(parsed)
}

struct Keys {
    metadata: Option<ProviderMetadata>,
    set: JwkSet,
}

struct Issuer {
    config: IssuerConfig,
    keys: RwLock<Keys>,
    /// When the keys were last read or tried; held while reading, so one reading at a time.
    reading: Mutex<Option<Instant>>,
}

pub struct OidcVerifier {
    issuers: Vec<Issuer>,
    /// Grows each time an issuer's keys change: a token verified under older keys is checked
    /// again, so one signed with a key the provider has withdrawn stops working.
    keys_generation: AtomicU64,
    claims: ClaimNames,
    leeway: Duration,
    jwks_min_refresh: Duration,
    http: reqwest::Client,
}

impl OidcVerifier {
    pub fn new(settings: OidcSettings) -> Result<OidcVerifier, String> {
        let mut issuers = Vec::new();
        for config in settings.issuers {
            check_provider_url(&config.issuer)?;
            if config.audience.trim().is_empty() {
                return Err(format!("issuer {:?} needs an audience", config.issuer));
            }
            issuers.push(Issuer {
                config,
                keys: RwLock::new(Keys {
                    metadata: None,
                    set: JwkSet { keys: Vec::new() },
                }),
                reading: Mutex::new(None),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(OidcVerifier {
            issuers,
            keys_generation: AtomicU64::new(0),
            claims: settings.claims,
            leeway: settings.leeway,
            jwks_min_refresh: settings.jwks_min_refresh,
            http,
        })
    }

    /// Which keys tokens are verified under now: see [`OidcVerifier::keys_generation`].
    pub fn keys_generation(&self) -> u64 {
        self.keys_generation.load(Ordering::SeqCst)
    }

    /// Whether `token` has a JWT's shape (three base64url parts), so it is one of ours to check
    /// rather than an operator token.
    pub fn looks_like_jwt(token: &str) -> bool {
        let parts: Vec<&str> = token.split('.').collect();
        parts.len() == 3
            && parts[..2].iter().all(|p| !p.is_empty())
            && parts.iter().all(|p| {
                p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    }

    /// Read every issuer's discovery document and keys now, so the first sign-in does not wait,
    /// and again every [`KEYS_READ_EVERY`], so a key the provider withdraws stops verifying
    /// even when no token names a new one. Runs for as long as the service does.
    pub async fn keep_keys_current(&self) {
        loop {
            for issuer in &self.issuers {
                if let Err(error) = self.read_keys(issuer).await {
                    tracing::warn!(issuer = %issuer.config.issuer, %error, "the OpenID provider cannot be read");
                }
            }
            tokio::time::sleep(KEYS_READ_EVERY).await;
        }
    }

    /// What a client needs to sign in with each issuer.
    pub async fn describe(&self) -> Vec<(IssuerConfig, Option<ProviderMetadata>)> {
        let mut described = Vec::new();
        for issuer in &self.issuers {
            let mut metadata = issuer.keys.read().await.metadata.clone();
            if metadata.is_none() {
                // Waits for a reading under way; reads itself only when none was tried lately.
                let _ = self.read_keys_if_due(issuer).await;
                metadata = issuer.keys.read().await.metadata.clone();
            }
            described.push((issuer.config.clone(), metadata));
        }
        described
    }

    /// Check `token` at `now` (ms since the epoch).
    pub async fn verify(&self, token: &str) -> Result<Verified, Rejected> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Rejected::Malformed(e.to_string()))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(Rejected::Algorithm(format!("{:?}", header.alg)));
        }
        let claimed_issuer = unverified_issuer(token)?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.config.issuer == claimed_issuer)
            .ok_or_else(|| Rejected::UnknownIssuer(claimed_issuer.clone()))?;
        let key = self
            .key_for(issuer, header.kid.as_deref(), header.alg)
            .await?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&issuer.config.issuer]);
        validation.set_audience(&[&issuer.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway.as_secs();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| Rejected::Invalid(e.to_string()))?;
        let expires_at = data
            .claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| Rejected::Invalid("no exp".into()))?
            .saturating_mul(1000);
        // To the millisecond, as the stream that ends at `exp` counts it (the JWT check counts
        // whole seconds).
        let leeway_ms = i64::try_from(self.leeway.as_millis()).unwrap_or(i64::MAX);
        if expires_at.saturating_add(leeway_ms) <= crate::clock::now_ms() {
            return Err(Rejected::Invalid("expired".into()));
        }
        let (person, groups) =
            person_of(&data.claims, &self.claims).map_err(|e| Rejected::Invalid(e.to_string()))?;
        Ok(Verified {
            person,
            groups,
            expires_at,
        })
    }

    /// The key `kid` of `issuer` for `alg`, reading the issuer's keys again when it is not
    /// known (at most once per [`OidcSettings::jwks_min_refresh`]).
    async fn key_for(
        &self,
        issuer: &Issuer,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, Rejected> {
        if let Some(key) = find_key(&issuer.keys.read().await.set, kid, alg)? {
            return Ok(key);
        }
        if self.read_keys_if_due(issuer).await? {
            if let Some(key) = find_key(&issuer.keys.read().await.set, kid, alg)? {
                return Ok(key);
            }
        }
        Err(Rejected::UnknownKey(kid.unwrap_or("(none)").to_owned()))
    }

    /// Read `issuer`'s keys again unless they were read (or tried) within the refresh interval:
    /// many tokens naming unknown keys at once make one reading, and a provider that is down is
    /// not asked on every request. Whether the keys were read now.
    async fn read_keys_if_due(&self, issuer: &Issuer) -> Result<bool, Rejected> {
        let mut tried = issuer.reading.lock().await;
        if tried.is_some_and(|at: Instant| at.elapsed() < self.jwks_min_refresh) {
            return Ok(false);
        }
        *tried = Some(Instant::now());
        self.read_keys_now(issuer)
            .await
            .map_err(Rejected::IssuerUnavailable)?;
        Ok(true)
    }

    /// Read `issuer`'s keys (and its discovery document, until it has been read once).
    async fn read_keys(&self, issuer: &Issuer) -> Result<(), String> {
        let mut tried = issuer.reading.lock().await;
        *tried = Some(Instant::now());
        self.read_keys_now(issuer).await
    }

    async fn read_keys_now(&self, issuer: &Issuer) -> Result<(), String> {
        let known = issuer.keys.read().await.metadata.clone();
        let metadata = match known {
            Some(metadata) => metadata,
            None => self.discover(&issuer.config.issuer).await?,
        };
        let set: JwkSet = self
            .http
            .get(&metadata.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("cannot read the keys at {}: {e}", metadata.jwks_uri))?
            .json()
            .await
            .map_err(|e| format!("the keys at {} are not a JWKS: {e}", metadata.jwks_uri))?;
        let mut keys = issuer.keys.write().await;
        // Any change of the keys themselves, not only of their ids: a key withdrawn under an
        // id that stays must stop verifying too.
        let material = |set: &JwkSet| serde_json::to_string(set).unwrap_or_default();
        if material(&keys.set) != material(&set) {
            self.keys_generation.fetch_add(1, Ordering::SeqCst);
        }
        keys.metadata = Some(metadata);
        keys.set = set;
        Ok(())
    }

    async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let metadata: ProviderMetadata = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("cannot read {url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{url} is not a discovery document: {e}"))?;
        if metadata.issuer != issuer {
            return Err(format!(
                "{url} names the issuer {:?}, not {issuer:?}",
                metadata.issuer
            ));
        }
        check_provider_url(&metadata.jwks_uri)?;
        Ok(metadata)
    }
}

/// The key of `set` named `kid` (or its only key, when the token names none), if it is an
/// asymmetric key for `alg`.
fn find_key(
    set: &JwkSet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<Option<DecodingKey>, Rejected> {
    let jwk = match kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => return Err(Rejected::Invalid("the token names no key".into())),
    };
    let Some(jwk) = jwk else { return Ok(None) };
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return Err(Rejected::Invalid(
            "a shared-secret key is never taken".into(),
        ));
    }
    if let Some(key_alg) = jwk.common.key_algorithm {
        let matches = Algorithm::from_str(&key_alg.to_string()).is_ok_and(|a| a == alg);
        if !matches {
            return Err(Rejected::Invalid(format!(
                "the key is for {key_alg}, the token says {alg:?}"
            )));
        }
    }
    DecodingKey::from_jwk(jwk)
        .map(Some)
        .map_err(|e| Rejected::Invalid(format!("unusable key: {e}")))
}

/// The `iss` a token claims, before anything is verified: only to pick whose keys check it.
fn unverified_issuer(token: &str) -> Result<String, Rejected> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| Rejected::Malformed("no payload".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Rejected::Malformed(e.to_string()))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|e| Rejected::Malformed(e.to_string()))?;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Rejected::Invalid("no iss".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_reached_over_https_or_on_this_machine() {
        assert!(check_provider_url("https://login.microsoftonline.com/x/v2.0").is_ok());
        assert!(check_provider_url("http://127.0.0.1:9000").is_ok());
        assert!(check_provider_url("http://localhost:9000").is_ok());
        assert!(check_provider_url("http://idp.contoso.test").is_err());
        assert!(check_provider_url("ftp://idp.contoso.test").is_err());
    }

    #[test]
    fn only_jwt_shaped_tokens_are_checked_as_jwts() {
        assert!(OidcVerifier::looks_like_jwt("eyJh.eyJp.c2ln"));
        assert!(
            OidcVerifier::looks_like_jwt("eyJh.eyJp."),
            "an unsigned one, to refuse"
        );
        assert!(!OidcVerifier::looks_like_jwt("cpt_abcdef"));
        assert!(!OidcVerifier::looks_like_jwt("a.b"));
        assert!(!OidcVerifier::looks_like_jwt("a.b.c.d"));
        assert!(!OidcVerifier::looks_like_jwt("a b.c.d"));
    }

    #[test]
    fn an_unsigned_token_is_refused_before_any_key_is_looked_at() {
        let none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIn0.";
        assert!(jsonwebtoken::decode_header(none).is_err());
    }
}
