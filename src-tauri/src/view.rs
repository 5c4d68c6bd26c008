//! What the popup shows, computed here from the live state and the settings, so the webview
//! only renders: every rule (who is in the toolbar, who rolls up under a collapsed page, which
//! sites are followed) is applied before anything crosses to it.

use std::collections::{BTreeMap, HashMap};

use copresence_client::LiveState;
use copresence_core::pages::PageTree;
use copresence_core::toolbar::{avatar_colour, initials, toolbar};
use copresence_core::{Member, SaveRecord, SiteInfo, SiteState, UserId};
use serde::Serialize;

use crate::opener::Link;

/// How many avatar colours the popup's palette has.
pub const PALETTE: usize = 8;

/// The popup's two tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    Sites,
    Settings,
}

/// The connection as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Live: what the popup shows is current.
    Connected,
    /// Opening the stream (at start, or after a change of server or token).
    Connecting,
    /// The server cannot be reached; retrying.
    Offline,
    /// No token, or the server refused it.
    SignedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub connection: Connection,
    /// For people: why offline or signed out.
    pub message: Option<String>,
}

/// Someone on a site, with what their avatar and card show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub user_id: UserId,
    pub name: String,
    pub initials: String,
    /// Index into the popup's palette, the same for this user everywhere.
    pub colour: usize,
    /// Their photo's key in [`PhotoData`], once fetched; the initials on the colour until then.
    pub photo: Option<String>,
    pub is_me: bool,
    pub email: String,
    pub has_teams: bool,
    /// The page of their most recent session, its title, client and since when they are there.
    pub page: String,
    pub page_title: String,
    pub client: String,
    pub since: i64,
    /// The id of that session: what the popup names when it asks to open where they are.
    pub session: Option<String>,
    /// Where the card's Open goes for that session (the core's rule: their studio's address,
    /// else the page on the site); none when there is nowhere to open.
    pub open_address: Option<String>,
    /// Every open session (a user may have several editors open).
    pub sessions: Vec<PersonSession>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSession {
    pub page: String,
    pub page_title: String,
    pub client: String,
    pub since: i64,
}

/// One page row of a site's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageRow {
    pub path: String,
    pub title: String,
    pub depth: usize,
    pub has_children: bool,
    /// Who is on this page itself (you included, when another of your sessions is here).
    pub here: Vec<Person>,
    /// Who is on this page or any page under it: what a collapsed row shows.
    pub rolled_up: Vec<Person>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaveView {
    pub name: String,
    pub page_title: String,
    pub version: i64,
    pub at: i64,
    pub forced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteView {
    /// The server of the account it is seen through.
    pub account: String,
    /// That account's name, when the app is signed in to several: its sites go under it.
    pub account_label: Option<String>,
    pub id: String,
    pub name: String,
    pub url: String,
    pub version: i64,
    /// The first few avatars (as many as the settings say), never you.
    pub toolbar: Vec<Person>,
    /// Everyone else present: the "+N", expanding to `toolbar` followed by these.
    pub overflow: Vec<Person>,
    pub pages: Vec<PageRow>,
    pub first_save: Option<SaveView>,
    pub last_save: Option<SaveView>,
}

/// A site in the follow list of the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowChoice {
    pub account: String,
    pub id: String,
    pub name: String,
    pub followed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// In the operating system's keychain.
    Keychain,
    /// In a file readable only by you: no keychain was available.
    File,
    /// From `COPRESENCE_TOKEN`.
    Environment,
    /// No token.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    /// What the sign-in form starts with.
    pub server: String,
    pub notify_joins: bool,
    pub notify_saves: bool,
    pub quiet_hours_enabled: bool,
    /// "HH:MM", local time.
    pub quiet_start: String,
    pub quiet_end: String,
    pub autostart: bool,
    /// Avatars in a toolbar before "+N", and the sizes that may be chosen.
    pub toolbar_avatars: usize,
    pub toolbar_avatar_choices: Vec<usize>,
    /// The global shortcut that toggles the popup, if one is chosen; why it does not work.
    pub shortcut: Option<String>,
    pub shortcut_problem: Option<String>,
    pub sites: Vec<FollowChoice>,
}

