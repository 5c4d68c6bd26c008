//! Fan-out latency: N subscribers on one site's stream, a publisher moving through numbered
//! pages at a fixed rate, and for every event at every subscriber the time from just before
//! the publisher's request to the subscriber reading the event.
//!
//! Both ends are in this process, so one monotonic clock serves both: no clock skew, and the
//! publisher's request (authentication, store lookups, the roster change) is inside the figure,
//! as it is for a maker waiting to see a colleague appear. Receive times are taken when the
//! subscriber's task reads the event, so the bench's own scheduling is in the figure too; the
//! floor is read by the same code, which is what the ratio is for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::floor;
use crate::plan::Plan;
use crate::publisher::Publisher;
use crate::server::{cpu_seconds, Binaries, Organisation, Process, FANOUT_SITE};
use crate::sse::{self, Endpoint, Marker, Sources};
use crate::stats::Summary;

/// Pages `/p/1 ..= /p/E` number the events.
const PREFIX: &str = "/p/";

/// One side's figures at one subscriber count.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    #[serde(flatten)]
    pub latency: Summary,
    /// Events × subscribers.
    pub expected: usize,
    /// Of those, how many arrived.
    pub delivered: usize,
    /// CPU time the server spent from the first event to the last delivery, per delivery, in
    /// microseconds: what each subscriber costs it per event.
    pub server_cpu_us_per_delivery: f64,
    /// The same for this process (the subscribers' reading, mostly): the bench shares the
    /// machine's cores with the server, so this is taken from what the server could have had.
    pub bench_cpu_us_per_delivery: f64,
    /// How much the server's resident memory grew while the subscribers connected.
    pub subscribed_rss_growth_bytes: u64,
}

/// The service and the floor at the same subscriber count and rate.
pub struct Comparison {
    pub subscribers: usize,
    pub ours: Measured,
    pub floor: Measured,
}

pub async fn compare(
    binaries: &Binaries,
    org: &Organisation,
    plan: &Plan,
    subscribers: usize,
) -> Result<Comparison> {
    tracing::info!(subscribers, "fan-out: the service");
    let mut server = Process::server(binaries, org, &format!("fanout-{subscribers}")).await?;
    let publisher = Publisher::service(&server.url, &org.publisher, FANOUT_SITE)?;
    let query = format!("/v1/events?site={FANOUT_SITE}");
    let endpoint = Endpoint::new(
        &server.url,
        &query,
        Some(&org.subscriber),
        b"event: snapshot",
    )?;
    let ours = measure(&server, endpoint, &publisher, plan, subscribers).await;
    server.check_alive()?;
    server.stop().await;
    let ours = ours.context("fan-out on the service")?;

    tracing::info!(subscribers, "fan-out: the floor");
    let mut floor = Process::floor(binaries, org, &format!("floor-fanout-{subscribers}")).await?;
    let publisher = Publisher::floor(&floor.url, FANOUT_SITE)?;
    let endpoint = Endpoint::new(&floor.url, "/events", None, floor::READY_LINE)?;
    let floored = measure(&floor, endpoint, &publisher, plan, subscribers).await;
    floor.check_alive()?;
    floor.stop().await;
    let floored = floored.context("fan-out on the floor")?;

    Ok(Comparison {
        subscribers,
        ours,
        floor: floored,
    })
}

