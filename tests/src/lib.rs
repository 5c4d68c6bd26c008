//! The test harness: the real `copresence-server` binary on an ephemeral loopback port with a
//! temporary SQLite store, driven over HTTP and SSE with the client library.
//!
//! Binaries are found next to the test executable's `target/<profile>/` directory (build them
//! with `cargo build --workspace` first; `make test` does), or in `COPRESENCE_BIN_DIR`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use copresence_client::{Client, Subscription, Update};
use copresence_core::Event;
use tokio::process::Child;

pub mod chromium;
pub mod cluster;
pub mod desktop;
pub mod launch;
pub mod oidc;

/// The organisation every test starts from. Dee is a member of "private" only, and her name is
/// hostile markup that must come back as plain text; Zoë's e-mail, name and Teams account are
/// there to break links and markup that are not encoded.
pub const ORG: &str = r#"
[[users]]
email = "ann@contoso.test"
name = "Ann Lee"
teams = "ann@contoso.test"

[[users]]
email = "bo@contoso.test"
name = "Bo Chen"

[[users]]
email = "dee@contoso.test"
name = "<img src=x onerror=alert(1)>"
teams = "a?b&c#d%@x.test"

[[users]]
email = "z?o&e#%@contoso.test"
name = "Zoë <b>Quinn</b>"
teams = "zoë quinn@contoso.test"

[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["ann@contoso.test", "bo@contoso.test", "z?o&e#%@contoso.test"]
pages = [
  { path = "/", title = "Home" },
  { path = "/products", title = "Products" },
  { path = "/products/pricing", title = "Pricing" },
]

[[sites]]
id = "private"
name = "Private"
url = "https://private.example"
members = ["dee@contoso.test"]
pages = [ { path = "/", title = "Home" } ]
"#;

/// Where the workspace's binaries are.
pub fn bin(name: &str) -> PathBuf {
    let dir = match std::env::var_os("COPRESENCE_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().expect("the test knows its own path");
            // target/<profile>/deps/<test> → target/<profile>
            exe.parent()
                .and_then(|deps| deps.parent())
                .expect("tests run from target/<profile>/deps")
                .to_path_buf()
        }
    };
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --workspace)",
        path.display()
    );
    path
}

/// One `copresence-server serve` process.
struct Node {
    /// Empty until it first starts; then kept, so a restart comes back on the same port.
    url: String,
    child: Option<Child>,
}

/// What a cluster of nodes shares: PostgreSQL, Redis, and a balancer in front.
struct Backing {
    redis: cluster::Redis,
    postgres: cluster::Postgres,
    _balancer: Balancer,
}

/// The service under test, killed when dropped: one node on SQLite (the embedded default), or
/// — with [`TestServer::cluster`], or for every test when `COPRESENCE_TEST_CLUSTER` is set —
/// several nodes on PostgreSQL and Redis behind a round-robin balancer, so consecutive
/// connections land on different nodes.
pub struct TestServer {
    /// Where clients connect: the node, or the balancer.
    pub url: String,
    pub dir: tempfile::TempDir,
    store_args: Vec<String>,
    extra_args: Vec<String>,
    nodes: Vec<Node>,
    backing: Option<Backing>,
}

impl TestServer {
    /// Import [`ORG`] and serve it with these extra `serve` flags.
    pub async fn start(extra_args: &[&str]) -> TestServer {
        TestServer::start_with_org(ORG, extra_args).await
    }

    /// Import the organisation file `org` and serve it.
    pub async fn start_with_org(org: &str, extra_args: &[&str]) -> TestServer {
        if std::env::var_os("COPRESENCE_TEST_CLUSTER").is_some() {
            TestServer::cluster_with_org(2, org, extra_args).await
        } else {
            TestServer::launch(org, 1, None, extra_args).await
        }
    }

    /// `nodes` nodes of one service on a fresh PostgreSQL and Redis, importing [`ORG`].
    pub async fn cluster(nodes: usize, extra_args: &[&str]) -> TestServer {
        TestServer::cluster_with_org(nodes, ORG, extra_args).await
    }

