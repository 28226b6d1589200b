//! Plain `http://` requests on kept HTTP/1.1 connections, driven by the
//! task that sends them.
//!
//! reqwest spawns a task per connection, so every request hops between
//! the sending task and the connection task (on a multi-thread runtime,
//! often between threads: an eventfd write and a futex wake each way).
//! Here the sending task polls the connection itself, so a request costs
//! one write and one read. TLS, proxies and streamed bodies stay on
//! reqwest ([`super::Clients::send`] decides).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{Connection, SendRequest};
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::net::TcpStream;

use super::busy_poll::{BusyPoll, Socket};
use super::{
    HttpResponse, IDLE_TIMEOUT, SendError, Sent, USER_AGENT_VALUE, body_timed_out, decode_body,
    is_dropped, is_idempotent, no_response, not_resent, retried_note,
};

type Driver = Connection<Socket, Full<Bytes>>;

/// Idle kept-alive connections by `host:port`, shared by the run's tasks.
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<Conn>>>,
    max_idle_per_host: usize,
    connect_timeout: Duration,
    /// Whether new connections poll for responses ([`BusyPoll`]).
    busy_poll: BusyPoll,
}

/// One HTTP/1.1 connection: the handle requests go in by and the state
/// machine that reads and writes (`None` once it has ended).
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: Option<Pin<Box<Driver>>>,
    idle_since: Instant,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max_idle_per_host", &self.max_idle_per_host)
            .finish_non_exhaustive()
    }
}

/// A request taken apart for hyper, plus what errors name.
struct Outgoing {
    method: reqwest::Method,
    url: reqwest::Url,
    /// The origin-form target (`/path?query`), as HTTP/1.1 sends it.
    uri: hyper::Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// When a request gives up and how much body it reads.
struct Limits {
    deadline: tokio::time::Instant,
    timeout: Duration,
    max_body: usize,
}

/// How one attempt on one connection ended.
enum Attempt {
    Done(Result<HttpResponse, SendError>),
    /// The connection was dead before the request was written: nothing
    /// reached the target, so it can go out on another connection.
    Unsent,
    /// Written (at least partly) on a reused connection that then failed
    /// before any response byte: what a stale keep-alive connection does.
    Stale(String),
}

impl Pool {
    pub fn new(max_idle_per_host: usize, connect_timeout: Duration, busy_poll: BusyPoll) -> Pool {
        Pool {
            idle: Mutex::new(HashMap::new()),
            max_idle_per_host: max_idle_per_host.max(1),
            connect_timeout,
            busy_poll,
        }
    }

    /// Whether this path can send `request`: plain HTTP with a body held
    /// in memory (a streamed body goes through reqwest).
    pub fn accepts(request: &reqwest::Request) -> bool {
        request.url().scheme() == "http"
            && request.url().host().is_some()
            && request.body().is_none_or(|b| b.as_bytes().is_some())
    }

    /// Sends `request` (which [`Pool::accepts`]) with the same retry rule
    /// as [`super::send_once_more_if_stale`]: a request that met a stale
    /// kept-alive connection is resent once on a new connection if it is
    /// idempotent, and its error names the likely cause if not.
    pub async fn send(
        &self,
        request: reqwest::Request,
        timeout: Duration,
        max_body: usize,
    ) -> Sent {
        let out = match Outgoing::from_request(request) {
            Ok(out) => out,
            Err(e) => return sent(Err(e), None),
        };
        let limits = Limits {
            deadline: tokio::time::Instant::now() + timeout,
            timeout,
            max_body,
        };
        // Connecting is the rare path (once per connection): its futures
        // are boxed, so this future, and every step future that awaits
        // it, is the size of one attempt on a kept connection (a large
        // future is copied each time it is created).
        while let Some(conn) = self.take_idle(out.key()) {
            match self.attempt(conn, true, &out, &limits).await {
                Attempt::Done(response) => return sent(response, None),
                Attempt::Unsent => continue,
                Attempt::Stale(text) => {
                    return Box::pin(self.after_stale(&out, &limits, text)).await;
                }
            }
        }
        sent(Box::pin(self.on_new_connection(&out, &limits)).await, None)
    }

