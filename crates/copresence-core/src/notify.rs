//! Who to tell about what, and when to stay quiet: the rules behind every desktop notification.
//!
//! Only live `join` and `saved` events are announced — never a snapshot — so a reconnect,
//! whether it resumes or starts over, re-announces no one. Events older than
//! [`MAX_EVENT_AGE_MS`] (a long-delayed replay) are old news and stay silent too. You are never
//! told about yourself. A burst of joins on one site within [`BURST_WINDOW_MS`] of each other
//! becomes one notification that is updated in place ("3 people joined Contoso Portal"); saves
//! on one site coalesce the same way. Someone seen on the site within [`REJOIN_QUIET_MS`] who
//! joins again (their editor reconnecting to a restarted server) is not announced a second
//! time.

use std::collections::HashMap;

use crate::pages::PageTree;
use crate::protocol::{Event, UserId};
use crate::roster::SiteState;

/// Joins (or saves) on one site closer together than this become one notification.
pub const BURST_WINDOW_MS: i64 = 5_000;
/// Someone seen on a site this recently is not announced when they "join" again: after a
/// server restart or a lost connection their editor simply comes back.
pub const REJOIN_QUIET_MS: i64 = 90_000;
/// An event older than this when it arrives is not announced.
pub const MAX_EVENT_AGE_MS: i64 = 60_000;

/// A daily quiet period in local time, in minutes after midnight; it may wrap midnight
/// (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuietHours {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl QuietHours {
    pub fn contains(&self, minute_of_day: u16) -> bool {
        let (start, end) = (self.start_minute, self.end_minute);
        if start <= end {
            (start..end).contains(&minute_of_day)
        } else {
            minute_of_day >= start || minute_of_day < end
        }
    }
}

/// What the user asked to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub on_joins: bool,
    pub on_saves: bool,
    pub quiet_hours: Option<QuietHours>,
    /// Notifications are paused until this time (ms since the epoch).
    pub paused_until: Option<i64>,
    /// The desktop's own "do not disturb" is on: it silences like a pause, for as long as the
    /// desktop says so.
    pub do_not_disturb: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            on_joins: true,
            on_saves: true,
            quiet_hours: None,
            paused_until: None,
            do_not_disturb: false,
        }
    }
}

/// The present moment, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// Milliseconds since the epoch.
    pub now: i64,
    /// Minutes since local midnight, for quiet hours.
    pub local_minute: u16,
}

impl Preferences {
    /// Whether nothing at all may be shown now.
    pub fn silenced(&self, at: Moment) -> bool {
        self.do_not_disturb
            || self.paused_until.is_some_and(|until| at.now < until)
            || self
                .quiet_hours
                .is_some_and(|q| q.contains(at.local_minute))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Joins,
    Saves,
}

/// One notification to show — or, when `burst` names one already shown, to update in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub site: String,
    pub kind: NoticeKind,
    /// Stable for a burst: a notice with the burst of an earlier one replaces it.
    pub burst: u64,
    pub summary: String,
    pub body: String,
}

struct Burst {
    id: u64,
    last_at: i64,
    names: Vec<String>,
    count: usize,
}

/// Decides what to announce, remembering recent bursts.
pub struct Notifier {
    me: UserId,
    bursts: HashMap<(String, NoticeKind), Burst>,
    next_burst: u64,
    /// When each (site, user) was last known present.
    last_seen: HashMap<(String, UserId), i64>,
}

/// Whether an event stamped `at` by the service is too old to announce. The stamp is the
/// service's to send and may be anything: the age saturates rather than overflow.
fn too_old(stamp: i64, at: Moment) -> bool {
    at.now.saturating_sub(stamp) > MAX_EVENT_AGE_MS
}

/// "Ann", "Ann and Bo", "Ann, Bo and Carla", "Ann, Bo and 3 others".
fn list_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [first, second, third] => format!("{first}, {second} and {third}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} others", rest.len()),
    }
}

impl Notifier {
    pub fn new(me: UserId) -> Self {
        Notifier {
            me,
            bursts: HashMap::new(),
            next_burst: 1,
            last_seen: HashMap::new(),
        }
    }

    /// Remember who is on `site` at `now` (call it with every snapshot).
    pub fn observe(&mut self, site: &SiteState, now: i64) {
        for member in site.members.members() {
            self.last_seen
                .insert((site.site.id.clone(), member.user.id), now);
        }
    }

    /// Whether `user` was on `site` recently enough that a join is a return, not news.
    fn recently_seen(&self, site: &str, user: UserId, now: i64) -> bool {
        self.last_seen
            .get(&(site.to_owned(), user))
            .is_some_and(|seen| now - seen <= REJOIN_QUIET_MS)
    }

