//! OAuth2 client credentials against a token endpoint and a protected API
//! started in the test on 127.0.0.1: one fetch for a whole run at --jobs 4,
//! renewal of short-lived tokens mid-run (refresh_token grant), one renewal
//! and resend after a 401 invalid_token, clear failures naming the token
//! URL, `check` diagnostics, and no secret or token in any output.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use common::{apiconform, fixture, stderr, stdout};
use serde_json::json;

const CLIENT_ID: &str = "ci-client";
/// Characters that the form and Basic encodings change.
const SECRET: &str = "s3cret+/Client&Pass=9";

#[derive(Default)]
struct Config {
    /// `expires_in` of issued tokens (none when 0).
    expires_in: u64,
    /// The first token the API sees is rejected (401 invalid_token) once.
    reject_first: bool,
    /// Every token is rejected.
    reject_all: bool,
    /// The API answers after this long.
    delay_ms: u64,
    /// The API echoes the token back in a header and the body, with 500.
    echo: bool,
    /// The token endpoint answers 200 without an `access_token`.
    no_access_token: bool,
    /// The token endpoint answers 200 with a body that is not JSON.
    not_json: bool,
    /// A 200 list that also carries the token it was sent.
    echo_ok: bool,
}

#[derive(Default)]
struct Seen {
    grants: Vec<String>,
    scopes: Vec<String>,
    audiences: Vec<String>,
    /// Issued tokens and refresh tokens, for the redaction checks.
    issued: Vec<String>,
    api_requests: usize,
    rejected: usize,
}

struct Srv {
    config: Config,
    seen: Mutex<Seen>,
    /// Access token -> when it stops being accepted.
    tokens: Mutex<HashMap<String, Option<Instant>>>,
    refresh_tokens: Mutex<Vec<String>>,
    rejected_once: AtomicBool,
    counter: AtomicUsize,
}

struct Server {
    url: String,
    srv: Arc<Srv>,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.srv.seen.lock().expect("lock"))
    }
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// The client from the Basic header (RFC 6749 2.3.1: each part
/// form-encoded) or from the body.
fn client(headers: &HeaderMap, f: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let dec = |s: &str| form(&format!("x={s}")).remove("x").unwrap_or_default();
        return Some((dec(id), dec(secret)));
    }
    Some((f.get("client_id")?.clone(), f.get("client_secret")?.clone()))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": error, "error_description": "see the test"}).to_string(),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Srv>>, headers: HeaderMap, body: String) -> Response {
    let f = form(&body);
    if client(&headers, &f) != Some((CLIENT_ID.to_string(), SECRET.to_string())) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    match grant.as_str() {
        "client_credentials" => {}
        "refresh_token" => {
            let known = f
                .get("refresh_token")
                .is_some_and(|r| s.refresh_tokens.lock().expect("lock").contains(r));
            if !known {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    let access = format!("at{n}-{}", uuid::Uuid::new_v4().simple());
    let refresh = format!("rt{n}-{}", uuid::Uuid::new_v4().simple());
    let expires = (s.config.expires_in > 0)
        .then(|| Instant::now() + Duration::from_secs(s.config.expires_in));
    s.tokens
        .lock()
        .expect("lock")
        .insert(access.clone(), expires);
    s.refresh_tokens.lock().expect("lock").push(refresh.clone());
    {
        let mut seen = s.seen.lock().expect("lock");
        seen.grants.push(grant);
        seen.scopes.extend(f.get("scope").cloned());
        seen.audiences.extend(f.get("audience").cloned());
        seen.issued.push(access.clone());
        seen.issued.push(refresh.clone());
    }
    if s.config.not_json {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "<html>login</html>",
        )
            .into_response();
    }
    let mut body = json!({"token_type": "Bearer", "refresh_token": refresh});
    if !s.config.no_access_token {
        body["access_token"] = json!(access);
    }
    if s.config.expires_in > 0 {
        body["expires_in"] = json!(s.config.expires_in);
    }
    axum::Json(body).into_response()
}

fn invalid_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                r#"Bearer realm="pets", error="invalid_token""#,
            ),
            (header::CONTENT_TYPE, "application/problem+json"),
        ],
        json!({"title": "invalid token", "status": 401}).to_string(),
    )
        .into_response()
}

