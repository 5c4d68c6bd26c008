//! How things read on a terminal: times, people, pages, rosters and one line per event.
//!
//! Everything here is pure (apart from the local time zone), so the wording is tested without a
//! server.

use std::time::Duration;

use chrono::{DateTime, Local};
use copresence_client::LiveState;
use copresence_core::{
    Event, LeaveReason, Member, Page, SessionInfo, SiteState, SiteSummary, UserCard,
};

/// `12:03:04`, local time, for an epoch-milliseconds instant.
pub fn clock(ms: i64) -> String {
    local(ms, "%H:%M:%S")
}

/// `2024-05-02 12:03:04`, local time.
pub fn date_time(ms: i64) -> String {
    local(ms, "%Y-%m-%d %H:%M:%S")
}

/// The local time now, as [`clock`] writes it.
pub fn clock_now() -> String {
    Local::now().format("%H:%M:%S").to_string()
}

fn local(ms: i64, format: &str) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("@{ms}"),
        |t| t.with_timezone(&Local).format(format).to_string(),
    )
}

/// `1.2s`.
pub fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// A person's display name, falling back on the email.
pub fn name(user: &UserCard) -> &str {
    if user.name.trim().is_empty() {
        &user.email
    } else {
        &user.name
    }
}

/// `Ann Lee <ann@contoso.test>`.
pub fn person(user: &UserCard) -> String {
    format!("{} <{}>", name(user), user.email)
}

/// A page: its title when the site gives one, its path otherwise (the core's rule).
pub fn page(pages: &[Page], path: &str) -> String {
    copresence_core::pages::title_of(pages, path).to_owned()
}

/// A session: `Products (studio)`.
pub fn session(pages: &[Page], session: &SessionInfo) -> String {
    format!("{} ({})", page(pages, &session.page), session.client)
}

