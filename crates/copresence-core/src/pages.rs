//! A site's page tree, derived from page paths, and who is on each page.
//!
//! A page's parent is its nearest ancestor path that is itself a page (`/products/pricing` →
//! `/products` → `/`), so an organisation file lists pages flat and the tree follows. A collapsed
//! parent shows everyone on it *or under it*: the roll-up the design studio lacks (its users must
//! expand a parent to find who is on a child page).

use crate::protocol::{Member, Page};

/// One page in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNode {
    pub path: String,
    pub title: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub depth: usize,
}

/// The pages of a site as a tree, in path order (a parent always comes before its children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageTree {
    nodes: Vec<PageNode>,
}

/// What a page is called: its title, or its path when the site does not list it or gave it no
/// title. The one rule for every place a page is named (tray, popup, CLI, notifications).
pub fn title_of<'a>(pages: &'a [Page], path: &'a str) -> &'a str {
    pages
        .iter()
        .find(|page| page.path == path)
        .map_or(path, |page| shown_title(&page.title, path))
}

fn shown_title<'a>(title: &'a str, path: &'a str) -> &'a str {
    if title.trim().is_empty() {
        path
    } else {
        title
    }
}

/// Add `page` to a site's pages (kept in path order) unless one with its path is there already,
/// whose title then stays: the rule for a `pages` event. It gives the same list however often a
/// page is added and in whatever order additions arrive, so a page seen both in a snapshot and in
/// the stream, or announced by two nodes at once, is there once. Returns whether it was added.
pub fn add_page(pages: &mut Vec<Page>, page: &Page) -> bool {
    if pages.iter().any(|held| held.path == page.path) {
        return false;
    }
    let at = pages
        .iter()
        .position(|held| held.path > page.path)
        .unwrap_or(pages.len());
    pages.insert(at, page.clone());
    true
}

/// The path one level up: `/a/b` → `/a`, `/a` → `/`, `/` → none.
pub fn parent_path(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    match trimmed.rfind('/') {
        Some(0) | None => Some("/"),
        Some(at) => Some(&trimmed[..at]),
    }
}

impl PageTree {
    pub fn new(pages: &[Page]) -> Self {
        let mut sorted: Vec<&Page> = pages.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        sorted.dedup_by(|a, b| a.path == b.path);
        let mut tree = PageTree {
            nodes: Vec::with_capacity(sorted.len()),
        };
        for page in sorted {
            let parent = tree.nearest_ancestor(&page.path);
            let index = tree.nodes.len();
            let depth = parent.map_or(0, |p| tree.nodes[p].depth + 1);
            tree.nodes.push(PageNode {
                path: page.path.clone(),
                title: page.title.clone(),
                parent,
                children: Vec::new(),
                depth,
            });
            if let Some(p) = parent {
                tree.nodes[p].children.push(index);
            }
        }
        tree
    }

    pub fn nodes(&self) -> &[PageNode] {
        &self.nodes
    }

    pub fn find(&self, path: &str) -> Option<usize> {
        self.nodes
            .binary_search_by(|n| n.path.as_str().cmp(path))
            .ok()
    }

    /// The nearest page strictly above `path`.
    fn nearest_ancestor(&self, path: &str) -> Option<usize> {
        let mut current = parent_path(path);
        while let Some(candidate) = current {
            if let Some(found) = self.find(candidate) {
                return Some(found);
            }
            current = parent_path(candidate);
        }
        None
    }

    /// The page a session on `path` is shown on: the page itself, or its nearest ancestor when the
    /// page is not (or no longer) in the tree.
    pub fn locate(&self, path: &str) -> Option<usize> {
        self.find(path).or_else(|| self.nearest_ancestor(path))
    }

    /// What the page at `path` is called: as [`title_of`].
    pub fn title<'a>(&'a self, path: &'a str) -> &'a str {
        self.find(path)
            .map_or(path, |i| shown_title(&self.nodes[i].title, path))
    }

    /// Whether a session on `path` shows on the page row `row`: on the page it is located at
    /// ([`PageTree::locate`]), or — when the row is collapsed, `rolled_up` — anywhere under it.
    pub fn shows_on(&self, path: &str, row: usize, rolled_up: bool) -> bool {
        self.locate(path).is_some_and(|at| {
            if rolled_up {
                self.is_under(at, row)
            } else {
                at == row
            }
        })
    }

