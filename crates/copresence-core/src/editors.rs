//! Web editors described per site: which page of the site a browser tab is on, read from the
//! tab's address, and where "Open" on someone's card goes.
//!
//! A site's organisation file describes each web editor its makers use (a design studio, a
//! maker portal) by a URL pattern — the WHATWG URLPattern standard, matched by the `urlpattern`
//! crate, the implementation Firefox, Servo and Deno use, so a pattern matches here exactly as
//! a browser's `URLPattern` matches it. The pattern's named group `page` says where the page
//! is in the address: the page path itself, or an id the editor's `pages` table turns into
//! one; a `site` group, when the editor names the site's id in the studio, must be that id.
//!
//! The browser extension publishes a tab's address with its session; the service keeps it only
//! when [`Editor::page_of`] maps it to the session's page, and [`open_address`] checks that
//! again, so a card never opens an address a publisher chose freely. The TypeScript client
//! decides alike, held to `protocol/golden/editors.json` and `protocol/golden/open.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;
use urlpattern::{UrlPattern, UrlPatternInit, UrlPatternMatchInput, UrlPatternResult};

use crate::address::is_https_or_loopback;
use crate::protocol::{validate_page_path, SessionInfo};

/// Most editors one site may describe.
pub const MAX_EDITORS_PER_SITE: usize = 20;
/// Longest editor name, in characters.
pub const MAX_EDITOR_NAME_LEN: usize = 100;
/// Longest URL pattern, in bytes.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Longest tab address a session may carry, in bytes.
pub const MAX_ADDRESS_LEN: usize = 2048;

/// The group of a pattern that holds the page (a path, or an id in the editor's `pages`).
pub const PAGE_GROUP: &str = "page";
/// The group of a pattern that holds the studio's id of the site, checked against `site`.
pub const SITE_GROUP: &str = "site";

/// Hostnames a pattern may name for plain `http`: this machine's (a studio served on loopback).
/// Exactly these: a pattern over any host, or a loopback name among others, is not this
/// machine's.
const LOOPBACK_HOSTNAMES: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// A web editor of a site, as the organisation file describes it and `GET /v1/sites` serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Editor {
    /// What makers call it ("Power Pages design studio").
    pub name: String,
    /// A URLPattern constructor string matched against a tab's whole address, with a named
    /// group `page`.
    pub pattern: String,
    /// What the pattern's `site` group must be, when the studio's address names the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The page path of each id the `page` group may hold; without it the group is the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<BTreeMap<String, String>>,
}

/// Why an editor of the organisation file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEditor {
    #[error(
        "the name must be 1 to {MAX_EDITOR_NAME_LEN} characters, none of them control characters"
    )]
    Name,
    #[error("the pattern is longer than {MAX_PATTERN_LEN} bytes")]
    PatternTooLong,
    #[error("the pattern is not a URL pattern with a protocol and a host: {0}")]
    Pattern(String),
    #[error("the pattern's protocol must be https (or http to 127.0.0.1, [::1] or localhost), not {0:?}")]
    Protocol(String),
    #[error(
        "the pattern has no group named `page` (for example /pages/:page) to read the page from"
    )]
    NoPageGroup,
    #[error("`site` is given but the pattern has no group named `site` to compare it with")]
    NoSiteGroup,
    #[error("`pages` is empty: leave it out to read the page path from the address")]
    NoPages,
    #[error("`pages` has {0} entries, more than the {1} pages a site may hold")]
    TooManyPages(usize, usize),
    #[error("`pages` maps {0:?} to {1:?}, which is not a page path (it must start with '/')")]
    PagePath(String, String),
}

/// Why the service refused a session's editor address (`400 invalid_url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedAddress {
    #[error("the editor address is longer than {MAX_ADDRESS_LEN} bytes")]
    TooLong,
    #[error("the address is not a page of any of the site's editors: send the address of a tab whose page one of them reads, or no url")]
    NotAnEditors,
    #[error(
        "the address is the page {found:?} in the site's editors, not the session's page {page:?}"
    )]
    OtherPage { found: String, page: String },
}

