//! Heartbeat ingest: keep-alive publishers (one user and one client-library client each, so
//! one connection each, used one request at a time) send `PUT …/sessions/…` round the sessions
//! they own as fast as the service answers, for a fixed time. Throughput is requests answered
//! per second; latency is each request's round trip.
//!
//! Every session joins once before the clock starts, so what is measured is heartbeats, the
//! steady state of a busy node, not joins.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use copresence_client::Client;
use copresence_core::PutSession;
use serde::Serialize;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::plan::Plan;
use crate::server::{Binaries, Organisation, Process, INGEST_SITE};
use crate::stats::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Ingest {
    pub per_second: u64,
    #[serde(flatten)]
    pub latency: Summary,
    pub publishers: usize,
    pub sessions: usize,
    pub seconds: f64,
    /// Requests refused or failed during the measured time.
    pub errors: usize,
}

pub async fn run(binaries: &Binaries, org: &Organisation, plan: &Plan) -> Result<Ingest> {
    tracing::info!(
        publishers = plan.ingest_publishers,
        sessions = plan.ingest_sessions,
        "ingest"
    );
    let mut server = Process::server(binaries, org, "ingest").await?;
    let measured = measure(&server.url, org, plan).await;
    server.check_alive()?;
    server.stop().await;
    measured.context("heartbeat ingest")
}

struct Worker {
    latencies: Vec<u64>,
    errors: usize,
}

async fn measure(url: &str, org: &Organisation, plan: &Plan) -> Result<Ingest> {
    let publishers = plan.ingest_publishers.min(org.ingest.len());
    if publishers == 0 {
        bail!("no heartbeat publishers were provisioned");
    }
    // Everyone starts the measured part together, after every session has joined.
    let start = std::sync::Arc::new(Barrier::new(publishers + 1));
    let mut workers = JoinSet::new();
    for (i, token) in org.ingest.iter().take(publishers).enumerate() {
        let client = Client::new(url, token).context("cannot make a client for the service")?;
        // Sessions i, i + P, i + 2P, …: an even share for each publisher.
        let sessions: Vec<String> = (i..plan.ingest_sessions)
            .step_by(publishers)
            .map(|s| format!("hb-{s}"))
            .collect();
        let start = start.clone();
        let duration = plan.ingest_duration;
        workers.spawn(async move {
            let body = PutSession {
                page: "/".to_owned(),
                client: "bench".to_owned(),
                title: None,
                url: None,
            };
            let mut joined = Ok(());
            for session in &sessions {
                if let Err(e) = client.put_session(INGEST_SITE, session, &body).await {
                    joined = Err(e).with_context(|| format!("session {session} cannot join"));
                    break;
                }
            }
            start.wait().await;
            joined?;
            let end = Instant::now() + duration;
            let mut worker = Worker {
                latencies: Vec::new(),
                errors: 0,
            };
            for session in sessions.iter().cycle() {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                match client.put_session(INGEST_SITE, session, &body).await {
                    Ok(_) => worker.latencies.push(sent.elapsed().as_nanos() as u64),
                    Err(_) => worker.errors += 1,
                }
            }
            Ok::<_, anyhow::Error>(worker)
        });
    }
    start.wait().await;
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(worker) = workers.join_next().await {
        let worker = worker.context("a heartbeat publisher task failed")??;
        latencies.extend(worker.latencies);
        errors += worker.errors;
    }
    let seconds = began.elapsed().as_secs_f64();
    let answered = latencies.len();
    Ok(Ingest {
        per_second: (answered as f64 / seconds.max(f64::EPSILON)) as u64,
        latency: Summary::of_nanos(latencies),
        publishers,
        sessions: plan.ingest_sessions,
        seconds,
        errors,
    })
}
