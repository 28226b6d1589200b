//! 429/503 with Retry-After: waited for and resent for idempotent requests,
//! bounded by --max-retry-wait, recorded in the step. Against a server on
//! 127.0.0.1 that rate-limits its first request of each kind.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{apiconform, fixture, stderr, stdout};

/// Counts requests; the first GET and the first POST get `status` with
/// `Retry-After: 1`.
struct LimitServer {
    url: String,
    gets: Arc<AtomicUsize>,
    posts: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

fn limited(status: StatusCode) -> Response {
    (
        status,
        [
            (header::RETRY_AFTER, "1"),
            (header::CONTENT_TYPE, "application/problem+json"),
        ],
        r#"{"title":"slow down","status":429}"#,
    )
        .into_response()
}

fn start(status: StatusCode) -> LimitServer {
    start_with(status, |n| n == 0)
}

/// Like [`start`], rate-limiting the GETs whose 0-based number `limit` picks.
fn start_with(status: StatusCode, limit: fn(usize) -> bool) -> LimitServer {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (gets, posts) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (g, p) = (gets.clone(), posts.clone());
    let app = Router::new().route(
        "/pets",
        get(move || {
            let n = g.fetch_add(1, Ordering::SeqCst);
            async move {
                if limit(n) {
                    return limited(status);
                }
                axum::Json(serde_json::json!({"items": [], "total": 0})).into_response()
            }
        })
        .post(move || {
            p.fetch_add(1, Ordering::SeqCst);
            async move { limited(status) }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LimitServer {
        url,
        gets,
        posts,
        _rt: rt,
    }
}

fn suite(name: &str, step: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "apiconform-ratelimit-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).expect("dir");
    let f = d.join("suite.yaml");
    let text = format!(
        "spec: {}\nname: limits\ncredentials:\n  owner: {{bearer: test-token}}\ndefault_credential: owner\ncases:\n  - name: one request\n    steps:\n{step}",
        fixture("pets-api.yaml").display()
    );
    std::fs::write(&f, text).expect("write");
    f
}

const LIST: &str = "      - operation: listPets\n        expect: {status: 200}\n";

fn run(file: &std::path::Path, url: &str, extra: &[&str]) -> (std::process::Output, String) {
    let json = file.with_extension("json");
    let (f, j) = (file.display().to_string(), json.display().to_string());
    let mut args = vec!["run", &f, "--base-url", url, "--no-progress", "--json", &j];
    args.extend_from_slice(extra);
    let out = apiconform(&args);
    (out, std::fs::read_to_string(&json).unwrap_or_default())
}

#[test]
fn a_429_with_retry_after_is_waited_for_and_resent() {
    let server = start(StatusCode::TOO_MANY_REQUESTS);
    let file = suite("wait", LIST);
    let started = std::time::Instant::now();
    let (out, json) = run(&file, &server.url, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(server.gets.load(Ordering::SeqCst), 2);
    assert!(json.contains("rate_limit_wait"), "{json}");
    assert!(
        json.contains("429 with Retry-After: waited 1.0 s; resent 1 time(s)"),
        "{json}"
    );
    // Counted in the run summary: the console's closing lines and the report.
    assert!(
        stdout(&out).contains("· 1 rate-limit wait (1.0 s)"),
        "{}",
        stdout(&out)
    );
    let report: serde_json::Value = serde_json::from_str(&json).expect("report");
    assert_eq!(report["rate_limit_waits"]["count"], 1, "{json}");
    assert_eq!(report["rate_limit_waits"]["seconds"], 1.0, "{json}");
}

#[test]
fn waits_of_every_step_add_up_in_the_summary() {
    // Every other GET is limited: each of the two cases waits once.
    let server = start_with(StatusCode::TOO_MANY_REQUESTS, |n| n % 2 == 0);
    let file = suite("sum", LIST);
    let text = std::fs::read_to_string(&file).expect("read");
    let twice = format!("{text}  - name: another request\n    steps:\n{LIST}");
    std::fs::write(&file, twice).expect("write");
    let (out, json) = run(&file, &server.url, &["-j", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(server.gets.load(Ordering::SeqCst), 4);
    assert!(
        stdout(&out).contains("· 2 rate-limit waits (2.0 s)"),
        "{}",
        stdout(&out)
    );
    let report: serde_json::Value = serde_json::from_str(&json).expect("report");
    assert_eq!(report["rate_limit_waits"]["count"], 2, "{json}");
    assert_eq!(report["rate_limit_waits"]["seconds"], 2.0, "{json}");
    // A run without waits reports zero and says nothing on the console.
    let calm = start_with(StatusCode::TOO_MANY_REQUESTS, |_| false);
    let (out, json) = run(&file, &calm.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        !stdout(&out).contains("rate-limit wait"),
        "{}",
        stdout(&out)
    );
    let report: serde_json::Value = serde_json::from_str(&json).expect("report");
    assert_eq!(report["rate_limit_waits"]["count"], 0, "{json}");
}

#[test]
fn a_503_with_retry_after_is_waited_for_too() {
    let server = start(StatusCode::SERVICE_UNAVAILABLE);
    let file = suite("503", LIST);
    let (out, json) = run(&file, &server.url, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(server.gets.load(Ordering::SeqCst), 2);
    assert!(json.contains("503 with Retry-After"), "{json}");
}

#[test]
fn a_wait_beyond_max_retry_wait_is_not_taken() {
    let server = start(StatusCode::TOO_MANY_REQUESTS);
    let file = suite("bound", LIST);
    let (out, _) = run(&file, &server.url, &["--max-retry-wait", "500ms"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(server.gets.load(Ordering::SeqCst), 1);
}

#[test]
fn a_post_is_never_resent() {
    let server = start(StatusCode::TOO_MANY_REQUESTS);
    let step =
        "      - operation: createPet\n        body: {name: rex}\n        expect: {status: 201}\n";
    let file = suite("post", step);
    let (out, json) = run(&file, &server.url, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(server.posts.load(Ordering::SeqCst), 1);
    // No wait check on the step, none counted in the summary.
    assert!(!json.contains("\"rate_limit_wait\""), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("report");
    assert_eq!(report["rate_limit_waits"]["count"], 0, "{json}");
}
