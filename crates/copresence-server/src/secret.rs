//! Bearer tokens and tickets: how they are made and the only form in which they are stored.
//!
//! A token is 256 random bits; the store keeps its SHA-256, so a copy of the database gives no
//! one a way in.

use sha2::{Digest, Sha256};

/// A new random credential, `prefix_` followed by 64 hex digits.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    format!("{prefix}_{}", hex(&bytes))
}

/// The stored form of a credential.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_hashes_stable() {
        let a = new_token("cpt");
        assert!(a.starts_with("cpt_") && a.len() == 68);
        assert_ne!(a, new_token("cpt"));
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), a);
    }
}
