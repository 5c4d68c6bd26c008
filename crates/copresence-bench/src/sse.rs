//! The bench's subscriber: a minimal HTTP/1.1 + SSE reader on a raw `TcpStream`.
//!
//! Why not the client library (reqwest + reqwest-eventsource) for every subscriber: tens of
//! thousands of them must live in this one process beside the publisher, on the same two cores
//! as the server. A full HTTP client per connection (its own pool, TLS-capable connector,
//! reconnect machinery, per-event `String`s) costs far more memory and CPU per connection than
//! the server side we measure, and would make the bench, not the server, the bottleneck. This
//! reader is one socket, one 4 KiB buffer and one line buffer: it writes the `GET` with the
//! `Authorization` header, checks the status, undoes chunked framing and yields SSE lines. The
//! publisher and the heartbeats do use the client library, where one client serves many calls.
//!
//! Both the service and the floor are read by this same code, so whatever it costs is in both
//! figures of every ratio.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::plan::SOURCE_ADDRESSES;

const READ_BUFFER: usize = 4096;
/// Longer lines mean something is wrong; never grow without bound.
const MAX_LINE: usize = 1 << 20;
/// How long connecting and reaching the first event may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// One event stream to subscribe to: where, the request to send, and the line that says the
/// subscription is live.
pub struct Endpoint {
    addr: SocketAddr,
    request: Vec<u8>,
    ready_line: &'static [u8],
}

impl Endpoint {
    /// `GET path_and_query` on the server at `url` (`http://host:port`), with a bearer token if
    /// given; the stream counts as subscribed once `ready_line` arrives.
    pub fn new(
        url: &str,
        path_and_query: &str,
        token: Option<&str>,
        ready_line: &'static [u8],
    ) -> Result<Endpoint> {
        let host = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("not an http:// URL: {url}"))?
            .trim_end_matches('/');
        let addr: SocketAddr = host
            .parse()
            .with_context(|| format!("not an IP address and port: {host}"))?;
        let mut request = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        Ok(Endpoint {
            addr,
            request: request.into_bytes(),
            ready_line,
        })
    }
}

/// Loopback source addresses, handed out in turn. One address has ~28,000 ephemeral ports;
/// Linux routes all of 127.0.0.0/8 to `lo`, so more addresses mean more connections.
pub struct Sources {
    next: AtomicUsize,
}

impl Sources {
    pub fn new() -> Sources {
        Sources {
            next: AtomicUsize::new(0),
        }
    }

    fn next(&self) -> Ipv4Addr {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % SOURCE_ADDRESSES as usize;
        Ipv4Addr::new(127, 0, 0, 1 + i as u8)
    }
}

/// Subscribe: connect from the next source address, send the request, and read until the
/// endpoint's ready line, so the subscriber is registered with the server when this returns.
pub async fn subscribe(endpoint: &Endpoint, sources: &Sources) -> Result<SseReader> {
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let socket = TcpSocket::new_v4().context("cannot create a socket")?;
        // Close with a reset: tens of thousands of closed connections would otherwise sit in
        // TIME_WAIT holding their ports through the next measurement.
        socket.set_zero_linger()?;
        let source = sources.next();
        socket
            .bind(SocketAddr::new(source.into(), 0))
            .with_context(|| format!("cannot bind a socket to {source}"))?;
        let mut stream = socket
            .connect(endpoint.addr)
            .await
            .with_context(|| format!("cannot connect to {} from {source}", endpoint.addr))?;
        stream.set_nodelay(true)?;
        stream.write_all(&endpoint.request).await?;
        let mut reader = SseReader::new(stream);
        reader.read_head().await?;
        loop {
            match reader.next_line().await? {
                Some(line) if line == endpoint.ready_line => return Ok(reader),
                Some(_) => {}
                None => bail!("the stream ended before it was ready"),
            }
        }
    })
    .await
    .map_err(|_| anyhow!("not subscribed within {CONNECT_TIMEOUT:?}"))?
}

/// How the body is framed.
enum Framing {
    /// Until the connection closes.
    Identity,
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunk),
}

/// Where a chunked body's decoder is.
enum Chunk {
    /// In a chunk-size line (hex digits, maybe an extension after `;`), its value so far.
    Size { value: usize, extension: bool },
    /// Inside a chunk: this many data bytes left.
    Data(usize),
    /// After a chunk's data, before its closing CRLF has been read.
    DataEnd,
    /// The last (empty) chunk was read: the body is over.
    Done,
}

impl Chunk {
    /// Feed one framing byte (outside chunk data).
    fn control(&mut self, byte: u8) -> Result<()> {
        *self = match (&*self, byte) {
            (Chunk::Size { value, .. }, b'\n') if *value == 0 => Chunk::Done,
            (Chunk::Size { value, .. }, b'\n') => Chunk::Data(*value),
            (
                Chunk::Size {
                    extension: true, ..
                },
                _,
            )
            | (Chunk::Size { .. }, b'\r') => return Ok(()),
            (Chunk::Size { value, .. }, b';') => Chunk::Size {
                value: *value,
                extension: true,
            },
            (Chunk::Size { value, .. }, digit) => {
                let d = (digit as char)
                    .to_digit(16)
                    .ok_or_else(|| anyhow!("bad chunk size byte {digit:#x}"))?;
                let value = value
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(d as usize))
                    .filter(|v| *v <= MAX_LINE * 16)
                    .ok_or_else(|| anyhow!("chunk too large"))?;
                Chunk::Size {
                    value,
                    extension: false,
                }
            }
            (Chunk::DataEnd, b'\r') => return Ok(()),
            (Chunk::DataEnd, b'\n') => Chunk::Size {
                value: 0,
                extension: false,
            },
            (Chunk::DataEnd, other) => bail!("no CRLF after a chunk (found {other:#x})"),
            (Chunk::Data(_) | Chunk::Done, _) => bail!("chunk decoder out of step"),
        };
        Ok(())
    }
}

