//! One pooled HTTP client for the whole run, and sending with a body-size
//! limit and errors a person can act on.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;

/// A received response, body fully read.
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// Builds the shared client: connection pooling, no redirects (a
/// conformance run checks the status the API sends), no proxies.
pub fn client(jobs: usize, connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("apiconform/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(jobs.max(1) * 2)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
}

/// Why a request got no usable response; the text is what a step reports.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No response: connection, timeout, protocol (described by [`describe`]).
    #[error("{0}")]
    Transport(String),
    #[error("response body of {len} bytes exceeds --max-body-size ({max} bytes)")]
    TooLarge { len: u64, max: usize },
    #[error("response body exceeds --max-body-size ({max} bytes)")]
    StreamTooLarge { max: usize },
    #[error("reading the body failed: {0}")]
    Body(String),
}

/// Sends a request and reads the body up to `max_body` bytes.
pub async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    max_body: usize,
) -> Result<HttpResponse, SendError> {
    let started = Instant::now();
    let mut response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| SendError::Transport(describe(&e, timeout)))?;
    let status = response.status().as_u16();
    if let Some(len) = response.content_length()
        && len > max_body as u64
    {
        return Err(SendError::TooLarge { len, max: max_body });
    }
    let headers = std::mem::take(response.headers_mut());
    if response.content_length().is_some() {
        // Length known and within the limit: read it in one go.
        let body = response
            .bytes()
            .await
            .map_err(|e| SendError::Body(describe_body(&e, timeout)))?;
        let body = decode_body(&headers, body, max_body).map_err(SendError::Body)?;
        return Ok(HttpResponse {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        });
    }
    let mut body: Vec<u8> = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max_body {
                    return Err(SendError::StreamTooLarge { max: max_body });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(SendError::Body(describe_body(&e, timeout))),
        }
    }
    let body = decode_body(&headers, Bytes::from(body), max_body).map_err(SendError::Body)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    })
}

/// Decodes a body sent with `Content-Encoding` gzip, deflate or br (in that
/// header's order, last applied first), refusing a decoded size above
/// `max_body` so a compression bomb stops at the limit. Other encodings
/// (and `identity`) are left as sent.
pub fn decode_body(headers: &HeaderMap, body: Bytes, max_body: usize) -> Result<Bytes, String> {
    use std::io::Read;
    let Some(value) = headers
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(body);
    };
    let codings: Vec<String> = value
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    let mut bytes = body;
    for coding in codings.iter().rev() {
        let mut out = Vec::new();
        let limit = max_body as u64 + 1;
        let read = match coding.as_str() {
            "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&bytes[..])
                .take(limit)
                .read_to_end(&mut out),
            "deflate" => {
                // Servers send zlib-wrapped or raw deflate under this name.
                let zlib = flate2::read::ZlibDecoder::new(&bytes[..])
                    .take(limit)
                    .read_to_end(&mut out);
                if zlib.is_err() {
                    out.clear();
                    flate2::read::DeflateDecoder::new(&bytes[..])
                        .take(limit)
                        .read_to_end(&mut out)
                } else {
                    zlib
                }
            }
            "br" => brotli_decompressor::Decompressor::new(&bytes[..], 8192)
                .take(limit)
                .read_to_end(&mut out),
            _ => return Ok(bytes),
        };
        if let Err(e) = read {
            return Err(format!(
                "the body is sent with Content-Encoding: {value}, but it does not decode as {coding}: {e}"
            ));
        }
        if out.len() > max_body {
            return Err(format!(
                "the {coding}-encoded body decodes to more than --max-body-size ({max_body} bytes)"
            ));
        }
        bytes = Bytes::from(out);
    }
    Ok(bytes)
}

/// A failure while reading the body: the status and headers did arrive, so
/// a timeout says the body is what did not complete.
fn describe_body(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!(
            "the status and headers arrived, but the body did not complete within {} ms (--timeout)",
            timeout.as_millis()
        );
    }
    format!("reading the body failed: {}", describe(e, timeout))
}

/// Turns a reqwest error into one line naming the cause.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no response within {} ms (--timeout)", timeout.as_millis());
    }
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        // hyper-util's wrapper adds nothing a person needs.
        if !text.starts_with("client error (") && !causes.contains(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_request() {
        "request failed"
    } else if e.is_body() || e.is_decode() {
        "reading the response failed"
    } else {
        "HTTP error"
    };
    let url = e.url().map(|u| format!(" to {u}")).unwrap_or_default();
    if causes.is_empty() {
        format!("{what}{url}: {e}")
    } else {
        format!("{what}{url}: {}", causes.join(": "))
    }
}