    /// Record one more occurrence in the site's burst of this kind; returns the burst.
    fn bump(&mut self, site: &str, kind: NoticeKind, name: &str, now: i64) -> &Burst {
        let key = (site.to_owned(), kind);
        let fresh = self
            .bursts
            .get(&key)
            .is_none_or(|b| now - b.last_at > BURST_WINDOW_MS);
        if fresh {
            let id = self.next_burst;
            self.next_burst += 1;
            self.bursts.insert(
                key.clone(),
                Burst {
                    id,
                    last_at: now,
                    names: Vec::new(),
                    count: 0,
                },
            );
        }
        let burst = self.bursts.get_mut(&key).expect("inserted above");
        burst.last_at = now;
        burst.count += 1;
        if !burst.names.iter().any(|n| n == name) {
            burst.names.push(name.to_owned());
        }
        burst
    }

    /// What to show for `event`, given the site's state *after* the event was applied, whether
    /// the user follows the site, and their preferences.
    pub fn notice(
        &mut self,
        event: &Event,
        site: &SiteState,
        followed: bool,
        preferences: &Preferences,
        at: Moment,
    ) -> Option<Notice> {
        let returning = match event {
            Event::Join { member, .. } => self.recently_seen(&site.site.id, member.user.id, at.now),
            _ => false,
        };
        // Whoever this event shows present, or just saw leave, was there until now.
        match event {
            Event::Leave { user, .. } => {
                self.last_seen
                    .insert((site.site.id.clone(), user.id), at.now);
            }
            _ => self.observe(site, at.now),
        }
        if !followed || returning || preferences.silenced(at) {
            return None;
        }
        let site_name = site.site.name.clone();
        let pages = PageTree::new(&site.pages);
        match event {
            Event::Join {
                member, at: when, ..
            } => {
                if member.user.id == self.me || !preferences.on_joins {
                    return None;
                }
                if too_old(*when, at) {
                    return None;
                }
                let page = member
                    .latest_session()
                    .map(|s| pages.title(&s.page).to_owned());
                let burst = self.bump(&site.site.id, NoticeKind::Joins, &member.user.name, at.now);
                let (summary, body) = if burst.names.len() == 1 {
                    let body = page.map(|p| format!("on {p}")).unwrap_or_default();
                    (format!("{} joined {site_name}", member.user.name), body)
                } else {
                    (
                        format!("{} people joined {site_name}", burst.names.len()),
                        list_names(&burst.names),
                    )
                };
                Some(Notice {
                    site: site.site.id.clone(),
                    kind: NoticeKind::Joins,
                    burst: burst.id,
                    summary,
                    body,
                })
            }
            Event::Saved { save, .. } => {
                if save.user.id == self.me || !preferences.on_saves {
                    return None;
                }
                if too_old(save.at, at) {
                    return None;
                }
                let page = pages.title(&save.page).to_owned();
                let mine_open = site
                    .members
                    .member(self.me)
                    .is_some_and(|me| me.sessions.iter().any(|s| s.page == save.page));
                let burst = self.bump(&site.site.id, NoticeKind::Saves, &save.user.name, at.now);
                let summary = if burst.count == 1 {
                    format!("{} saved {page} on {site_name}", save.user.name)
                } else {
                    format!("{} saves on {site_name}", burst.count)
                };
                let mut body = if burst.count == 1 {
                    format!("Version {}", save.version)
                } else {
                    format!(
                        "Latest: {} saved {page} (version {})",
                        save.user.name, save.version
                    )
                };
                if mine_open {
                    body.push_str(" — you have this page open: refresh before you save.");
                }
                Some(Notice {
                    site: site.site.id.clone(),
                    kind: NoticeKind::Saves,
                    burst: burst.id,
                    summary,
                    body,
                })
            }
            _ => None,
        }
    }
}