async fn pets(State(s): State<Arc<Srv>>, headers: HeaderMap) -> Response {
    s.seen.lock().expect("lock").api_requests += 1;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let valid = match s.tokens.lock().expect("lock").get(&token) {
        Some(Some(until)) => Instant::now() < *until,
        Some(None) => true,
        None => false,
    };
    let reject = s.config.reject_all
        || (s.config.reject_first && !s.rejected_once.swap(true, Ordering::SeqCst));
    if !valid || reject {
        s.seen.lock().expect("lock").rejected += 1;
        return invalid_token();
    }
    tokio::time::sleep(Duration::from_millis(s.config.delay_ms)).await;
    if s.config.echo {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [
                (header::CONTENT_TYPE, "application/problem+json".to_string()),
                (header::HeaderName::from_static("x-echo"), token.clone()),
            ],
            json!({"title": format!("echo {token} {}", headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("")), "status": 500}).to_string(),
        )
            .into_response();
    }
    if s.config.echo_ok {
        return axum::Json(json!({"items": [], "total": 0, "seen": token})).into_response();
    }
    axum::Json(json!({"items": [], "total": 0})).into_response()
}

fn start(config: Config) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let srv = Arc::new(Srv {
        config,
        seen: Mutex::new(Seen::default()),
        tokens: Mutex::new(HashMap::new()),
        refresh_tokens: Mutex::new(Vec::new()),
        rejected_once: AtomicBool::new(false),
        counter: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/token", post(token))
        .route("/pets", get(pets))
        .with_state(srv.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { url, srv, _rt: rt }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("apiconform-oauth2-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// A suite of `cases` cases that each list pets once, with an `oauth2`
/// default credential whose secret comes from the `app_creds` variable
/// (a name that is not secret by itself: the credential makes it one).
fn suite(dir: &Path, token_url: &str, cases: usize, expect: u16) -> PathBuf {
    let mut text = format!(
        "spec: {spec}\nname: oauth\ncredentials:\n  app:\n    oauth2:\n      token_url: \"{token_url}\"\n      client_id: {CLIENT_ID}\n      client_secret: \"{{{{ app_creds }}}}\"\n      scopes: [pets.read, pets.write]\n      audience: https://pets.test\ndefault_credential: app\ncases:\n",
        spec = fixture("pets-api.yaml").display(),
    );
    for i in 0..cases {
        text.push_str(&format!(
            "  - name: list {i}\n    steps:\n      - operation: listPets\n        expect: {{status: {expect}}}\n"
        ));
    }
    let f = dir.join("suite.yaml");
    std::fs::write(&f, text).expect("write");
    f
}

/// Runs the suite with every report and -v; returns the process output and
/// the text of every report.
fn run(
    dir: &Path,
    suite: &Path,
    base: &str,
    secret: &str,
    extra: &[&str],
) -> (std::process::Output, String) {
    let path = |n: &str| dir.join(n).display().to_string();
    let (json, junit, html, md) = (path("r.json"), path("r.xml"), path("r.html"), path("r.md"));
    let lines = path("r.jsonl");
    let suite = suite.display().to_string();
    let var = format!("app_creds={secret}");
    let mut args = vec![
        "run",
        &suite,
        "--base-url",
        base,
        "--no-progress",
        "-v",
        "--var",
        &var,
        "--json",
        &json,
        "--junit",
        &junit,
        "--html",
        &html,
        "--markdown",
        &md,
        "--json-lines",
        &lines,
    ];
    args.extend_from_slice(extra);
    // `--accept-snapshots` writes nothing under `CI=true` (as CI runs the
    // tests), so that run is made outside CI.
    let out = if extra.contains(&"--accept-snapshots") {
        outside_ci(&args)
    } else {
        apiconform(&args)
    };
    let reports = [&json, &junit, &html, &md, &lines]
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    (out, reports)
}

/// The binary as [`apiconform`] runs it, without `CI` set.
fn outside_ci(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .env_remove("CI")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run apiconform")
}

fn all_output(out: &std::process::Output, reports: &str) -> String {
    format!("{}\n{}\n{reports}", stdout(out), stderr(out))
}

/// Neither the secret nor any issued token appears, in any encoding.
fn assert_nothing_secret(text: &str, server: &Server) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut forbidden = vec![
        SECRET.to_string(),
        enc(SECRET),
        b64(SECRET),
        b64(&format!("{CLIENT_ID}:{SECRET}")),
        b64(&format!("{}:{}", enc(CLIENT_ID), enc(SECRET))),
    ];
    for t in server.seen(|s| s.issued.clone()) {
        forbidden.push(b64(&t));
        forbidden.push(t);
    }
    for f in &forbidden {
        assert!(!text.contains(f.as_str()), "`{f}` leaked:\n{text}");
    }
}

#[test]
fn many_cases_at_jobs_4_share_one_token_fetch() {
    let server = start(Config {
        expires_in: 3600,
        ..Config::default()
    });
    let d = dir("shared");
    let file = suite(&d, &format!("{}/token", server.url), 12, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &["--jobs", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out, &reports));
    server.seen(|s| {
        assert_eq!(s.grants, vec!["client_credentials"]);
        assert_eq!(s.api_requests, 12);
        assert_eq!(s.scopes, vec!["pets.read pets.write"]);
        assert_eq!(s.audiences, vec!["https://pets.test"]);
    });
    assert!(stdout(&out).contains("12 passed"), "{}", stdout(&out));
    assert_nothing_secret(&all_output(&out, &reports), &server);
}

#[test]
fn a_short_lived_token_is_refreshed_before_it_expires_mid_run() {
    let server = start(Config {
        expires_in: 2,
        delay_ms: 300,
        ..Config::default()
    });
    let d = dir("expiry");
    let file = suite(&d, &format!("{}/token", server.url), 12, 200);
    let started = Instant::now();
    let (out, reports) = run(&d, &file, &server.url, SECRET, &["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out, &reports));
    assert!(started.elapsed() > Duration::from_secs(3));
    server.seen(|s| {
        assert_eq!(
            s.grants.first().map(String::as_str),
            Some("client_credentials")
        );
        assert!(
            s.grants.len() >= 2 && s.grants[1..].iter().all(|g| g == "refresh_token"),
            "{:?}",
            s.grants
        );
        // Renewed before expiry: the API never saw an expired token.
        assert_eq!(s.rejected, 0);
    });
    assert_nothing_secret(&all_output(&out, &reports), &server);
}

#[test]
fn a_401_invalid_token_renews_once_and_resends_once() {
    let server = start(Config {
        reject_first: true,
        ..Config::default()
    });
    let d = dir("reject");
    let file = suite(&d, &format!("{}/token", server.url), 1, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out, &reports));
    server.seen(|s| {
        assert_eq!(s.grants, vec!["client_credentials", "refresh_token"]);
        assert_eq!((s.api_requests, s.rejected), (2, 1));
    });
    let json = std::fs::read_to_string(d.join("r.json")).expect("json");
    assert!(
        json.contains("renewed it and resent the request once"),
        "{json}"
    );
    assert_nothing_secret(&all_output(&out, &reports), &server);
}

#[test]
fn a_token_rejected_again_after_renewal_is_not_resent_twice() {
    let server = start(Config {
        reject_all: true,
        ..Config::default()
    });
    let d = dir("reject-all");
    let file = suite(&d, &format!("{}/token", server.url), 1, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out, &reports));
    server.seen(|s| {
        assert_eq!(s.api_requests, 2);
        assert_eq!(s.grants.len(), 2);
    });
    assert_nothing_secret(&all_output(&out, &reports), &server);
}

#[test]
fn a_bad_secret_fails_the_steps_with_the_token_url_and_the_run_goes_on() {
    let server = start(Config::default());
    let d = dir("bad-secret");
    let token_url = format!("{}/token", server.url);
    let file = suite(&d, &token_url, 3, 200);
    let (out, reports) = run(&d, &file, &server.url, "wrong-secret-value", &[]);
    let text = all_output(&out, &reports);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let reason = format!("oauth2: token endpoint {token_url} answered HTTP 401: invalid_client");
    assert!(stdout(&out).contains(&reason), "{text}");
    assert!(stdout(&out).contains("3 failed"), "{text}");
    assert!(!text.contains("wrong-secret-value"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    // No request reached the API without a token.
    assert_eq!(server.seen(|s| s.api_requests), 0);
}

#[test]
fn an_unreachable_or_broken_token_endpoint_is_a_clear_failure() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/token", closed.local_addr().expect("addr"));
    drop(closed);
    let server = start(Config {
        no_access_token: true,
        ..Config::default()
    });
    let d = dir("broken");
    let file = suite(&d, &dead, 1, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out, &reports));
    assert!(
        stdout(&out).contains(&format!("oauth2: token endpoint {dead} unreachable")),
        "{}",
        stdout(&out)
    );
    let token_url = format!("{}/token", server.url);
    let file = suite(&d, &token_url, 1, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out, &reports));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "oauth2: token endpoint {token_url} sent no usable token"
        )) && text.contains("access_token"),
        "{text}"
    );
}