    /// A stale reused connection: resend an idempotent request once on a
    /// new connection; say why a POST or PATCH was not resent.
    async fn after_stale(&self, out: &Outgoing, limits: &Limits, text: String) -> Sent {
        if !is_idempotent(&out.method) {
            let error = SendError::Transport(not_resent(&text, &out.method));
            return sent(Err(error), None);
        }
        let response = self.on_new_connection(out, limits).await;
        sent(response, Some(retried_note(&text)))
    }

    async fn on_new_connection(
        &self,
        out: &Outgoing,
        limits: &Limits,
    ) -> Result<HttpResponse, SendError> {
        let conn = self.connect(out, limits).await?;
        match self.attempt(conn, false, out, limits).await {
            Attempt::Done(response) => response,
            Attempt::Unsent => Err(SendError::Transport(format!(
                "request failed to {}: the connection closed before the request was sent",
                out.url
            ))),
            Attempt::Stale(text) => Err(SendError::Transport(text)),
        }
    }

    /// One request on `conn`; the connection goes back to the pool when
    /// the response is complete and the connection stays open.
    async fn attempt(
        &self,
        mut conn: Conn,
        reused: bool,
        out: &Outgoing,
        limits: &Limits,
    ) -> Attempt {
        let no_response = || Attempt::Done(Err(SendError::Transport(no_response(limits.timeout))));
        let ready = drive(&mut conn.driver, conn.sender.ready());
        match tokio::time::timeout_at(limits.deadline, ready).await {
            Err(_) => return no_response(),
            Ok(Err(_)) => return Attempt::Unsent,
            Ok(Ok(())) => {}
        }
        let started = Instant::now();
        let request = out.request();
        let head = drive(&mut conn.driver, conn.sender.try_send_request(request));
        let response = match tokio::time::timeout_at(limits.deadline, head).await {
            Err(_) => return no_response(),
            Ok(Ok(r)) => r,
            Ok(Err(mut e)) => {
                if e.take_message().is_some() {
                    return Attempt::Unsent;
                }
                let text = format!("request failed to {}: {}", out.url, causes(e.error()));
                return if reused && is_stale(e.error()) {
                    Attempt::Stale(text)
                } else {
                    Attempt::Done(Err(SendError::Transport(text)))
                };
            }
        };
        let body = read(&mut conn, response, started, limits.max_body);
        let result = match tokio::time::timeout_at(limits.deadline, body).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Body(body_timed_out(limits.timeout))),
        };
        if result.is_ok() {
            self.put_idle(out.key(), conn);
        }
        Attempt::Done(result)
    }

    async fn connect(&self, out: &Outgoing, limits: &Limits) -> Result<Conn, SendError> {
        let cannot =
            |why: String| SendError::Transport(format!("cannot connect to {}: {why}", out.url));
        let (host, port) = out.address();
        let tcp = TcpStream::connect((host.as_str(), port));
        let until = limits
            .deadline
            .min(tokio::time::Instant::now() + self.connect_timeout);
        let tcp = match tokio::time::timeout_at(until, tcp).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) if is_dns_failure(&e) => return Err(cannot(format!("dns error: {e}"))),
            Ok(Err(e)) => return Err(cannot(format!("tcp connect error: {e}"))),
            Err(_) => {
                return Err(cannot(format!(
                    "no connection within {} ms (--timeout)",
                    self.connect_timeout.as_millis()
                )));
            }
        };
        // Small requests must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let (sender, driver) = hyper::client::conn::http1::Builder::new()
            .handshake(Socket::new(tcp, self.busy_poll))
            .await
            .map_err(|e| cannot(causes(&e)))?;
        Ok(Conn {
            sender,
            driver: Some(Box::pin(driver)),
            idle_since: Instant::now(),
        })
    }

    /// The newest idle connection to `key` that is still open.
    fn take_idle(&self, key: &str) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        let conns = idle.get_mut(key)?;
        while let Some(mut conn) = conns.pop() {
            if conn.idle_since.elapsed() < IDLE_TIMEOUT && still_open(&mut conn) {
                return Some(conn);
            }
        }
        None
    }

    fn put_idle(&self, key: &str, mut conn: Conn) {
        if conn.driver.is_none() || conn.sender.is_closed() {
            return;
        }
        conn.idle_since = Instant::now();
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        match idle.get_mut(key) {
            Some(conns) if conns.len() < self.max_idle_per_host => conns.push(conn),
            Some(_) => {}
            None => {
                idle.insert(key.to_string(), vec![conn]);
            }
        }
    }
}