/// Whether a session on `page` may carry the editor address `address`: one of the site's
/// `editors` maps it to exactly that page. The service keeps an address only then, and
/// [`open_address`] opens one only then, each in the form the URL standard writes it (what was
/// checked is what is kept and opened, not a string the parser forgave spaces or tabs in).
pub fn check_session_address(
    editors: &[Editor],
    page: &str,
    address: &str,
) -> Result<String, RefusedAddress> {
    if address.len() > MAX_ADDRESS_LEN {
        return Err(RefusedAddress::TooLong);
    }
    let mut found = None;
    for editor in editors {
        match editor.page_of(address) {
            Some(mapped) if mapped == page => {
                return Url::parse(address)
                    .map(String::from)
                    .map_err(|_| RefusedAddress::NotAnEditors)
            }
            Some(mapped) => found = found.or(Some(mapped)),
            None => {}
        }
    }
    Err(match found {
        Some(found) => RefusedAddress::OtherPage {
            found,
            page: page.to_owned(),
        },
        None => RefusedAddress::NotAnEditors,
    })
}

/// An editor whose pattern is parsed: what matches addresses. Parse once with
/// [`Editor::compile`] and match many.
#[derive(Debug)]
pub struct CompiledEditor<'a> {
    editor: &'a Editor,
    pattern: UrlPattern,
}

impl Editor {
    /// Parse the pattern and check everything the organisation file must hold, but the number
    /// of `pages` entries ([`Editor::validate`]).
    pub fn compile(&self) -> Result<CompiledEditor<'_>, InvalidEditor> {
        let name_ok = !self.name.trim().is_empty()
            && self.name.chars().count() <= MAX_EDITOR_NAME_LEN
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err(InvalidEditor::Name);
        }
        if self.pattern.len() > MAX_PATTERN_LEN {
            return Err(InvalidEditor::PatternTooLong);
        }
        let pattern = parse_pattern(&self.pattern)?;
        // A pattern escapes the colons of an IPv6 address (`[\\:\\:1]`): compare it unescaped.
        let hostname = pattern.hostname().replace('\\', "");
        let loopback = LOOPBACK_HOSTNAMES.contains(&hostname.as_str());
        match pattern.protocol() {
            "https" => {}
            "http" if loopback => {}
            other => return Err(InvalidEditor::Protocol(other.to_owned())),
        }
        // A URL pattern names a group once (the parser refuses it twice), so each of these
        // is in one component at most.
        if !names_group(&pattern, PAGE_GROUP) {
            return Err(InvalidEditor::NoPageGroup);
        }
        if self.site.is_some() && !names_group(&pattern, SITE_GROUP) {
            return Err(InvalidEditor::NoSiteGroup);
        }
        if let Some(pages) = &self.pages {
            if pages.is_empty() {
                return Err(InvalidEditor::NoPages);
            }
            for (id, path) in pages {
                validate_page_path(path)
                    .map_err(|_| InvalidEditor::PagePath(id.clone(), path.clone()))?;
            }
        }
        Ok(CompiledEditor {
            editor: self,
            pattern,
        })
    }

    /// Everything the organisation file must hold of an editor, with `max_pages` the most
    /// pages a site may hold (`--max-pages-per-site`): no table names more.
    pub fn validate(&self, max_pages: usize) -> Result<(), InvalidEditor> {
        self.compile()?;
        let entries = self.pages.as_ref().map_or(0, BTreeMap::len);
        if entries > max_pages {
            return Err(InvalidEditor::TooManyPages(entries, max_pages));
        }
        Ok(())
    }

    /// The page of the site a tab at `address` is on, by this editor; `None` when the address
    /// is not this editor's page form (or the editor does not hold: see [`CompiledEditor`]).
    pub fn page_of(&self, address: &str) -> Option<String> {
        self.compile().ok()?.page_of(address)
    }
}

