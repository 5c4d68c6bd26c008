//! The organisation file: whatever TOML `import` is given, it is refused with a message or
//! imported whole — never a panic, never a database error (which would mean the checks before
//! the write let through something the database refuses), and every site and page of a file
//! that imported can be read back and laid out as a page tree.
//!
//! Input: the file's text.

#![no_main]

use copresence_core::pages::PageTree;
use copresence_fuzz::Node;
use copresence_server::org::Organisation;
use copresence_server::store::{StoreError, DEFAULT_MAX_PAGES_PER_SITE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(org) = Organisation::parse(text) else {
        return;
    };
    if org.validate(DEFAULT_MAX_PAGES_PER_SITE).is_err() {
        return;
    }
    let node = Node::get();
    node.runtime.block_on(async {
        match node.store.import(&org, DEFAULT_MAX_PAGES_PER_SITE).await {
            Ok(()) => {}
            // A member who is neither in the file nor known is found inside the transaction.
            Err(StoreError::Invalid(_)) => return,
            Err(error) => panic!("a valid file failed to import: {error}\n{text}"),
        }
        for site in &org.sites {
            let stored = node.store.site_of_any(&site.id).await.unwrap();
            assert!(
                stored.is_some(),
                "site {:?} was imported but is not there",
                site.id
            );
            let pages = node.store.pages(&site.id).await.unwrap();
            for page in &site.pages {
                assert!(
                    pages
                        .iter()
                        .any(|p| p.path == page.path && p.title == page.title),
                    "page {:?} of {:?} was imported but is not there",
                    page.path,
                    site.id
                );
            }
            let tree = PageTree::new(&pages);
            for page in &pages {
                let _ = tree.title(&page.path);
            }
        }
    });
});
