//! The results: a table on stdout, `BENCHMARKS.json` for later runs to compare against, and
//! `BENCHMARKS.md` for people, with the machine, the command and the date.
//!
//! The JSON is one object with a key per measurement (`fanout`, `memory`, `ingest`), so later
//! measurements (a `cluster` one, say) can be added beside them without breaking readers.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cluster::ClusterRow;
use crate::fanout;
use crate::ingest::Ingest;
use crate::memory;
use crate::plan::{Capped, Plan};
use crate::stats::ratio;

/// This run's section of BENCHMARKS.md lies between these lines; the rest of the file (other
/// benchmarks' sections, notes written by people) is left alone.
const BEGIN: &str = "<!-- service:begin (written by `make bench`) -->";
const END: &str = "<!-- service:end -->";

#[derive(Debug, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub date: String,
    pub command: String,
    pub machine: Machine,
    pub open_files_limit: u64,
    pub plan: Plan,
    pub fanout: Vec<FanoutRow>,
    pub memory: Vec<MemoryRow>,
    pub ingest: Ingest,
    pub cluster: Vec<ClusterRow>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: u64,
    pub cpu: String,
    pub kernel: String,
}

#[derive(Debug, Serialize)]
pub struct FanoutRow {
    pub subscribers: usize,
    /// The size asked for, when the open-file limit made it smaller (see `plan.capped`).
    pub requested_subscribers: usize,
    pub events: u32,
    pub rate_per_second: u32,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub delivered: usize,
    pub expected: usize,
    pub floor_p50_ms: f64,
    pub floor_p99_ms: f64,
    pub floor_max_ms: f64,
    pub floor_delivered: usize,
    pub server_cpu_us_per_delivery: f64,
    pub floor_server_cpu_us_per_delivery: f64,
    pub bench_cpu_us_per_delivery: f64,
    pub p50_ratio: Option<f64>,
    pub p99_ratio: Option<f64>,
    pub max_ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct MemoryRow {
    pub subscribers: usize,
    /// The size asked for, when the open-file limit made it smaller (see `plan.capped`).
    pub requested_subscribers: usize,
    pub bytes_per_subscriber: u64,
    pub floor_bytes_per_subscriber: u64,
    pub ratio: Option<f64>,
    pub all_received: bool,
    pub received: usize,
    pub floor_all_received: bool,
    pub rss_bytes: u64,
    pub baseline_rss_bytes: u64,
    pub floor_rss_bytes: u64,
    pub floor_baseline_rss_bytes: u64,
}

/// One of the service's performance targets, and whether this run meets it.
#[derive(Debug, Serialize)]
pub struct Target {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl Report {
    pub fn new(
        plan: &Plan,
        open_files_limit: u64,
        fanout: Vec<fanout::Comparison>,
        memory: memory::Comparison,
        ingest: Ingest,
        cluster: Vec<ClusterRow>,
    ) -> Report {
        let fanout: Vec<FanoutRow> = fanout
            .into_iter()
            .map(|c| FanoutRow {
                subscribers: c.subscribers,
                requested_subscribers: requested(plan, c.subscribers, |c| {
                    &c.requested_fanout_subscribers
                }),
                events: plan.fanout_events,
                rate_per_second: plan.fanout_rate,
                p50_ms: c.ours.latency.p50_ms,
                p99_ms: c.ours.latency.p99_ms,
                max_ms: c.ours.latency.max_ms,
                delivered: c.ours.delivered,
                expected: c.ours.expected,
                floor_p50_ms: c.floor.latency.p50_ms,
                floor_p99_ms: c.floor.latency.p99_ms,
                floor_max_ms: c.floor.latency.max_ms,
                floor_delivered: c.floor.delivered,
                server_cpu_us_per_delivery: c.ours.server_cpu_us_per_delivery,
                floor_server_cpu_us_per_delivery: c.floor.server_cpu_us_per_delivery,
                bench_cpu_us_per_delivery: c.ours.bench_cpu_us_per_delivery,
                p50_ratio: ratio(c.ours.latency.p50_ms, c.floor.latency.p50_ms),
                p99_ratio: ratio(c.ours.latency.p99_ms, c.floor.latency.p99_ms),
                max_ratio: ratio(c.ours.latency.max_ms, c.floor.latency.max_ms),
            })
            .collect();
        let memory: Vec<MemoryRow> = memory
            .ours
            .iter()
            .zip(&memory.floor)
            .map(|(ours, floor)| MemoryRow {
                subscribers: ours.subscribers,
                requested_subscribers: requested(plan, ours.subscribers, |c| {
                    &c.requested_memory_steps
                }),
                bytes_per_subscriber: ours.bytes_per_subscriber,
                floor_bytes_per_subscriber: floor.bytes_per_subscriber,
                ratio: ratio(
                    ours.bytes_per_subscriber as f64,
                    floor.bytes_per_subscriber as f64,
                ),
                all_received: ours.all_received,
                received: ours.received,
                floor_all_received: floor.all_received,
                rss_bytes: ours.rss_bytes,
                baseline_rss_bytes: ours.baseline_rss_bytes,
                floor_rss_bytes: floor.rss_bytes,
                floor_baseline_rss_bytes: floor.baseline_rss_bytes,
            })
            .collect();
        // The targets are about the full sizes; a quick run's small ones say nothing of them.
        let targets = if plan.mode == "full" {
            let mut all = targets(&fanout, &memory, &ingest);
            all.extend(cluster_targets(&cluster));
            all
        } else {
            Vec::new()
        };
        Report {
            mode: plan.mode,
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            command: command(),
            machine: Machine::this(),
            open_files_limit,
            plan: plan.clone(),
            fanout,
            memory,
            ingest,
            cluster,
            targets,
        }
    }