/// The start of the next local day, for "pause until tomorrow".
pub fn next_local_midnight(now: i64, utc_offset_minutes: i32) -> i64 {
    const DAY: i64 = 86_400_000;
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let local = now + offset;
    (local.div_euclid(DAY) + 1) * DAY - offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, member, save, site_with, NOW};
    use crate::protocol::{Member, Page, SaveRecord};

    const ME: UserId = 1;

    /// Contoso Portal at version 7, with a home page and Pricing, and these members on it.
    fn site(members: Vec<Member>) -> SiteState {
        let mut state = site_with("contoso", members);
        state.site.name = "Contoso Portal".into();
        state.pages.push(Page {
            path: "/pricing".into(),
            title: "Pricing".into(),
        });
        state.version = 7;
        state
    }

    fn join(id: UserId, name: &str, at: i64) -> Event {
        Event::Join {
            site: "contoso".into(),
            member: member(id, name, "/pricing"),
            at,
        }
    }

    fn saved(id: UserId, name: &str, at: i64) -> Event {
        Event::Saved {
            site: "contoso".into(),
            save: SaveRecord {
                at,
                ..save(7, "/pricing", card(id, name))
            },
        }
    }

    fn moment(now: i64) -> Moment {
        Moment {
            now,
            local_minute: 600,
        }
    }

    #[test]
    fn a_join_names_the_person_the_site_and_the_page() {
        let mut notifier = Notifier::new(ME);
        let notice = notifier
            .notice(
                &join(2, "Ann Lee", NOW),
                &site(vec![]),
                true,
                &Preferences::default(),
                moment(NOW),
            )
            .unwrap();
        assert_eq!(notice.summary, "Ann Lee joined Contoso Portal");
        assert_eq!(notice.body, "on Pricing");
    }

    #[test]
    fn never_about_myself_nor_unfollowed_sites_nor_old_news() {
        let mut notifier = Notifier::new(ME);
        let prefs = Preferences::default();
        assert!(notifier
            .notice(
                &join(ME, "Me", NOW),
                &site(vec![]),
                true,
                &prefs,
                moment(NOW)
            )
            .is_none());
        assert!(notifier
            .notice(
                &saved(ME, "Me", NOW),
                &site(vec![]),
                true,
                &prefs,
                moment(NOW)
            )
            .is_none());
        assert!(notifier
            .notice(
                &join(2, "Ann", NOW),
                &site(vec![]),
                false,
                &prefs,
                moment(NOW)
            )
            .is_none());
        let old = NOW - MAX_EVENT_AGE_MS - 1;
        assert!(notifier
            .notice(
                &join(2, "Ann", old),
                &site(vec![]),
                true,
                &prefs,
                moment(NOW)
            )
            .is_none());
        // Stamps are the service's to send: the furthest past is old news, not an overflow
        // (found by the client_events fuzz target).
        for stamp in [i64::MIN, i64::MIN + 1] {
            assert!(notifier
                .notice(
                    &join(3, "Bo", stamp),
                    &site(vec![]),
                    true,
                    &prefs,
                    moment(NOW)
                )
                .is_none());
            assert!(notifier
                .notice(
                    &saved(3, "Bo", stamp),
                    &site(vec![]),
                    true,
                    &prefs,
                    moment(NOW)
                )
                .is_none());
        }
        let snapshot = Event::Snapshot {
            sites: vec![site(vec![member(2, "Ann", "/")])],
        };
        assert!(notifier
            .notice(&snapshot, &site(vec![]), true, &prefs, moment(NOW))
            .is_none());
    }

    #[test]
    fn a_burst_of_joins_becomes_one_notification_updated_in_place() {
        let mut notifier = Notifier::new(ME);
        let prefs = Preferences::default();
        let s = site(vec![]);
        let first = notifier
            .notice(&join(2, "Ann", NOW), &s, true, &prefs, moment(NOW))
            .unwrap();
        let second = notifier
            .notice(
                &join(3, "Bo", NOW + 1000),
                &s,
                true,
                &prefs,
                moment(NOW + 1000),
            )
            .unwrap();
        let third = notifier
            .notice(
                &join(4, "Carla", NOW + 2000),
                &s,
                true,
                &prefs,
                moment(NOW + 2000),
            )
            .unwrap();
        assert_eq!(first.burst, second.burst);
        assert_eq!(second.burst, third.burst);
        assert_eq!(third.summary, "3 people joined Contoso Portal");
        assert_eq!(third.body, "Ann, Bo and Carla");
        let later = NOW + 2000 + BURST_WINDOW_MS + 1;
        let fourth = notifier
            .notice(&join(5, "Dev", later), &s, true, &prefs, moment(later))
            .unwrap();
        assert_ne!(
            fourth.burst, first.burst,
            "after the window a new notification starts"
        );
        assert_eq!(fourth.summary, "Dev joined Contoso Portal");
    }

    #[test]
    fn someone_coming_back_after_a_restart_is_not_announced_again() {
        let mut notifier = Notifier::new(ME);
        let prefs = Preferences::default();
        let with_ann = site(vec![member(2, "Ann", "/")]);
        notifier.observe(&with_ann, NOW);
        // The server restarted: Ann's editor heartbeats back in, which the server calls a join.
        let back = NOW + 30_000;
        assert!(notifier
            .notice(&join(2, "Ann", back), &with_ann, true, &prefs, moment(back))
            .is_none());
        // Someone who left long ago and comes back is news again.
        let leave = Event::Leave {
            site: "contoso".into(),
            user: card(2, "Ann"),
            reason: crate::protocol::LeaveReason::Left,
            at: back,
        };
        notifier.notice(&leave, &site(vec![]), true, &prefs, moment(back));
        let much_later = back + REJOIN_QUIET_MS + 1;
        assert!(notifier
            .notice(
                &join(2, "Ann", much_later),
                &with_ann,
                true,
                &prefs,
                moment(much_later)
            )
            .is_some());
    }

    #[test]
    fn saves_warn_when_my_own_session_is_on_that_page() {
        let mut notifier = Notifier::new(ME);
        let prefs = Preferences::default();
        let on_page = site(vec![member(ME, "Me", "/pricing")]);
        let notice = notifier
            .notice(
                &saved(2, "Bo Chen", NOW),
                &on_page,
                true,
                &prefs,
                moment(NOW),
            )
            .unwrap();
        assert_eq!(notice.summary, "Bo Chen saved Pricing on Contoso Portal");
        assert!(
            notice.body.contains("refresh before you save"),
            "{}",
            notice.body
        );
        let mut notifier = Notifier::new(ME);
        let elsewhere = site(vec![member(ME, "Me", "/")]);
        let notice = notifier
            .notice(
                &saved(2, "Bo Chen", NOW),
                &elsewhere,
                true,
                &prefs,
                moment(NOW),
            )
            .unwrap();
        assert!(!notice.body.contains("refresh"));
    }

    #[test]
    fn pause_quiet_hours_and_switches_silence_everything() {
        let mut notifier = Notifier::new(ME);
        let s = site(vec![]);
        let paused = Preferences {
            paused_until: Some(NOW + 1),
            ..Preferences::default()
        };
        assert!(notifier
            .notice(&join(2, "Ann", NOW), &s, true, &paused, moment(NOW))
            .is_none());
        let do_not_disturb = Preferences {
            do_not_disturb: true,
            ..Preferences::default()
        };
        assert!(notifier
            .notice(&join(2, "Ann", NOW), &s, true, &do_not_disturb, moment(NOW))
            .is_none());
        let quiet = Preferences {
            quiet_hours: Some(QuietHours {
                start_minute: 22 * 60,
                end_minute: 7 * 60,
            }),
            ..Preferences::default()
        };
        let night = Moment {
            now: NOW,
            local_minute: 23 * 60,
        };
        assert!(notifier
            .notice(&join(2, "Ann", NOW), &s, true, &quiet, night)
            .is_none());
        let morning = Moment {
            now: NOW,
            local_minute: 9 * 60,
        };
        assert!(notifier
            .notice(&join(2, "Ann", NOW), &s, true, &quiet, morning)
            .is_some());
        let no_joins = Preferences {
            on_joins: false,
            ..Preferences::default()
        };
        assert!(notifier
            .notice(&join(3, "Bo", NOW), &s, true, &no_joins, moment(NOW))
            .is_none());
        let no_saves = Preferences {
            on_saves: false,
            ..Preferences::default()
        };
        assert!(notifier
            .notice(&saved(3, "Bo", NOW), &s, true, &no_saves, moment(NOW))
            .is_none());
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let night = QuietHours {
            start_minute: 22 * 60,
            end_minute: 7 * 60,
        };
        assert!(night.contains(22 * 60) && night.contains(0) && night.contains(7 * 60 - 1));
        assert!(!night.contains(7 * 60) && !night.contains(12 * 60));
        let lunch = QuietHours {
            start_minute: 12 * 60,
            end_minute: 13 * 60,
        };
        assert!(lunch.contains(12 * 60 + 30) && !lunch.contains(13 * 60));
    }

    #[test]
    fn tomorrow_starts_at_local_midnight() {
        // 2026-11-23 22:30 UTC is 23:30 in UTC+1: tomorrow starts 30 minutes later.
        let now = 1_795_473_000_000;
        assert_eq!(next_local_midnight(now, 60) - now, 30 * 60_000);
        assert_eq!(next_local_midnight(now, 0) - now, 90 * 60_000);
    }

    #[test]
    fn names_list_reads_naturally() {
        let names = |n: &[&str]| list_names(&n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(names(&["A", "B"]), "A and B");
        assert_eq!(names(&["A", "B", "C", "D", "E"]), "A, B and 3 others");
    }
}