    /// Whether the page at `node` is `ancestor` or below it.
    pub fn is_under(&self, mut node: usize, ancestor: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Everyone with a session on the page at `index` — or, when `rolled_up`, on it or on any page
    /// under it. Each user once, in roster order. Includes the viewer's own sessions: a maker with
    /// two editors open sees where the other one is.
    pub fn people_on<'m>(
        &self,
        index: usize,
        members: &'m [Member],
        rolled_up: bool,
    ) -> Vec<&'m Member> {
        members
            .iter()
            .filter(|member| {
                member
                    .sessions
                    .iter()
                    .any(|session| self.shows_on(&session.page, index, rolled_up))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, session};

    fn pages(paths: &[&str]) -> Vec<Page> {
        paths
            .iter()
            .map(|p| Page {
                path: p.to_string(),
                title: p.to_string(),
            })
            .collect()
    }

    fn member(id: i64, pages: &[&str]) -> Member {
        Member {
            user: card(id, &format!("U{id}")),
            sessions: pages
                .iter()
                .enumerate()
                .map(|(i, p)| session(&format!("s{i}"), p))
                .collect(),
        }
    }

    #[test]
    fn a_page_is_called_by_its_title_else_its_path() {
        let listed = vec![
            Page {
                path: "/products".into(),
                title: "Products".into(),
            },
            Page {
                path: "/blank".into(),
                title: "  ".into(),
            },
        ];
        let tree = PageTree::new(&listed);
        for (path, called) in [
            ("/products", "Products"),
            ("/blank", "/blank"),
            ("/not-listed", "/not-listed"),
        ] {
            assert_eq!(title_of(&listed, path), called);
            assert_eq!(tree.title(path), called);
        }
    }

    #[test]
    fn an_added_page_goes_in_path_order_once_whatever_the_order_of_arrival() {
        let page = |path: &str, title: &str| Page {
            path: path.into(),
            title: title.into(),
        };
        let start = vec![page("/", "Home"), page("/products", "Products")];
        let compare = page("/products/compare", "Compare");
        let blog = page("/blog", "Blog");
        let mut one = start.clone();
        assert!(add_page(&mut one, &compare));
        assert!(add_page(&mut one, &blog));
        let mut other = start.clone();
        assert!(add_page(&mut other, &blog));
        assert!(add_page(&mut other, &compare));
        assert!(
            !add_page(&mut other, &compare),
            "a second time adds nothing"
        );
        assert!(
            !add_page(&mut other, &page("/blog", "Another title")),
            "a listed page keeps its title"
        );
        assert_eq!(one, other);
        let paths: Vec<&str> = one.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/", "/blog", "/products", "/products/compare"]);
        assert_eq!(one[1].title, "Blog");
    }

    #[test]
    fn parents_come_from_paths() {
        assert_eq!(parent_path("/a/b"), Some("/a"));
        assert_eq!(parent_path("/a"), Some("/"));
        assert_eq!(parent_path("/a/"), Some("/"));
        assert_eq!(parent_path("/"), None);
    }

    #[test]
    fn tree_skips_missing_levels() {
        let tree = PageTree::new(&pages(&["/products/a/deep", "/", "/products"]));
        let deep = tree.find("/products/a/deep").unwrap();
        let products = tree.find("/products").unwrap();
        assert_eq!(tree.nodes()[deep].parent, Some(products));
        assert_eq!(tree.nodes()[deep].depth, 2);
        assert_eq!(tree.nodes()[tree.find("/").unwrap()].parent, None);
    }

    #[test]
    fn collapsed_parent_rolls_up_children_once_per_user() {
        let tree = PageTree::new(&pages(&["/", "/products", "/products/pricing", "/about"]));
        let members = vec![
            member(1, &["/products/pricing", "/products"]),
            member(2, &["/products/pricing"]),
            member(3, &["/about"]),
        ];
        let products = tree.find("/products").unwrap();
        let direct: Vec<i64> = tree
            .people_on(products, &members, false)
            .iter()
            .map(|m| m.user.id)
            .collect();
        assert_eq!(direct, vec![1]);
        let rolled: Vec<i64> = tree
            .people_on(products, &members, true)
            .iter()
            .map(|m| m.user.id)
            .collect();
        assert_eq!(rolled, vec![1, 2]);
        let root = tree.find("/").unwrap();
        assert_eq!(tree.people_on(root, &members, true).len(), 3);
    }

    #[test]
    fn unknown_page_shows_on_nearest_ancestor() {
        let tree = PageTree::new(&pages(&["/", "/products"]));
        assert_eq!(tree.locate("/products/gone"), tree.find("/products"));
        assert_eq!(tree.title("/products/gone"), "/products/gone");
    }
}
