//! One pooled HTTP client for the whole run, and sending with a body-size
//! limit and errors a person can act on.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;

mod busy_poll;
mod direct;

/// What every request says it is.
pub const USER_AGENT_VALUE: &str = concat!("apiconform/", env!("CARGO_PKG_VERSION"));

/// A received response, body fully read.
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// TLS and proxy settings of a run: `--cacert`, `--cert`/`--key`,
/// `--insecure` and the proxies (see [`super::proxy`]).
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Trusted besides the system's roots.
    pub roots: Vec<reqwest::Certificate>,
    /// `--cert`/`--key`: sent when the step's credential has none of its own.
    pub client_cert: Option<crate::tls::ClientCert>,
    /// `--insecure`: server certificates are not verified.
    pub insecure: bool,
    pub proxy: super::proxy::ProxySettings,
    /// The `--cacert` files, as given (for reproductions' `curl --cacert`).
    pub cacert_files: Vec<std::path::PathBuf>,
}

/// How a run sends requests for one TLS identity: plain `http://` on
/// connections the sending task drives itself ([`direct`]), everything
/// else (TLS, proxies, streamed bodies) on a pooled reqwest client and
/// its no-reuse twin (see [`fresh_client_for`]). Cloning shares the pools.
///
/// The reqwest pair is built on first use when the run has no TLS
/// settings of its own: building it reads the system's trusted roots (a
/// few hundred files, most of a short plain-HTTP run's start-up), which
/// a run against `http://` never needs. With `--cacert`, `--cert` or
/// `--insecure` it is built at once, so a bad setting fails the run
/// before any request.
#[derive(Debug, Clone)]
pub struct Clients(std::sync::Arc<Shared>);

#[derive(Debug)]
struct Shared {
    reqwest: std::sync::OnceLock<Result<Reqwest, String>>,
    settings: Settings,
    direct: direct::Pool,
}

/// The pooled reqwest client and its no-reuse twin.
#[derive(Debug)]
struct Reqwest {
    pooled: reqwest::Client,
    fresh: reqwest::Client,
}

/// What building the reqwest pair takes.
#[derive(Debug)]
struct Settings {
    jobs: usize,
    connect_timeout: Duration,
    net: Network,
    cert: Option<crate::tls::ClientCert>,
}

impl Settings {
    fn build(&self) -> Result<Reqwest, reqwest::Error> {
        let cert = self.cert.as_ref();
        Ok(Reqwest {
            pooled: client_for(self.jobs, self.connect_timeout, &self.net, cert)?,
            fresh: fresh_client_for(self.connect_timeout, &self.net, cert)?,
        })
    }

    /// Whether the run sets up TLS itself (so its errors show up front).
    fn has_own_tls(&self) -> bool {
        self.cert.is_some()
            || self.net.client_cert.is_some()
            || !self.net.roots.is_empty()
            || self.net.insecure
    }
}

impl Clients {
    /// The clients for `cert` (or the run's `--cert`, when `None`).
    pub fn build(
        jobs: usize,
        connect_timeout: Duration,
        net: &Network,
        cert: Option<&crate::tls::ClientCert>,
    ) -> Result<Clients, reqwest::Error> {
        let settings = Settings {
            jobs,
            connect_timeout,
            net: net.clone(),
            cert: cert.cloned(),
        };
        let reqwest = std::sync::OnceLock::new();
        if settings.has_own_tls() {
            let _ = reqwest.set(Ok(settings.build()?));
        }
        Ok(Clients(std::sync::Arc::new(Shared {
            reqwest,
            settings,
            direct: direct::Pool::new(
                idle_per_host(jobs),
                connect_timeout,
                busy_poll::BusyPoll::for_jobs(jobs),
            ),
        })))
    }

    fn reqwest(&self) -> Result<&Reqwest, SendError> {
        self.0
            .reqwest
            .get_or_init(|| self.0.settings.build().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| SendError::Transport(format!("cannot set up the HTTP client: {e}")))
    }

