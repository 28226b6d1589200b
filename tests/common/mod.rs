//! A small pets API for integration tests, started on 127.0.0.1:0 inside
//! the test, with switchable misbehaviour.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Good,
    /// Pets come back with a non-UUID id, a numeric `created` and no `tag`.
    BreakSchema,
    /// Every response waits 3 s.
    Slow,
    /// 200s with `application/json` but a body that is not JSON.
    NotJson,
    /// The first list request answers 503; later ones work.
    FlakyOnce,
}

#[derive(Clone)]
struct AppState {
    mode: Mode,
    pets: Arc<Mutex<Vec<Value>>>,
    lists: Arc<std::sync::atomic::AtomicUsize>,
}

fn problem(status: StatusCode, title: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({"title": title, "status": status.as_u16()}).to_string(),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some("Bearer test-token")
}

fn pet_json(state: &AppState, pet: &Value) -> Response {
    match state.mode {
        Mode::BreakSchema => {
            let mut p = pet.clone();
            p["id"] = json!("not-a-uuid");
            p["created"] = json!(1700000000);
            if let Some(o) = p.as_object_mut() {
                o.remove("tag");
            }
            axum::Json(p).into_response()
        }
        Mode::NotJson => (
            [(header::CONTENT_TYPE, "application/json")],
            "<html>oops</html>",
        )
            .into_response(),
        _ => axum::Json(pet.clone()).into_response(),
    }
}

async fn slow(state: &AppState) {
    if state.mode == Mode::Slow {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

async fn list(State(s): State<AppState>, headers: HeaderMap) -> Response {
    slow(&s).await;
    if !authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "no token");
    }
    let n = s.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if s.mode == Mode::FlakyOnce && n == 0 {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "warming up");
    }
    let pets = s.pets.lock().map(|p| p.clone()).unwrap_or_default();
    let total = pets.len();
    axum::Json(json!({"items": pets, "total": total})).into_response()
}

async fn create(State(s): State<AppState>, headers: HeaderMap, body: String) -> Response {
    slow(&s).await;
    if !authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "no token");
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return problem(StatusCode::BAD_REQUEST, "bad json");
    };
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "name required");
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let pet = json!({"id": id, "name": name, "tag": v.get("tag").cloned().unwrap_or(Value::Null), "created": now});
    if let Ok(mut p) = s.pets.lock() {
        p.push(pet.clone());
    }
    let mut resp = pet_json(&s, &pet);
    *resp.status_mut() = StatusCode::CREATED;
    if let Ok(v) = format!("/pets/{id}").parse() {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn get_pet(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    slow(&s).await;
    let found = s
        .pets
        .lock()
        .ok()
        .and_then(|p| p.iter().find(|p| p["id"] == id.as_str()).cloned());
    match found {
        Some(p) => pet_json(&s, &p),
        None => problem(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn delete_pet(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let mut pets = match s.pets.lock() {
        Ok(p) => p,
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"),
    };
    let before = pets.len();
    pets.retain(|p| p["id"] != id.as_str());
    if pets.len() == before {
        problem(StatusCode::NOT_FOUND, "not found")
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// An axum app served on 127.0.0.1 (a port of its own) by a runtime of its
/// own; dropped, it stops.
pub struct Served {
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// Serves `app` with `workers` runtime threads.
pub fn serve(app: Router, workers: usize) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Served {
        addr,
        _runtime: runtime,
    }
}

/// A running test server; dropped, it stops.
pub struct TestServer {
    pub addr: SocketAddr,
    _served: Served,
}

impl TestServer {
    pub fn start(mode: Mode) -> TestServer {
        let state = AppState {
            mode,
            pets: Arc::new(Mutex::new(Vec::new())),
            lists: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/pets", get(list).post(create))
            .route("/pets/{petId}", get(get_pet).delete(delete_pet))
            .with_state(state);
        let served = serve(app, 1);
        TestServer {
            addr: served.addr,
            _served: served,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs the real binary with colours and the progress bar off.
pub fn apiconform(args: &[&str]) -> Output {
    apiconform_in(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs the real binary from `dir`, so what it keeps relative to the
/// current folder (the `--rerun-failed` record) is this test's own.
pub fn apiconform_in(dir: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .env_remove("APICONFORM_PROFILE")
        .env_remove("APICONFORM_CONFIG")
        .current_dir(dir)
        .output()
        .expect("run apiconform")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Replaces timings, ports, UUIDs and dates so output can be pinned.
pub fn normalize(text: &str) -> String {
    let rules: [(&str, &str); 7] = [
        // The console right-aligns case times: the padding varies with them.
        (
            r"(?m)^(PASS|FAIL|FLAKY|SKIP) +\d+(\.\d+)?(ms|s)\b",
            "$1 [time]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[datetime]",
        ),
        (r"\b\d+(\.\d+)?(ms|s)\b", "[time]"),
        (r"rex-[A-Za-z0-9]{6}", "rex-[random]"),
        (r"\(\d+ bytes", "([n] bytes"),
    ];
    let mut out = text.to_string();
    for (re, with) in rules {
        out = regex::Regex::new(re)
            .expect("regex")
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

pub fn _unused(_: HashMap<(), ()>) {}

/// A scratch folder under the system temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "apiconform-{name}-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    /// Writes `name` in the folder; its path as text.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    /// `text` normalized, the folder shown as `[dir]` and the repository as
    /// `[root]` (stable snapshots).
    pub fn hide(&self, text: &str) -> String {
        normalize(text)
            .replace(&self.0.display().to_string(), "[dir]")
            .replace(env!("CARGO_MANIFEST_DIR"), "[root]")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