impl CompiledEditor<'_> {
    /// The page of the site a tab at `address` is on:
    ///
    /// 1. the address is a URL, `https` or `http` to this machine, of at most
    ///    [`MAX_ADDRESS_LEN`] bytes;
    /// 2. the pattern matches it;
    /// 3. its `page` group is not empty, and its `site` group is the editor's `site` when that
    ///    is given;
    /// 4. the page is `pages[group]` when the editor has a table (an id it does not list is no
    ///    page), else the group as the address has it — still percent-encoded — with a leading
    ///    `/` added when it has none;
    /// 5. which must be a page path.
    pub fn page_of(&self, address: &str) -> Option<String> {
        if address.len() > MAX_ADDRESS_LEN {
            return None;
        }
        let url = Url::parse(address).ok()?;
        // No user name or password: an address that signs in somewhere is not a page to open.
        if !is_https_or_loopback(&url) || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let matched = self
            .pattern
            .exec(UrlPatternMatchInput::Url(url))
            .ok()
            .flatten()?;
        let id = group(&matched, PAGE_GROUP).filter(|page| !page.is_empty())?;
        if let Some(site) = &self.editor.site {
            if group(&matched, SITE_GROUP) != Some(site.as_str()) {
                return None;
            }
        }
        let page = match &self.editor.pages {
            Some(pages) => pages.get(id)?.clone(),
            None if id.starts_with('/') => id.to_owned(),
            None => format!("/{id}"),
        };
        validate_page_path(&page).ok()?;
        Some(page)
    }
}

fn parse_pattern(pattern: &str) -> Result<UrlPattern, InvalidEditor> {
    let invalid = |error: urlpattern::Error| InvalidEditor::Pattern(error.to_string());
    let init =
        UrlPatternInit::parse_constructor_string::<regex::Regex>(pattern, None).map_err(invalid)?;
    UrlPattern::parse(init, Default::default()).map_err(invalid)
}

/// Whether one of the pattern's components (protocol, host, path, query, …) names `group`.
fn names_group(pattern: &UrlPattern, group: &str) -> bool {
    [
        &pattern.protocol,
        &pattern.username,
        &pattern.password,
        &pattern.hostname,
        &pattern.port,
        &pattern.pathname,
        &pattern.search,
        &pattern.hash,
    ]
    .into_iter()
    .any(|component| component.group_name_list.iter().any(|name| name == group))
}

/// The value of the named group `name`, from whichever component names it.
fn group<'r>(matched: &'r UrlPatternResult, name: &str) -> Option<&'r str> {
    [
        &matched.protocol,
        &matched.username,
        &matched.password,
        &matched.hostname,
        &matched.port,
        &matched.pathname,
        &matched.search,
        &matched.hash,
    ]
    .into_iter()
    .find_map(|component| component.groups.get(name))?
    .as_deref()
}

