//! Profile photos: which addresses one may come from, and which bytes count as a picture.
//!
//! A photo's address is data an organisation file (or, with OpenID Connect, the directory's
//! `picture` claim) supplies, and every tray fetches it. So the address is checked once, here,
//! by the service when it takes it and by the tray before it asks for it: `https`, or `http`
//! only to this machine (a test's server), never with credentials in it. What comes back is
//! taken only when its first bytes say it is a PNG, JPEG, GIF or WebP image, whatever the
//! server calls it, and only up to [`MAX_PHOTO_BYTES`] — so a hostile server can neither feed
//! the popup something else nor make a tray hold a large download.

use url::Url;

use crate::address::is_https_or_loopback;

/// The longest photo address taken.
pub const MAX_PHOTO_URL_LEN: usize = 2048;
/// The largest photo a tray keeps; avatars are drawn at a few dozen pixels.
pub const MAX_PHOTO_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoUrlError {
    #[error("a photo address is at most {MAX_PHOTO_URL_LEN} characters")]
    TooLong,
    #[error("not a URL: {0}")]
    NotAUrl(String),
    #[error("a photo must come over https (http only from this machine)")]
    NotHttps,
    #[error("a photo address may not carry a user name or password")]
    Credentials,
}

/// Whether `address` may be a photo's address: see the module's documentation.
pub fn check_photo_url(address: &str) -> Result<Url, PhotoUrlError> {
    if address.len() > MAX_PHOTO_URL_LEN {
        return Err(PhotoUrlError::TooLong);
    }
    let url = Url::parse(address).map_err(|e| PhotoUrlError::NotAUrl(e.to_string()))?;
    if !is_https_or_loopback(&url) {
        return Err(PhotoUrlError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(PhotoUrlError::Credentials);
    }
    Ok(url)
}

/// The media type of a picture, read from its first bytes; `None` for anything else.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_come_over_https_or_from_this_machine() {
        assert!(check_photo_url("https://cdn.contoso.test/ann.png").is_ok());
        assert!(check_photo_url("http://127.0.0.1:8080/ann.png").is_ok());
        assert!(check_photo_url("http://[::1]/ann.png").is_ok());
        assert!(check_photo_url("http://localhost/ann.png").is_ok());
        assert_eq!(
            check_photo_url("http://cdn.contoso.test/ann.png"),
            Err(PhotoUrlError::NotHttps)
        );
        assert_eq!(
            check_photo_url("file:///etc/passwd"),
            Err(PhotoUrlError::NotHttps)
        );
        assert_eq!(
            check_photo_url("javascript:alert(1)"),
            Err(PhotoUrlError::NotHttps)
        );
        assert_eq!(
            check_photo_url("https://ann:secret@cdn.contoso.test/a.png"),
            Err(PhotoUrlError::Credentials)
        );
        assert!(matches!(
            check_photo_url("ann.png"),
            Err(PhotoUrlError::NotAUrl(_))
        ));
        let long = format!("https://x.test/{}", "a".repeat(MAX_PHOTO_URL_LEN));
        assert_eq!(check_photo_url(&long), Err(PhotoUrlError::TooLong));
    }

    #[test]
    fn only_pictures_are_pictures() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"<html>"), None);
        assert_eq!(image_type(b""), None);
    }
}