    async fn cluster_with_org(nodes: usize, org: &str, extra_args: &[&str]) -> TestServer {
        let redis = cluster::Redis::start();
        let postgres = cluster::Postgres::start();
        TestServer::launch(org, nodes, Some((redis, postgres)), extra_args).await
    }

    async fn launch(
        org: &str,
        nodes: usize,
        shared: Option<(cluster::Redis, cluster::Postgres)>,
        extra_args: &[&str],
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let org_file = dir.path().join("org.toml");
        std::fs::write(&org_file, org).expect("the organisation file is written");
        let mut extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let store_args = match &shared {
            Some((redis, postgres)) => {
                extra_args.extend(["--redis".to_owned(), redis.url()]);
                vec!["--database".to_owned(), postgres.url()]
            }
            None => vec![
                "--data".to_owned(),
                dir.path().join("data").to_string_lossy().into_owned(),
            ],
        };
        let mut server = TestServer {
            url: String::new(),
            dir,
            store_args,
            extra_args,
            nodes: (0..nodes)
                .map(|_| Node {
                    url: String::new(),
                    child: None,
                })
                .collect(),
            backing: None,
        };
        server.server_command(&["import"], &[org_file.to_str().unwrap()]);
        for node in 0..nodes {
            server.spawn(node).await;
        }
        server.url = match shared {
            Some((redis, postgres)) => {
                let balancer = Balancer::start(server.node_urls()).await;
                let url = balancer.url.clone();
                server.backing = Some(Backing {
                    redis,
                    postgres,
                    _balancer: balancer,
                });
                url
            }
            None => server.nodes[0].url.clone(),
        };
        server
    }

    /// `copresence-server <command> <store flags> <rest>`.
    pub fn server_command(&self, command: &[&str], rest: &[&str]) -> String {
        let mut args: Vec<&str> = command.to_vec();
        args.extend(self.store_flags());
        args.extend(rest);
        launch::admin(&bin("copresence-server"), &args).unwrap_or_else(|error| panic!("{error:#}"))
    }

    /// The flags that name the store, `--data DIR` or `--database URL`.
    fn store_flags(&self) -> Vec<&str> {
        self.store_args.iter().map(String::as_str).collect()
    }

    /// Whether this is a cluster (PostgreSQL and Redis) rather than one embedded node.
    pub fn is_cluster(&self) -> bool {
        self.backing.is_some()
    }

    /// The process id of one node (while it runs).
    pub fn pid(&self, node: usize) -> Option<u32> {
        self.nodes[node].child.as_ref().and_then(Child::id)
    }

    /// The data directory of a single node (on SQLite).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of one node, bypassing the balancer.
    pub fn node_url(&self, node: usize) -> &str {
        &self.nodes[node].url
    }

    fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url.clone()).collect()
    }

    async fn spawn(&mut self, node: usize) {
        let listen = self.nodes[node]
            .url
            .strip_prefix("http://")
            .unwrap_or("127.0.0.1:0")
            .to_owned();
        let args = ["serve", "--listen", &listen]
            .into_iter()
            .chain(self.store_flags())
            .chain(self.extra_args.iter().map(String::as_str));
        // The server's log goes to this run's standard error, to diagnose a failing test.
        let started = launch::start(
            &bin("copresence-server"),
            args,
            Stdio::inherit(),
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|error| panic!("{error}"));
        self.nodes[node].url = started.url;
        self.nodes[node].child = Some(started.child);
    }

    /// A new bearer token for the user with this e-mail.
    pub fn token(&self, email: &str) -> String {
        launch::issue_token(&bin("copresence-server"), &self.store_flags(), email)
            .unwrap_or_else(|error| panic!("{error:#}"))
    }

    /// A client signed in as the user with this e-mail.
    pub fn client(&self, email: &str) -> Client {
        Client::new(&self.url, &self.token(email)).expect("a valid server URL")
    }

    /// Kill every node (as a crash would) and start them again on the same data and ports.
    pub async fn restart(&mut self) {
        self.stop().await;
        for node in 0..self.nodes.len() {
            self.spawn(node).await;
        }
    }

    /// Kill every node.
    pub async fn stop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill_node(node).await;
        }
    }

    /// Kill one node (SIGKILL: no goodbye to anyone).
    pub async fn kill_node(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            let _ = child.kill().await;
        }
    }

    /// Start a killed node again on its port.
    pub async fn restart_node(&mut self, node: usize) {
        self.kill_node(node).await;
        self.spawn(node).await;
    }

    /// The cluster's Redis (panics for a single node).
    pub fn redis(&mut self) -> &mut cluster::Redis {
        &mut self.backing.as_mut().expect("a cluster").redis
    }

    /// The cluster's PostgreSQL (panics for a single node).
    pub fn postgres(&mut self) -> &mut cluster::Postgres {
        &mut self.backing.as_mut().expect("a cluster").postgres
    }
}