/// Where "Open" on a session's card goes: the session's editor address when one of the site's
/// `editors` maps it to the session's page (checked here again, so a client never opens an
/// address a publisher chose freely), else the page on the site itself — the site's URL with
/// the page path after its own path, keeping the page path's encoding — when the site's URL is
/// `https` or `http` to this machine. `None` when neither holds.
pub fn open_address(site_url: &str, editors: &[Editor], session: &SessionInfo) -> Option<String> {
    if let Some(address) = &session.url {
        if let Ok(address) = check_session_address(editors, &session.page, address) {
            return Some(address);
        }
    }
    validate_page_path(&session.page).ok()?;
    let mut page = Url::parse(site_url).ok()?;
    if !is_https_or_loopback(&page) {
        return None;
    }
    page.set_query(None);
    page.set_fragment(None);
    let path = format!("{}{}", page.path().trim_end_matches('/'), session.page);
    page.set_path(&path);
    Some(page.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editor(pattern: &str) -> Editor {
        Editor {
            name: "Studio".into(),
            pattern: pattern.into(),
            site: None,
            pages: None,
        }
    }

    fn refusal(editor: &Editor) -> InvalidEditor {
        editor.validate(10).unwrap_err()
    }

    #[test]
    fn a_pattern_must_hold_a_page_group_over_https_or_loopback() {
        assert!(editor("https://studio.example/edit/:page*")
            .validate(10)
            .is_ok());
        assert!(editor("http://127.0.0.1:*/edit/:page*")
            .validate(10)
            .is_ok());
        assert!(editor("http://localhost/edit/:page*").validate(10).is_ok());
        let ipv6 = editor("http://[\\:\\:1]\\:8080/edit/:page*");
        assert!(ipv6.validate(10).is_ok());
        assert_eq!(
            ipv6.page_of("http://[::1]:8080/edit/a").as_deref(),
            Some("/a")
        );
        assert_eq!(
            refusal(&editor("http://127.0.0.*/edit/:page*")),
            InvalidEditor::Protocol("http".into())
        );
        assert_eq!(
            refusal(&editor("http://studio.example/edit/:page*")),
            InvalidEditor::Protocol("http".into())
        );
        assert_eq!(
            refusal(&editor("http{s}?://studio.example/edit/:page*")),
            InvalidEditor::Protocol("http{s}?".into())
        );
        assert_eq!(
            refusal(&editor("https://studio.example/edit/:id")),
            InvalidEditor::NoPageGroup
        );
        assert!(matches!(
            refusal(&editor("/edit/:page")),
            InvalidEditor::Pattern(_)
        ));
        assert!(matches!(
            refusal(&editor("https://studio.example/edit/:page(")),
            InvalidEditor::Pattern(_)
        ));
        assert!(matches!(
            refusal(&editor("https://studio.example/:page?x=:page")),
            InvalidEditor::Pattern(_)
        ));
        let long = format!("https://studio.example/{}/:page", "a".repeat(1024));
        assert_eq!(refusal(&editor(&long)), InvalidEditor::PatternTooLong);
    }

    #[test]
    fn names_site_and_pages_are_checked() {
        let mut named = editor("https://studio.example/:page");
        named.name = "two\nlines".into();
        assert_eq!(refusal(&named), InvalidEditor::Name);
        named.name = "x".repeat(MAX_EDITOR_NAME_LEN + 1);
        assert_eq!(refusal(&named), InvalidEditor::Name);

        let mut sited = editor("https://studio.example/:page");
        sited.site = Some("s1".into());
        assert_eq!(refusal(&sited), InvalidEditor::NoSiteGroup);

        let mut tabled = editor("https://studio.example/:page");
        tabled.pages = Some(BTreeMap::new());
        assert_eq!(refusal(&tabled), InvalidEditor::NoPages);
        tabled.pages = Some([("a".to_owned(), "nope".to_owned())].into());
        assert_eq!(
            refusal(&tabled),
            InvalidEditor::PagePath("a".into(), "nope".into())
        );
        tabled.pages = Some((0..11).map(|i| (i.to_string(), format!("/{i}"))).collect());
        assert_eq!(refusal(&tabled), InvalidEditor::TooManyPages(11, 10));
    }

    #[test]
    fn an_address_is_kept_only_on_the_page_an_editor_reads_from_it() {
        let studio = editor("https://studio.example/edit/:page*");
        let editors = [studio];
        let address = "https://studio.example/edit/products";
        assert_eq!(
            check_session_address(&editors, "/products", address),
            Ok(address.to_owned())
        );
        // Kept as the URL standard writes it: what was checked is what is opened.
        assert_eq!(
            check_session_address(
                &editors,
                "/caf%C3%A9",
                " https://studio.example/edit/caf\u{e9}"
            ),
            Ok("https://studio.example/edit/caf%C3%A9".to_owned())
        );
        assert_eq!(
            check_session_address(
                &editors,
                "/products",
                "https://me:secret@studio.example/edit/products"
            ),
            Err(RefusedAddress::NotAnEditors)
        );
        assert_eq!(
            check_session_address(&editors, "/pricing", address),
            Err(RefusedAddress::OtherPage {
                found: "/products".into(),
                page: "/pricing".into()
            })
        );
        assert_eq!(
            check_session_address(&editors, "/products", "https://evil.example/edit/products"),
            Err(RefusedAddress::NotAnEditors)
        );
        assert_eq!(
            check_session_address(&[], "/products", address),
            Err(RefusedAddress::NotAnEditors)
        );
        let long = format!("{address}/{}", "a".repeat(MAX_ADDRESS_LEN));
        assert_eq!(
            check_session_address(&editors, "/products", &long),
            Err(RefusedAddress::TooLong)
        );
    }

    #[test]
    fn a_repeated_group_and_a_regexp_group_both_give_the_rest_of_the_path() {
        for pattern in [
            "https://studio.example/edit/:page*",
            "https://studio.example/edit/:page(.*)",
        ] {
            let studio = editor(pattern);
            assert_eq!(
                studio
                    .page_of("https://studio.example/edit/products/pricing")
                    .as_deref(),
                Some("/products/pricing"),
                "{pattern}"
            );
        }
        let studio = editor("https://studio.example/edit/:page*");
        assert_eq!(studio.page_of("https://studio.example/edit"), None);
    }
}