    pub fn print_table(&self) {
        print!("{}", self.tables());
    }

    pub fn write_json(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).context("cannot encode the results")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!("wrote {}", path.display());
        Ok(())
    }

    /// Write this run's section of BENCHMARKS.md (the tables with the machine, the command and
    /// the date) between [`BEGIN`] and [`END`], leaving the rest of the file alone.
    pub fn write_markdown(&self, path: &Path, json: &Path) -> Result<()> {
        let existing = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmarks\n".to_owned(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let section = self.markdown_section(json);
        let updated = match (existing.find(BEGIN), existing.find(END)) {
            (Some(start), Some(end)) if start < end => format!(
                "{}{section}{}",
                &existing[..start],
                &existing[end + END.len()..].trim_start_matches('\n')
            ),
            // First time: right under the title, above other sections.
            _ => match existing.split_once('\n') {
                Some((title, rest)) if title.starts_with("# ") => {
                    format!("{title}\n\n{section}\n{}", rest.trim_start_matches('\n'))
                }
                _ => format!("{section}\n{existing}"),
            },
        };
        std::fs::write(path, updated)
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!("wrote {}", path.display());
        Ok(())
    }

    fn markdown_section(&self, json: &Path) -> String {
        let m = &self.machine;
        let mut md = String::new();
        let _ = writeln!(md, "{BEGIN}\n## The service\n");
        let _ = writeln!(
            md,
            "Measured by `copresence-bench` ({} mode) on {}: the real `copresence-server` \
             (release build, SQLite in a temporary directory) on loopback, against a bare axum \
             SSE broadcast (the *floor*: no auth, no store, no roster) measured the same way \
             in the same run. Ratios are ours / floor: absolute times on a shared machine are \
             noisy, the ratios are what to compare across commits. The same run is in \
             [`{}`]({}).\n",
            self.mode,
            self.date,
            json.display(),
            json.display()
        );
        let _ = writeln!(
            md,
            "- Machine: {} cores, {:.1} GiB, {}, Linux {}",
            m.cores,
            m.memory_bytes as f64 / (1u64 << 30) as f64,
            m.cpu,
            m.kernel
        );
        let _ = writeln!(md, "- Command: `{}`", self.command);
        let _ = writeln!(
            md,
            "- Open-file limit during the run: {}; client sockets spread over 127.0.0.1–127.0.0.{}\n",
            self.open_files_limit,
            crate::plan::SOURCE_ADDRESSES
        );
        md.push_str("```text\n");
        md.push_str(&self.tables());
        md.push_str("```\n");
        md.push_str(END);
        md.push('\n');
        md
    }

