//! Path parameters and query strings: any request target a client can put on the wire —
//! site ids, session ids, user ids, `?site=` lists, tickets in the query — is answered
//! clearly, signed in or not: never a 5xx, every refusal a JSON error.
//!
//! Input: the first byte picks the method and the credential, the rest is the request target
//! after `/v1/` (anything that is not a valid URI is not a request and is skipped).

#![no_main]

use axum::body::Body;
use axum::http::{Request, Uri};
use copresence_fuzz::Node;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, target)) = input.split_first() else {
        return;
    };
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let Ok(uri) = format!("/v1/{target}").parse::<Uri>() else {
        return;
    };
    let method = ["GET", "PUT", "POST", "DELETE"][usize::from(selector % 4)];
    let node = Node::get();
    let mut request = Request::builder().method(method).uri(uri);
    match (selector / 4) % 3 {
        0 => request = request.header("authorization", format!("Bearer {}", node.ann)),
        1 => request = request.header("authorization", format!("Bearer {}", node.eve)),
        _ => {}
    }
    let body = if method == "PUT" || method == "POST" {
        request = request.header("content-type", "application/json");
        Body::from(r#"{"page": "/products", "base_version": 0, "sites": ["contoso"]}"#)
    } else {
        Body::empty()
    };
    let request = request.body(body).expect("a request");
    node.serve(request)
        .assert_clear(&format!("{method} /v1/{target}"));
});