/// Fan-out at `subscribers` on `endpoint` while `publisher` publishes; `process` is the server
/// the subscribers are connected to (its CPU time and memory are read).
pub async fn measure(
    process: &Process,
    endpoint: Endpoint,
    publisher: &Publisher,
    plan: &Plan,
    subscribers: usize,
) -> Result<Measured> {
    publisher.begin(PREFIX).await?;
    let rss_before = process.rss_bytes()?;
    let events = plan.fanout_events;
    let clock = Instant::now();
    let endpoint = Arc::new(endpoint);
    let sources = Arc::new(Sources::new());
    let gate = Arc::new(Semaphore::new(plan.connect_concurrency));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<()>>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for _ in 0..subscribers {
        let (endpoint, sources, gate) = (endpoint.clone(), sources.clone(), gate.clone());
        let (ready_tx, stop_rx) = (ready_tx.clone(), stop_rx.clone());
        tasks.spawn(async move {
            let subscribed = {
                let _permit = gate.acquire_owned().await;
                sse::subscribe(&endpoint, &sources).await
            };
            match subscribed {
                Ok(reader) => {
                    let _ = ready_tx.send(Ok(()));
                    receive(reader, events, clock, stop_rx).await
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                    Vec::new()
                }
            }
        });
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        ready_rx
            .recv()
            .await
            .ok_or_else(|| anyhow!("a subscriber task ended without a word"))?
            .context("a subscriber could not subscribe")?;
    }
    tracing::debug!(subscribers, "all subscribed; publishing");
    let subscribed_rss_growth_bytes = process.rss_bytes()?.saturating_sub(rss_before);

    let server_cpu = process.cpu_seconds()?;
    let bench_cpu = cpu_seconds("/proc/self/stat")?;
    // sent[n]: when event n's request started, in nanoseconds on `clock`.
    let mut sent = vec![0u64; events as usize + 1];
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.fanout_rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 1..=events {
        tick.tick().await;
        sent[n as usize] = clock.elapsed().as_nanos() as u64;
        publisher.publish(PREFIX, n).await?;
    }

    // Let every subscriber see the last event; after the grace, whatever is missing is lost.
    let grace = Duration::from_secs(10) + Duration::from_millis(subscribers as u64 / 2);
    let deadline = tokio::time::Instant::now() + grace;
    let mut latencies = Vec::with_capacity(subscribers * events as usize);
    let mut stopped = false;
    loop {
        let next = if stopped {
            tasks.join_next().await
        } else {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(next) => next,
                Err(_) => {
                    let _ = stop_tx.send(true);
                    stopped = true;
                    continue;
                }
            }
        };
        let received = match next {
            None => break,
            Some(Ok(received)) => received,
            Some(Err(e)) => bail!("a subscriber task failed: {e}"),
        };
        for (n, at) in received {
            if let Some(&start) = sent.get(n as usize).filter(|_| n >= 1) {
                latencies.push(at.saturating_sub(start));
            }
        }
    }
    let server_cpu = process.cpu_seconds()? - server_cpu;
    let bench_cpu = cpu_seconds("/proc/self/stat")? - bench_cpu;
    publisher.end().await?;
    let delivered = latencies.len();
    let per_delivery = |seconds: f64| seconds * 1e6 / delivered.max(1) as f64;
    Ok(Measured {
        latency: Summary::of_nanos(latencies),
        expected: subscribers * events as usize,
        delivered,
        server_cpu_us_per_delivery: per_delivery(server_cpu),
        bench_cpu_us_per_delivery: per_delivery(bench_cpu),
        subscribed_rss_growth_bytes,
    })
}

/// Read events until the last one (or until told to stop); each numbered event with the time
/// it was read, in nanoseconds on `clock`.
async fn receive(
    mut reader: sse::SseReader,
    last: u32,
    clock: Instant,
    mut stop: watch::Receiver<bool>,
) -> Vec<(u32, u64)> {
    let marker = Marker::new(PREFIX);
    let mut received = Vec::with_capacity(last as usize);
    loop {
        tokio::select! {
            line = reader.next_line() => {
                let at = clock.elapsed().as_nanos() as u64;
                match line {
                    Ok(Some(line)) => {
                        if let Some(n) = marker.find(line) {
                            received.push((n, at));
                            if n >= last {
                                break;
                            }
                        }
                    }
                    // A stream that ends or breaks delivers nothing more: counted as lost.
                    Ok(None) | Err(_) => break,
                }
            }
            _ = stop.changed() => break,
        }
    }
    received
}