    fn tables(&self) -> String {
        let ms = |v: f64| format!("{v:.2}");
        let x = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{r:.2}×"));
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Fan-out: publish → every subscriber ({} events at {}/s)",
            self.plan.fanout_events, self.plan.fanout_rate
        );
        let _ = writeln!(
            t,
            "{:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}  delivered (floor)",
            "subscribers",
            "p50 ms",
            "p99 ms",
            "max ms",
            "floor p50",
            "floor p99",
            "floor max",
            "p50 ×",
            "p99 ×",
            "max ×"
        );
        for r in &self.fanout {
            let _ = writeln!(
                t,
                "{:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}  {}/{} ({}/{})",
                r.subscribers,
                ms(r.p50_ms),
                ms(r.p99_ms),
                ms(r.max_ms),
                ms(r.floor_p50_ms),
                ms(r.floor_p99_ms),
                ms(r.floor_max_ms),
                x(r.p50_ratio),
                x(r.p99_ratio),
                x(r.max_ratio),
                r.delivered,
                r.expected,
                r.floor_delivered,
                r.expected
            );
        }
        let _ = writeln!(
            t,
            "\nFan-out CPU per delivered event, from the first event to the last delivery (µs)"
        );
        let _ = writeln!(
            t,
            "{:>11} {:>9} {:>9} {:>8} {:>9}",
            "subscribers", "server", "floor", "×", "bench"
        );
        for r in &self.fanout {
            let _ = writeln!(
                t,
                "{:>11} {:>9.2} {:>9.2} {:>8} {:>9.2}",
                r.subscribers,
                r.server_cpu_us_per_delivery,
                r.floor_server_cpu_us_per_delivery,
                x(ratio(
                    r.server_cpu_us_per_delivery,
                    r.floor_server_cpu_us_per_delivery
                )),
                r.bench_cpu_us_per_delivery
            );
        }
        let _ = writeln!(
            t,
            "\nIdle subscribers: server memory per subscriber, and the next event"
        );
        let _ = writeln!(
            t,
            "{:>11} {:>10} {:>10} {:>8} {:>12} {:>14} {:>14}",
            "subscribers", "B/sub", "floor B/sub", "×", "all got it", "RSS MiB", "floor RSS MiB"
        );
        let mib = |b: u64| format!("{:.1}", b as f64 / (1u64 << 20) as f64);
        for r in &self.memory {
            let got = if r.all_received && r.floor_all_received {
                "yes".to_owned()
            } else {
                format!("{} ({})", r.all_received, r.floor_all_received)
            };
            let _ = writeln!(
                t,
                "{:>11} {:>10} {:>10} {:>8} {:>12} {:>14} {:>14}",
                r.subscribers,
                r.bytes_per_subscriber,
                r.floor_bytes_per_subscriber,
                x(r.ratio),
                got,
                mib(r.rss_bytes),
                mib(r.floor_rss_bytes)
            );
        }
        let i = &self.ingest;
        let _ = writeln!(
            t,
            "\nHeartbeat ingest: {} keep-alive publishers over {} sessions for {:.1} s",
            i.publishers, i.sessions, i.seconds
        );
        let _ = writeln!(
            t,
            "{:>10} {:>9} {:>9} {:>9} {:>8}",
            "per second", "p50 ms", "p99 ms", "max ms", "errors"
        );
        let _ = writeln!(
            t,
            "{:>10} {:>9} {:>9} {:>9} {:>8}",
            i.per_second,
            ms(i.latency.p50_ms),
            ms(i.latency.p99_ms),
            ms(i.latency.max_ms),
            i.errors
        );
        if let Some(c) = &self.plan.capped {
            let _ = writeln!(
                t,
                "\nNote: the open-file limit is {} and cannot be raised here, so a process holds at \
                 most {} subscribers; sizes asked for above that (fan-out {:?}, memory {:?}) were \
                 measured at {}.",
                c.open_files_limit,
                c.max_subscribers,
                c.requested_fanout_subscribers,
                c.requested_memory_steps,
                c.max_subscribers
            );
        }
        let _ = writeln!(
            t,
            "\nSeveral nodes (PostgreSQL + Redis): publish on node 1 → receive on node 2, against one embedded node"
        );
        let _ = writeln!(
            t,
            "{:>5} {:>11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>9} {:>10} {:>8}",
            "nodes",
            "subscribers",
            "p50 ms",
            "p99 ms",
            "max ms",
            "1-node p50",
            "1-node p99",
            "p99 ×",
            "B/sub",
            "1-node B/sub",
            "held ×"
        );
        for r in &self.cluster {
            let _ = writeln!(
                t,
                "{:>5} {:>11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>9} {:>10} {:>8}",
                r.nodes,
                r.subscribers,
                ms(r.p50_ms),
                ms(r.p99_ms),
                ms(r.max_ms),
                ms(r.single_node_p50_ms),
                ms(r.single_node_p99_ms),
                x(Some(r.p99_ratio)),
                r.bytes_per_subscriber,
                r.single_node_bytes_per_subscriber,
                x(Some(r.held_ratio))
            );
        }
        let _ = writeln!(t, "\nTargets");
        if self.targets.is_empty() {
            let _ = writeln!(t, "  judged only in a full run");
        }
        for target in &self.targets {
            let mark = if target.met { "met   " } else { "MISSED" };
            let _ = writeln!(t, "  {mark} {}: {}", target.target, target.measured);
        }
        t
    }
}

