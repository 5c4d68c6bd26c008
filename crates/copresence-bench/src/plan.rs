//! What one run measures: the sizes of the full run (those the targets are set at) and of the quick
//! run (only proves the instrument works), with command-line overrides.

use std::time::Duration;

use serde::Serialize;

use crate::RunArgs;

/// Source addresses `127.0.0.1 ..= 127.0.0.N` the subscribers' sockets are spread over: one
/// address has ~28,000 ephemeral ports, fewer than the largest step needs.
pub const SOURCE_ADDRESSES: u8 = 16;

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub mode: &'static str,
    /// Subscriber counts of the fan-out measurement, each on a fresh server.
    pub fanout_subscribers: Vec<usize>,
    /// Events the publisher sends per second during fan-out.
    pub fanout_rate: u32,
    /// Events sent per fan-out measurement (at `fanout_rate`).
    pub fanout_events: u32,
    /// Cumulative idle-subscriber counts at which memory is read and an event checked.
    pub memory_steps: Vec<usize>,
    /// Keep-alive connections sending heartbeats, one user each.
    pub ingest_publishers: usize,
    /// Sessions the heartbeats are spread over.
    pub ingest_sessions: usize,
    #[serde(serialize_with = "seconds")]
    pub ingest_duration: Duration,
    /// Cluster sizes of the cross-node measurement (nodes on PostgreSQL and Redis).
    pub cluster_nodes: Vec<usize>,
    /// Subscribers of the cross-node measurement, all on node 2 (the publisher is on node 1).
    pub cluster_subscribers: usize,
    /// Subscribers connecting at once: enough to open 50,000 in reasonable time, few enough
    /// that the service's small store pool never times out on the burst.
    pub connect_concurrency: usize,
    /// Set when the open-file limit is too low for the sizes asked for, and they were lowered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped: Option<Capped>,
}

/// Sizes lowered to fit the open-file limit: every subscriber is one descriptor in the server
/// (and one in the bench), and a process cannot hold more than its limit.
#[derive(Debug, Clone, Serialize)]
pub struct Capped {
    pub open_files_limit: u64,
    pub max_subscribers: usize,
    pub requested_fanout_subscribers: Vec<usize>,
    pub requested_memory_steps: Vec<usize>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Plan {
    pub fn from_args(args: &RunArgs) -> Plan {
        let mut plan = if args.quick {
            Plan {
                mode: "quick",
                fanout_subscribers: vec![20],
                fanout_rate: 20,
                fanout_events: 20,
                memory_steps: vec![100, 200],
                ingest_publishers: 64,
                ingest_sessions: 1_000,
                ingest_duration: Duration::from_secs(2),
                cluster_nodes: vec![2],
                cluster_subscribers: 20,
                connect_concurrency: 64,
                capped: None,
            }
        } else {
            Plan {
                mode: "full",
                fanout_subscribers: vec![100, 2_000, 20_000],
                fanout_rate: 20,
                fanout_events: 100,
                memory_steps: vec![1_000, 5_000, 10_000, 20_000, 50_000],
                ingest_publishers: 64,
                ingest_sessions: 10_000,
                ingest_duration: Duration::from_secs(10),
                cluster_nodes: vec![2, 3],
                cluster_subscribers: 2_000,
                connect_concurrency: 256,
                capped: None,
            }
        };
        if let Some(fanout) = &args.fanout {
            plan.fanout_subscribers = fanout.clone();
        }
        if let Some(memory) = &args.memory {
            let mut steps = memory.clone();
            steps.sort_unstable();
            steps.dedup();
            plan.memory_steps = steps;
        }
        if let Some(seconds) = args.ingest_seconds {
            plan.ingest_duration = Duration::from_secs_f64(seconds.max(0.1));
        }
        plan
    }

    /// Lower every size above what `open_files_limit` allows to that maximum, and say so.
    pub fn fit_open_files(&mut self, open_files_limit: u64) {
        let max = open_files_limit.saturating_sub(crate::limits::RESERVED) as usize;
        let too_big = |sizes: &[usize]| sizes.iter().any(|&n| n > max);
        if !too_big(&self.fanout_subscribers) && !too_big(&self.memory_steps) {
            return;
        }
        self.capped = Some(Capped {
            open_files_limit,
            max_subscribers: max,
            requested_fanout_subscribers: self.fanout_subscribers.clone(),
            requested_memory_steps: self.memory_steps.clone(),
        });
        for n in &mut self.fanout_subscribers {
            *n = (*n).min(max);
        }
        self.fanout_subscribers.dedup();
        for n in &mut self.memory_steps {
            *n = (*n).min(max);
        }
        self.memory_steps.dedup();
    }

    /// Descriptors the bench (and, inherited, each server) needs: one per subscriber at the
    /// largest size, plus room for the store, the publishers and the runtime.
    pub fn open_files_needed(&self) -> u64 {
        let most = self
            .fanout_subscribers
            .iter()
            .chain(&self.memory_steps)
            .copied()
            .max()
            .unwrap_or(0);
        most as u64 + crate::limits::RESERVED
    }
}