/// One account, as Settings shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub server: String,
    /// How it is named: the service's host, and who you are there once known.
    pub label: String,
    pub connection: Connection,
    /// Why offline or signed out.
    pub message: Option<String>,
    pub signed_in_as: Option<String>,
    /// The organisation's sign-in (its issuer) when signed in with an account, not a token.
    pub signed_in_with: Option<String>,
    pub token_storage: TokenStorage,
    /// Shown prominently when the credential could not go into a keychain.
    pub storage_warning: Option<String>,
    /// Shown prominently when the server is reached over plain http:// off this machine.
    pub server_warning: Option<String>,
}

/// Everything the popup renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Grows with every change: the popup drops a view older than one it already has.
    pub revision: u64,
    pub status: Status,
    pub me: Option<Person>,
    /// Followed sites: each account's in turn, in name order.
    pub sites: Vec<SiteView>,
    /// Notifications are paused until then (ms since the epoch).
    pub paused_until: Option<i64>,
    /// The desktop's own "do not disturb" is on: nothing is announced while it is.
    pub do_not_disturb: bool,
    /// The services signed in to (or signed out of, still listed).
    pub accounts: Vec<AccountView>,
    pub settings: SettingsView,
}

/// Profile photos the app has fetched: a short key for each address, and each key's `data:`
/// URL. A view names a photo by its key; the popup gets the data apart from the views, once
/// per new photo ([`PhotoData`]), not again with every move of everyone — a photo shows in
/// several places of a view, and views change all the time. The popup never loads a remote
/// address itself.
#[derive(Debug, Clone, Default)]
pub struct Photos {
    keys: HashMap<String, String>,
    data: PhotoData,
}

/// Each photo's key and `data:` URL, as the popup gets them.
pub type PhotoData = BTreeMap<String, String>;

/// The latest view, and the latest photos, for whoever renders them.
pub type Views = tokio::sync::watch::Receiver<View>;
pub type PhotoSets = tokio::sync::watch::Receiver<PhotoData>;

impl Photos {
    /// Keep the photo at `address`.
    pub fn insert(&mut self, address: String, data_url: String) {
        if self.keys.contains_key(&address) {
            return;
        }
        let key = format!("p{}", self.keys.len() + 1);
        self.data.insert(key.clone(), data_url);
        self.keys.insert(address, key);
    }

    pub fn key_of(&self, address: &str) -> Option<&str> {
        self.keys.get(address).map(String::as_str)
    }

    pub fn data(&self) -> &PhotoData {
        &self.data
    }
}

/// Who is looking, and what the app has to show them with.
#[derive(Clone, Copy)]
pub struct Viewer<'a> {
    pub me: Option<UserId>,
    pub photos: &'a Photos,
}

fn person(member: &Member, site: &SiteInfo, pages: &PageTree, viewer: Viewer<'_>) -> Person {
    person_at(member, Some(site), pages, viewer, member.latest_session())
}

/// A person as shown on the page row `row`: their card names the session on that row (or, for
/// a collapsed row, under it), not wherever they moved last.
fn person_on_row(
    member: &Member,
    site: &SiteInfo,
    pages: &PageTree,
    viewer: Viewer<'_>,
    row: usize,
    rolled_up: bool,
) -> Person {
    let on_row = member
        .sessions
        .iter()
        .filter(|s| pages.shows_on(&s.page, row, rolled_up))
        .max_by_key(|s| (s.page_since, s.since));
    person_at(
        member,
        Some(site),
        pages,
        viewer,
        on_row.or(member.latest_session()),
    )
}

