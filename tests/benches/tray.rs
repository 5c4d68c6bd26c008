//! The tray app's own numbers, measured for real (`make bench-tray`; release builds):
//!
//! - **join → notification**: a maker's join is published (`PUT …/sessions/…`) and the
//!   freedesktop `Notify` call reaches the session bus; p50/p99/max over 100 joins by 100
//!   different makers (the time the publisher sent the request to the time `dbus-monitor` saw
//!   the call, both on this machine's clock).
//! - **idle memory**: RSS (and PSS, which counts shared pages once) of the app and its webview
//!   processes with the popup closed, against `bare-tray` — a Tauri tray app built the same way
//!   with nothing of ours in it — as a ratio.
//! - **idle CPU**: CPU time of the app and its webview processes over one minute with no events
//!   (only the stream's keep-alives), against the same baseline.
//!
//! Writes `BENCHMARKS-tray.json` at the workspace root and prints a Markdown table.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use copresence_core::PutSession;
use copresence_tests::desktop::{Desktop, Tray};
use copresence_tests::{bin, TestServer};
use serde_json::json;

const JOINS: usize = 100;
const SITE: &str = "bench";

/// How long the full run waits and measures; `--quick` (a smoke run of the instrument) less.
struct Plan {
    joins: usize,
    settle: Duration,
    idle_window: Duration,
}

impl Plan {
    fn from_args() -> Plan {
        if std::env::args().any(|a| a == "--quick") {
            Plan {
                joins: 10,
                settle: Duration::from_secs(3),
                idle_window: Duration::from_secs(5),
            }
        } else {
            Plan {
                joins: JOINS,
                settle: Duration::from_secs(15),
                idle_window: Duration::from_secs(60),
            }
        }
    }
}
/// An organisation of one site, you, and 100 makers to join it.
fn organisation() -> String {
    let mut org = String::from("[[users]]\nemail = \"you@bench.test\"\nname = \"You\"\n");
    let mut members = vec!["\"you@bench.test\"".to_owned()];
    for i in 0..JOINS {
        org.push_str(&format!(
            "[[users]]\nemail = \"maker{i:03}@bench.test\"\nname = \"Maker {i:03}\"\n"
        ));
        members.push(format!("\"maker{i:03}@bench.test\""));
    }
    org.push_str(&format!(
        "[[sites]]\nid = \"{SITE}\"\nname = \"Bench Site\"\nurl = \"https://bench.example\"\n\
         members = [{}]\npages = [ {{ path = \"/\", title = \"Home\" }}, \
         {{ path = \"/pricing\", title = \"Pricing\" }} ]\n",
        members.join(", ")
    ));
    org
}

/// A process and every process it started (the webview's), by walking `/proc`.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(fields) = stat_fields(pid) {
            if let Some(ppid) = fields.get(1).and_then(|f| f.parse::<u32>().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// `/proc/<pid>/stat` after the command name: state, ppid, … (field 3 onwards).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn kib_field(file: &Path, name: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Memory {
    processes: usize,
    rss_kib: u64,
    pss_kib: u64,
}

fn memory(root: u32) -> Memory {
    let tree = process_tree(root);
    Memory {
        processes: tree.len(),
        rss_kib: tree
            .iter()
            .map(|p| kib_field(Path::new(&format!("/proc/{p}/status")), "VmRSS:"))
            .sum(),
        pss_kib: tree
            .iter()
            .map(|p| kib_field(Path::new(&format!("/proc/{p}/smaps_rollup")), "Pss:"))
            .sum(),
    }
}

/// CPU time (user + system, in clock ticks) of a process tree.
fn cpu_ticks(root: u32) -> u64 {
    process_tree(root)
        .iter()
        .filter_map(|&p| stat_fields(p))
        // utime and stime are fields 14 and 15 of stat; the slice starts at field 3.
        .map(|f| f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0))
        .sum()
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Idle {
    memory: Memory,
    cpu_ms_per_minute: f64,
}

