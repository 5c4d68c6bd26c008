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
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What the cache may hold when no size is given, in bytes.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
/// What an entry is taken to cost beyond its key and its value's encoded size: the map's slot,
/// the entry's header and the allocator's rounding.
const ENTRY_OVERHEAD: usize = 160;
/// After the database fails to answer, how long known answers are given without asking it
/// again: each ask costs the pool's acquire timeout while it is away.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(1);

/// A load that failed, as far as the cache needs to know: whether the database could not be
/// reached (then a known answer is given instead), or refused for another reason (then the
/// refusal is the answer).
pub trait LoadError: std::fmt::Display {
    fn is_unavailable(&self) -> bool;
}

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
    /// Bytes the entry is taken to hold, key included.
    weight: u32,
}

/// Answers kept by bytes, not by count: one answer may be a user card, another a site's whole
/// page tree. When full, the cache (moka's TinyLFU) admits a new key only if it is likely to be
/// asked for more often than the one it would evict, so a stream of keys seen once — random
/// tokens, say — cannot push out the answers every heartbeat needs.
///
/// Loads fail with `E`, which tells the cache whether the database was away ([`LoadError`]).
pub struct ReadCache<E> {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Until when the database is taken to be away.
    outage_until: Mutex<Option<Instant>>,
    /// What loads fail with; the cache holds no value of it.
    failure: PhantomData<fn() -> E>,
}

impl<E: LoadError> Default for ReadCache<E> {
    fn default() -> Self {
        ReadCache::new(DEFAULT_MAX_BYTES)
    }
}

/// Counts the bytes a value encodes to, without keeping them.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A value's weight: its encoded size is close to what its strings take on the heap.
fn weight_of<T: Serialize>(key: &str, value: &T) -> u32 {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    u32::try_from(key.len() + counter.0 + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
}

impl<E: LoadError> ReadCache<E> {
    /// A cache holding about `max_bytes` of answers.
    pub fn new(max_bytes: u64) -> ReadCache<E> {
        ReadCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_key: &String, entry: &Arc<Entry>| entry.weight)
                .build(),
            outage_until: Mutex::new(None),
            failure: PhantomData,
        }
    }

    fn cached<T: Clone + Send + Sync + 'static>(&self, key: &str) -> Option<(Instant, T)> {
        let entry = self.entries.get(key)?;
        let value = entry.value.downcast_ref::<T>()?.clone();
        Some((entry.loaded, value))
    }

    fn in_outage(&self) -> bool {
        self.outage_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    fn keep<T: Serialize + Send + Sync + 'static>(&self, key: String, value: T) {
        let weight = weight_of(&key, &value);
        let entry = Entry {
            loaded: Instant::now(),
            value: Arc::new(value),
            weight,
        };
        self.entries.insert(key, Arc::new(entry));
    }

    /// Drop the answer for `key`, so the next ask loads it.
    pub fn forget(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Drop every answer.
    pub fn forget_all(&self) {
        self.entries.invalidate_all();
    }

    /// Roughly how many bytes the cache holds now (after its pending work is done).
    pub fn weighted_size(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }

    /// The answer for `key`: from memory or from `load`, as `policy` says.
    pub async fn get<T, F>(&self, key: String, policy: Policy, load: F) -> Result<T, E>
    where
        T: Clone + Serialize + Send + Sync + 'static,
        F: Future<Output = Result<T, E>>,
    {
        self.get_kept_if(key, policy, |_| true, load).await
    }

    /// [`ReadCache::get`], keeping a loaded answer only when `worth_keeping` says so (an
    /// unknown token is not: anyone can make up any number of them); one not kept also drops
    /// what was held for the key before.
    pub async fn get_kept_if<T, F>(
        &self,
        key: String,
        policy: Policy,
        worth_keeping: impl Fn(&T) -> bool,
        load: F,
    ) -> Result<T, E>
    where
        T: Clone + Serialize + Send + Sync + 'static,
        F: Future<Output = Result<T, E>>,
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
                if worth_keeping(&value) {
                    self.keep(key, value.clone());
                } else if cached.is_some() {
                    self.forget(&key);
                }
                Ok(value)
            }
            Err(error) if error.is_unavailable() => {
                *self.outage_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + OUTAGE_BACKOFF);
                match cached {
                    Some((_, value)) => {
                        tracing::debug!(%error, "database unavailable; answering from memory");
                        Ok(value)
                    }
                    None => Err(error),
                }
            }
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a test's load fails: the database away, or a refusal of its own.
    #[derive(Debug)]
    enum Failure {
        Down,
        Refused,
    }

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl LoadError for Failure {
        fn is_unavailable(&self) -> bool {
            matches!(self, Failure::Down)
        }
    }

    #[tokio::test]
    async fn fresh_answers_from_memory_then_reloads() {
        let cache = ReadCache::<Failure>::default();
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
    async fn answers_are_bounded_by_bytes_and_keys_seen_once_do_not_evict_hot_ones() {
        let cache = ReadCache::<Failure>::new(200_000);
        let policy = Policy::Fresh(Duration::from_secs(60));
        let hot: Vec<String> = (0..20).map(|i| format!("hot:{i}")).collect();
        for _ in 0..5 {
            for key in &hot {
                cache
                    .get(key.clone(), policy, async { Ok("h".repeat(1000)) })
                    .await
                    .unwrap();
            }
        }
        // A flood of keys seen once, while the hot answers go on being asked for (every
        // heartbeat asks who its token is), more keys between two asks than the cache holds,
        // so that a recency order alone would drop them: they stay, and are not loaded again.
        let reloads = std::sync::atomic::AtomicUsize::new(0);
        for i in 0..20_000 {
            cache
                .get(format!("once:{i}"), policy, async { Ok("o".repeat(1000)) })
                .await
                .unwrap();
            if i % 300 == 0 {
                for key in &hot {
                    cache
                        .get(key.clone(), policy, async {
                            reloads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            Ok("h".repeat(1000))
                        })
                        .await
                        .unwrap();
                }
            }
        }
        assert!(
            cache.weighted_size() <= 200_000,
            "{}",
            cache.weighted_size()
        );
        let reloads = reloads.into_inner();
        // Without the admission policy every hot answer goes between two asks (1,340 loads).
        let asks = 20_000 / 300 * hot.len();
        assert!(
            reloads * 10 < asks,
            "hot answers were loaded again {reloads} times of {asks}"
        );
    }

    #[tokio::test]
    async fn fallback_always_loads_and_covers_an_outage() {
        let cache = ReadCache::<Failure>::default();
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
            .get::<i32, _>("k".into(), policy, async { Err(Failure::Down) })
            .await;
        assert_eq!(during.unwrap(), 2);
        let unknown = cache
            .get::<i32, _>("other".into(), policy, async { Err(Failure::Down) })
            .await;
        assert!(matches!(unknown, Err(Failure::Down)));
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
        let fresh = ReadCache::<Failure>::default();
        let invalid = fresh
            .get::<i32, _>("k".into(), policy, async { Err(Failure::Refused) })
            .await;
        assert!(matches!(invalid, Err(Failure::Refused)));
    }
}
