//! The processes under test: the real `copresence-server` binary and the floor, each started on
//! an ephemeral loopback port, and the organisation the bench provisions for itself with the
//! server's own `import` and `token issue` commands, as an operator would. Starting and the
//! commands are the test harness's own ([`copresence_tests::launch`]), so the bench and the
//! tests run the service the same way; this module adds the bench's log files, limits and
//! organisation.
//!
//! Every measurement starts fresh processes: memory freed by one measurement but kept by the
//! allocator must not count against the next one.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use copresence_tests::launch::{self, StartError};
use tokio::process::Child;

use crate::plan::Plan;

/// The site fan-out subscribers watch; its pages `/p/1 ..= /p/E` carry the event numbers.
pub const FANOUT_SITE: &str = "fanout";
/// The site idle subscribers watch; its pages `/m/1 ..= /m/S` carry the memory step numbers.
pub const IDLE_SITE: &str = "idle";
/// The site heartbeats are sent to.
pub const INGEST_SITE: &str = "ingest";

const SUBSCRIBER: &str = "subscriber@bench.test";
const PUBLISHER: &str = "publisher@bench.test";

/// Where the binaries are.
pub struct Binaries {
    pub server: PathBuf,
    /// This binary: the floor server is a subcommand of it.
    pub bench: PathBuf,
}

impl Binaries {
    /// `copresence-server` in `dir`, or beside this binary (same `target/<profile>/`).
    pub fn find(dir: Option<&Path>) -> Result<Binaries> {
        let bench = std::env::current_exe().context("cannot find this binary's own path")?;
        let dir = match dir {
            Some(dir) => dir.to_path_buf(),
            None => bench
                .parent()
                .ok_or_else(|| anyhow!("{} has no directory", bench.display()))?
                .to_path_buf(),
        };
        let server = dir.join(format!("copresence-server{}", std::env::consts::EXE_SUFFIX));
        if !server.exists() {
            bail!(
                "{} is missing: build it first (cargo build -p copresence-server, with --release \
                 for a release bench), or name its directory with --bin-dir",
                server.display()
            );
        }
        Ok(Binaries { server, bench })
    }
}

/// The provisioned organisation: a data directory and the tokens to act in it.
pub struct Organisation {
    /// Holds the data directory and the processes' logs; removed when the run ends.
    dir: tempfile::TempDir,
    /// Token of the user every subscriber signs in as.
    pub subscriber: String,
    /// Token of the user who publishes joins and moves.
    pub publisher: String,
    /// One token per heartbeat publisher.
    pub ingest: Vec<String>,
}

impl Organisation {
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }
}

fn organisation_file(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut org = String::new();
    let user = |org: &mut String, email: &str, name: &str| {
        let _ = writeln!(org, "[[users]]\nemail = \"{email}\"\nname = \"{name}\"\n");
    };
    user(&mut org, SUBSCRIBER, "Sam Subscriber");
    user(&mut org, PUBLISHER, "Pat Publisher");
    for i in 0..plan.ingest_publishers {
        user(&mut org, &ingest_email(i), &format!("Heartbeat {i}"));
    }
    let site = |org: &mut String, id: &str, members: &[String], pages: &[String]| {
        let members: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
        let _ = writeln!(
            org,
            "[[sites]]\nid = \"{id}\"\nname = \"Bench {id}\"\nurl = \"https://{id}.bench.test\"\n\
             members = [{}]\npages = [",
            members.join(", ")
        );
        for page in pages {
            let _ = writeln!(org, "  {{ path = \"{page}\", title = \"Page {page}\" }},");
        }
        org.push_str("]\n\n");
    };
    let watchers = [SUBSCRIBER.to_owned(), PUBLISHER.to_owned()];
    // Page numbers are the event numbers, so a subscriber can tell which event it got from
    // the event alone; page 0 is where the publisher joins.
    let numbered = |prefix: &str, last: usize| -> Vec<String> {
        (0..=last).map(|i| format!("{prefix}{i}")).collect()
    };
    site(
        &mut org,
        FANOUT_SITE,
        &watchers,
        &numbered("/p/", plan.fanout_events as usize),
    );
    site(
        &mut org,
        IDLE_SITE,
        &watchers,
        &numbered("/m/", plan.memory_steps.len()),
    );
    let heartbeaters: Vec<String> = (0..plan.ingest_publishers).map(ingest_email).collect();
    site(&mut org, INGEST_SITE, &heartbeaters, &["/".to_owned()]);
    org
}

fn ingest_email(i: usize) -> String {
    format!("heartbeat-{i}@bench.test")
}