/// Every session of a member, most recently moved first.
pub fn sessions(pages: &[Page], member: &Member) -> String {
    let mut sessions: Vec<&SessionInfo> = member.sessions.iter().collect();
    sessions.sort_by_key(|s| std::cmp::Reverse((s.page_since, s.since)));
    sessions
        .iter()
        .map(|s| session(pages, s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A site's roster: a heading, then one line per member (or `nobody`).
pub fn roster(state: &SiteState) -> Vec<String> {
    let members = state.members.members();
    let mut lines = vec![format!(
        "{} ({}) — version {}",
        state.site.name, state.site.id, state.version
    )];
    if members.is_empty() {
        lines.push("  nobody".to_owned());
    }
    for member in members {
        lines.push(format!(
            "  {}  {}",
            person(&member.user),
            sessions(&state.pages, member)
        ));
    }
    lines
}

/// One line per event: `12:03:04 Contoso Portal  Ann Lee joined on Products (studio)`, the site
/// names padded to the longest one held so events line up. `None` for a snapshot (printed as
/// rosters instead).
pub fn event(live: &LiveState, event: &Event) -> Option<String> {
    let site = event.site()?;
    let pages = live.site(site).map_or(&[][..], |s| s.pages.as_slice());
    let at = match event {
        Event::Saved { save, .. } => save.at,
        Event::Join { at, .. }
        | Event::Move { at, .. }
        | Event::Leave { at, .. }
        | Event::Pages { at, .. } => *at,
        Event::Snapshot { .. } => return None,
    };
    let what = event_text(pages, event)?;
    let width = live
        .sites()
        .map(|s| s.site.name.chars().count())
        .max()
        .unwrap_or(0);
    Some(format!(
        "{} {:width$}  {what}",
        clock(at),
        live.site_name(site)
    ))
}

/// What happened, without time or site: `Ann Lee joined on Products (studio)`.
pub fn event_text(pages: &[Page], event: &Event) -> Option<String> {
    let text = match event {
        Event::Snapshot { .. } => return None,
        Event::Join { member, .. } => {
            format!(
                "{} joined on {}",
                name(&member.user),
                sessions(pages, member)
            )
        }
        Event::Move {
            member,
            session: id,
            from,
            to,
            ..
        } => {
            let who = name(&member.user);
            // Which editor moved matters only when the user has several.
            let this = member.sessions.iter().find(|s| &s.id == id);
            let client = match this {
                Some(s) if member.sessions.len() > 1 => format!(" ({})", s.client),
                _ => String::new(),
            };
            match (from.as_deref(), to.as_deref()) {
                (Some(from), Some(to)) if from != to => format!(
                    "{who} moved {} → {}{client}",
                    page(pages, from),
                    page(pages, to)
                ),
                (Some(on), Some(_)) => {
                    format!("{who} updated a session on {}{client}", page(pages, on))
                }
                (None, Some(to)) => format!(
                    "{who} opened another session on {}{}",
                    page(pages, to),
                    this.map_or_else(String::new, |s| format!(" ({})", s.client))
                ),
                (Some(from), None) => {
                    let mut text = format!("{who} closed a session on {}", page(pages, from));
                    if !member.sessions.is_empty() {
                        text.push_str(&format!("; still on {}", sessions(pages, member)));
                    }
                    text
                }
                (None, None) => format!("{who} is now on {}", sessions(pages, member)),
            }
        }
        Event::Leave { user, reason, .. } => match reason {
            LeaveReason::Left => format!("{} left", name(user)),
            LeaveReason::Expired => format!("{} timed out", name(user)),
        },
        Event::Saved { save, .. } => {
            let mut text = format!(
                "{} saved {} → version {}",
                name(&save.user),
                page(pages, &save.page),
                save.version
            );
            if save.forced {
                text.push_str(" (overwrote)");
            }
            text
        }
        Event::Pages { added, .. } => {
            // Only what is new to the pages held: a page already seen is no news.
            let new: Vec<String> = added
                .iter()
                .filter(|added| !pages.iter().any(|held| held.path == added.path))
                .map(
                    |added| match page(std::slice::from_ref(added), &added.path) {
                        title if title == added.path => title,
                        title => format!("{title} ({})", added.path),
                    },
                )
                .collect();
            match new.len() {
                0 => return None,
                1 => format!("new page {}", new[0]),
                _ => format!("new pages {}", new.join(", ")),
            }
        }
    };
    Some(text)
}

/// `sites`: one line per site, columns aligned.
pub fn site_lines(sites: &[SiteSummary]) -> Vec<String> {
    let id_width = sites
        .iter()
        .map(|s| s.site.id.chars().count())
        .max()
        .unwrap_or(0);
    let name_width = sites
        .iter()
        .map(|s| s.site.name.chars().count())
        .max()
        .unwrap_or(0);
    sites
        .iter()
        .map(|s| {
            let online = if s.online.is_empty() {
                "nobody online".to_owned()
            } else {
                let people: Vec<String> = s
                    .online
                    .iter()
                    .map(|m| format!("{} on {}", name(&m.user), sessions(&[], m)))
                    .collect();
                format!("online: {}", people.join("; "))
            };
            format!(
                "{:id_width$}  {:name_width$}  version {:<4} {online}",
                s.site.id, s.site.name, s.version
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use copresence_core::fixtures::{card, save, session, site_with};
    use copresence_core::SaveRecord;

    fn sess(id: &str, page: &str, client: &str, page_since: i64) -> SessionInfo {
        SessionInfo {
            client: client.into(),
            since: 1,
            page_since,
            ..session(id, page)
        }
    }

    fn pages() -> Vec<Page> {
        vec![
            Page {
                path: "/".into(),
                title: "Home".into(),
            },
            Page {
                path: "/products".into(),
                title: "Products".into(),
            },
            Page {
                path: "/raw".into(),
                title: "".into(),
            },
        ]
    }

    /// Contoso Portal at version 7, with [`pages`], and these members on it.
    fn contoso(members: Vec<Member>) -> SiteState {
        let mut state = site_with("contoso", members);
        state.site.name = "Contoso Portal".into();
        state.pages = pages();
        state.version = 7;
        state
    }

    fn ann(sessions: Vec<SessionInfo>) -> Member {
        Member {
            user: card(1, "Ann Lee"),
            sessions,
        }
    }

    #[test]
    fn pages_show_titles_when_they_say_more() {
        let pages = pages();
        assert_eq!(page(&pages, "/products"), "Products");
        assert_eq!(page(&pages, "/raw"), "/raw");
        assert_eq!(page(&pages, "/unknown"), "/unknown");
    }

    #[test]
    fn joins_moves_and_leaves_read_naturally() {
        let pages = pages();
        let join = Event::Join {
            site: "s".into(),
            member: ann(vec![sess("t1", "/products", "studio", 1)]),
            at: 1,
        };
        assert_eq!(
            event_text(&pages, &join).unwrap(),
            "Ann Lee joined on Products (studio)"
        );
        let moved = Event::Move {
            site: "s".into(),
            member: ann(vec![sess("t1", "/raw", "studio", 2)]),
            session: "t1".into(),
            from: Some("/products".into()),
            to: Some("/raw".into()),
            at: 2,
        };
        assert_eq!(
            event_text(&pages, &moved).unwrap(),
            "Ann Lee moved Products → /raw"
        );
        let opened = Event::Move {
            site: "s".into(),
            member: ann(vec![
                sess("t1", "/raw", "studio", 2),
                sess("t2", "/x", "vscode-web", 3),
            ]),
            session: "t2".into(),
            from: None,
            to: Some("/x".into()),
            at: 3,
        };
        assert_eq!(
            event_text(&pages, &opened).unwrap(),
            "Ann Lee opened another session on /x (vscode-web)"
        );
        let closed = Event::Move {
            site: "s".into(),
            member: ann(vec![sess("t1", "/raw", "studio", 2)]),
            session: "t2".into(),
            from: Some("/x".into()),
            to: None,
            at: 4,
        };
        assert_eq!(
            event_text(&pages, &closed).unwrap(),
            "Ann Lee closed a session on /x; still on /raw (studio)"
        );
        let left = Event::Leave {
            site: "s".into(),
            user: card(1, "Ann Lee"),
            reason: LeaveReason::Left,
            at: 5,
        };
        assert_eq!(event_text(&pages, &left).unwrap(), "Ann Lee left");
        let expired = Event::Leave {
            site: "s".into(),
            user: card(1, "Ann Lee"),
            reason: LeaveReason::Expired,
            at: 5,
        };
        assert_eq!(event_text(&pages, &expired).unwrap(), "Ann Lee timed out");
    }

    #[test]
    fn saves_say_the_version_and_whether_they_overwrote() {
        let save = |forced| Event::Saved {
            site: "s".into(),
            save: SaveRecord {
                forced,
                ..save(7, "/pricing", card(2, "Bo Chen"))
            },
        };
        assert_eq!(
            event_text(&[], &save(false)).unwrap(),
            "Bo Chen saved /pricing → version 7"
        );
        assert_eq!(
            event_text(&[], &save(true)).unwrap(),
            "Bo Chen saved /pricing → version 7 (overwrote)"
        );
    }

    #[test]
    fn new_pages_are_named_once_with_their_paths() {
        let pages = pages();
        let added = |list: &[(&str, &str)]| Event::Pages {
            site: "s".into(),
            added: list
                .iter()
                .map(|(path, title)| Page {
                    path: (*path).into(),
                    title: (*title).into(),
                })
                .collect(),
            at: 1,
        };
        assert_eq!(
            event_text(&pages, &added(&[("/compare", "Compare plans")])).unwrap(),
            "new page Compare plans (/compare)"
        );
        assert_eq!(
            event_text(&pages, &added(&[("/blog", ""), ("/products", "Products")])).unwrap(),
            "new page /blog",
            "a page already held is no news"
        );
        assert_eq!(
            event_text(&pages, &added(&[("/a", "A"), ("/b", "")])).unwrap(),
            "new pages A (/a), /b"
        );
        assert!(event_text(&pages, &added(&[("/products", "Products")])).is_none());
    }

    #[test]
    fn event_lines_carry_time_and_site_name() {
        let mut live = LiveState::new();
        live.replace([contoso(vec![])]);
        let join = Event::Join {
            site: "contoso".into(),
            member: ann(vec![sess("t1", "/products", "studio", 1)]),
            at: 1_700_000_000_000,
        };
        let line = event(&live, &join).unwrap();
        let (time, rest) = line.split_once(' ').unwrap();
        assert_eq!(time, clock(1_700_000_000_000));
        assert_eq!(time.len(), 8);
        assert_eq!(rest, "Contoso Portal  Ann Lee joined on Products (studio)");
        let elsewhere = Event::Leave {
            site: "other".into(),
            user: card(1, "Ann Lee"),
            reason: LeaveReason::Left,
            at: 1,
        };
        // Padded to the longest site name held ("Contoso Portal").
        assert!(event(&live, &elsewhere)
            .unwrap()
            .ends_with(" other           Ann Lee left"));
        assert!(event(&live, &Event::Snapshot { sites: vec![] }).is_none());
    }

    #[test]
    fn rosters_list_members_with_their_sessions() {
        let state = contoso(vec![ann(vec![
            sess("a", "/", "cli", 1),
            sess("b", "/products", "studio", 5),
        ])]);
        assert_eq!(
            roster(&state),
            vec![
                "Contoso Portal (contoso) — version 7".to_owned(),
                "  Ann Lee <1@x.test>  Products (studio), Home (cli)".to_owned(),
            ]
        );
        assert_eq!(
            roster(&contoso(vec![])),
            vec![
                "Contoso Portal (contoso) — version 7".to_owned(),
                "  nobody".to_owned()
            ]
        );
    }

    #[test]
    fn names_fall_back_on_email_and_seconds_have_one_decimal() {
        let mut nameless = card(3, "x");
        nameless.name = " ".into();
        assert_eq!(name(&nameless), "3@x.test");
        assert_eq!(seconds(Duration::from_millis(1234)), "1.2s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.2s");
    }
}
