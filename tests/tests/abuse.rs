//! The service against someone trying to exhaust it: the real server binary on loopback, fed
//! half-sent request heads, floods of connections and sessions, bursts past the rate limits,
//! hostile URLs and made-up tokens. Each test checks both sides: the abuse is refused with a
//! clear answer, and a normal client carries on as if nothing happened.

use std::net::SocketAddr;
use std::time::Duration;

use copresence_core::PutSession;
use copresence_tests::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SOON: Duration = Duration::from_secs(5);

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: None,
    }
}

fn addr(server: &TestServer) -> SocketAddr {
    server
        .url
        .strip_prefix("http://")
        .expect("an http URL")
        .parse()
        .expect("a socket address")
}

/// A connection to the server from `from` (any address of 127/8 is this machine).
async fn connect_from(server: &TestServer, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{from}:0").parse().unwrap())
        .expect("a loopback address to connect from");
    socket
        .connect(addr(server))
        .await
        .expect("the node accepts")
}

/// Everything the server sends until it closes the connection, or `None` if it is still open
/// after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut answer)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

/// The JSON error body of a raw HTTP answer.
fn error_code(answer: &str) -> String {
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let json: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON error: {answer:?}"));
    json["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Kilobytes of the server's resident memory.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("a live process");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[tokio::test]
async fn half_sent_heads_are_closed_within_the_header_timeout_and_others_are_served() {
    let server = TestServer::start(&["--header-timeout", "2s"]).await;
    let ann = server.client("ann@contoso.test");
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
        stream
            .write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Everyone else is served while those hang.
    for _ in 0..20 {
        ann.me().await.expect("a normal request is served");
    }
    let started = std::time::Instant::now();
    for stream in &mut slow {
        let closed = read_until_closed(stream, Duration::from_secs(6)).await;
        assert!(closed.is_some(), "a half-sent head is still open");
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "closed within the 2 s timeout, not later"
    );
    ann.me().await.expect("still served afterwards");
}

#[tokio::test]
async fn a_connection_that_moves_nothing_is_closed_after_the_idle_timeout() {
    let server = TestServer::start(&["--idle-timeout", "1s", "--header-timeout", "30s"]).await;
    // A head that never comes (the header timeout is longer): only the idle timeout ends it.
    let mut silent = TcpStream::connect(addr(&server)).await.unwrap();
    silent.write_all(b"GET /v1/me HT").await.unwrap();
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(4))
            .await
            .is_some(),
        "an idle connection is still open"
    );
    // An event stream is never idle: its keep-alives and events move bytes. One that gets an
    // event every half second outlives the idle timeout several times over.
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(copresence_client::SubscribeOptions::sites(["contoso"]));
    copresence_tests::first_snapshot(&mut watch).await;
    for page in ["/", "/products", "/", "/products", "/", "/products"] {
        bo.put_session("contoso", "t", &at(page)).await.unwrap();
        copresence_tests::next_event(&mut watch, SOON).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn connections_past_the_caps_get_429_and_places_free_when_they_close() {
    let server =
        TestServer::start(&["--max-connections", "30", "--max-connections-per-ip", "20"]).await;
    if server.is_cluster() {
        // Behind the test balancer every connection comes from its address, to either node.
        return;
    }
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(connect_from(&server, "127.0.0.2").await);
    }
    // The 21st from the same address is refused with a JSON answer, then closed.
    let mut refused = connect_from(&server, "127.0.0.2").await;
    let answer = read_until_closed(&mut refused, SOON)
        .await
        .expect("the refused connection is closed");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer:?}");
    assert!(answer.contains("Retry-After: 5"), "{answer:?}");
    assert_eq!(error_code(&answer), "too_many_connections");
    assert!(answer.contains("your address"), "{answer:?}");

    // Other addresses fill the node up to its cap; past it everyone is refused.
    for _ in 0..10 {
        held.push(connect_from(&server, "127.0.0.3").await);
    }
    let mut refused = connect_from(&server, "127.0.0.4").await;
    let answer = read_until_closed(&mut refused, SOON).await.unwrap();
    assert!(answer.contains("this node"), "{answer:?}");

    // Closing some frees their places.
    held.truncate(15);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ann = server.client("ann@contoso.test");
    ann.me().await.expect("served again once places are free");
}

