//! Recent answers of the durable store, so that reading keeps working while the database is
//! briefly away and the hottest reads (who a token is, whether a page exists) do not go to the
//! database on every heartbeat.
//!
//! Two policies: [`Policy::Fresh`] answers from memory for a short while (identity, pages,
//! memberships change rarely and a few seconds' delay is harmless); [`Policy::Fallback`] always
//! asks the database (site versions and saves must be current) and only answers from memory
//! when the database cannot be reached. Either way, an unreachable database is answered with
//! the last good value when there is one.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// Entries kept before the cache starts over: bounds memory against many distinct tokens.
const MAX_ENTRIES: usize = 100_000;
/// After the database fails to answer, how long known answers are given without asking it
/// again: each ask costs the pool's acquire timeout while it is away.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub enum Policy {
    /// Serve from memory for this long after loading.
    Fresh(Duration),
    /// Always load; serve from memory only when the database is unavailable.
    Fallback,
}

struct Entry {
    loaded: Instant,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
pub struct ReadCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Until when the database is taken to be away.
    outage_until: Mutex<Option<Instant>>,
}

impl ReadCache {
    fn cached<T: Clone + Send + Sync + 'static>(&self, key: &str) -> Option<(Instant, T)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        let value = entry.value.downcast_ref::<T>()?.clone();
        Some((entry.loaded, value))
    }

    fn in_outage(&self) -> bool {
        self.outage_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    fn keep<T: Send + Sync + 'static>(&self, key: String, value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                loaded: Instant::now(),
                value: Arc::new(value),
            },
        );
    }

    /// The answer for `key`: from memory or from `load`, as `policy` says.
    pub async fn get<T, F>(&self, key: String, policy: Policy, load: F) -> Result<T, StoreError>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T, StoreError>>,
    {
        let cached = self.cached::<T>(&key);
        if let (Policy::Fresh(ttl), Some((loaded, value))) = (policy, &cached) {
            if loaded.elapsed() < ttl {
                return Ok(value.clone());
            }
        }
        if let Some((_, value)) = &cached {
            if self.in_outage() {
                return Ok(value.clone());
            }
        }
        match load.await {
            Ok(value) => {
                self.keep(key, value.clone());
                Ok(value)
            }
            Err(StoreError::Unavailable(error)) => {
                *self.outage_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + OUTAGE_BACKOFF);
                match cached {
                    Some((_, value)) => {
                        tracing::debug!(%error, "database unavailable; answering from memory");
                        Ok(value)
                    }
                    None => Err(StoreError::Unavailable(error)),
                }
            }
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> StoreError {
        StoreError::Unavailable(sqlx::Error::PoolTimedOut)
    }

    #[tokio::test]
    async fn fresh_answers_from_memory_then_reloads() {
        let cache = ReadCache::default();
        let policy = Policy::Fresh(Duration::from_secs(60));
        let first = cache
            .get("k".into(), policy, async { Ok(1) })
            .await
            .unwrap();
        let second = cache
            .get("k".into(), policy, async { Ok(2) })
            .await
            .unwrap();
        assert_eq!((first, second), (1, 1));
        let expired = Policy::Fresh(Duration::ZERO);
        assert_eq!(
            cache
                .get("k".into(), expired, async { Ok(3) })
                .await
                .unwrap(),
            3
        );
    }

    #[tokio::test]
    async fn fallback_always_loads_and_covers_an_outage() {
        let cache = ReadCache::default();
        let policy = Policy::Fallback;
        assert_eq!(
            cache
                .get("k".into(), policy, async { Ok(1) })
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            cache
                .get("k".into(), policy, async { Ok(2) })
                .await
                .unwrap(),
            2
        );
        let during = cache
            .get::<i32, _>("k".into(), policy, async { Err(down()) })
            .await;
        assert_eq!(during.unwrap(), 2);
        let unknown = cache
            .get::<i32, _>("other".into(), policy, async { Err(down()) })
            .await;
        assert!(matches!(unknown, Err(StoreError::Unavailable(_))));
        // Just after an outage, known answers come from memory without asking again.
        let asked = std::sync::atomic::AtomicBool::new(false);
        let during = cache
            .get::<i32, _>("k".into(), policy, async {
                asked.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(9)
            })
            .await;
        assert_eq!(during.unwrap(), 2);
        assert!(!asked.load(std::sync::atomic::Ordering::SeqCst));
        // Other refusals are not outages.
        let fresh = ReadCache::default();
        let invalid = fresh
            .get::<i32, _>("k".into(), policy, async {
                Err(StoreError::Invalid("no".into()))
            })
            .await;
        assert!(matches!(invalid, Err(StoreError::Invalid(_))));
    }
}