    /// The pooled reqwest client (for requests the runner does not check,
    /// such as OAuth2 token requests).
    pub fn pooled(&self) -> Result<&reqwest::Client, SendError> {
        self.reqwest().map(|r| &r.pooled)
    }

    /// Sends `request`, resending it once if it met a stale kept-alive
    /// connection and is idempotent (see [`send_once_more_if_stale`]).
    pub async fn send(
        &self,
        request: reqwest::Request,
        timeout: Duration,
        max_body: usize,
    ) -> Sent {
        let proxy = &self.0.settings.net.proxy;
        if direct::Pool::accepts(&request) && (!proxy.any() || proxy.route(request.url()).is_none())
        {
            return self.0.direct.send(request, timeout, max_body).await;
        }
        match self.reqwest() {
            // Boxed: reqwest's future is the largest here, and without the
            // box every caller's future would carry its size.
            Ok(r) => {
                Box::pin(send_once_more_if_stale(
                    &r.pooled, &r.fresh, request, timeout, max_body,
                ))
                .await
            }
            Err(e) => Sent {
                response: Err(e),
                retried: None,
            },
        }
    }
}

/// A request for `url`, built without a client (headers and body are the
/// caller's): [`Clients::send`] picks the transport afterwards.
///
/// Userinfo in the URL (`http://user:pass@host`) is sent as
/// `Authorization: Basic`, as reqwest's builder and curl do, and taken out
/// of the URL.
pub fn new_request(method: reqwest::Method, url: &str) -> Result<reqwest::Request, String> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL `{url}`: {e}"))?;
    let basic = userinfo_basic(&mut parsed);
    let mut request = reqwest::Request::new(method, parsed);
    if let Some(value) = basic {
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(request)
}

/// Removes the URL's userinfo and returns it as a sensitive
/// `Basic` header value (user and password percent-decoded).
fn userinfo_basic(url: &mut reqwest::Url) -> Option<reqwest::header::HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let (user, password) = crate::redact::userinfo(url);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let basic = basic_auth(&user, password.as_deref().unwrap_or_default());
    let mut value = reqwest::header::HeaderValue::from_str(&basic).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The `Authorization` value of HTTP Basic credentials.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {pair}")
}

/// A kept-alive connection idle this long is closed rather than reused
/// (both pools).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections kept per host: room for every job plus slack.
fn idle_per_host(jobs: usize) -> usize {
    jobs.max(1) * 2
}

/// The TLS and proxy settings on a builder. Proxies are only ever the
/// run's own rule (`.no_proxy()` first): reqwest's own reading of the
/// environment would proxy loopback targets.
fn with_network(
    builder: reqwest::ClientBuilder,
    net: &Network,
    cert: Option<&crate::tls::ClientCert>,
) -> reqwest::ClientBuilder {
    let mut builder = builder.no_proxy();
    if net.proxy.any() {
        let rule = std::sync::Arc::new(net.proxy.clone());
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            rule.route(url).map(|p| p.url.clone())
        }));
    }
    if !net.roots.is_empty() {
        builder = builder.tls_certs_merge(net.roots.clone());
    }
    if let Some(c) = cert.or(net.client_cert.as_ref()) {
        builder = builder.identity(c.identity.clone());
    }
    if net.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
}

/// What both reqwest clients share: no redirects (a conformance run
/// checks the status the API sends), no Nagle delay, the connect timeout.
fn builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT_VALUE)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .connect_timeout(connect_timeout)
}

/// The shared client: connection pooling, proxies only by the run's own
/// rule, the run's TLS settings, presenting `cert` (else `--cert`).
pub fn client_for(
    jobs: usize,
    connect_timeout: Duration,
    net: &Network,
    cert: Option<&crate::tls::ClientCert>,
) -> Result<reqwest::Client, reqwest::Error> {
    let builder = builder(connect_timeout)
        .pool_max_idle_per_host(idle_per_host(jobs))
        .pool_idle_timeout(IDLE_TIMEOUT);
    with_network(builder, net, cert).build()
}