#[tokio::test]
async fn three_thousand_sessions_from_one_member_are_refused_past_the_cap_in_bounded_memory() {
    let server = TestServer::start(&[]).await;
    let pid = server.pid(0).expect("one node");
    let bo = server.client("bo@contoso.test");
    let ann = server.client("ann@contoso.test");
    let mut watch = ann.subscribe(copresence_client::SubscribeOptions::sites(["contoso"]));
    copresence_tests::first_snapshot(&mut watch).await;
    ann.put_session("contoso", "ann-tab", &at("/"))
        .await
        .unwrap();
    let before = rss_kb(pid);

    let (mut accepted, mut capped, mut limited) = (0, 0, 0);
    for n in 0..3000 {
        match bo
            .put_session("contoso", &format!("flood-{n}"), &at("/products/pricing"))
            .await
        {
            Ok(_) => accepted += 1,
            Err(e) if e.code() == "too_many_sessions" => {
                assert_eq!(e.status(), Some(429));
                assert!(e.retry_after().is_some());
                capped += 1;
            }
            Err(e) if e.code() == "too_many_requests" => {
                assert!(e.retry_after().is_some());
                limited += 1;
            }
            Err(e) => panic!("session {n}: unexpected {e}"),
        }
    }
    assert_eq!(accepted, 32, "the default cap is 32 sessions per site");
    assert!(
        capped > 0 && limited > 0,
        "capped {capped}, limited {limited}"
    );
    let grown_kb = rss_kb(pid).saturating_sub(before);
    assert!(
        grown_kb < 20 * 1024,
        "the server grew by {grown_kb} kB for one member's flood"
    );

    // Nobody was dropped: Bo's 32 sessions and Ann are all there.
    let site = ann.site("contoso").await.unwrap();
    let bo_member = site
        .members
        .members()
        .iter()
        .find(|m| m.user.name == "Bo Chen")
        .expect("Bo is present");
    assert_eq!(bo_member.sessions.len(), 32);
    assert!(site
        .members
        .members()
        .iter()
        .any(|m| m.user.name == "Ann Lee"));
    // And an open session still heartbeats and moves once the burst has passed.
    ann.put_session("contoso", "ann-tab", &at("/products"))
        .await
        .expect("other users are not held back");
}

#[tokio::test]
async fn rate_limits_are_hit_and_recovered() {
    let server = TestServer::start(&["--rate-saves", "3/2s", "--rate-tickets", "2/2s"]).await;
    let bo = server.client("bo@contoso.test");
    let ann = server.client("ann@contoso.test");
    let save = |version| copresence_core::SaveRequest {
        page: "/".into(),
        base_version: version,
        force: false,
    };
    for version in 0..3 {
        bo.save("contoso", &save(version))
            .await
            .expect("within the rate");
    }
    let refused = bo.save("contoso", &save(3)).await.unwrap_err();
    assert_eq!(refused.code(), "too_many_requests");
    assert_eq!(refused.status(), Some(429));
    let wait = refused.retry_after().expect("a Retry-After");
    assert!(wait <= Duration::from_secs(2), "{wait:?}");
    // Nothing was stored by the refused save, and another user is not held back.
    assert_eq!(ann.site("contoso").await.unwrap().version, 3);
    ann.save("contoso", &save(3))
        .await
        .expect("Ann has her own allowance");
    tokio::time::sleep(wait).await;
    bo.save("contoso", &save(4))
        .await
        .expect("recovered after Retry-After");

    bo.ticket().await.unwrap();
    bo.ticket().await.unwrap();
    assert_eq!(bo.ticket().await.unwrap_err().code(), "too_many_requests");
}