fn person_at(
    member: &Member,
    site: Option<&SiteInfo>,
    pages: &PageTree,
    viewer: Viewer<'_>,
    latest: Option<&copresence_core::SessionInfo>,
) -> Person {
    let sessions = member
        .sessions
        .iter()
        .map(|s| PersonSession {
            page: s.page.clone(),
            page_title: pages.title(&s.page).to_owned(),
            client: s.client.clone(),
            since: s.page_since,
        })
        .collect();
    let user = &member.user;
    Person {
        user_id: user.id,
        name: user.name.clone(),
        initials: initials(&user.name),
        colour: avatar_colour(user.id, PALETTE),
        photo: user
            .photo
            .as_deref()
            .and_then(|address| viewer.photos.key_of(address))
            .map(str::to_owned),
        is_me: Some(user.id) == viewer.me,
        email: user.email.clone(),
        has_teams: user.has_teams(),
        page: latest.map(|s| s.page.clone()).unwrap_or_default(),
        page_title: latest
            .map(|s| pages.title(&s.page).to_owned())
            .unwrap_or_default(),
        client: latest.map(|s| s.client.clone()).unwrap_or_default(),
        since: latest.map_or(0, |s| s.page_since),
        session: latest.map(|s| s.id.clone()),
        open_address: site
            .zip(latest)
            .and_then(|(site, session)| Link::open(site, session))
            .map(|link| link.as_str().to_owned()),
        sessions,
    }
}

/// The signed-in user, for the popup's header: the same card rules as everyone else.
pub fn me_person(user: &copresence_core::UserCard, photos: &Photos) -> Person {
    let member = Member {
        user: user.clone(),
        sessions: Vec::new(),
    };
    let viewer = Viewer {
        me: Some(user.id),
        photos,
    };
    person_at(&member, None, &PageTree::default(), viewer, None)
}

fn save_view(save: &SaveRecord, pages: &PageTree) -> SaveView {
    SaveView {
        name: save.user.name.clone(),
        page_title: pages.title(&save.page).to_owned(),
        version: save.version,
        at: save.at,
        forced: save.forced,
    }
}

/// The view of one site for `viewer`, with `avatars` in its toolbar before "+N".
pub fn site_view(state: &SiteState, viewer: Viewer<'_>, avatars: usize) -> SiteView {
    let pages = PageTree::new(&state.pages);
    let members = state.members.members();
    let bar = toolbar(members, viewer.me, avatars);
    let rows = pages
        .nodes()
        .iter()
        .enumerate()
        .map(|(index, node)| PageRow {
            path: node.path.clone(),
            title: pages.title(&node.path).to_owned(),
            depth: node.depth,
            has_children: !node.children.is_empty(),
            here: pages
                .people_on(index, members, false)
                .into_iter()
                .map(|m| person_on_row(m, &state.site, &pages, viewer, index, false))
                .collect(),
            rolled_up: pages
                .people_on(index, members, true)
                .into_iter()
                .map(|m| person_on_row(m, &state.site, &pages, viewer, index, true))
                .collect(),
        })
        .collect();
    SiteView {
        account: String::new(),
        account_label: None,
        id: state.site.id.clone(),
        name: state.site.name.clone(),
        url: state.site.url.clone(),
        version: state.version,
        toolbar: bar
            .shown
            .iter()
            .map(|m| person(m, &state.site, &pages, viewer))
            .collect(),
        overflow: bar
            .overflow
            .iter()
            .map(|m| person(m, &state.site, &pages, viewer))
            .collect(),
        pages: rows,
        first_save: state.first_save.as_ref().map(|s| save_view(s, &pages)),
        last_save: state.last_save.as_ref().map(|s| save_view(s, &pages)),
    }
}