/// An open event stream, read line by line.
pub struct SseReader {
    stream: TcpStream,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    framing: Framing,
    line: Vec<u8>,
}

impl SseReader {
    fn new(stream: TcpStream) -> SseReader {
        SseReader {
            stream,
            buffer: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            framing: Framing::Identity,
            line: Vec::new(),
        }
    }

    /// Read more bytes from the socket; false at the end of the connection.
    async fn fill(&mut self) -> Result<bool> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            bail!("the response head is larger than {READ_BUFFER} bytes");
        }
        let n = self.stream.read(&mut self.buffer[self.end..]).await?;
        self.end += n;
        Ok(n > 0)
    }

    /// Read the status line and headers; anything but `200` is an error carrying the answer.
    async fn read_head(&mut self) -> Result<()> {
        let head_len = loop {
            let held = &self.buffer[self.start..self.end];
            if let Some(i) = held.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill().await? {
                bail!("the connection closed before the response head");
            }
        };
        let head = String::from_utf8_lossy(&self.buffer[self.start..self.start + head_len]);
        let status = head.lines().next().unwrap_or_default();
        if status.split_whitespace().nth(1) != Some("200") {
            let body = String::from_utf8_lossy(&self.buffer[self.start + head_len..self.end]);
            bail!("the server answered {status:?}: {}", body.trim());
        }
        let chunked = head.lines().any(|line| {
            let line = line.to_ascii_lowercase();
            line.starts_with("transfer-encoding:") && line.contains("chunked")
        });
        if chunked {
            self.framing = Framing::Chunked(Chunk::Size {
                value: 0,
                extension: false,
            });
        }
        self.start += head_len;
        Ok(())
    }

    /// The next line of the event stream, without its line ending; `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<&[u8]>> {
        self.line.clear();
        loop {
            if self.start == self.end && !self.fill().await? {
                return Ok(None);
            }
            let held = self.end - self.start;
            let body_len = match &mut self.framing {
                Framing::Identity => held,
                Framing::Chunked(Chunk::Data(left)) => (*left).min(held),
                Framing::Chunked(Chunk::Done) => return Ok(None),
                Framing::Chunked(chunk) => {
                    chunk.control(self.buffer[self.start])?;
                    self.start += 1;
                    continue;
                }
            };
            let body = &self.buffer[self.start..self.start + body_len];
            let (taken, complete) = match body.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (body_len, false),
            };
            self.line
                .extend_from_slice(&body[..taken - usize::from(complete)]);
            self.start += taken;
            if let Framing::Chunked(chunk) = &mut self.framing {
                if let Chunk::Data(left) = chunk {
                    *left -= taken;
                    if *left == 0 {
                        *chunk = Chunk::DataEnd;
                    }
                }
            }
            if self.line.len() > MAX_LINE {
                bail!("an event-stream line longer than {MAX_LINE} bytes");
            }
            if complete {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                return Ok(Some(&self.line));
            }
        }
    }
}

/// Finds the number an event carries in its `to` page: `"to":"<prefix><n>"`.
pub struct Marker {
    needle: Vec<u8>,
}

impl Marker {
    /// Matches `"to":"<prefix>` followed by digits, e.g. prefix `/p/`.
    pub fn new(prefix: &str) -> Marker {
        Marker {
            needle: format!("\"to\":\"{prefix}").into_bytes(),
        }
    }

    /// The number in this line, if it is an event's `data:` line carrying one.
    pub fn find(&self, line: &[u8]) -> Option<u32> {
        if !line.starts_with(b"data:") {
            return None;
        }
        let at = line
            .windows(self.needle.len())
            .position(|w| w == self.needle.as_slice())?;
        let digits = &line[at + self.needle.len()..];
        let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&digits[..len]).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_reads_the_number_of_a_move() {
        let marker = Marker::new("/p/");
        let line = br#"data: {"type":"move","site":"fanout","member":{"sessions":[{"page":"/p/7"}]},"from":"/p/6","to":"/p/7","at":1}"#;
        assert_eq!(marker.find(line), Some(7));
        assert_eq!(marker.find(b"event: move"), None);
        assert_eq!(marker.find(br#"data: {"to":"/m/3"}"#), None);
    }

    #[tokio::test]
    async fn reader_undoes_chunking_split_anywhere() -> Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await?;
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await?;
            let answer: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                9\r\n: ready\n\n\r\n\
                b;ext=1\r\nevent: move\r\n\
                16\r\n\ndata: {\"to\":\"/p/12\"}\n\r\n\
                1\r\n\n\r\n0\r\n\r\n";
            // One byte at a time: every state must survive a split.
            for byte in answer {
                socket.write_all(&[*byte]).await?;
                socket.flush().await?;
            }
            Ok::<_, anyhow::Error>(())
        });
        let endpoint = Endpoint::new(&url, "/events", None, b": ready")?;
        let mut reader = subscribe(&endpoint, &Sources::new()).await?;
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await? {
            lines.push(String::from_utf8_lossy(line).into_owned());
        }
        assert_eq!(lines, ["", "event: move", "data: {\"to\":\"/p/12\"}", ""]);
        Ok(())
    }
}
