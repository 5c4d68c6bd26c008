//! Real PostgreSQL and Redis servers on loopback for the multi-node tests, each in a temporary
//! directory and stopped when dropped. `make test` installs them (Debian's `postgresql` and
//! `redis-server`).
//!
//! PostgreSQL refuses to run as root; when the tests do (CI), it runs as the `postgres` system
//! user the package creates.

use crate::{free_port, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn found(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn kill(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A `redis-server` with no persistence: a restart starts it empty, as a crash of a cache
/// node would.
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        assert!(
            found("redis-server"),
            "redis-server is needed for the multi-node tests: run `make test`, which installs it"
        );
        let mut redis = Redis {
            port: free_port(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            child: None,
        };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let port = self.port;
        wait_until("redis-server", Duration::from_secs(10), || {
            Command::new("redis-cli")
                .args(["-p", &port.to_string(), "ping"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
        });
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kill it (SIGKILL) and start it again, empty, on the same port.
    pub fn crash_and_restart(&mut self) {
        kill(&mut self.child);
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// A PostgreSQL cluster of its own (initdb in a temporary directory), trusting local
/// connections for the `copresence` role.
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    child: Option<Child>,
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is needed for the multi-node tests: run `make test`, which installs it")
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command as the user PostgreSQL runs as: `postgres` when we are root, else ourselves.
/// `setpriv` execs the program itself, so the child's pid is PostgreSQL's own (signals reach it).
fn as_postgres_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--clear-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("pgdata");
        std::fs::create_dir(&data).expect("the data directory");
        #[cfg(unix)]
        if running_as_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("the temporary directory can be opened to postgres");
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&data)
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "cannot hand the data directory to postgres"
            );
        }
        let initdb = as_postgres_user(&bin.join("initdb"))
            .args([
                "-U",
                "copresence",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg("-D")
            .arg(&data)
            .stdout(Stdio::null())
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let mut postgres = Postgres {
            port: free_port(),
            bin,
            data,
            _dir: dir,
            child: None,
        };
        postgres.resume();
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://copresence@127.0.0.1:{}/postgres", self.port)
    }

    /// Start it (again) on the same data and port.
    pub fn resume(&mut self) {
        let child = as_postgres_user(&self.bin.join("postgres"))
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "fsync=off", "-c", "max_connections=300"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let (bin, port) = (self.bin.clone(), self.port);
        wait_until("postgres", Duration::from_secs(30), || {
            Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    /// Stop it at once, as an outage would (its data stays).
    pub fn stop(&mut self) {
        if let Some(child) = &self.child {
            // SIGQUIT: immediate shutdown of the postmaster and every backend.
            let _ = Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
