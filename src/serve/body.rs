//! Reading request bodies under the 1 MiB limit.

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use futures_util::StreamExt;
use std::time::Duration;

/// Largest accepted request body: 1 MiB.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// How much of an oversized body is still read and thrown away before the
/// 413 goes out. Closing a socket with unread input makes the kernel send a
/// reset, and the client then often loses the 413 itself; draining a bounded
/// amount lets ordinary clients see the answer.
const DRAIN_LIMIT: usize = 8 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than [`MAX_BODY_BYTES`].
    TooLarge,
    /// The client went away or sent a broken body.
    Read,
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    if let Some(n) = declared
        && n > MAX_BODY_BYTES as u64
    {
        if n <= DRAIN_LIMIT as u64 {
            drain(stream, 0).await;
        }
        return Err(BodyError::TooLarge);
    }
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Read)?;
        let seen = buf.len() + chunk.len();
        if seen > MAX_BODY_BYTES {
            drain(stream, seen).await;
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Discards the rest of the body, bounded in size and time.
async fn drain(mut stream: axum::body::BodyDataStream, mut seen: usize) {
    let work = async {
        while seen <= DRAIN_LIMIT {
            match stream.next().await {
                Some(Ok(chunk)) => seen += chunk.len(),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, work).await;
}
