//! A counting TCP relay for side-by-side benchmarks against peers
//! (benches/schemathesis/run.sh): every tool's traffic passes through the
//! same relay, so "requests sent" is counted the same way for each, not
//! taken from each tool's own report. It counts HTTP/1.1 request lines
//! (` HTTP/1.1\r\n` in the client-to-server bytes) and, on SIGTERM or
//! Ctrl-C, prints the total as the last line of stdout.
//!
//!     cargo run --release --example count_proxy -- 127.0.0.1:0 127.0.0.1:8080
//!
//! The first stdout line is the relay's base URL. It binds 127.0.0.1 only
//! and forwards to one upstream address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};

/// The marker that ends every HTTP/1.1 request line.
const MARKER: &[u8] = b" HTTP/1.1\r\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen: SocketAddr = args.next().ok_or("usage: LISTEN UPSTREAM")?.parse()?;
    let upstream: SocketAddr = args.next().ok_or("usage: LISTEN UPSTREAM")?.parse()?;
    if !listen.ip().is_loopback() || !upstream.ip().is_loopback() {
        return Err("count_proxy relays loopback addresses only".into());
    }
    let listener = TcpListener::bind(listen).await?;
    println!("http://{}", listener.local_addr()?);
    let count = Arc::new(AtomicU64::new(0));
    let mut term = signal(SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (client, _) = accepted?;
                tokio::spawn(relay(client, upstream, Arc::clone(&count)));
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("requests {}", count.load(Ordering::Relaxed));
    Ok(())
}

/// Copies both directions of one connection, counting requests upstream.
async fn relay(client: TcpStream, upstream: SocketAddr, count: Arc<AtomicU64>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        // The last bytes of the previous read, so a marker split across
        // two reads is still seen once.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = buf.get(..n).unwrap_or_default();
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(chunk);
            let found = window
                .windows(MARKER.len())
                .filter(|w| *w == MARKER)
                .count();
            count.fetch_add(found as u64, Ordering::Relaxed);
            let keep = window.len().min(MARKER.len() - 1);
            tail = window.split_off(window.len() - keep);
            if sw.write_all(chunk).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}