#[tokio::test]
async fn hostile_site_ids_and_urls_get_clear_errors() {
    let server = TestServer::start(&[]).await;
    let token = server.token("ann@contoso.test");
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{}{path}", server.url))
            .bearer_auth(&token)
            .send()
    };
    let code = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        (
            status,
            body["error"]["code"].as_str().unwrap_or("").to_owned(),
        )
    };

    let huge = "a".repeat(5000);
    for path in [
        format!("/v1/sites/{huge}"),
        "/v1/sites/Contoso".to_owned(),
        format!("/v1/sites/{huge}/saves"),
        format!("/v1/events?site={huge}"),
    ] {
        let (status, error) = code(get(path.clone()).await.unwrap()).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_site_id"),
            "{path:.60}"
        );
    }
    let many: String = (0..101).map(|i| format!("site=s{i}&")).collect();
    let (status, error) = code(get(format!("/v1/events?{many}")).await.unwrap()).await;
    assert_eq!((status, error.as_str()), (400, "too_many_sites"));
    // The same site many times over is one site.
    let repeated: String = (0..500).map(|_| "site=contoso&").collect();
    let response = get(format!("/v1/events?{repeated}")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    drop(response);

    // Heads larger than any client sends are refused with JSON, before anything reads them.
    let long = "x".repeat(10 * 1024);
    let (status, error) = code(get(format!("/v1/me?{long}")).await.unwrap()).await;
    assert_eq!((status, error.as_str()), (414, "uri_too_long"));
    let response = http
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&token)
        .header("X-Padding", "y".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    let (status, error) = code(response).await;
    assert_eq!((status, error.as_str()), (431, "headers_too_large"));
    // Past what the node buffers at all, hyper itself refuses it.
    let response = http
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&token)
        .header("X-Padding", "y".repeat(200 * 1024))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status().as_u16(), 431);
    }
}

#[tokio::test]
async fn made_up_tokens_are_refused_and_the_members_are_still_served() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    ann.put_session("contoso", "t", &at("/")).await.unwrap();
    let http = reqwest::Client::new();
    for n in 0..2000 {
        let response = http
            .get(format!("{}/v1/me", server.url))
            .bearer_auth(format!("cpt_made-up-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    ann.put_session("contoso", "t", &at("/products"))
        .await
        .expect("a member is served as before");
}

#[tokio::test]
async fn a_wildcard_origin_is_refused_with_a_clear_message() {
    for origin in ["*", "https://studio.example/"] {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(copresence_tests::bin("copresence-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .args(["--allow-origin", origin])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{origin} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--allow-origin"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start(&[]).await;
    if server.is_cluster() {
        return;
    }
    let mode = |path: std::path::PathBuf| {
        std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = server.data_dir();
    assert_eq!(mode(dir.clone()), 0o700);
    assert_eq!(mode(dir.join("copresence.db")), 0o600);
    assert_eq!(mode(dir.join("copresence.db-wal")), 0o600);
}

#[tokio::test]
async fn the_cap_on_all_of_a_users_sessions_holds_and_frees() {
    let server = TestServer::start(&["--max-sessions-per-user", "3"]).await;
    let bo = server.client("bo@contoso.test");
    for tab in ["a", "b", "c"] {
        bo.put_session("contoso", tab, &at("/")).await.unwrap();
    }
    let refused = bo.put_session("contoso", "d", &at("/")).await.unwrap_err();
    assert_eq!(refused.code(), "too_many_sessions");
    assert!(refused.to_string().contains("all sites"), "{refused}");
    bo.put_session("contoso", "c", &at("/products"))
        .await
        .expect("an open session moves");
    bo.delete_session("contoso", "a").await.unwrap();
    bo.put_session("contoso", "d", &at("/"))
        .await
        .expect("a closed session frees its place");
}
