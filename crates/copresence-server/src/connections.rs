//! Who may hold a connection to this node, and for how long.
//!
//! A connection costs a file descriptor before it costs anything else, and the descriptors of a
//! process are few (tens of thousands). Without limits, anyone who can reach the port holds them
//! all with sockets that send half a request head and stop. So every connection is admitted by a
//! [`Gate`] — at most so many per node, and so many per client address — and is closed when it
//! stalls: hyper's header-read timeout (which only works when hyper is given a timer) closes a
//! head that does not arrive, and [`Watched`] closes a connection on which no byte has moved
//! either way for the idle timeout. An event stream is never idle: it writes a keep-alive comment
//! every 15 s, so only a stream whose reader stopped reading (its socket buffer full) goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Descriptors kept back from the automatic connection cap, for the store, Redis, logs and the
/// runtime itself.
pub const RESERVED_DESCRIPTORS: usize = 256;

/// How connections are bounded. `0` in a count means no cap of that kind.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections on this node, all addresses together.
    pub max_total: usize,
    /// Open connections from one client address (an IPv6 address counts by its /64 network,
    /// which one host usually holds whole).
    pub max_per_address: usize,
    /// A request head must arrive whole within this.
    pub header_timeout: Duration,
    /// A connection on which nothing was read or written for this long is closed.
    pub idle_timeout: Duration,
}

impl ConnectionLimits {
    /// The node-wide cap when none is given: what the open-file limit allows, less a reserve,
    /// so that accepting never fails for want of descriptors.
    pub fn automatic_total(open_files: u64) -> usize {
        (open_files as usize)
            .saturating_sub(RESERVED_DESCRIPTORS)
            .max(1)
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The node holds its maximum of connections.
    Node,
    /// This client address holds its maximum.
    Address,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Counts open connections and admits new ones while under both caps.
pub struct Gate {
    limits: ConnectionLimits,
    counts: Mutex<Counts>,
}

/// One admitted connection; dropping it frees its place.
pub struct Admitted {
    gate: Arc<Gate>,
    address: IpAddr,
}

/// The address connections are counted under: IPv6 by its /64, everything else as it is.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(network.into())
            }
        },
        v4 => v4,
    }
}

impl Gate {
    pub fn new(limits: ConnectionLimits) -> Arc<Gate> {
        Arc::new(Gate {
            limits,
            counts: Mutex::default(),
        })
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Admit a connection from `address`, or say which cap it would pass.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Admitted, Refusal> {
        let address = counted_as(address);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if self.limits.max_total > 0 && counts.total >= self.limits.max_total {
            return Err(Refusal::Node);
        }
        let from_address = counts.per_address.get(&address).copied().unwrap_or(0);
        if self.limits.max_per_address > 0 && from_address >= self.limits.max_per_address {
            return Err(Refusal::Address);
        }
        counts.total += 1;
        counts.per_address.insert(address, from_address + 1);
        Ok(Admitted {
            gate: self.clone(),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.gate.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.per_address.remove(&self.address);
            }
        }
    }
}

/// The answer written straight to a refused socket, before it is closed: a client sees why, and
/// when to try again, without the node parsing anything it sent.
pub fn refusal_response(refusal: Refusal) -> Vec<u8> {
    let message = match refusal {
        Refusal::Node => "this node holds its maximum of connections",
        Refusal::Address => "your address holds its maximum of connections",
    };
    let code = copresence_core::ErrorCode::TooManyConnections;
    let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
    format!(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// When a connection last moved a byte, as milliseconds since it opened.
#[derive(Clone)]
pub struct Activity {
    opened: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            last_ms: Arc::default(),
        }
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// The moment the connection becomes idle, unless something moves before.
    pub fn idle_at(&self, idle_timeout: Duration) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle_timeout
    }
}

/// A socket that records when it last read or wrote.
pub struct Watched<T> {
    inner: T,
    activity: Activity,
}

impl<T> Watched<T> {
    pub fn new(inner: T) -> (Watched<T>, Activity) {
        let activity = Activity::new();
        (
            Watched {
                inner,
                activity: activity.clone(),
            },
            activity,
        )
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raise this process's soft open-file limit to its hard limit, and return it: the soft limit
/// (often 1,024) is a default for interactive shells, not a measure of what a server may hold.
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Some(limit.rlim_max);
        }
    }
    Some(limit.rlim_cur)
}

/// Windows has no per-process descriptor limit of this kind; sockets are bounded by memory.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}

/// How long to wait before accepting again after the `n`-th accept failure in a row: out of
/// descriptors, waiting is the only thing that helps, and retrying at once would spin a core.
pub fn accept_backoff(failures: u32) -> Duration {
    Duration::from_millis(10u64 << failures.min(7)).min(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_address: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_total: total,
            max_per_address: per_address,
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn caps_per_address_and_per_node_and_frees_on_drop() {
        let gate = Gate::new(limits(3, 2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = gate.admit(a).unwrap();
        let _second = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).err(), Some(Refusal::Address));
        let _third = gate.admit(b).unwrap();
        assert_eq!(gate.admit(b).err(), Some(Refusal::Node));
        drop(first);
        assert_eq!(gate.open(), 2);
        assert!(gate.admit(a).is_ok());
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let gate = Gate::new(limits(0, 1));
        let _one = gate.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert_eq!(
            gate.admit("2001:db8::ffff:1".parse().unwrap()).err(),
            Some(Refusal::Address)
        );
        assert!(gate.admit("2001:db8:0:1::1".parse().unwrap()).is_ok());
        let _mapped = gate.admit("::ffff:10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(
            gate.admit("10.0.0.1".parse().unwrap()).err(),
            Some(Refusal::Address)
        );
    }

    #[test]
    fn refusals_are_complete_http_answers() {
        for refusal in [Refusal::Node, Refusal::Address] {
            let bytes = refusal_response(refusal);
            let text = std::str::from_utf8(&bytes).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(length, body.len(), "{refusal:?}");
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(json["error"]["code"], "too_many_connections");
        }
    }

    #[test]
    fn accept_backoff_grows_to_a_second() {
        assert_eq!(accept_backoff(0), Duration::from_millis(10));
        assert!(accept_backoff(3) > accept_backoff(2));
        assert_eq!(accept_backoff(40), Duration::from_secs(1));
    }
}
