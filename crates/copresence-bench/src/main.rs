//! `copresence-bench`: measures the real `copresence-server` binary against a bare SSE floor in
//! the same run, and writes the figures as a table, `BENCHMARKS.json` and (optionally)
//! `BENCHMARKS.md`.
//!
//! Absolute times on a shared machine are noisy; every fan-out and memory figure is therefore
//! also given as a ratio to the floor (a bare axum broadcast of pre-encoded events, measured in
//! the same way, one step later), which is what later runs compare against.
//!
//! One file per concern: [`plan`] (what to measure), [`server`] (starting and provisioning the
//! processes), [`floor`], [`sse`] (the minimal subscriber), [`fanout`], [`memory`], [`ingest`],
//! [`cluster`] (several nodes on PostgreSQL and Redis), [`stats`], [`report`].

mod cluster;
mod fanout;
mod floor;
mod ingest;
mod limits;
mod memory;
mod plan;
mod publisher;
mod report;
mod server;
mod sse;
mod stats;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "copresence-bench",
    version,
    about = "Benchmark the Copresence service against a bare SSE floor",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// The floor: a bare SSE broadcast server (no auth, no store, no roster). The bench starts
    /// it as its own process so its memory is measured exactly like the service's.
    FloorServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
}

#[derive(Args)]
pub struct RunArgs {
    /// Small sizes, to prove the instrument works (seconds, not minutes); says nothing about speed.
    #[arg(long)]
    quick: bool,
    /// Where to write the machine-readable results.
    #[arg(long, default_value = "BENCHMARKS.json")]
    json: PathBuf,
    /// Also write the results, with the machine and the command, as Markdown here.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Directory holding the `copresence-server` binary; default: this binary's own directory.
    #[arg(long, env = "COPRESENCE_BIN_DIR")]
    bin_dir: Option<PathBuf>,
    /// Fan-out subscriber counts, overriding the mode's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    fanout: Option<Vec<usize>>,
    /// Idle-subscriber steps of the memory measurement, overriding the mode's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    memory: Option<Vec<usize>>,
    /// Seconds of sustained heartbeats, overriding the mode's.
    #[arg(long)]
    ingest_seconds: Option<f64>,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "copresence_bench=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Some(Command::FloorServer { listen }) => runtime.block_on(floor::serve(&listen)),
        None => runtime.block_on(run(cli.run)),
    }
}

async fn run(args: RunArgs) -> Result<()> {
    let mut plan = plan::Plan::from_args(&args);
    let open_files = limits::raise_open_files(plan.open_files_needed())?;
    tracing::info!(open_files, "open-file limit of the bench and its children");
    plan.fit_open_files(open_files);
    if let Some(capped) = &plan.capped {
        tracing::warn!(
            max = capped.max_subscribers,
            "the open-file limit allows at most this many subscribers per process: larger sizes \
             are measured at this size"
        );
    }
    let binaries = server::Binaries::find(args.bin_dir.as_deref())?;
    let org = server::provision(&binaries, &plan)?;

    let mut fanout = Vec::new();
    for &subscribers in &plan.fanout_subscribers {
        fanout.push(fanout::compare(&binaries, &org, &plan, subscribers).await?);
    }
    let memory = memory::compare(&binaries, &org, &plan).await?;
    let ingest = ingest::run(&binaries, &org, &plan).await?;
    let cluster = cluster::measure(
        &binaries,
        &org,
        &plan,
        &plan.cluster_nodes,
        plan.cluster_subscribers,
    )
    .await?;

    let report = report::Report::new(&plan, open_files, fanout, memory, ingest, cluster);
    report.print_table();
    report.write_json(&args.json)?;
    if let Some(markdown) = &args.markdown {
        report.write_markdown(markdown, &args.json)?;
    }
    Ok(())
}
