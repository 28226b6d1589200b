//! Real-world spec inputs through the real binary: local flaws that load
//! with warnings, Swagger 2.0, specs fetched from a URL (a file server
//! started on 127.0.0.1 inside the test), and the diagnostics around them.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{
    Mode, Scratch, Served, TestServer, apiconform, fixture, normalize, serve, stderr, stdout,
};

fn root_relative(text: &str) -> String {
    normalize(text).replace(env!("CARGO_MANIFEST_DIR"), "[root]")
}

/// Serves `tests/fixtures` over HTTP on 127.0.0.1, counting requests per
/// file; `/slow/...` waits 5 s before answering.
struct FileServer {
    served: Served,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

type Hits = Arc<Mutex<HashMap<String, usize>>>;

async fn serve_file(State(hits): State<Hits>, Path(name): Path<String>) -> impl IntoResponse {
    if let Ok(mut h) = hits.lock() {
        *h.entry(name.clone()).or_default() += 1;
    }
    if name.contains("..") {
        return (StatusCode::BAD_REQUEST, String::new());
    }
    if let Some(rest) = name.strip_prefix("slow/") {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return (StatusCode::OK, rest.to_string());
    }
    match std::fs::read_to_string(fixture(&name)) {
        Ok(text) => (StatusCode::OK, text),
        Err(_) => (StatusCode::NOT_FOUND, "no such file".to_string()),
    }
}

impl FileServer {
    fn start() -> FileServer {
        let hits: Hits = Arc::default();
        let app = Router::new()
            .route("/{*name}", get(serve_file))
            .with_state(hits.clone());
        FileServer {
            served: serve(app, 1),
            hits,
        }
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.served.addr)
    }