/// Let a freshly started app settle, then take its memory and its CPU time over a minute.
fn measure_idle(plan: &Plan, root: u32) -> Idle {
    std::thread::sleep(plan.settle);
    let memory = memory(root);
    let ticks = clock_ticks_per_second() as f64;
    let before = cpu_ticks(root);
    std::thread::sleep(plan.idle_window);
    let used = cpu_ticks(root).saturating_sub(before) as f64;
    Idle {
        memory,
        cpu_ms_per_minute: used / ticks * 1000.0 * 60.0 / plan.idle_window.as_secs_f64(),
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn launch(desktop: &Desktop, program: PathBuf, server: &str, token: &str) -> Killed {
    let child = desktop
        .command(program)
        .env("COPRESENCE_SERVER", server)
        .env("COPRESENCE_TOKEN", token)
        .env("XDG_CONFIG_HOME", desktop.dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app starts");
    Killed(child)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let started = Instant::now();
    let plan = Plan::from_args();
    let desktop = Desktop::start();
    let server = TestServer::start_with_org(&organisation(), &[]).await;
    let you = server.token("you@bench.test");
    let makers: Vec<_> = (0..plan.joins)
        .map(|i| server.client(&format!("maker{i:03}@bench.test")))
        .collect();

    eprintln!("baseline: bare-tray idle for {:?}…", plan.idle_window);
    let bare_bin = bin("copresence-tray")
        .parent()
        .expect("a bin directory")
        .join("examples")
        .join("bare-tray");
    let bare = launch(&desktop, bare_bin, &server.url, &you);
    let bare_idle = measure_idle(&plan, bare.0.id());
    drop(bare);

    eprintln!("copresence-tray idle for {:?}…", plan.idle_window);
    let app = launch(&desktop, bin("copresence-tray"), &server.url, &you);
    let tray = Tray::find(&desktop, Duration::from_secs(30));
    tray.wait_until("the idle icon", Duration::from_secs(30), |t| {
        t.icon() == Some("idle")
    });
    let ours_idle = measure_idle(&plan, app.0.id());

    eprintln!("{} joins…", plan.joins);
    let mut latencies = Vec::with_capacity(plan.joins);
    for (i, maker) in makers.iter().enumerate() {
        let before = desktop.notifications().len();
        let sent = unix_seconds(SystemTime::now());
        maker
            .put_session(
                SITE,
                &format!("editor-{i}"),
                &PutSession {
                    page: "/pricing".into(),
                    client: "bench".into(),
                    title: None,
                    url: None,
                },
            )
            .await
            .expect("the join is accepted");
        let deadline = Instant::now() + Duration::from_secs(10);
        let notice = loop {
            if let Some(n) = desktop.notifications().into_iter().nth(before) {
                break n;
            }
            assert!(Instant::now() < deadline, "no notification for join {i}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        latencies.push((notice.time - sent) * 1000.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (i, maker) in makers.iter().enumerate() {
        let _ = maker.delete_session(SITE, &format!("editor-{i}")).await;
    }
    let ours_after = {
        std::thread::sleep(Duration::from_secs(10));
        memory(app.0.id())
    };
    drop(app);

    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&sorted, 50.0),
        percentile(&sorted, 99.0),
        sorted[sorted.len() - 1],
    );
    let ratio = |ours: u64, bare: u64| ours as f64 / bare.max(1) as f64;
    let results = json!({
        "date": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "joins": plan.joins,
        "join_to_notify": { "p50_ms": p50, "p99_ms": p99, "max_ms": max },
        "idle": {
            "ours": ours_idle,
            "ours_after_joins": ours_after,
            "bare": bare_idle,
            "rss_ratio": ratio(ours_idle.memory.rss_kib, bare_idle.memory.rss_kib),
            "pss_ratio": ratio(ours_idle.memory.pss_kib, bare_idle.memory.pss_kib),
            "rss_ratio_after_joins": ratio(ours_after.rss_kib, bare_idle.memory.rss_kib),
        },
        "seconds": started.elapsed().as_secs(),
    });
    // A smoke run must not overwrite the recorded results.
    let name = if plan.joins == JOINS {
        "BENCHMARKS-tray.json"
    } else {
        "target/bench-tray-quick.json"
    };
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n")
        .expect("the results are written");

    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut table = String::from(
        "| measure | copresence-tray | bare Tauri tray | ratio |\n| --- | ---: | ---: | ---: |\n",
    );
    table.push_str(&format!(
        "| join → Notify p50 / p99 / max ({} joins) | {p50:.1} / {p99:.1} / {max:.1} ms | | |\n",
        plan.joins
    ));
    for (label, ours, bare) in [
        (
            "idle RSS, app + webview processes",
            ours_idle.memory.rss_kib,
            bare_idle.memory.rss_kib,
        ),
        (
            "idle PSS, app + webview processes",
            ours_idle.memory.pss_kib,
            bare_idle.memory.pss_kib,
        ),
        (
            "RSS after the joins and leaves",
            ours_after.rss_kib,
            bare_idle.memory.rss_kib,
        ),
    ] {
        table.push_str(&format!(
            "| {label} | {:.1} MiB | {:.1} MiB | {:.2}× |\n",
            mib(ours),
            mib(bare),
            ratio(ours, bare)
        ));
    }
    table.push_str(&format!(
        "| idle CPU over {} s | {:.0} ms per minute | {:.0} ms per minute | |\n",
        plan.idle_window.as_secs(),
        ours_idle.cpu_ms_per_minute,
        bare_idle.cpu_ms_per_minute
    ));
    println!("{table}");
    if plan.joins == JOINS {
        record_in_benchmarks_md(&table, results["date"].as_str().unwrap_or_default());
    }
    println!("\nwritten to {}", out.display());
}

const BEGIN: &str = "<!-- tray:begin (written by `make bench-tray`) -->";
const END: &str = "<!-- tray:end -->";

/// Put this run's table in BENCHMARKS.md between the tray markers, leaving the rest alone.
fn record_in_benchmarks_md(table: &str, date: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = kib_field(Path::new("/proc/meminfo"), "MemTotal:") as f64 / 1024.0 / 1024.0;
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let section = format!(
        "{BEGIN}\n## The tray app\n\n\
         `make bench-tray` on {date}: {cores} cores ({cpu}), {memory_gib:.0} GiB, Xvfb + D-Bus + \
         dunst, release builds. A join is a `PUT` by one of {JOINS} different makers; its time \
         runs to the `Notify` call on the session bus as `dbus-monitor` stamps it. Idle: popup \
         closed, connected, no events for a minute after 15 s of settling. The baseline \
         `bare-tray` (`src-tauri/examples/bare-tray.rs`) is a Tauri tray app built the same way \
         with a tray icon, a menu and one hidden webview window on a one-line page. Raw figures: \
         `BENCHMARKS-tray.json`.\n\n{table}{END}\n"
    );
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!(
                "{}{section}{}",
                &existing[..start],
                &existing[end + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{}\n{section}", existing.trim_end()),
    };
    std::fs::write(&path, updated).expect("BENCHMARKS.md is written");
}
