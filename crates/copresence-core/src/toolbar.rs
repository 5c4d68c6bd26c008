//! Who appears in a site's avatar toolbar.
//!
//! The toolbar shows the *other* people on a site (never yourself: you know you are there),
//! earliest arrival first so avatars don't reshuffle as people move, at most a few of them, and a
//! "+N" for the rest that expands to the full list.

use crate::protocol::{Member, UserId};

/// How many avatars a toolbar shows before "+N", as in the design studio.
pub const TOOLBAR_AVATARS: usize = 3;

/// The sizes a user may choose: the design studio's three, the model-driven app designer's
/// four. More would crowd a site's header; fewer would hide who is there.
pub const TOOLBAR_AVATAR_CHOICES: [usize; 2] = [3, 4];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolbar<'m> {
    /// The avatars to draw.
    pub shown: Vec<&'m Member>,
    /// Everyone else present ("+N"); the expanded list is `shown` followed by these.
    pub overflow: Vec<&'m Member>,
}

/// Split the people on a site (except `me`) into shown avatars and overflow.
pub fn toolbar<'m>(members: &'m [Member], me: Option<UserId>, max_shown: usize) -> Toolbar<'m> {
    let mut others: Vec<&Member> = members.iter().filter(|m| Some(m.user.id) != me).collect();
    others.sort_by_key(|m| (m.since(), m.user.id));
    let overflow = others.split_off(others.len().min(max_shown));
    Toolbar {
        shown: others,
        overflow,
    }
}

/// Up to two initials for an avatar: "Ann Lee" → "AL", "bo" → "B"; "?" for a name with no
/// letter or digit.
pub fn initials(name: &str) -> String {
    // Words that start with punctuation ("(Contractor)", "<b>Quinn</b>") would put that
    // punctuation in the circle; they are skipped unless nothing else is left.
    let mut words = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric());
    let first = words
        .next()
        .or_else(|| name.chars().find(|c| c.is_alphanumeric()));
    let last = words.next_back();
    let initials: String = first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect();
    if initials.is_empty() {
        // An avatar is never an empty circle: a name of symbols alone (or none) shows as "?".
        return "?".into();
    }
    initials
}

/// A stable colour index for a user's avatar, the same on every client.
pub fn avatar_colour(user: UserId, palette_len: usize) -> usize {
    // A multiplicative hash spreads consecutive ids over the palette.
    (user as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17) as usize
        % palette_len.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, session};
    use crate::protocol::SessionInfo;

    fn member(id: i64, since: i64) -> Member {
        Member {
            user: card(id, &format!("U{id}")),
            sessions: vec![SessionInfo {
                since,
                page_since: since,
                ..session("s", "/")
            }],
        }
    }

    #[test]
    fn leaves_me_out_and_overflows_after_three() {
        let members: Vec<Member> = (1..=6).map(|id| member(id, 100 - id)).collect();
        let bar = toolbar(&members, Some(6), TOOLBAR_AVATARS);
        let shown: Vec<i64> = bar.shown.iter().map(|m| m.user.id).collect();
        assert_eq!(shown, vec![5, 4, 3], "earliest arrival first, me left out");
        assert_eq!(bar.overflow.len(), 2);
    }

    #[test]
    fn no_overflow_when_few() {
        let members = vec![member(1, 0), member(2, 0)];
        let bar = toolbar(&members, Some(1), TOOLBAR_AVATARS);
        assert_eq!(bar.shown.len(), 1);
        assert!(bar.overflow.is_empty());
    }

    #[test]
    fn initials_take_first_and_last_word() {
        assert_eq!(initials("Ann Lee"), "AL");
        assert_eq!(initials("bo"), "B");
        assert_eq!(initials("Mary Ann van Dyke"), "MD");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("émile zola"), "ÉZ");
        assert_eq!(initials("Zoë <b>Quinn</b>"), "Z");
        assert_eq!(initials("(Contractor) Ann Lee"), "AL");
        assert_eq!(initials("<img src=x onerror=alert(1)>"), "SO");
        assert_eq!(initials("<<>>"), "?");
        assert_eq!(initials("<3"), "3");
    }

    #[test]
    fn colours_are_stable_and_in_range() {
        assert_eq!(avatar_colour(42, 8), avatar_colour(42, 8));
        assert!((0..1000).all(|id| avatar_colour(id, 8) < 8));
    }
}