/// Polls the connection once without waiting: a peer that closed the idle
/// connection (its FIN has arrived) ends it here, not on the next request.
fn still_open(conn: &mut Conn) -> bool {
    let Some(driver) = conn.driver.as_mut() else {
        return false;
    };
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    driver.as_mut().poll(&mut cx).is_pending() && !conn.sender.is_closed()
}

/// Runs `fut` while polling the connection that serves it, so no other
/// task has to. Once the connection ends, `fut` resolves on its own
/// (hyper fails what the connection left unanswered).
async fn drive<F: Future>(driver: &mut Option<Pin<Box<Driver>>>, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        if let Some(d) = driver.as_mut()
            && d.as_mut().poll(cx).is_ready()
        {
            *driver = None;
        }
        // What the connection just did (wrote the request, read the
        // response) usually completes `fut`: no need to wait for a wake-up.
        fut.as_mut().poll(cx)
    })
    .await
}

/// Reads the body up to `max_body` bytes, polling the connection.
async fn read(
    conn: &mut Conn,
    response: hyper::Response<Incoming>,
    started: Instant,
    max_body: usize,
) -> Result<HttpResponse, SendError> {
    let (parts, mut body) = response.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > max_body as u64
    {
        return Err(SendError::TooLarge { len, max: max_body });
    }
    let mut bytes: Vec<u8> = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        let frame = match drive(&mut conn.driver, body.frame()).await {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(SendError::Body(causes(&e))),
        };
        if let Ok(chunk) = frame.into_data() {
            if bytes.len() + chunk.len() > max_body {
                return Err(SendError::StreamTooLarge { max: max_body });
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    let body =
        decode_body(&parts.headers, Bytes::from(bytes), max_body).map_err(SendError::Body)?;
    Ok(HttpResponse {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
        elapsed: started.elapsed(),
    })
}

impl Outgoing {
    fn from_request(mut request: reqwest::Request) -> Result<Outgoing, SendError> {
        use url::Position;
        let url = request.url().clone();
        if url.host().is_none() {
            return Err(SendError::Transport(format!(
                "request failed to {url}: the URL has no host"
            )));
        }
        let uri = hyper::Uri::try_from(&url[Position::BeforePath..Position::AfterQuery])
            .map_err(|e| SendError::Transport(format!("request failed to {url}: {e}")))?;
        let mut headers = std::mem::take(request.headers_mut());
        if !headers.contains_key(header::HOST)
            && let Ok(host) = HeaderValue::from_str(&url[Position::BeforeHost..Position::AfterPort])
        {
            headers.insert(header::HOST, host);
        }
        default_header(&mut headers, header::USER_AGENT, USER_AGENT_VALUE);
        default_header(&mut headers, header::ACCEPT, "*/*");
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(Bytes::copy_from_slice)
            .unwrap_or_default();
        Ok(Outgoing {
            method: request.method().clone(),
            url,
            uri,
            headers,
            body,
        })
    }

    /// Which pooled connections can carry this request: `host:port` as
    /// the URL writes them.
    fn key(&self) -> &str {
        &self.url[url::Position::BeforeHost..url::Position::AfterPort]
    }

    /// Where to connect: the host (an IPv6 address without brackets) and
    /// the port.
    fn address(&self) -> (String, u16) {
        let host = match self.url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => String::new(),
        };
        (host, self.url.port_or_known_default().unwrap_or(80))
    }

    fn request(&self) -> hyper::Request<Full<Bytes>> {
        let mut request = hyper::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Sets a header reqwest's client would have set, unless the step did.
fn default_header(headers: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

fn sent(response: Result<HttpResponse, SendError>, retried: Option<String>) -> Sent {
    Sent { response, retried }
}

/// A hyper error and its causes on one line.
fn causes(e: &hyper::Error) -> String {
    crate::diag::with_causes(e)
}

/// Failed the way a kept-alive connection the peer closed fails: closed
/// before the response, reset, or a broken pipe.
fn is_stale(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return is_dropped(io.kind());
        }
        source = s.source();
    }
    false
}

/// A name lookup that failed, as opposed to a refused connection.
fn is_dns_failure(e: &std::io::Error) -> bool {
    e.kind() != std::io::ErrorKind::ConnectionRefused && e.to_string().contains("lookup")
}

#[cfg(test)]
mod tests {
    use super::super::tests::one_shot;
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Arc;

    /// A raw HTTP/1.1 server on 127.0.0.1 answering `{"n":N}` to each
    /// request; records each request head with its connection's number.
    /// With `close_after_first`, every connection is closed after its
    /// first response, without `Connection: close`.
    /// Request heads as received, each with its connection's number.
    type Seen = Arc<Mutex<Vec<(usize, String)>>>;

    fn server(close_after_first: bool) -> (String, Seen) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (conn, stream) in listener.incoming().enumerate().take(20) {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                loop {
                    let mut head = String::new();
                    let mut len = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    if head.is_empty() {
                        break;
                    }
                    let mut body = vec![0; len];
                    let _ = reader.read_exact(&mut body);
                    let n = {
                        let mut seen = log.lock().expect("log");
                        seen.push((conn, head));
                        seen.len()
                    };
                    let body = format!("{{\"n\":{n}}}");
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if close_after_first {
                        break;
                    }
                }
            }
        });
        (url, seen)
    }

    fn request(method: reqwest::Method, url: &str) -> reqwest::Request {
        reqwest::Request::new(method, url.parse().expect("url"))
    }

    async fn send(pool: &Pool, method: reqwest::Method, url: &str) -> Sent {
        pool.send(request(method, url), Duration::from_secs(5), 1 << 20)
            .await
    }

    /// One GET through a new pool (returned, to look into afterwards).
    fn get_once(url: &str) -> (Pool, Sent) {
        let pool = Pool::new(2, Duration::from_secs(5), BusyPoll::new(Duration::ZERO));
        let sent = runtime().block_on(send(&pool, reqwest::Method::GET, url));
        (pool, sent)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn sequential_requests_share_one_kept_connection() {
        let (url, seen) = server(false);
        let pool = Pool::new(2, Duration::from_secs(5), BusyPoll::new(Duration::ZERO));
        runtime().block_on(async {
            for i in 1..=3 {
                let sent = send(&pool, reqwest::Method::GET, &format!("{url}/x?i={i}")).await;
                let response = sent.response.expect("response");
                assert_eq!(response.status, 200);
                assert_eq!(&response.body[..], format!("{{\"n\":{i}}}").as_bytes());
                assert!(sent.retried.is_none());
            }
        });
        let seen = seen.lock().expect("log");
        assert!(seen.iter().all(|(conn, _)| *conn == 0), "{seen:?}");
        let head = &seen[0].1;
        assert!(head.starts_with("GET /x?i=1 HTTP/1.1\r\n"), "{head}");
        let host = url.trim_start_matches("http://");
        assert!(head.contains(&format!("host: {host}\r\n")), "{head}");
        assert!(
            head.contains(&format!("user-agent: {USER_AGENT_VALUE}\r\n")),
            "{head}"
        );
        assert!(head.contains("accept: */*\r\n"), "{head}");
    }

    #[test]
    fn a_connection_the_target_closed_is_not_reused_and_nothing_is_lost() {
        let (url, seen) = server(true);
        let pool = Pool::new(2, Duration::from_secs(5), BusyPoll::new(Duration::ZERO));
        runtime().block_on(async {
            for _ in 0..4 {
                let sent = send(&pool, reqwest::Method::GET, &format!("{url}/x")).await;
                assert_eq!(sent.response.expect("response").status, 200);
                // A close the pool saw coming (the FIN arrived first) is
                // no retry; a GET that met the close is retried once.
                if let Some(note) = &sent.retried {
                    assert!(
                        note.starts_with("retried once on a fresh connection"),
                        "{note}"
                    );
                }
            }
            // A POST is sent once, whatever the connection did.
            let sent = send(&pool, reqwest::Method::POST, &format!("{url}/x")).await;
            match sent.response {
                Ok(r) => assert_eq!(r.status, 200),
                Err(e) => assert!(e.to_string().contains("POST is not idempotent"), "{e}"),
            }
        });
        let seen = seen.lock().expect("log");
        let posts = seen.iter().filter(|(_, h)| h.starts_with("POST")).count();
        assert!(posts <= 1, "{seen:?}");
        let conns: std::collections::HashSet<_> = seen.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            conns.len(),
            seen.len(),
            "one request per connection: {seen:?}"
        );
    }

    #[test]
    fn a_refused_connection_names_the_url_and_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/pets", listener.local_addr().expect("addr"));
        drop(listener);
        let (_, sent) = get_once(&url);
        let error = sent.response.err().expect("refused").to_string();
        assert!(
            error.starts_with(&format!("cannot connect to {url}: tcp connect error:")),
            "{error}"
        );
    }

    #[test]
    fn a_body_that_ends_with_the_connection_is_read_whole() {
        // HTTP/1.0 style: no length, no chunks, the close ends the body.
        let key = one_shot(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it");
        let (pool, sent) = get_once(&format!("http://{key}/old"));
        let response = sent.response.expect("response");
        assert_eq!(&response.body[..], b"all of it");
        assert!(
            pool.take_idle(&key).is_none(),
            "a closed connection was pooled"
        );
    }

    #[test]
    fn a_response_that_is_not_http_fails_with_the_reason() {
        let url = format!("http://{}/x", one_shot(b"SSH-2.0-OpenSSH_9.6\r\n"));
        let (_, sent) = get_once(&url);
        let error = sent.response.err().expect("not HTTP").to_string();
        assert!(
            error.starts_with(&format!("request failed to {url}:")),
            "{error}"
        );
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let (url, _) = server(false);
        let pool = Pool::new(2, Duration::from_secs(5), BusyPoll::new(Duration::ZERO));
        let sent = runtime().block_on(pool.send(
            request(reqwest::Method::GET, &url),
            Duration::from_secs(5),
            3,
        ));
        assert!(matches!(
            sent.response,
            Err(SendError::TooLarge { max: 3, .. })
        ));
    }

    #[test]
    fn only_plain_http_with_bodies_in_memory_goes_direct() {
        assert!(Pool::accepts(&request(
            reqwest::Method::GET,
            "http://127.0.0.1:1/"
        )));
        assert!(!Pool::accepts(&request(
            reqwest::Method::GET,
            "https://127.0.0.1:1/"
        )));
        let mut streamed = request(reqwest::Method::POST, "http://127.0.0.1:1/");
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"x"))];
        *streamed.body_mut() = Some(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )));
        assert!(!Pool::accepts(&streamed));
    }
}