/// The followed sites of `live`, in name order.
pub fn site_views(
    live: &LiveState,
    viewer: Viewer<'_>,
    avatars: usize,
    followed: impl Fn(&str) -> bool,
) -> Vec<SiteView> {
    let mut sites: Vec<SiteView> = live
        .sites()
        .filter(|s| followed(&s.site.id))
        .map(|s| site_view(s, viewer, avatars))
        .collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    sites
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, member, session, site, NOW};
    use copresence_core::Page;

    /// User 1, with no photos fetched.
    fn as_me() -> Viewer<'static> {
        static NONE: std::sync::OnceLock<Photos> = std::sync::OnceLock::new();
        Viewer {
            me: Some(1),
            photos: NONE.get_or_init(Photos::default),
        }
    }

    fn pages(paths: &[(&str, &str)]) -> Vec<Page> {
        paths
            .iter()
            .map(|(path, title)| Page {
                path: (*path).into(),
                title: (*title).into(),
            })
            .collect()
    }

    /// Contoso: Home, Products, Pricing. Me on Home; Ann on Pricing; Bo on Home since NOW and on
    /// Pricing since later; Cy on a page the site does not list, under Products.
    fn contoso() -> SiteState {
        let mut state = site("contoso");
        state.pages = pages(&[
            ("/", "Home"),
            ("/products", "Products"),
            ("/products/pricing", "Pricing"),
        ]);
        let mut bo = member(3, "Bo", "/");
        let mut later = session("u", "/products/pricing");
        later.page_since = NOW + 1_000;
        bo.sessions.push(later);
        state.members = vec![
            member(1, "Me", "/"),
            member(2, "Ann", "/products/pricing"),
            bo,
            member(4, "Cy", "/products/unlisted"),
        ]
        .into_iter()
        .collect();
        state
    }

    fn row<'v>(view: &'v SiteView, path: &str) -> &'v PageRow {
        view.pages.iter().find(|r| r.path == path).unwrap()
    }

    fn on(people: &[Person]) -> Vec<(&str, &str)> {
        people
            .iter()
            .map(|p| (p.name.as_str(), p.page_title.as_str()))
            .collect()
    }

    #[test]
    fn each_row_shows_who_is_on_it_with_the_session_on_that_row() {
        let view = site_view(&contoso(), as_me(), 3);
        assert_eq!(on(&row(&view, "/").here), [("Me", "Home"), ("Bo", "Home")]);
        assert_eq!(
            on(&row(&view, "/products/pricing").here),
            [("Ann", "Pricing"), ("Bo", "Pricing")]
        );
        // Cy's page is not listed: he shows on its nearest listed parent, by its path.
        assert_eq!(
            on(&row(&view, "/products").here),
            [("Cy", "/products/unlisted")]
        );
        // Collapsed, Products shows everyone on it or below it.
        assert_eq!(
            on(&row(&view, "/products").rolled_up),
            [
                ("Ann", "Pricing"),
                ("Bo", "Pricing"),
                ("Cy", "/products/unlisted")
            ]
        );
        assert!(row(&view, "/products").has_children);
    }

    #[test]
    fn the_toolbar_leaves_me_out_and_a_card_names_the_latest_page() {
        let view = site_view(&contoso(), as_me(), 3);
        let everyone: Vec<&Person> = view.toolbar.iter().chain(&view.overflow).collect();
        assert!(everyone.iter().all(|p| !p.is_me));
        assert_eq!(everyone.len(), 3);
        let bo = everyone.iter().find(|p| p.name == "Bo").unwrap();
        assert_eq!(
            (bo.page.as_str(), bo.page_title.as_str()),
            ("/products/pricing", "Pricing")
        );
        assert_eq!(bo.sessions.len(), 2);
        assert!(!bo.has_teams);
        let me = me_person(&card(1, "Me"), &Photos::default());
        assert!(me.is_me);
        assert_eq!(me.page_title, "");
    }

    #[test]
    fn followed_sites_come_in_name_order() {
        let mut live = LiveState::new();
        let mut zeta = site("z");
        zeta.site.name = "Alpha".into();
        live.replace([site("a"), site("b"), zeta]);
        let views = site_views(&live, as_me(), 3, |id| id != "b");
        let names: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["Alpha", "Site a"]);
    }

    #[test]
    fn a_page_without_a_title_is_named_by_its_path() {
        let mut state = site("a");
        state.pages.push(copresence_core::Page {
            path: "/about".into(),
            title: "  ".into(),
        });
        let view = site_view(&state, as_me(), 3);
        let titles: Vec<&str> = view.pages.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Home", "/about"]);
    }
}
