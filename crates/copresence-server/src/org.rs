//! The organisation file that `import` reads: users, and sites with their pages and members.
//!
//! Pages are listed flat; each page's parent follows from its path (see `copresence_core::pages`).
//! A site may also grow pages from its editors (`open_pages`, on unless the file says `false`),
//! and describe the web editors its makers use (`[[sites.editors]]`, [`copresence_core::editors`]).

use std::collections::{BTreeMap, HashSet};

use copresence_core::editors::{Editor, MAX_EDITORS_PER_SITE};
use copresence_core::membership::MemberRule;
use copresence_core::{validate_page_path, validate_page_title, validate_site_id, Page};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    #[serde(default)]
    pub users: Vec<OrgUser>,
    #[serde(default)]
    pub sites: Vec<OrgSite>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUser {
    pub email: String,
    pub name: String,
    /// Teams user principal name, usually the e-mail.
    pub teams: Option<String>,
    /// Where their profile photo is: an `https` address (`http` only on this machine).
    pub photo: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSite {
    pub id: String,
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub pages: Vec<Page>,
    /// Whether a page its editors open that the file does not list is added to the site's tree
    /// (`PUT …/sessions/…` on it). On by default: editors map their files to pages, and a site
    /// whose every page had to be listed here first would refuse its makers until it was.
    #[serde(default = "open_by_default")]
    pub open_pages: bool,
    /// The web editors its makers use, by which a tab's address is a page of the site.
    #[serde(default)]
    pub editors: Vec<OrgEditor>,
}

/// A `[[sites.editors]]` entry: a [`copresence_core::editors::Editor`], with every key the file
/// may not give refused, so a misspelt one is an error rather than a rule that never matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgEditor {
    pub name: String,
    pub pattern: String,
    pub site: Option<String>,
    pub pages: Option<BTreeMap<String, String>>,
}

impl OrgEditor {
    pub fn to_editor(&self) -> Editor {
        Editor {
            name: self.name.clone(),
            pattern: self.pattern.clone(),
            site: self.site.clone(),
            pages: self.pages.clone(),
        }
    }
}

impl OrgSite {
    /// The site's editors, as they are stored and served.
    pub fn editors(&self) -> Vec<Editor> {
        self.editors.iter().map(OrgEditor::to_editor).collect()
    }
}

fn open_by_default() -> bool {
    true
}

impl Organisation {
    pub fn parse(text: &str) -> Result<Organisation, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Everything that would make a half-imported or unusable organisation, found before any
    /// write. `max_pages_per_site` is the most pages a site may hold (`--max-pages-per-site`):
    /// no editor's `pages` table may name more.
    pub fn validate(&self, max_pages_per_site: usize) -> Result<(), String> {
        let mut emails = HashSet::new();
        for user in &self.users {
            let (local, domain) = user.email.rsplit_once('@').unwrap_or_default();
            if local.is_empty() || domain.is_empty() || user.email.chars().any(char::is_control) {
                return Err(format!("user {:?}: not an e-mail address", user.email));
            }
            if user.name.trim().is_empty() {
                return Err(format!("user {:?}: the name is empty", user.email));
            }
            if let Some(photo) = &user.photo {
                copresence_core::photo::check_photo_url(photo)
                    .map_err(|e| format!("user {:?}: photo {photo:?}: {e}", user.email))?;
            }
            if !emails.insert(user.email.as_str()) {
                return Err(format!("user {:?} is listed twice", user.email));
            }
        }
        let mut sites = HashSet::new();
        for site in &self.sites {
            validate_site_id(&site.id).map_err(|e| format!("site {:?}: {e}", site.id))?;
            if !sites.insert(site.id.as_str()) {
                return Err(format!("site {:?} is listed twice", site.id));
            }
            if site.name.trim().is_empty() {
                return Err(format!("site {:?}: the name is empty", site.id));
            }
            for entry in &site.members {
                MemberRule::parse(entry).map_err(|e| format!("site {:?}: {e}", site.id))?;
            }
            let mut paths = HashSet::new();
            for page in &site.pages {
                validate_page_path(&page.path)
                    .and_then(|()| validate_page_title(&page.title))
                    .map_err(|e| format!("site {:?}, page {:?}: {e}", site.id, page.path))?;
                if !paths.insert(page.path.as_str()) {
                    return Err(format!(
                        "site {:?}: page {:?} is listed twice",
                        site.id, page.path
                    ));
                }
            }
            if site.editors.len() > MAX_EDITORS_PER_SITE {
                return Err(format!(
                    "site {:?}: {} editors, more than the {MAX_EDITORS_PER_SITE} a site may describe",
                    site.id,
                    site.editors.len()
                ));
            }
            for editor in site.editors() {
                editor
                    .validate(max_pages_per_site)
                    .map_err(|e| format!("site {:?}, editor {:?}: {e}", site.id, editor.name))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_format() {
        let org = Organisation::parse(
            r#"
[[users]]
email = "ann@contoso.test"
name = "Ann Lee"
teams = "ann@contoso.test"
photo = "https://photos.contoso.test/ann.png"

[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["ann@contoso.test"]
pages = [ { path = "/", title = "Home" }, { path = "/products", title = "Products" } ]
"#,
        )
        .unwrap();
        assert!(org.validate(5000).is_ok());
        assert_eq!(org.sites[0].pages.len(), 2);
        assert!(
            org.sites[0].open_pages,
            "editors add pages unless the file says not"
        );
        let closed = Organisation::parse(
            "[[sites]]\nid = \"s\"\nname = \"S\"\nurl = \"u\"\nopen_pages = false\n",
        )
        .unwrap();
        assert!(!closed.sites[0].open_pages);
    }

    #[test]
    fn refuses_bad_ids_duplicates_and_unknown_keys() {
        let bad = |text: &str| {
            Organisation::parse(text)
                .and_then(|o| o.validate(5000))
                .unwrap_err()
        };
        assert!(bad("[[sites]]\nid = \"Bad Id\"\nname = \"x\"\nurl = \"u\"").contains("site id"));
        assert!(bad("[[users]]\nemail = \"x\"\nname = \"X\"").contains("e-mail"));
        assert!(bad("[[users]]\nemail = \"a@b\"\nname = \"X\"\nage = 3").contains("age"));
        assert!(
            bad("[[users]]\nemail = \"a@b\"\nname = \"X\"\nphoto = \"http://cdn.test/x.png\"")
                .contains("https")
        );
        assert!(bad(
            "[[sites]]\nid = \"s\"\nname = \"x\"\nurl = \"u\"\npages = [{path = \"nope\", title = \"t\"}]"
        )
        .contains("page"));
        assert!(bad(
            "[[sites]]\nid = \"s\"\nname = \"x\"\nurl = \"u\"\npages = [{path = \"/\", title = \"a\\nb\"}]"
        )
        .contains("title"));
    }
}