/// A client like [`client_for`] without connection reuse: the one retry
/// of a request that met a stale kept-alive connection goes out on it.
pub fn fresh_client_for(
    connect_timeout: Duration,
    net: &Network,
    cert: Option<&crate::tls::ClientCert>,
) -> Result<reqwest::Client, reqwest::Error> {
    let builder = builder(connect_timeout).pool_max_idle_per_host(0);
    with_network(builder, net, cert).build()
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
    let response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| SendError::Transport(describe(&e, timeout)))?;
    read_response(response, started, timeout, max_body).await
}

/// Reads a response's body up to `max_body` bytes.
async fn read_response(
    mut response: reqwest::Response,
    started: Instant,
    timeout: Duration,
    max_body: usize,
) -> Result<HttpResponse, SendError> {
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
        return body_timed_out(timeout);
    }
    format!("reading the body failed: {}", describe(e, timeout))
}

/// The methods RFC 9110 calls idempotent that a retry may resend.
pub fn is_idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}

/// Whether a send failed as a stale kept-alive connection fails: the peer
/// closed or reset it before any response byte (not a refused connection,
/// not a timeout).
pub fn is_stale_connection(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_connect() {
        return false;
    }
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && is_dropped(io.kind())
        {
            return true;
        }
        if s.to_string()
            .contains("connection closed before message completed")
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// How an I/O error reads when the peer closed or reset the connection.
fn is_dropped(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind;
    matches!(
        kind,
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
    )
}

/// A response and what the transport did to get it.
pub struct Sent {
    pub response: Result<HttpResponse, SendError>,
    /// Set when the request was resent on a fresh connection.
    pub retried: Option<String>,
}

/// Sends `request` on the pooled client. When that fails before any
/// response byte the way a stale kept-alive connection fails (the target
/// closed it without `Connection: close`), an idempotent request is sent
/// once more on `fresh` (a new connection) and the retry is reported; a
/// POST or PATCH is never resent: its error names the likely cause.
pub async fn send_once_more_if_stale(
    pooled: &reqwest::Client,
    fresh: &reqwest::Client,
    mut request: reqwest::Request,
    timeout: Duration,
    max_body: usize,
) -> Sent {
    *request.timeout_mut() = Some(timeout);
    let method = request.method().clone();
    let again = is_idempotent(&method)
        .then(|| request.try_clone())
        .flatten();
    let started = Instant::now();
    let error = match pooled.execute(request).await {
        Ok(r) => {
            return Sent {
                response: read_response(r, started, timeout, max_body).await,
                retried: None,
            };
        }
        Err(e) => e,
    };
    let text = describe(&error, timeout);
    if !is_stale_connection(&error) {
        return Sent {
            response: Err(SendError::Transport(text)),
            retried: None,
        };
    }
    let Some(again) = again else {
        return Sent {
            response: Err(SendError::Transport(not_resent(&text, &method))),
            retried: None,
        };
    };
    let started = Instant::now();
    let response = match fresh.execute(again).await {
        Ok(r) => read_response(r, started, timeout, max_body).await,
        Err(e) => Err(SendError::Transport(describe(&e, timeout))),
    };
    Sent {
        response,
        retried: Some(retried_note(&text)),
    }
}

/// The error of a POST or PATCH that met a stale kept-alive connection.
fn not_resent(text: &str, method: &reqwest::Method) -> String {
    format!(
        "{text} (likely a stale keep-alive connection: the target closed it after its last response without `Connection: close`; {method} is not idempotent, so it was not resent)"
    )
}

/// The step's note for a request resent after a stale connection.
fn retried_note(text: &str) -> String {
    format!(
        "retried once on a fresh connection: the first send failed before any response byte ({text}), as on a stale keep-alive connection"
    )
}

/// Turns a reqwest error into one line naming the cause.
/// No status line within `--timeout`.
fn no_response(timeout: Duration) -> String {
    format!("no response within {} ms (--timeout)", timeout.as_millis())
}

/// The head arrived in time, the body did not.
fn body_timed_out(timeout: Duration) -> String {
    format!(
        "the status and headers arrived, but the body did not complete within {} ms (--timeout)",
        timeout.as_millis()
    )
}

pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return no_response(timeout);
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
    let text = if causes.is_empty() {
        format!("{what}{url}: {e}")
    } else {
        format!("{what}{url}: {}", causes.join(": "))
    };
    match tls_hint(&text) {
        Some(hint) => format!("{text} ({hint})"),
        None => text,
    }
}