/// A temporary data directory with the bench's own organisation imported and its tokens issued.
/// Blocks while the server's commands run: it is called before anything is measured.
pub fn provision(binaries: &Binaries, plan: &Plan) -> Result<Organisation> {
    let dir = tempfile::Builder::new()
        .prefix("copresence-bench-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let file = dir.path().join("org.toml");
    std::fs::write(&file, organisation_file(plan))
        .with_context(|| format!("cannot write {}", file.display()))?;
    let data = dir.path().join("data");
    let data = data
        .to_str()
        .ok_or_else(|| anyhow!("the temporary directory's path is not UTF-8"))?
        .to_owned();
    let file = file
        .to_str()
        .ok_or_else(|| anyhow!("the temporary directory's path is not UTF-8"))?;
    let server = &binaries.server;
    launch::admin(server, &["import", "--data", &data, file])?;
    let store = ["--data", data.as_str()];
    let subscriber = launch::issue_token(server, &store, SUBSCRIBER)?;
    let publisher = launch::issue_token(server, &store, PUBLISHER)?;
    let mut ingest = Vec::with_capacity(plan.ingest_publishers);
    for i in 0..plan.ingest_publishers {
        ingest.push(launch::issue_token(server, &store, &ingest_email(i))?);
    }
    Ok(Organisation {
        dir,
        subscriber,
        publisher,
        ingest,
    })
}

/// The engines several nodes share.
pub struct SharedStore {
    /// `postgres://…`
    pub database: String,
    /// `redis://…`
    pub redis: String,
}

/// The tokens of a cluster's own organisation.
pub struct SharedTokens {
    pub subscriber: String,
    pub publisher: String,
}

/// The same organisation as [`provision`], imported into a shared PostgreSQL. Blocks, like
/// [`provision`], before the nodes start.
pub fn provision_shared(
    binaries: &Binaries,
    org: &Organisation,
    plan: &Plan,
    shared: &SharedStore,
) -> Result<SharedTokens> {
    let file = org.dir.path().join("org-shared.toml");
    std::fs::write(&file, organisation_file(plan))
        .with_context(|| format!("cannot write {}", file.display()))?;
    let file = file
        .to_str()
        .ok_or_else(|| anyhow!("the temporary directory's path is not UTF-8"))?;
    let server = &binaries.server;
    let store = ["--database", shared.database.as_str()];
    launch::admin(server, &["import", store[0], store[1], file])?;
    Ok(SharedTokens {
        subscriber: launch::issue_token(server, &store, SUBSCRIBER)?,
        publisher: launch::issue_token(server, &store, PUBLISHER)?,
    })
}

/// A process under test, killed when dropped.
pub struct Process {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: PathBuf,
}

impl Process {
    /// Start `program args…`, which must print a line with its `http://` address first, with
    /// its standard error going to `log` (quoted in the error when it fails to announce it).
    async fn start(program: &Path, args: &[&str], log: PathBuf) -> Result<Process> {
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let launch::Listening { child, url } = launch::start(
            program,
            args,
            Stdio::from(log_file),
            Duration::from_secs(30),
        )
        .await
        .map_err(|error| match error {
            // It never ran, so its log is empty.
            StartError::Spawn { .. } => anyhow!(error),
            _ => anyhow!(
                "{error}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        })?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("{} exited at once", program.display()))?;
        Ok(Process {
            child,
            pid,
            url,
            log,
        })
    }

    /// The limits of a node, moved out of the way of what one machine sends: every subscriber
    /// connects from loopback, and each heartbeat publisher is one user sending as fast as the
    /// node answers, round some 160 sessions of its own on one site. The limits stay on (each
    /// request is still counted and checked against them), so what they cost is in the
    /// figures; the node's connection cap keeps its default.
    const BENCH_LIMITS: [&str; 6] = [
        "--max-connections-per-ip",
        "0",
        "--rate-sessions",
        "1000000000/s",
        "--max-sessions-per-site",
        "100000",
    ];

    /// `copresence-server serve` on a free loopback port over the organisation's data.
    pub async fn server(binaries: &Binaries, org: &Organisation, name: &str) -> Result<Process> {
        let data = org.data();
        let data = data
            .to_str()
            .ok_or_else(|| anyhow!("the data directory's path is not UTF-8"))?;
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data", data];
        args.extend(Self::BENCH_LIMITS);
        Process::start(&binaries.server, &args, org.log(name)).await
    }

    /// One node of several: `copresence-server serve` on the shared PostgreSQL and Redis.
    pub async fn node(
        binaries: &Binaries,
        org: &Organisation,
        shared: &SharedStore,
        name: &str,
    ) -> Result<Process> {
        let args = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &shared.database,
            "--redis",
            &shared.redis,
        ]
        .into_iter()
        .chain(Self::BENCH_LIMITS)
        .collect::<Vec<_>>();
        Process::start(&binaries.server, &args, org.log(name)).await
    }

    /// The floor server (this binary's `floor-server`) on a free loopback port.
    pub async fn floor(binaries: &Binaries, org: &Organisation, name: &str) -> Result<Process> {
        let args = ["floor-server", "--listen", "127.0.0.1:0"];
        Process::start(&binaries.bench, &args, org.log(name)).await
    }

    /// The process's resident memory now, in bytes (`VmRSS`).
    pub fn rss_bytes(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.pid);
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("no VmRSS in {path}"))?;
        Ok(kib * 1024)
    }

    /// CPU time the process has used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.pid))
    }

    /// Fail with the log's end if the process has exited (a crash under load is a finding).
    pub fn check_alive(&mut self) -> Result<()> {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: String = log
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            bail!("the process under test exited ({status}):\n{tail}");
        }
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// User + system CPU time from a `/proc/<pid>/stat` file, in seconds.
pub fn cpu_seconds(path: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis
    // are plain numbers, utime and stime being the 12th and 13th of them.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("{path} has no command name"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| anyhow!("{path} has no field {i}"))
    };
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) / per_second)
}
