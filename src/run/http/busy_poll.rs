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
    /// A request went out and no byte has come back since. hyper also
    /// reads before it writes and while the connection is idle; only
    /// this wait is polled, and only until the first bytes (the rest of
    /// a response, rarely in a second segment, is not).
    response_due: bool,
}

impl Socket {
    pub fn new(tcp: TcpStream, poll: BusyPoll) -> Socket {
        Socket {
            io: TokioIo::new(tcp),
            poll,
            response_due: false,
        }
    }

    /// Passes a write's result through, noting that bytes went out.
    fn after_write(&mut self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.response_due = true;
        }
        polled
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
            this.response_due = false;
        } else if this.poll.active() && this.response_due {
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
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        this.after_write(polled)
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
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.after_write(polled)
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

    #[tokio::test]
    async fn only_a_written_request_makes_a_response_due_until_its_first_bytes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let tcp = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        let mut socket = Socket::new(tcp, BusyPoll::new(BusyPoll::WINDOW));
        assert!(!socket.response_due);

        let wrote = std::future::poll_fn(|cx| Pin::new(&mut socket).poll_write(cx, b"GET"));
        assert_eq!(wrote.await.expect("write"), 3);
        assert!(socket.response_due);

        let mut got = [0u8; 3];
        server.read_exact(&mut got).await.expect("server read");
        server.write_all(b"200").await.expect("server write");
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        std::future::poll_fn(|cx| Pin::new(&mut socket).poll_read(cx, buf.unfilled()))
            .await
            .expect("read");
        assert!(!socket.response_due, "the first bytes end the wait");
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