/// A round-robin TCP balancer: each new connection goes to the next node that accepts it.
struct Balancer {
    url: String,
}

impl Balancer {
    async fn start(nodes: Vec<String>) -> Balancer {
        let targets: Vec<String> = nodes
            .iter()
            .map(|u| u.strip_prefix("http://").unwrap_or(u).to_owned())
            .collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut next = 0usize;
            while let Ok((mut inbound, _)) = listener.accept().await {
                let start = next;
                next = next.wrapping_add(1);
                let targets = targets.clone();
                tokio::spawn(async move {
                    for i in 0..targets.len() {
                        let target = &targets[(start + i) % targets.len()];
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { url }
    }
}

/// Wait for the next update that is a delta event (join/move/leave/saved), skipping status
/// updates and snapshots; panic after `within`.
pub async fn next_event(subscription: &mut Subscription, within: Duration) -> Event {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let update = tokio::time::timeout_at(deadline, subscription.next())
            .await
            .unwrap_or_else(|_| panic!("no event within {within:?}"))
            .expect("the subscription is open");
        match update {
            Update::Event(event) => return event,
            Update::Fatal(error) => panic!("the subscription failed: {error}"),
            _ => {}
        }
    }
}

/// Open a raw SSE stream (as a browser would, optionally resuming from `last_event_id`) and
/// return the id and name of every message that arrives in its first moments.
pub async fn open_raw(
    url: &str,
    last_event_id: Option<&str>,
) -> (reqwest_eventsource::EventSource, Vec<(String, String)>) {
    use futures_util::StreamExt;
    use reqwest_eventsource::{Event as SseEvent, EventSource};
    let mut request = reqwest::Client::new().get(url);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let mut source = EventSource::new(request).expect("a GET can be an event source");
    let mut first = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(700), source.next()).await
    {
        match event {
            Ok(SseEvent::Open) => {}
            Ok(SseEvent::Message(message)) => first.push((message.id, message.event)),
            Err(error) => panic!("stream failed: {error}"),
        }
    }
    (source, first)
}

/// A free loopback port (free now; a test binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Poll `ready` until it holds; panic naming `what` after `within`.
pub fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} not ready within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait for the first snapshot of a subscription.
pub async fn first_snapshot(subscription: &mut Subscription) -> Vec<copresence_core::SiteState> {
    loop {
        let update = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("a snapshot within 10 s")
            .expect("the subscription is open");
        match update {
            Update::Snapshot(sites) => return sites,
            Update::Fatal(error) => panic!("the subscription failed: {error}"),
            _ => {}
        }
    }
}

/// Collect every delta event that arrives within `window`.
pub async fn events_within(subscription: &mut Subscription, window: Duration) -> Vec<Event> {
    let deadline = tokio::time::Instant::now() + window;
    let mut events = Vec::new();
    while let Ok(Some(update)) = tokio::time::timeout_at(deadline, subscription.next()).await {
        if let Update::Event(event) = update {
            events.push(event);
        }
    }
    events
}

/// A TCP relay in front of a server whose connections a test can cut, as a network failure
/// or a load balancer would: the server stays up, the client's stream breaks mid-way.
pub struct CuttableLink {
    pub url: String,
    cut: tokio::sync::watch::Sender<u64>,
}

impl CuttableLink {
    pub async fn to(server_url: &str) -> CuttableLink {
        let target = server_url
            .strip_prefix("http://")
            .expect("an http:// URL")
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (cut, cuts) = tokio::sync::watch::channel(0u64);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        CuttableLink { url, cut }
    }

    /// Break every connection open through the link now; new ones are accepted again.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}