#[test]
fn a_target_echoing_the_token_shows_it_nowhere() {
    let server = start(Config {
        expires_in: 3600,
        echo: true,
        ..Config::default()
    });
    let d = dir("echo");
    let file = suite(&d, &format!("{}/token", server.url), 2, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &["--jobs", "2"]);
    let text = all_output(&out, &reports);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The failure's full record is there, with the echo redacted.
    assert!(text.contains("x-echo"), "{text}");
    assert!(text.contains("echo [redacted]"), "{text}");
    assert_nothing_secret(&text, &server);
}

#[test]
fn check_points_at_oauth2_mistakes() {
    let d = dir("check");
    let spec = fixture("pets-api.yaml").display().to_string();
    let cases = "cases:\n  - name: one\n    steps:\n      - operation: listPets\n";
    let bad = [
        (
            "missing",
            "    oauth2:\n      client_id: a\n      client_secret: b\n",
            "token_url",
        ),
        (
            "unknown",
            "    oauth2:\n      token_url: http://127.0.0.1:1/t\n      client_id: a\n      client_secret: b\n      scope: x\n",
            "scope",
        ),
        (
            "undefined",
            "    oauth2:\n      token_url: http://127.0.0.1:1/t\n      client_id: a\n      client_secret: \"{{ nowhere }}\"\n",
            "nowhere",
        ),
        (
            "client_auth",
            "    oauth2:\n      token_url: http://127.0.0.1:1/t\n      client_id: a\n      client_secret: b\n      client_auth: jwt\n",
            "unknown client_auth `jwt`",
        ),
        (
            "url",
            "    oauth2:\n      token_url: not a url\n      client_id: a\n      client_secret: b\n",
            "is not an http(s) URL",
        ),
    ];
    for (name, cred, needle) in bad {
        let f = d.join(format!("{name}.yaml"));
        std::fs::write(
            &f,
            format!("spec: {spec}\ncredentials:\n  app:\n{cred}default_credential: app\n{cases}"),
        )
        .expect("write");
        let out = apiconform(&["check", &f.display().to_string()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let located = format!("{}:", f.display());
        assert!(
            err.contains(&located) && err.contains(needle),
            "{name}: {err}"
        );
        let position = regex::Regex::new(&format!(
            r"{}:\d+:\d+",
            regex::escape(&f.display().to_string())
        ))
        .expect("regex");
        assert!(position.is_match(&err), "{name}: {err}");
    }
    let good = d.join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "spec: {spec}\ncredentials:\n  app:\n    oauth2:\n      token_url: http://127.0.0.1:1/t\n      client_id: a\n      client_secret: \"{{{{ app_secret }}}}\"\n      client_auth: body\ndefault_credential: app\nvariables:\n  app_secret: x\n{cases}"
        ),
    )
    .expect("write");
    let out = apiconform(&["check", &good.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A suite with an `oauth2` default credential, a `generate:` section and
/// one case with a requirement (so `certify` counts it).
fn generated_suite(dir: &Path, token_url: &str) -> PathBuf {
    let text = format!(
        "spec: {spec}\nname: oauth-generated\ncredentials:\n  app:\n    oauth2:\n      token_url: \"{token_url}\"\n      client_id: {CLIENT_ID}\n      client_secret: \"{{{{ app_creds }}}}\"\n      client_auth: body\ndefault_credential: app\ngenerate:\n  phases: [positive, auth]\n  operations: [listPets]\n  max_examples: 3\ncases:\n  - name: list\n    requirement: {{id: PETS-01, text: Pets are listed, level: must, source: test}}\n    steps:\n      - operation: listPets\n        expect: {{status: 200}}\n",
        spec = fixture("pets-api.yaml").display(),
    );
    let f = dir.join("generated.yaml");
    std::fs::write(&f, text).expect("write");
    f
}

#[test]
fn generated_phases_carry_the_token_and_auth_checks_still_go_without_it() {
    let server = start(Config {
        expires_in: 3600,
        ..Config::default()
    });
    let d = dir("generated");
    let file = generated_suite(&d, &format!("{}/token", server.url));
    let (out, reports) = run(&d, &file, &server.url, SECRET, &["--jobs", "4"]);
    let text = all_output(&out, &reports);
    assert_eq!(out.status.code(), Some(0), "{text}");
    server.seen(|s| {
        assert_eq!(s.grants, vec!["client_credentials"]);
        // The auth phase sent no or a spoiled credential: rejected, and
        // not renewed (those steps do not carry the oauth2 credential).
        assert!(s.rejected >= 2, "{}", s.rejected);
        assert!(s.api_requests > s.rejected, "{}", s.api_requests);
    });
    assert!(text.contains("auth #1"), "{text}");
    assert_nothing_secret(&text, &server);
}

#[test]
fn certify_runs_with_an_oauth2_credential() {
    let server = start(Config {
        expires_in: 3600,
        ..Config::default()
    });
    let d = dir("certify");
    let file = generated_suite(&d, &format!("{}/token", server.url));
    let out_dir = d.join("cert");
    let var = format!("app_creds={SECRET}");
    let out = apiconform(&[
        "certify",
        &file.display().to_string(),
        "--base-url",
        &server.url,
        "--var",
        &var,
        "--out",
        &out_dir.display().to_string(),
    ]);
    let mut text = format!("{}\n{}", stdout(&out), stderr(&out));
    for name in ["certificate.json", "certificate.html", "certificate.md"] {
        text.push_str(&std::fs::read_to_string(out_dir.join(name)).unwrap_or_default());
    }
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("PETS-01"), "{text}");
    assert_eq!(server.seen(|s| s.grants.len()), 1);
    assert_nothing_secret(&text, &server);
}

#[test]
fn a_token_endpoint_sending_no_json_is_a_clear_failure() {
    let server = start(Config {
        not_json: true,
        ..Config::default()
    });
    let d = dir("not-json");
    let token_url = format!("{}/token", server.url);
    let file = suite(&d, &token_url, 2, 200);
    let (out, reports) = run(&d, &file, &server.url, SECRET, &[]);
    let text = all_output(&out, &reports);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        stdout(&out).contains(&format!(
            "oauth2: token endpoint {token_url} sent no usable token: expected value"
        )),
        "{text}"
    );
    assert_eq!(server.seen(|s| s.api_requests), 0);
}

#[test]
fn snapshots_of_a_response_holding_the_token_hold_no_token() {
    let server = start(Config {
        expires_in: 3600,
        echo_ok: true,
        ..Config::default()
    });
    let d = dir("snapshot");
    let spec = fixture("pets-api.yaml").display().to_string();
    let token_url = format!("{}/token", server.url);
    let text = format!(
        "spec: {spec}\nname: oauth-snap\ncredentials:\n  app:\n    oauth2:\n      token_url: \"{token_url}\"\n      client_id: {CLIENT_ID}\n      client_secret: \"{{{{ app_creds }}}}\"\ndefault_credential: app\ncases:\n  - name: list\n    steps:\n      - operation: listPets\n        expect: {{status: 200}}\n        snapshot: {{name: listed}}\n"
    );
    let file = d.join("suite.yaml");
    std::fs::write(&file, text).expect("write");
    let snaps = d.join("snaps");
    let snaps_arg = snaps.display().to_string();
    let (out, reports) = run(
        &d,
        &file,
        &server.url,
        SECRET,
        &["--accept-snapshots", "--snapshot-dir", &snaps_arg],
    );
    let mut all = all_output(&out, &reports);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let snap = std::fs::read_to_string(snaps.join("oauth-snap/listed.snap")).expect("snapshot");
    assert!(snap.contains("\"seen\": \"[redacted]\""), "{snap}");
    all.push_str(&snap);
    assert_nothing_secret(&all, &server);
}