/// The size asked for that was measured at `measured` (the same unless the plan was capped).
fn requested(plan: &Plan, measured: usize, list: fn(&Capped) -> &Vec<usize>) -> usize {
    match &plan.capped {
        Some(capped) if measured == capped.max_subscribers => {
            list(capped).iter().copied().max().unwrap_or(measured)
        }
        _ => measured,
    }
}

/// " (measured at N: open-file limit)" when a size was lowered.
fn at(measured: usize, requested: usize) -> String {
    if measured == requested {
        String::new()
    } else {
        format!(" (measured at {measured}: open-file limit)")
    }
}

fn targets(fanout: &[FanoutRow], memory: &[MemoryRow], ingest: &Ingest) -> Vec<Target> {
    let mut targets = Vec::new();
    for (subscribers, limit) in [(2_000, 5.0), (20_000, 50.0)] {
        if let Some(r) = fanout
            .iter()
            .find(|r| r.requested_subscribers == subscribers)
        {
            targets.push(Target {
                target: format!("fan-out p99 ≤ {limit} ms at {subscribers} subscribers"),
                measured: format!(
                    "{:.2} ms{}",
                    r.p99_ms,
                    at(r.subscribers, r.requested_subscribers)
                ),
                met: r.p99_ms <= limit && r.delivered == r.expected,
            });
        }
    }
    for r in fanout {
        targets.push(Target {
            target: format!(
                "fan-out p99 within 1.5× of the floor at {}",
                r.requested_subscribers
            ),
            measured: r.p99_ratio.map_or("-".to_owned(), |x| {
                format!("{x:.2}×{}", at(r.subscribers, r.requested_subscribers))
            }),
            met: r.p99_ratio.is_some_and(|x| x <= 1.5),
        });
    }
    if let Some(largest) = memory.last() {
        targets.push(Target {
            target: "≤ 4096 bytes per idle subscriber".to_owned(),
            measured: format!(
                "{} bytes at {} subscribers",
                largest.bytes_per_subscriber, largest.subscribers
            ),
            met: largest.bytes_per_subscriber <= 4096,
        });
        targets.push(Target {
            target: "≥ 50000 subscribers on one node, all still receiving".to_owned(),
            measured: format!(
                "{} of {} received{}",
                largest.received,
                largest.subscribers,
                at(largest.subscribers, largest.requested_subscribers)
            ),
            met: largest.subscribers >= 50_000 && largest.all_received,
        });
    }
    targets.push(Target {
        target: "≥ 50000 heartbeats/s".to_owned(),
        measured: format!("{}/s", ingest.per_second),
        met: ingest.per_second >= 50_000 && ingest.errors == 0,
    });
    targets.push(Target {
        target: "heartbeat p99 ≤ 20 ms".to_owned(),
        measured: format!("{:.2} ms", ingest.latency.p99_ms),
        met: ingest.latency.p99_ms <= 20.0,
    });
    targets
}

fn cluster_targets(cluster: &[ClusterRow]) -> Vec<Target> {
    let mut targets = Vec::new();
    for r in cluster {
        targets.push(Target {
            target: format!(
                "cross-node p99 ≤ 2× one node and ≤ 10 ms ({} nodes, {} subscribers)",
                r.nodes, r.subscribers
            ),
            measured: format!(
                "{:.2} ms, {:.2}× ({} of {} delivered)",
                r.p99_ms, r.p99_ratio, r.delivered, r.expected
            ),
            met: r.p99_ms <= 10.0 && r.p99_ratio <= 2.0 && r.delivered == r.expected,
        });
        targets.push(Target {
            target: format!(
                "subscribers held per node within 10% of one node ({} nodes)",
                r.nodes
            ),
            measured: format!("{:.2}× by memory per subscriber", r.held_ratio),
            met: r.held_ratio >= 0.9,
        });
    }
    targets
}

/// How this run was started, as typed (plus `make bench` when make ran it).
fn command() -> String {
    let args: Vec<String> = std::env::args().collect();
    let line = args.join(" ");
    if std::env::var_os("MAKELEVEL").is_some() {
        format!("make bench  # runs: {line}")
    } else {
        line
    }
}

impl Machine {
    fn this() -> Machine {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or("unknown CPU".to_owned(), |(_, name)| name.trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or("unknown".to_owned(), |k| k.trim().to_owned());
        Machine {
            cores,
            memory_bytes,
            cpu,
            kernel,
        }
    }
}
