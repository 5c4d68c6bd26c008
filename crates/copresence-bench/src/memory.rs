//! Subscribers held and memory: idle subscribers are opened in steps; at each step the server's
//! resident memory is read from `/proc` ((RSS at N − RSS at 0) / N per subscriber), then one
//! event is published and every subscriber opened so far must receive it.
//!
//! The baseline is read on a fresh process with the publisher already present, so it holds
//! everything but the subscribers. Memory freed after connecting (snapshot buffers) but kept
//! by the allocator counts: that is what the machine has to provide.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::floor;
use crate::plan::Plan;
use crate::publisher::Publisher;
use crate::server::{Binaries, Organisation, Process, IDLE_SITE};
use crate::sse::{self, Endpoint, Marker, Sources};

/// Pages `/m/1 ..= /m/S` number the steps' events.
const PREFIX: &str = "/m/";
/// Time for the servers to finish with the connections just opened before memory is read.
const SETTLE: Duration = Duration::from_secs(2);

/// One side's figures at one step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub subscribers: usize,
    pub rss_bytes: u64,
    pub baseline_rss_bytes: u64,
    pub bytes_per_subscriber: u64,
    /// How many subscribers got this step's event.
    pub received: usize,
    pub all_received: bool,
}

/// The service and the floor at the same steps.
pub struct Comparison {
    pub ours: Vec<Step>,
    pub floor: Vec<Step>,
}

pub async fn compare(binaries: &Binaries, org: &Organisation, plan: &Plan) -> Result<Comparison> {
    tracing::info!(steps = ?plan.memory_steps, "memory: the service");
    let mut server = Process::server(binaries, org, "memory").await?;
    let publisher = Publisher::service(&server.url, &org.publisher, IDLE_SITE)?;
    let query = format!("/v1/events?site={IDLE_SITE}");
    let endpoint = Endpoint::new(
        &server.url,
        &query,
        Some(&org.subscriber),
        b"event: snapshot",
    )?;
    let ours = measure(&mut server, endpoint, &publisher, plan).await;
    server.stop().await;
    let ours = ours.context("memory on the service")?;

    tracing::info!(steps = ?plan.memory_steps, "memory: the floor");
    let mut floor = Process::floor(binaries, org, "floor-memory").await?;
    let publisher = Publisher::floor(&floor.url, IDLE_SITE)?;
    let endpoint = Endpoint::new(&floor.url, "/events", None, floor::READY_LINE)?;
    let floored = measure(&mut floor, endpoint, &publisher, plan).await;
    floor.stop().await;
    let floored = floored.context("memory on the floor")?;

    Ok(Comparison {
        ours,
        floor: floored,
    })
}

async fn measure(
    process: &mut Process,
    endpoint: Endpoint,
    publisher: &Publisher,
    plan: &Plan,
) -> Result<Vec<Step>> {
    publisher.begin(PREFIX).await?;
    tokio::time::sleep(SETTLE).await;
    let baseline = process.rss_bytes()?;

    let endpoint = Arc::new(endpoint);
    let sources = Arc::new(Sources::new());
    let gate = Arc::new(Semaphore::new(plan.connect_concurrency));
    // received[k]: how many subscribers have read step k's event.
    let received: Arc<[AtomicUsize]> = (0..=plan.memory_steps.len())
        .map(|_| AtomicUsize::new(0))
        .collect();
    // Dropping the set at the end closes every subscriber.
    let mut subscribers = JoinSet::new();
    let mut open = 0;
    let mut steps = Vec::with_capacity(plan.memory_steps.len());
    for (k, &target) in plan.memory_steps.iter().enumerate() {
        let k = k as u32 + 1;
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<()>>();
        let adding = target.saturating_sub(open);
        for _ in 0..adding {
            let (endpoint, sources, gate) = (endpoint.clone(), sources.clone(), gate.clone());
            let (ready_tx, received) = (ready_tx.clone(), received.clone());
            subscribers.spawn(async move {
                let subscribed = {
                    let _permit = gate.acquire_owned().await;
                    sse::subscribe(&endpoint, &sources).await
                };
                match subscribed {
                    Ok(reader) => {
                        let _ = ready_tx.send(Ok(()));
                        idle(reader, &received).await;
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            });
        }
        drop(ready_tx);
        for _ in 0..adding {
            ready_rx
                .recv()
                .await
                .ok_or_else(|| anyhow!("a subscriber task ended without a word"))?
                .with_context(|| format!("subscriber {} of {target} could not subscribe", open))?;
            open += 1;
        }
        tokio::time::sleep(SETTLE).await;
        process.check_alive()?;
        let rss = process.rss_bytes()?;

        publisher.publish(PREFIX, k).await?;
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(10)
            + Duration::from_millis(open as u64 / 2);
        let got = &received[k as usize];
        while got.load(Ordering::Relaxed) < open && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = got.load(Ordering::Relaxed);
        let step = Step {
            subscribers: open,
            rss_bytes: rss,
            baseline_rss_bytes: baseline,
            bytes_per_subscriber: rss.saturating_sub(baseline) / open.max(1) as u64,
            received: got,
            all_received: got == open,
        };
        tracing::info!(
            subscribers = open,
            bytes_per_subscriber = step.bytes_per_subscriber,
            received = got,
            "memory step"
        );
        steps.push(step);
    }
    subscribers.shutdown().await;
    publisher.end().await?;
    Ok(steps)
}

/// Hold the stream open, counting each step's event when it arrives.
async fn idle(mut reader: sse::SseReader, received: &[AtomicUsize]) {
    let marker = Marker::new(PREFIX);
    while let Ok(Some(line)) = reader.next_line().await {
        if let Some(k) = marker.find(line) {
            if let Some(count) = received.get(k as usize) {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
