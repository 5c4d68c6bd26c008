//! The Lua scripts Redis runs as one step, and the compare-and-set every roster change goes
//! through.
//!
//! A roster is changed by reading it, applying the core rules to it here, and writing it back
//! only if no other node wrote it in between; otherwise it is read again and the rules applied
//! again. The script that writes it also appends the change's event and sets or drops the
//! session's deadline, so a roster, its events and its deadlines never disagree.

use copresence_core::roster::Roster;
use copresence_core::{Event, UserId};

use super::{roster_key, sessions_of_key, unavailable, Shared, DEADLINES, EVENTS};
use crate::presence::{PresenceError, SessionCap};

/// Compare-and-set attempts before a roster change gives up as unavailable.
const MAX_RETRIES: usize = 32;

/// Write a roster if nobody changed it since it was read, append its event, and set or drop
/// the session's deadline and its place in its user's set of sessions — all at once. Returns
/// the event's stream id, "" when there was no event, nil when the roster changed under us,
/// "full" when a new session would pass the user's cap (ARGV[10]; nothing is written), or
/// "skip" when the reaper asked (ARGV[9]) and the session's deadline is no longer past (a
/// heartbeat got there first) — claiming an expired session and publishing its leave are one
/// step, so no session is left half-reaped.
pub(super) const CAS_ROSTER: &str = include_str!("cas_roster.lua");

/// The stream's first entry id, its last written id, how many entries it has dropped, and its
/// entries from ARGV[1] on — in one atomic step (an absent stream has written nothing).
pub(super) const EVENTS_SINCE: &str = include_str!("events_since.lua");

/// What a roster change does to the session's deadline.
pub(super) enum DeadlineChange {
    Set(i64),
    Drop,
    /// Nothing: the change was refused.
    Keep,
}

impl Shared {
    /// Change a site's roster with `change` (the core rules), retrying when another node got
    /// there first. Returns what `change` returned on the attempt that was written.
    pub(super) async fn update_roster<T>(
        &self,
        site: &str,
        user: UserId,
        member: &str,
        change: impl FnMut(&mut Roster) -> (Option<Event>, DeadlineChange, T),
    ) -> Result<T, PresenceError> {
        self.update_roster_if_expired(site, user, member, None, change)
            .await?
            .ok_or_else(|| PresenceError::Unavailable("a roster change was skipped".into()))
    }

    /// [`Shared::update_roster`]; with `expired_at`, only if the session's deadline is still
    /// at or before it when written (else `None`: a heartbeat kept it). A new session past the
    /// user's cap is refused with nothing written.
    pub(super) async fn update_roster_if_expired<T>(
        &self,
        site: &str,
        user: UserId,
        member: &str,
        expired_at: Option<i64>,
        mut change: impl FnMut(&mut Roster) -> (Option<Event>, DeadlineChange, T),
    ) -> Result<Option<T>, PresenceError> {
        let per_user = self.config.max_sessions_per_user;
        for _ in 0..MAX_RETRIES {
            let (mut roster, version) = self.read_roster(site).await?;
            let (event, deadline, outcome) = change(&mut roster);
            let roster_json = serde_json::to_string(&roster).expect("rosters always serialise");
            let event_json = event
                .as_ref()
                .map(|e| serde_json::to_string(e).expect("events always serialise"))
                .unwrap_or_default();
            let (mode, score) = match deadline {
                DeadlineChange::Set(at) => ("set", at),
                DeadlineChange::Drop => ("drop", 0),
                DeadlineChange::Keep => return Ok(Some(outcome)),
            };
            let mut con = self.commands.clone();
            let written: Option<String> = self
                .cas
                .key(roster_key(site))
                .key(EVENTS)
                .key(DEADLINES)
                .key(sessions_of_key(user))
                .arg(version)
                .arg(roster_json)
                .arg(self.config.replay_capacity.max(1))
                .arg(event_json)
                .arg(site)
                .arg(member)
                .arg(mode)
                .arg(score)
                .arg(expired_at.map(|at| at.to_string()).unwrap_or_default())
                .arg(per_user)
                .invoke_async(&mut con)
                .await
                .map_err(unavailable)?;
            match written.as_deref() {
                Some("skip") => return Ok(None),
                Some("full") => {
                    return Err(PresenceError::TooManySessions(SessionCap::User(per_user)))
                }
                Some(_) => return Ok(Some(outcome)),
                None => {}
            }
        }
        Err(PresenceError::Unavailable(format!(
            "the roster of {site} kept changing"
        )))
    }
}
