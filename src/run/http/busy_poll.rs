//! A kept HTTP/1.1 connection's socket that, in a run of one job, polls
//! for the response for a short while before the runtime parks.
//!
//! With one request in flight, every response arrives while the client's
//! thread sleeps in `epoll_wait`, so each one costs a wake-up. On a VM
//! whose idle vCPUs halt, that wake-up (an inter-processor interrupt)
//! costs more than a loopback request itself: measured here, a client
//! that waits for readiness did 15k requests/s on one connection, the
//! same client polling the socket 40k. So while a response is awaited, a
//! read that would wait first peeks at the socket for up to
//! [`BusyPoll::WINDOW`]; when bytes arrive, the runtime's next
//! `epoll_wait` returns at once instead of sleeping.
//!
//! It costs CPU only while a written request's response is awaited, at most one window per
//! wait, and it turns itself off on a connection whose responses keep
//! taking longer than the window (a remote server, or a target on the
//! runner's own thread that cannot answer while the thread polls).

use std::io::{self, ErrorKind};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Whether a connection polls for responses, and its record of misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BusyPoll {
    window: Duration,
    /// Waits in a row that the window did not cover.
    misses: u8,
}

impl BusyPoll {
    /// Longest poll per wait: a loopback response here takes about 25 µs.
    pub const WINDOW: Duration = Duration::from_micros(100);
    /// Misses in a row after which the connection stops polling.
    const MAX_MISSES: u8 = 3;

    /// Polling for a run of `jobs` jobs: only one job, and only with a
    /// second CPU for the target (on one CPU, polling would only delay
    /// the target's answer).
    pub fn for_jobs(jobs: usize) -> BusyPoll {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        BusyPoll::new(if jobs == 1 && cpus > 1 {
            BusyPoll::WINDOW
        } else {
            Duration::ZERO
        })
    }

    pub const fn new(window: Duration) -> BusyPoll {
        BusyPoll { window, misses: 0 }
    }

    /// Whether the next wait polls.
    pub fn active(&self) -> bool {
        !self.window.is_zero() && self.misses < Self::MAX_MISSES
    }

    /// Records whether a poll saw bytes within the window.
    fn record(&mut self, hit: bool) {
        self.misses = if hit {
            0
        } else {
            self.misses.saturating_add(1)
        };
    }
}

/// The socket under a direct connection: a tokio stream, plus polling
/// once a request is out and its response is due.
pub(super) struct Socket {
    io: TokioIo<TcpStream>,
    poll: BusyPoll,
    exchange: Arc<Exchange>,
}

/// Where the connection's current exchange is, shared by the sender
/// (which arms it for one request) and the socket (which sees the
/// request go out). Only a written request's response is polled for:
/// hyper also reads before it writes, and while the connection is idle.
#[derive(Debug, Default)]
pub(super) struct Exchange(AtomicU8);

const IDLE: u8 = 0;
const ARMED: u8 = 1;
const SENT: u8 = 2;

impl Exchange {
    /// A request is about to go out; until [`Exchange::end`], the socket
    /// polls for its response once it is written.
    pub fn arm(&self) {
        self.0.store(ARMED, Ordering::Relaxed);
    }

    /// The response is read (or the attempt gave up).
    pub fn end(&self) {
        self.0.store(IDLE, Ordering::Relaxed);
    }

    /// Passes a write's result through, noting that bytes went out.
    fn after_write(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.written();
        }
        polled
    }

    fn written(&self) {
        let _ = self
            .0
            .compare_exchange(ARMED, SENT, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Bytes of the response came in: the rest of it (rarely in a second
    /// segment) and hyper's read for the next message are not polled for.
    fn received(&self) {
        let _ = self
            .0
            .compare_exchange(SENT, ARMED, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn response_due(&self) -> bool {
        self.0.load(Ordering::Relaxed) == SENT
    }
}

impl Socket {
    /// The socket, and the exchange state the sender arms per request.
    pub fn new(tcp: TcpStream, poll: BusyPoll) -> (Socket, Arc<Exchange>) {
        let exchange = Arc::new(Exchange::default());
        let socket = Socket {
            io: TokioIo::new(tcp),
            poll,
            exchange: exchange.clone(),
        };
        (socket, exchange)
    }
}

impl Read for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if polled.is_ready() {
            this.exchange.received();
        } else if this.poll.active() && this.exchange.response_due() {
            let hit = wait_readable(this.io.inner(), this.poll.window);
            this.poll.record(hit);
        }
        polled
    }
}

impl Write for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.exchange
            .after_write(Pin::new(&mut this.io).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.exchange
            .after_write(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))
    }
}

/// Peeks at `stream` until it has bytes (or an end or error to report)
/// or `window` has passed; says whether it became readable. The bytes
/// stay in the socket for the read that follows the runtime's wake-up.
fn wait_readable(stream: &TcpStream, window: Duration) -> bool {
    let socket = socket2::SockRef::from(stream);
    let mut byte = [MaybeUninit::<u8>::uninit(); 1];
    let start = Instant::now();
    loop {
        match socket.peek(&mut byte) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            _ => return true,
        }
        if start.elapsed() >= window {
            return false;
        }
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_stops_after_misses_in_a_row_and_a_hit_resets_the_count() {
        let mut poll = BusyPoll::new(BusyPoll::WINDOW);
        poll.record(false);
        poll.record(false);
        assert!(poll.active());
        poll.record(true);
        poll.record(false);
        poll.record(false);
        assert!(poll.active(), "a hit starts the count again");
        poll.record(false);
        assert!(!poll.active());
        assert!(!BusyPoll::new(Duration::ZERO).active());
    }

    #[test]
    fn only_a_written_request_makes_a_response_due() {
        let x = Exchange::default();
        x.written();
        assert!(!x.response_due(), "a write outside an exchange");
        x.arm();
        assert!(!x.response_due(), "armed, nothing written yet");
        x.written();
        assert!(x.response_due());
        x.received();
        assert!(
            !x.response_due(),
            "what follows the first bytes is not polled for"
        );
        x.written();
        assert!(x.response_due());
        x.end();
        assert!(!x.response_due());
    }

    #[test]
    fn only_a_run_of_one_job_polls() {
        assert!(!BusyPoll::for_jobs(2).active());
        assert!(!BusyPoll::for_jobs(16).active());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(BusyPoll::for_jobs(1).active(), cpus > 1);
    }

    #[tokio::test]
    async fn waiting_sees_bytes_that_arrive_within_the_window_and_gives_up_after_it() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");

        let started = Instant::now();
        assert!(!wait_readable(&client, Duration::from_millis(5)));
        assert!(started.elapsed() >= Duration::from_millis(5));

        server.write_all(b"x").await.expect("write");
        assert!(wait_readable(&client, Duration::from_secs(5)));
        // The peek left the byte in the socket for the real read.
        client.readable().await.expect("readable");
        let mut byte = [0u8; 1];
        assert_eq!(client.try_read(&mut byte).expect("read"), 1);
        assert_eq!(&byte, b"x");
    }
}