    fn hits(&self, name: &str) -> usize {
        self.hits
            .lock()
            .map(|h| h.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

#[test]
fn real_world_flaws_load_with_warnings_at_their_positions() {
    let out = apiconform(&[
        "check",
        "--spec",
        &fixture("real-patterns.yaml").display().to_string(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&out).contains("4 operations"), "{}", stdout(&out));
    insta::assert_snapshot!("real_world_flaws", root_relative(&err));
}

#[test]
fn swagger2_spec_checks_and_runs_a_suite() {
    let spec = fixture("pets-api-swagger2.yaml").display().to_string();
    let out = apiconform(&["check", "--spec", &spec]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Swagger 2.0 read as OpenAPI 3.0): 4 operations"),
        "{}",
        stdout(&out)
    );
    let suite = fixture("pets-suite-swagger2.yaml").display().to_string();
    let server = TestServer::start(Mode::Good);
    let out = apiconform(&["run", &suite, "--base-url", &server.url(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "4 passed, 0 failed"), "{text}");
    // The converted schemas are enforced: a server breaking them fails.
    let broken = TestServer::start(Mode::BreakSchema);
    let out = apiconform(&["run", &suite, "--base-url", &broken.url(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("/definitions/Pet"),
        "schema errors name the original pointer: {text}"
    );
}

#[test]
fn spec_urls_are_fetched_once_with_relative_refs_resolved() {
    let files = FileServer::start();
    let url = files.url("petstore-30.yaml");
    let out = apiconform(&["check", "--spec", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("ok: {url} (Pets 1.0, OpenAPI 3.0)")),
        "{}",
        stdout(&out)
    );
    assert_eq!(files.hits("petstore-30.yaml"), 1);
    // petstore-30.yaml refers to common.yaml by a relative $ref.
    assert_eq!(files.hits("common.yaml"), 1);

    // Two suites naming the same spec URL: one download for the run.
    let scratch = Scratch::new("spec-url");
    let spec_url = files.url("pets-api.yaml");
    let suite = |name: &str| {
        format!(
            "spec: {spec_url}\nname: {name}\nvariables: {{pets_token: test-token}}\ncredentials:\n  owner: {{bearer: \"{{{{ pets_token }}}}\"}}\ndefault_credential: owner\ncases:\n  - name: list\n    steps:\n      - operation: listPets\n        expect: {{status: 200}}\n"
        )
    };
    scratch.write("a.yaml", &suite("a"));
    scratch.write("b.yaml", &suite("b"));
    let server = TestServer::start(Mode::Good);
    let dir = scratch.0.display().to_string();
    let out = apiconform(&["run", &dir, "--base-url", &server.url(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "2 passed, 0 failed"), "{text}");
    assert_eq!(files.hits("pets-api.yaml"), 1);
}

#[test]
fn spec_url_failures_name_the_url() {
    let files = FileServer::start();
    let missing = files.url("missing.yaml");
    let out = apiconform(&["check", "--spec", &missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot fetch {missing}: the server answered 404 Not Found"
        )),
        "{err}"
    );
    // Size limit and timeout, through the library with small bounds.
    let url = url::Url::parse(&files.url("petstore-30.yaml")).expect("url");
    let too_big = apiconform::spec::source::fetch_bounded(&url, 100, Duration::from_secs(5))
        .expect_err("over the limit");
    assert!(too_big.to_string().contains("limit"), "{too_big}");
    let slow = url::Url::parse(&files.url("slow/x.yaml")).expect("url");
    let started = std::time::Instant::now();
    let timed_out =
        apiconform::spec::source::fetch_bounded(&slow, 1 << 20, Duration::from_millis(300))
            .expect_err("times out");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        timed_out
            .to_string()
            .contains("no complete answer within 300 ms"),
        "{timed_out}"
    );
}

#[test]
fn out_of_range_dates_are_diagnostics_at_the_template() {
    let scratch = Scratch::new("dates");
    let spec = fixture("pets-api.yaml").display().to_string();
    let suite = scratch.write(
        "dates.yaml",
        &format!(
            "spec: {spec}\nname: dates\nvariables:\n  far: \"{{{{ now(+3000000d) }}}}\"\ncases:\n  - name: x\n    steps:\n      - operation: listPets\n        query: {{limit: \"{{{{ now_ms(-99999999999999h) }}}}\"}}\n"
        ),
    );
    let out = apiconform(&["check", &suite]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    let shown = err.replace(&scratch.0.display().to_string(), "[dir]");
    insta::assert_snapshot!("out_of_range_dates", shown);
}

/// A spec whose `/a` response schema reaches a `$ref` to nothing, and whose
/// `/b` does not (a broken `$ref` elsewhere in the spec).
const BROKEN_REF_SPEC: &str = r##"openapi: 3.0.3
info: {title: broken refs, version: "1"}
paths:
  /a:
    get:
      operationId: getA
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/A"}
  /b:
    get:
      operationId: getB
      responses:
        "204": {description: none}
components:
  schemas:
    A:
      type: object
      properties:
        owner: {$ref: "#/components/schemas/Owner"}
    Owner:
      type: object
      properties:
        team: {$ref: "#/components/schemas/Team"}
"##;

/// A listener on 127.0.0.1 answering every request with `204`, counting
/// the connections it accepts.
fn counting_target() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    (url, count)
}

#[test]
fn a_broken_ref_in_a_schema_the_cases_use_stops_the_run_before_any_request() {
    let dir = Scratch::new("broken-ref");
    dir.write("openapi.yaml", BROKEN_REF_SPEC);
    let suite = dir.write(
        "suite.yaml",
        "spec: openapi.yaml\nname: broken\ncases:\n  - name: uses A\n    steps:\n      - {name: read a, operation: getA, expect: {status: 200}}\n  - name: uses B only\n    steps:\n      - {name: read b, operation: getB, expect: {status: 204}}\n",
    );
    let (url, connections) = counting_target();

    // Every case selected: `uses A` needs the broken schema.
    let out = apiconform(&["run", &suite, "--base-url", &url, "--no-progress"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}{}", stdout(&out));
    assert!(
        err.contains("openapi.yaml:27:16")
            && err.contains("#/components/schemas/Team")
            && err.contains("case `uses A`")
            && err.contains("getA"),
        "names the $ref's position, the case and the operation: {err}"
    );
    assert!(err.contains("nothing was run"), "{err}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
    // `check` of the suite says the same, with the same exit code.
    let out = apiconform(&["check", &suite]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("case `uses A`"), "{}", stderr(&out));

    // Only the case that does not need it: a warning, and the run goes on.
    let out = apiconform(&[
        "run",
        &suite,
        "--base-url",
        &url,
        "--no-progress",
        "--name",
        "uses B",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("1 passed, 0 failed"), "{text}");
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

/// A few Docker Engine endpoints on 127.0.0.1 under `/v1.41` (the
/// description's basePath); `broken` answers a create with an `Id` that is
/// a number and no `Warnings`, which the converted schema forbids.
struct DockerLike(Served);

impl DockerLike {
    fn start(broken: bool) -> DockerLike {
        use axum::Json;
        use axum::routing::post;
        let ping = || async {
            (
                [("content-type", "text/plain"), ("api-version", "1.41")],
                "OK",
            )
        };
        let create = move |Json(body): Json<serde_json::Value>| async move {
            if body.get("Image").and_then(|i| i.as_str()).is_none() {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({"message": "no image"})),
                );
            }
            let answer = if broken {
                serde_json::json!({"Id": 5})
            } else {
                serde_json::json!({"Id": "4fa6e0f0c678", "Warnings": []})
            };
            (StatusCode::CREATED, Json(answer))
        };
        let version = || async {
            Json(serde_json::json!({
                "Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12",
                "Os": "linux", "Arch": "amd64",
                "Components": [{"Name": "Engine", "Version": "20.10.24", "Details": null}]
            }))
        };
        let app = Router::new()
            .route("/v1.41/_ping", get(ping))
            .route("/v1.41/containers/create", post(create))
            .route("/v1.41/version", get(version));
        DockerLike(serve(app, 1))
    }

    fn url(&self) -> String {
        format!("http://{}/v1.41", self.0.addr)
    }
}

#[test]
fn a_large_real_swagger2_description_loads_and_runs_a_suite() {
    // Docker Engine API 1.41 as published (tests/fixtures/real/README.md).
    let spec = fixture("real/docker-engine-1.41.yaml")
        .display()
        .to_string();
    let out = apiconform(&["check", "--spec", &spec]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("(Docker Engine API 1.41, Swagger 2.0 read as OpenAPI 3.0): 106 operations"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let suite = fixture("real/docker-suite.yaml").display().to_string();
    let out = apiconform(&["check", &suite]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let good = DockerLike::start(false);
    let out = apiconform(&["run", &suite, "--base-url", &good.url(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "2 passed, 0 failed"), "{text}");

    // The `in: body` parameter became a request body the schema checks, and
    // the 201 schema converted from the document is enforced, its errors
    // pointing into the original file.
    let broken = DockerLike::start(true);
    let out = apiconform(&["run", &suite, "--base-url", &broken.url(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("1 passed, 1 failed"), "{text}");
    assert!(
        text.contains("/paths/~1containers~1create/post/responses/201/schema"),
        "{text}"
    );
    assert!(text.contains("Warnings"), "{text}");
}

/// A JSON description with three operations: `getA` (its schema holds a
/// pattern that cannot run), `listB` (the same flaw, in a schema only it
/// uses) and `makeC`.
const OUTLINE_SPEC: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "outline", "version": "1"},
  "paths": {
    "/a/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"operationId": "getA", "responses": {
        "204": {"description": "none"},
        "200": {"description": "one", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}
    },
    "/b": {
      "get": {"operationId": "listB", "responses": {
        "200": {"description": "all", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}}},
      "post": {"operationId": "makeC", "responses": {"201": {"description": "made"}}}
    }
  },
  "components": {"schemas": {
    "A": {"type": "object", "properties": {"code": {"type": "string", "pattern": "(unclosed"}}},
    "B": {"type": "object", "properties": {"tag": {"type": "string", "pattern": "(also unclosed"}}}
  }}
}"##;

#[test]
fn a_run_loads_a_json_spec_for_the_operations_its_suites_name() {
    let dir = Scratch::new("outline");
    let spec = dir.write("openapi.json", OUTLINE_SPEC);
    let suite = dir.write(
        "suite.yaml",
        "spec: openapi.json\nname: outline\ncases:\n  - name: by id\n    steps:\n      - {operation: getA, path: {id: x}, expect: {status: 204}}\n  - name: by path\n    steps:\n      - {request: GET /a/y, expect: {status: 204}}\n",
    );
    let (url, connections) = counting_target();
    let out = apiconform(&[
        "run",
        &suite,
        "--base-url",
        &url,
        "--no-progress",
        "--coverage",
    ]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    // The flaw in what the cases use is reported; the one only `listB`
    // reaches is not this run's concern, and the note says so.
    assert!(
        err.contains("/components/schemas/A/properties/code/pattern"),
        "{err}"
    );
    assert!(!err.contains("/components/schemas/B"), "{err}");
    assert!(
        err.contains("1 spec warning in what the selected suites use"),
        "{err}"
    );
    // Coverage still knows every operation of the spec.
    for op in ["getA", "listB", "makeC"] {
        assert!(text.contains(op), "coverage lists {op}: {text}");
    }
    // `check --spec` reads all of it.
    let out = apiconform(&["check", "--spec", &spec]);
    let err = stderr(&out);
    assert!(
        err.contains("/components/schemas/B/properties/tag/pattern"),
        "{err}"
    );

    // A second suite naming `listB`: that one needs the whole spec, whose
    // warnings are then the ones shown.
    let other = dir.write(
        "other.yaml",
        "spec: openapi.json\nname: other\ncases:\n  - name: list\n    steps:\n      - {operation: listB, expect: {status: 204}}\n",
    );
    let out = apiconform(&["run", &suite, &other, "--base-url", &url, "--no-progress"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}{}", stdout(&out));
    assert!(
        err.contains("/components/schemas/B/properties/tag/pattern"),
        "{err}"
    );
    assert!(err.contains("(2 spec warnings:"), "{err}");

    // A name the outline does not know gets the whole spec's diagnostic.
    let typo = dir.write(
        "typo.yaml",
        "spec: openapi.json\nname: typo\ncases:\n  - name: typo\n    steps:\n      - {operation: lstB, expect: {status: 200}}\n",
    );
    let out = apiconform(&["run", &typo, "--base-url", &url, "--no-progress"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("typo.yaml:6:21") && err.contains("did you mean `listB`"),
        "{err}"
    );
}
