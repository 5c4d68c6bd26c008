//! Request bodies: whatever a member sends as the body of the three calls that take one (join
//! or move a session, save, take a ticket), with or without a JSON content type, is answered
//! clearly — never a 5xx, every refusal a JSON error.
//!
//! Input: the first byte picks the call and the content type, the rest is the body.

#![no_main]

use axum::body::Body;
use axum::http::Request;
use copresence_fuzz::Node;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let (method, path) = match selector % 3 {
        0 => ("PUT", "/v1/sites/contoso/sessions/fuzz"),
        1 => ("POST", "/v1/sites/contoso/saves"),
        _ => ("POST", "/v1/tickets"),
    };
    let content_type = match (selector / 3) % 3 {
        0 => "application/json",
        1 => "application/json; charset=utf-8",
        _ => "text/plain",
    };
    let node = Node::get();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", node.ann))
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .expect("a request");
    node.serve(request).assert_clear(&format!(
        "{method} {path} ({content_type}) {:?}",
        String::from_utf8_lossy(body)
    ));
});
