//! Fetching profile photos for the popup.
//!
//! The popup's webview never loads a remote address (its content security policy allows images
//! from the app and `data:` URLs only): the app fetches each photo itself and hands it over as a
//! `data:` URL. What it fetches and keeps follows the core's rules
//! ([`copresence_core::photo`]): addresses over `https` (or `http` on this machine), at every
//! redirect too, where one from elsewhere may not lead to this machine; only PNG, JPEG, GIF or WebP bytes, known by their first bytes; at most
//! [`MAX_PHOTO_BYTES`], read no further.

use std::time::Duration;

use base64::Engine;
use copresence_core::address::is_loopback;
use copresence_core::photo::{check_photo_url, image_type, MAX_PHOTO_BYTES};

/// How long one photo may take to arrive.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct PhotoFetcher {
    http: reqwest::Client,
}

impl Default for PhotoFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl PhotoFetcher {
    pub fn new() -> PhotoFetcher {
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            // Plain http to this machine is for a photo server on this machine (a test's): a
            // photo elsewhere must not send the tray to a local service.
            let from_loopback = attempt.previous().first().is_some_and(is_loopback);
            let to_loopback = is_loopback(attempt.url());
            let allowed =
                check_photo_url(attempt.url().as_str()).is_ok() && (from_loopback || !to_loopback);
            if attempt.previous().len() >= 5 || !allowed {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .timeout(FETCH_TIMEOUT)
            .build()
            .unwrap_or_default();
        PhotoFetcher { http }
    }

    /// The photo at `address` as a `data:` URL, or `None` when it cannot be had as a picture.
    pub async fn fetch(&self, address: &str) -> Option<String> {
        match self.download(address).await {
            Ok(photo) => Some(photo),
            Err(reason) => {
                tracing::info!(address, reason, "no photo: initials instead");
                None
            }
        }
    }

    async fn download(&self, address: &str) -> Result<String, String> {
        let url = check_photo_url(address).map_err(|e| e.to_string())?;
        let mut response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                return Err(format!("larger than {MAX_PHOTO_BYTES} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        data_url(&bytes).ok_or_else(|| "not a PNG, JPEG, GIF or WebP picture".to_owned())
    }
}

/// `bytes` as a `data:` URL, if they are a picture.
pub fn data_url(bytes: &[u8]) -> Option<String> {
    let kind = image_type(bytes)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{kind};base64,{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pictures_become_data_urls() {
        assert_eq!(
            data_url(b"GIF89a").as_deref(),
            Some("data:image/gif;base64,R0lGODlh")
        );
        assert_eq!(data_url(b"<svg onload=alert(1)>"), None);
    }
}
