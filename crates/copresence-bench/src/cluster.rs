//! Several nodes: publish on one node, receive on another, through a real Redis (live presence
//! and the event stream) and a real PostgreSQL (the store), against one node of the same run.
//!
//! The publisher talks to node 1 and every subscriber to node 2, so each event crosses Redis
//! before it fans out; with three nodes, node 3 reads the stream too, as it would in service.
//! The single-node figure is taken by the same code on a fresh embedded node (SQLite, presence
//! in the process) at the same subscriber count, so the two differ only in where presence lives.
//! Memory per subscriber is read on the subscribers' node with everyone connected: how many
//! subscribers a node holds in a cluster, next to how many it holds alone.

use anyhow::{anyhow, Context, Result};
use copresence_tests::cluster::{Postgres, Redis};
use serde::Serialize;

use crate::fanout::{self, Measured};
use crate::plan::Plan;
use crate::publisher::Publisher;
use crate::server::{self, Binaries, Organisation, Process, FANOUT_SITE};
use crate::sse::Endpoint;

/// One cluster size's figures, next to the single node's.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterRow {
    pub nodes: usize,
    pub subscribers: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub delivered: usize,
    pub expected: usize,
    pub single_node_p50_ms: f64,
    pub single_node_p99_ms: f64,
    /// Cross-node p99 / single-node p99.
    pub p99_ratio: f64,
    /// Server memory per connected subscriber on the subscribers' node.
    pub bytes_per_subscriber: u64,
    pub single_node_bytes_per_subscriber: u64,
    /// Subscribers a node holds in the cluster per subscriber it holds alone (by memory).
    pub held_ratio: f64,
}

/// The cluster measurements: one row per cluster size.
pub async fn measure(
    binaries: &Binaries,
    org: &Organisation,
    plan: &Plan,
    sizes: &[usize],
    subscribers: usize,
) -> Result<Vec<ClusterRow>> {
    tracing::info!(subscribers, "cluster: one embedded node, for comparison");
    let single = single_node(binaries, org, plan, subscribers).await?;
    let mut rows = Vec::new();
    for &nodes in sizes {
        tracing::info!(
            nodes,
            subscribers,
            "cluster: publish on node 1, receive on node 2"
        );
        let crossed = across_nodes(binaries, org, plan, nodes, subscribers).await?;
        rows.push(row(nodes, subscribers, &crossed, &single));
    }
    Ok(rows)
}

fn row(nodes: usize, subscribers: usize, crossed: &Measured, single: &Measured) -> ClusterRow {
    let per_subscriber = |m: &Measured| m.subscribed_rss_growth_bytes / subscribers.max(1) as u64;
    let (ours, alone) = (per_subscriber(crossed), per_subscriber(single));
    ClusterRow {
        nodes,
        subscribers,
        p50_ms: crossed.latency.p50_ms,
        p99_ms: crossed.latency.p99_ms,
        max_ms: crossed.latency.max_ms,
        delivered: crossed.delivered,
        expected: crossed.expected,
        single_node_p50_ms: single.latency.p50_ms,
        single_node_p99_ms: single.latency.p99_ms,
        p99_ratio: crossed.latency.p99_ms / single.latency.p99_ms.max(f64::MIN_POSITIVE),
        bytes_per_subscriber: ours,
        single_node_bytes_per_subscriber: alone,
        held_ratio: alone as f64 / ours.max(1) as f64,
    }
}

fn endpoint(url: &str, token: &str) -> Result<Endpoint> {
    let query = format!("/v1/events?site={FANOUT_SITE}");
    Endpoint::new(url, &query, Some(token), b"event: snapshot")
}

async fn single_node(
    binaries: &Binaries,
    org: &Organisation,
    plan: &Plan,
    subscribers: usize,
) -> Result<Measured> {
    let mut node = Process::server(binaries, org, "cluster-single").await?;
    let publisher = Publisher::service(&node.url, &org.publisher, FANOUT_SITE)?;
    let measured = fanout::measure(
        &node,
        endpoint(&node.url, &org.subscriber)?,
        &publisher,
        plan,
        subscribers,
    )
    .await;
    node.check_alive()?;
    node.stop().await;
    measured.context("fan-out on one embedded node")
}

async fn across_nodes(
    binaries: &Binaries,
    org: &Organisation,
    plan: &Plan,
    nodes: usize,
    subscribers: usize,
) -> Result<Measured> {
    if nodes < 2 {
        return Err(anyhow!("a cluster needs at least two nodes, not {nodes}"));
    }
    // Fresh engines for every size: nothing of one run's state in the next.
    let (redis, postgres) = tokio::task::spawn_blocking(|| (Redis::start(), Postgres::start()))
        .await
        .context("cannot start Redis and PostgreSQL")?;
    let shared = server::SharedStore {
        database: postgres.url(),
        redis: redis.url(),
    };
    let tokens = server::provision_shared(binaries, org, plan, &shared)?;
    let mut running = Vec::with_capacity(nodes);
    for node in 1..=nodes {
        let name = format!("cluster-{nodes}-node{node}");
        running.push(Process::node(binaries, org, &shared, &name).await?);
    }
    let publisher = Publisher::service(&running[0].url, &tokens.publisher, FANOUT_SITE)?;
    let measured = fanout::measure(
        &running[1],
        endpoint(&running[1].url, &tokens.subscriber)?,
        &publisher,
        plan,
        subscribers,
    )
    .await;
    for node in &mut running {
        node.check_alive()?;
    }
    for node in running {
        node.stop().await;
    }
    drop((redis, postgres));
    measured.with_context(|| format!("fan-out across {nodes} nodes"))
}