/// What to do about a TLS failure, from rustls' wording of it.
fn tls_hint(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    if t.contains("certificaterequired") || t.contains("certificate required") {
        return Some(
            "TLS: the server requires a client certificate: give --cert FILE --key FILE, or `tls:` on the step's credential",
        );
    }
    if t.contains("unknownissuer") || t.contains("unknown issuer") || t.contains("self-signed") {
        return Some(
            "TLS: the server's certificate is not signed by a trusted root: trust its CA with --cacert FILE, or skip verification with --insecure",
        );
    }
    if t.contains("notvalidforname") || t.contains("not valid for name") {
        return Some(
            "TLS: the server's certificate does not name this host: check the base URL's host name",
        );
    }
    if t.contains("invalid peer certificate") || t.contains("badcertificate") {
        return Some("TLS: the certificate was rejected");
    }
    None
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A server on 127.0.0.1 that reads one request and answers `reply`
    /// as given, then closes; returns its `host:port`.
    pub(super) fn one_shot(reply: &'static [u8]) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(reply);
            }
        });
        addr
    }

    #[test]
    fn a_plain_http_run_never_builds_the_tls_clients() {
        let clients =
            Clients::build(1, Duration::from_secs(5), &Network::default(), None).expect("clients");
        let url = format!("http://{}/", one_shot(b"HTTP/1.1 204 No Content\r\n\r\n"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let request = new_request(reqwest::Method::GET, &url).expect("request");
        let sent = runtime.block_on(clients.send(request, Duration::from_secs(5), 1024));
        assert_eq!(sent.response.expect("response").status, 204);
        assert!(
            clients.0.reqwest.get().is_none(),
            "the reqwest clients were built"
        );
        // Asked for (OAuth2 token requests, https), they are built then.
        assert!(clients.pooled().is_ok());
        assert!(clients.0.reqwest.get().is_some());
    }

    #[test]
    fn own_tls_settings_build_the_clients_at_once() {
        let net = Network {
            insecure: true,
            ..Network::default()
        };
        let clients = Clients::build(1, Duration::from_secs(5), &net, None).expect("clients");
        assert!(clients.0.reqwest.get().is_some());
    }

    #[test]
    fn url_userinfo_is_sent_as_basic_auth_and_leaves_the_url() {
        let request = new_request(reqwest::Method::GET, "http://bob:Url%21Pa55@127.0.0.1:9/x")
            .expect("request");
        assert_eq!(request.url().as_str(), "http://127.0.0.1:9/x");
        let value = request
            .headers()
            .get(reqwest::header::AUTHORIZATION)
            .expect("basic");
        // base64("bob:Url!Pa55")
        assert_eq!(value.to_str().ok(), Some("Basic Ym9iOlVybCFQYTU1"));
        assert!(value.is_sensitive());
        let plain = new_request(reqwest::Method::GET, "http://127.0.0.1:9/x").expect("request");
        assert!(plain.headers().is_empty());
    }

    #[test]
    fn a_url_that_does_not_parse_is_named() {
        let error = new_request(reqwest::Method::GET, "http://[::1/x").expect_err("bad url");
        assert!(error.starts_with("invalid URL `http://[::1/x`:"), "{error}");
    }
}
