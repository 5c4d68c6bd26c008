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
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub mod desktop;

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

/// A running `copresence-server serve`, killed when dropped.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    extra_args: Vec<String>,
    child: Option<Child>,
}

fn run_server_command(args: &[&str]) -> String {
    let output = std::process::Command::new(bin("copresence-server"))
        .args(args)
        .output()
        .expect("copresence-server runs");
    assert!(
        output.status.success(),
        "copresence-server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl TestServer {
    /// Import [`ORG`] into a fresh data directory and serve it with these extra `serve` flags.
    pub async fn start(extra_args: &[&str]) -> TestServer {
        TestServer::start_with_org(ORG, extra_args).await
    }

    /// Import the organisation file `org` into a fresh data directory and serve it.
    pub async fn start_with_org(org: &str, extra_args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let org_file = dir.path().join("org.toml");
        std::fs::write(&org_file, org).expect("the organisation file is written");
        let org = org_file;
        let data = dir.path().join("data");
        run_server_command(&[
            "import",
            "--data",
            data.to_str().unwrap(),
            org.to_str().unwrap(),
        ]);
        let mut server = TestServer {
            url: String::new(),
            dir,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        server.spawn().await;
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    async fn spawn(&mut self) {
        let mut child = Command::new(bin("copresence-server"))
            .arg("serve")
            .arg("--listen")
            .arg(self.url.strip_prefix("http://").unwrap_or("127.0.0.1:0"))
            .arg("--data")
            .arg(self.data_dir())
            .args(&self.extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("copresence-server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the server announces its address within 20 s")
            .expect("stdout is readable")
            .expect("the server printed a line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        self.url = url.to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
    }

    /// A new bearer token for the user with this e-mail.
    pub fn token(&self, email: &str) -> String {
        let out = run_server_command(&[
            "token",
            "issue",
            "--data",
            self.data_dir().to_str().unwrap(),
            "--email",
            email,
        ]);
        out.lines()
            .last()
            .expect("the token is printed")
            .trim()
            .to_owned()
    }

    /// A client signed in as the user with this e-mail.
    pub fn client(&self, email: &str) -> Client {
        Client::new(&self.url, &self.token(email)).expect("a valid server URL")
    }

    /// Kill the server (as a crash would) and start it again on the same data and port.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }

    /// Kill the server.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
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
