//! The shared event stream: read live and fanned out to this node's subscribers, or replayed
//! from a client's `Last-Event-ID`.
//!
//! An event's id is the epoch followed by its entry's stream id, the same on every node: a
//! client that reconnects anywhere resumes from where it was, and an id from before Redis lost
//! its data (another epoch) is never taken for one of the new stream.

use std::sync::{Arc, Weak};
use std::time::Duration;

use copresence_core::Event;
use redis::aio::ConnectionManager;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};

use super::{unavailable, RedisPresence, Shared, EVENTS, REAP_INTERVAL};
use crate::presence::{sse_frame, EventOrder, PresenceError, Published};

/// How long one `XREAD` waits for new entries.
pub(super) const READ_BLOCK: Duration = Duration::from_millis(2_000);

/// `<ms>-<seq>` → `(ms, seq)`.
pub(super) fn parse_entry_id(id: &str) -> Option<EventOrder> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// Where a client's `Last-Event-ID` (`<epoch>-<ms>-<seq>`) falls in the stream of `epoch`, or
/// `None` when it is not an id of that epoch. Only the parsed numbers reach Redis, never the
/// client's text.
pub fn resume_position(epoch: &str, last_event_id: &str) -> Option<EventOrder> {
    let entry = last_event_id.strip_prefix(epoch)?.strip_prefix('-')?;
    parse_entry_id(entry)
}

impl Shared {
    /// A stream entry as this node's subscribers get it, or `None` for one it cannot read.
    fn published(&self, epoch: &str, entry: &StreamId) -> Option<Published> {
        let order = parse_entry_id(&entry.id)?;
        let site: String = entry.get("site")?;
        let data: String = entry.get("data")?;
        let event: Event = serde_json::from_str(&data).ok()?;
        let id = format!("{epoch}-{}", entry.id);
        Some(Published {
            frame: sse_frame(&id, event.name(), &data),
            id,
            order,
            site,
            event,
            data,
        })
    }
}

/// Read the shared stream and fan it out to this node's subscribers, for as long as the
/// presence lives; reconnects by itself.
pub(super) async fn read_stream(
    weak: Weak<Shared>,
    mut reader: ConnectionManager,
    start_after: String,
) {
    // An explicit position, never `$`: an event appended between this node's start and its
    // first read must still reach the subscribers whose snapshot came before it.
    let mut last = start_after;
    let mut last_epoch = weak.upgrade().map(|s| s.epoch()).unwrap_or_default();
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let epoch = shared.epoch();
        if epoch != last_epoch {
            // A new epoch is a new stream: start from its beginning.
            last = "0".into();
            last_epoch = epoch.clone();
        }
        drop(shared);
        let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(512)
            .arg("BLOCK")
            .arg(READ_BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(EVENTS)
            .arg(&last)
            .query_async(&mut reader)
            .await;
        let Some(shared) = weak.upgrade() else { return };
        match reply {
            Ok(Some(reply)) => {
                // Entries read across an epoch change belong to neither feed for sure: drop
                // them, and read the new stream from its start.
                let Some(sender) = shared.sender_of(&last_epoch) else {
                    continue;
                };
                for entry in reply.keys.iter().flat_map(|k| &k.ids) {
                    last = entry.id.clone();
                    if let Some(published) = shared.published(&last_epoch, entry) {
                        let _ = sender.send(Arc::new(published));
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot read the shared event stream; retrying");
                drop(shared);
                tokio::time::sleep(REAP_INTERVAL).await;
                if let Some(shared) = weak.upgrade() {
                    if let Err(error) = shared.check_epoch().await {
                        tracing::debug!(%error, "Redis still unavailable");
                    }
                }
                continue;
            }
        }
    }
}

impl RedisPresence {
    /// The entries after `last_event_id` for `sites` and the position they run to, or `None`
    /// when they are not all held.
    pub(super) async fn replay(
        &self,
        sites: &[String],
        last_event_id: &str,
    ) -> Result<Option<(Vec<Arc<Published>>, EventOrder)>, PresenceError> {
        let epoch = self.shared.epoch();
        let Some(after) = resume_position(&epoch, last_event_id) else {
            return Ok(None);
        };
        let mut con = self.shared.commands.clone();
        // What the stream has dropped and what it has written, read in the same atomic step as
        // the entries after `after`: a trim by another node cannot fall in between.
        let (first, last_generated, dropped, missed): (String, String, u64, StreamRangeReply) =
            self.shared
                .since
                .key(EVENTS)
                .arg(format!("({}-{}", after.0, after.1))
                .invoke_async(&mut con)
                .await
                .map_err(unavailable)?;
        let (Some(first), Some(last_generated)) =
            (parse_entry_id(&first), parse_entry_id(&last_generated))
        else {
            return Ok(None);
        };
        // An id from the future of this stream is not one of ours; once entries have been
        // trimmed away, one from before the first entry kept cannot be resumed without loss.
        if after > last_generated || (dropped > 0 && after < first) {
            return Ok(None);
        }
        let through = missed
            .ids
            .last()
            .and_then(|e| parse_entry_id(&e.id))
            .unwrap_or(after);
        let events = missed
            .ids
            .iter()
            .filter_map(|e| self.shared.published(&epoch, e))
            .filter(|p| sites.contains(&p.site))
            .map(Arc::new)
            .collect();
        Ok(Some((events, through)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_order_by_time_then_sequence() {
        assert_eq!(
            parse_entry_id("1700000000000-3"),
            Some((1_700_000_000_000, 3))
        );
        assert!(parse_entry_id("1-2") < parse_entry_id("1-10"));
        assert!(parse_entry_id("1-99") < parse_entry_id("2-0"));
        assert_eq!(parse_entry_id("x"), None);
    }
}
