//! Issue 10, runner side, through the real binary: honest skip accounting
//! and certify's three verdicts, interruption by signals, snapshots found
//! from the suite, `-v` output held per case, and stale keep-alive
//! connections.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_apiconform");

/// The binary with colours off and a controlled environment.
fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    cmd(args).output().expect("run apiconform")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh folder under target/ (kept after the run for inspection).
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_trust")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create out dir");
    dir
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Fails the test when a JSON report breaks schema/report.schema.json.
fn assert_valid_report(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
        )
        .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `apiconform serve NAME` as a child process, killed when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(name: &str) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", name, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line {line:?}")
        });
    Serve { child, base }
}

// ---- point 4: honest accounting ------------------------------------------

#[test]
fn webhook_cases_without_a_listener_are_skipped_everywhere() {
    let target = serve("enablenow");
    let dir = out_dir("skipped-webhooks");
    let out = run(&[
        "run",
        "cases/enablenow/webhook.yaml",
        "--base-url",
        &target.base,
        "--json",
        &p(&dir, "r.json"),
        "--junit",
        &p(&dir, "r.xml"),
        "--html",
        &p(&dir, "r.html"),
        "--markdown",
        &p(&dir, "r.md"),
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{console}{}", text(&out.stderr));
    assert!(!console.contains("PASS "), "{console}");
    let skip_lines = console.lines().filter(|l| l.starts_with("SKIP ")).count();
    assert!(skip_lines >= 2, "{console}");
    assert!(console.contains("no webhook listener"), "{console}");
    assert!(
        console.contains(&format!("0 passed, 0 failed, {skip_lines} skipped")),
        "{console}"
    );

    let json: serde_json::Value = serde_json::from_str(&read(&dir, "r.json")).expect("json");
    assert_valid_report(&json);
    assert_eq!(json["totals"]["skipped"], skip_lines);
    assert_eq!(json["totals"]["passed"], 0);
    assert_eq!(json["totals"]["not_verified"], 0);
    for c in json["cases"].as_array().expect("cases") {
        assert_eq!(c["status"], "skipped", "{c}");
        let reason = c["skip_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no webhook listener"), "{reason}");
    }
    let junit = read(&dir, "r.xml");
    assert_eq!(
        junit.matches("<skipped message=\"step `").count(),
        skip_lines,
        "{junit}"
    );
    let html = read(&dir, "r.html");
    assert!(html.contains("skipped: step `the event arrives` skipped: no webhook listener"));
    assert!(html.matches("pill skipped").count() >= skip_lines, "html");
    let md = read(&dir, "r.md");
    assert!(
        md.contains(&format!("| 0 | 0 | 0 | {skip_lines} |")),
        "{md}"
    );
    assert!(md.contains("no webhook listener"), "{md}");

    // merge reads the new counters back.
    let merged = p(&dir, "merged.json");
    let m = run(&["report", "merge", &p(&dir, "r.json"), "--json", &merged]);
    assert_eq!(m.status.code(), Some(0), "{}", text(&m.stderr));
    let mj: serde_json::Value = serde_json::from_str(&read(&dir, "merged.json")).expect("json");
    assert_eq!(mj["totals"], json["totals"]);
}

#[test]
fn certify_names_unverified_requirements_and_says_incomplete() {
    let target = serve("enablenow");
    let dir = out_dir("certify-incomplete");
    let out = run(&[
        "certify",
        "cases/enablenow/webhook.yaml",
        "--base-url",
        &target.base,
        "--out",
        &p(&dir, "cert"),
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{console}{}", text(&out.stderr));
    let named: Vec<&str> = console
        .lines()
        .filter(|l| l.starts_with("not verified: must requirement EN-HOOK-"))
        .collect();
    assert!(named.len() >= 2, "{console}");
    assert!(
        named.iter().all(|l| l.contains("no webhook listener")),
        "{console}"
    );
    assert!(console.contains("INCOMPLETE: 0/"), "{console}");
    let cert: serde_json::Value =
        serde_json::from_str(&read(&dir.join("cert"), "certificate.json")).expect("json");
    assert_eq!(cert["verdict"], "incomplete");
    assert!(read(&dir.join("cert"), "certificate.md").contains("INCOMPLETE"));

    // The same suite against the embedded server (a receiver wired in)
    // verifies everything.
    let full = run(&[
        "certify",
        "cases/enablenow/webhook.yaml",
        "--out",
        &p(&dir, "full"),
    ]);
    let console = text(&full.stdout);
    assert_eq!(full.status.code(), Some(0), "{console}");
    assert!(console.contains("CONFORMANT: "), "{console}");
    assert!(!console.contains("not verified:"), "{console}");
}

// ---- a raw HTTP/1.1 target on 127.0.0.1 ----------------------------------

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const PET: &str = r#"{"id":"6f1c2a5e-8d3b-4c1a-9e7f-0a1b2c3d4e5f","name":"rex","tag":null,"created":"2026-01-01T10:00:00Z"}"#;

/// How the raw target behaves.
#[derive(Clone, Copy)]
struct Behaviour {
    /// Delay before answering a GET.
    get_delay: Duration,
    reuse: Reuse,
}

/// What the target does with a kept-alive connection.
#[derive(Clone, Copy, PartialEq)]
enum Reuse {
    /// Serves every request on it.
    Keep,
    /// Closes it after each response without saying so (no
    /// `Connection: close`), as a misbehaving proxy does.
    CloseAfterResponse,
    /// Serves one request; a second one on the same connection is read,
    /// then the connection closes without a response byte (a keep-alive
    /// timeout that expired as the request arrived): every reuse is stale.
    DropSecondRequest,
}

/// A target that answers GET with a pet and DELETE with 204, logging every
/// request line; stops accepting when dropped (the thread ends with the test).
struct RawTarget {
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl RawTarget {
    fn start(b: Behaviour) -> RawTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let l = l.clone();
                std::thread::spawn(move || connection(stream, b, &l));
            }
        });
        RawTarget { addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Serves requests on one connection until the peer closes it.
fn connection(mut stream: TcpStream, b: Behaviour, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut buf = Vec::new();
    let mut served = 0;
    loop {
        let Some(end) = read_head(&mut stream, &mut buf) else {
            return;
        };
        if served > 0 && b.reuse == Reuse::DropSecondRequest {
            let line = String::from_utf8_lossy(&buf[..end]);
            if let Ok(mut l) = log.lock() {
                l.push(format!(
                    "DROPPED {}",
                    line.lines().next().unwrap_or_default()
                ));
            }
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        served += 1;
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            })
            .unwrap_or(0);
        while buf.len() < end + 4 + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..end + 4 + length);
        let line = head.lines().next().unwrap_or_default().to_string();
        if let Ok(mut l) = log.lock() {
            l.push(line.clone());
        }
        let response = if line.starts_with("GET ") {
            std::thread::sleep(b.get_delay);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PET}",
                PET.len()
            )
        } else if line.starts_with("DELETE ") {
            "HTTP/1.1 204 No Content\r\n\r\n".to_string()
        } else {
            let body = PET;
            format!(
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nLocation: /pets/x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
        if b.reuse == Reuse::CloseAfterResponse {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// Reads until the end of the request head; its offset, or None at EOF.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(i);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A suite of `n` cases on the pets fixture spec: each reads pet `pN`
/// twice, then deletes it in cleanup.
fn slow_suite(dir: &Path, n: usize) -> String {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pets-api.yaml");
    let mut yaml = format!(
        "spec: {}\nname: slow\ncredentials:\n  owner: {{bearer: t}}\ndefault_credential: owner\ncases:\n",
        spec.display()
    );
    for i in 0..n {
        yaml.push_str(&format!(
            "  - name: case {i}\n    steps:\n      - name: slow read\n        request: GET /pets/{{petId}}\n        path: {{petId: p{i}}}\n        expect: {{status: 200}}\n      - name: second read\n        request: GET /pets/{{petId}}\n        path: {{petId: p{i}}}\n        expect: {{status: 200}}\n    cleanup:\n      - request: DELETE /pets/{{petId}}\n        path: {{petId: p{i}}}\n        expect: {{status: 204}}\n"
        ));
    }
    let file = dir.join("slow.yaml");
    std::fs::write(&file, yaml).expect("write suite");
    file.display().to_string()
}

fn kill(signal: &str, child: &Child) {
    let ok = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {signal}");
}

/// Waits until the target has seen `n` requests (at most 20 s).
fn wait_for_requests(target: &RawTarget, n: usize) {
    wait_for(target, |requests| requests.len() >= n);
}

/// Waits until the target's requests so far satisfy `seen`.
fn wait_for(target: &RawTarget, seen: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen(&target.requests()) {
        assert!(Instant::now() < deadline, "{:?}", target.requests());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- point 1: interruption -------------------------------------------------

#[test]
fn a_signal_stops_new_cases_runs_cleanup_and_marks_every_report() {
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let target = RawTarget::start(Behaviour {
            get_delay: Duration::from_millis(700),
            reuse: Reuse::Keep,
        });
        let dir = out_dir(&format!("interrupt{signal}"));
        let suite = slow_suite(&dir, 6);
        let mut child = cmd(&[
            "run",
            &suite,
            "--base-url",
            &target.url(),
            "--jobs",
            "2",
            "--no-progress",
            "--json",
            &p(&dir, "r.json"),
            "--junit",
            &p(&dir, "r.xml"),
            "--html",
            &p(&dir, "r.html"),
            "--markdown",
            &p(&dir, "r.md"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run");
        // Both workers are inside their first (slow) step.
        wait_for_requests(&target, 2);
        kill(signal, &child);
        let status = wait_exit(&mut child, Duration::from_secs(20));
        let mut console = String::new();
        let _ = child
            .stdout
            .take()
            .map(|mut s| s.read_to_string(&mut console));
        assert_eq!(status.code(), Some(code), "{signal}: {console}");
        let requests = target.requests();
        // The running steps finished, the second steps did not run, the
        // two started cases cleaned up, no other case started.
        let deletes: Vec<&String> = requests
            .iter()
            .filter(|r| r.starts_with("DELETE"))
            .collect();
        assert_eq!(deletes.len(), 2, "{requests:?}");
        assert_eq!(requests.len(), 4, "{requests:?}");
        for r in &requests {
            let case = r.split("/pets/p").nth(1).and_then(|t| t.split(' ').next());
            assert!(matches!(case, Some("0") | Some("1")), "{r}");
        }
        assert!(
            console.contains(&format!("interrupted by {name}")),
            "{console}"
        );
        assert!(console.contains("2 interrupted"), "{console}");

        let json: serde_json::Value = serde_json::from_str(&read(&dir, "r.json")).expect("json");
        assert_valid_report(&json);
        assert_eq!(json["interrupted"], true);
        assert_eq!(json["totals"]["interrupted"], 2);
        let cases = json["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 2, "{cases:?}");
        for c in cases {
            assert_eq!(c["status"], "interrupted");
            let reason = c["skip_reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains(name) && reason.contains("second read"),
                "{reason}"
            );
            assert_eq!(c["steps"][2]["phase"], "cleanup");
            assert_eq!(c["steps"][2]["outcome"], "passed");
        }
        let junit = read(&dir, "r.xml");
        assert!(junit.contains(r#"<property name="interrupted" value="true"/>"#));
        // An interrupted case could not complete: an error, never a failure.
        assert_eq!(junit.matches(r#"type="interrupted""#).count(), 2, "{junit}");
        assert!(!junit.contains("<failure"), "{junit}");
        assert!(read(&dir, "r.html").contains("banner interrupted"));
        assert!(read(&dir, "r.md").contains("**Interrupted**"));
    }
}

#[test]
fn a_second_signal_exits_at_once_and_certify_stops_too() {
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::from_secs(4),
        reuse: Reuse::Keep,
    });
    let dir = out_dir("second-signal");
    let suite = slow_suite(&dir, 4);
    let mut child = cmd(&["run", &suite, "--base-url", &target.url(), "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    wait_for_requests(&target, 1);
    let sent = Instant::now();
    kill("-INT", &child);
    std::thread::sleep(Duration::from_millis(200));
    kill("-INT", &child);
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );

    // certify: the same first-signal behaviour, exit 143, verdict INCOMPLETE.
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::from_millis(500),
        reuse: Reuse::Keep,
    });
    let mut child = cmd(&[
        "certify",
        &suite,
        "--base-url",
        &target.url(),
        "--jobs",
        "1",
        "--out",
        &p(&dir, "cert"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn certify");
    wait_for_requests(&target, 1);
    kill("-TERM", &child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    let mut console = String::new();
    let _ = child
        .stdout
        .take()
        .map(|mut s| s.read_to_string(&mut console));
    assert_eq!(status.code(), Some(143), "{console}");
    assert!(console.contains("INCOMPLETE"), "{console}");
    let requests = target.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[1].starts_with("DELETE /pets/p0"), "{requests:?}");
    let cert: serde_json::Value =
        serde_json::from_str(&read(&dir.join("cert"), "certificate.json")).expect("json");
    assert_eq!(cert["verdict"], "incomplete");
}

#[test]
fn a_first_signal_during_fuzz_still_writes_its_reports() {
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::from_secs(2),
        reuse: Reuse::Keep,
    });
    let dir = out_dir("fuzz-signal");
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pets-api.yaml");
    let mut child = cmd(&[
        "fuzz",
        "--spec",
        &spec.display().to_string(),
        "--base-url",
        &target.url(),
        "--jobs",
        "1",
        "--phases",
        "positive",
        "--no-progress",
        "--json",
        &p(&dir, "f.json"),
        "--junit",
        &p(&dir, "f.xml"),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn fuzz");
    // Killed by the signal's default action, fuzz exited 130 with no report.
    wait_for(&target, |requests| {
        requests.iter().any(|r| r.starts_with("GET"))
    });
    kill("-INT", &child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let json: serde_json::Value = serde_json::from_str(&read(&dir, "f.json")).expect("json");
    assert_eq!(json["interrupted"], true);
    assert!(read(&dir, "f.xml").contains(r#"<property name="interrupted" value="true"/>"#));
}

// ---- point 9: stale keep-alive connections -------------------------------

/// One case of `reads` GETs of the same pet, then one case that creates.
fn keepalive_suite(dir: &Path, reads: usize) -> String {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pets-api.yaml");
    let mut yaml = format!(
        "spec: {}\nname: keepalive\ncredentials:\n  owner: {{bearer: t}}\ndefault_credential: owner\ncases:\n  - name: many reads\n    steps:\n",
        spec.display()
    );
    for i in 0..reads {
        yaml.push_str(&format!(
            "      - name: read {i}\n        request: GET /pets/{{petId}}\n        path: {{petId: p{i}}}\n        expect: {{status: 200}}\n"
        ));
    }
    yaml.push_str("  - name: create\n    steps:\n      - name: create\n        operation: createPet\n        body: {name: rex}\n        expect: {status: 201}\n");
    let file = dir.join("keepalive.yaml");
    std::fs::write(&file, yaml).expect("write suite");
    file.display().to_string()
}

#[test]
fn stale_keep_alive_connections_are_retried_for_idempotent_methods_only() {
    // A target that closes every connection after its response, over many
    // requests: every idempotent request succeeds.
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::ZERO,
        reuse: Reuse::CloseAfterResponse,
    });
    let dir = out_dir("keepalive");
    // Odd: a retry's connection is not pooled, so pooled requests
    // alternate between a new connection (served) and its reuse (dropped);
    // the last read is served and the POST reuses its connection.
    let suite = keepalive_suite(&dir, 61);
    let out = run(&[
        "run",
        &suite,
        "--base-url",
        &target.url(),
        "--jobs",
        "1",
        "--name",
        "many reads",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // Every reuse stale: each GET after the first is retried once on a
    // fresh connection and recorded; the POST is not resent.
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::ZERO,
        reuse: Reuse::DropSecondRequest,
    });
    let out = run(&[
        "run",
        &suite,
        "--base-url",
        &target.url(),
        "--jobs",
        "1",
        "--json",
        &p(&dir, "r.json"),
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{console}");
    let json: serde_json::Value = serde_json::from_str(&read(&dir, "r.json")).expect("json");
    assert_valid_report(&json);
    let reads = &json["cases"][0];
    assert_eq!(reads["status"], "passed", "{reads}");
    let steps = reads["steps"].as_array().expect("steps");
    let retried = steps
        .iter()
        .filter(|s| {
            s["notes"][0]
                .as_str()
                .is_some_and(|n| n.starts_with("retried once on a fresh connection"))
        })
        .count();
    // The first request opened the connection; a retry never reuses one.
    assert!(retried >= steps.len() / 2, "{retried} of {}", steps.len());
    let create = &json["cases"][1];
    assert_eq!(create["status"], "failed");
    let error = create["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("stale keep-alive connection") && error.contains("POST is not idempotent"),
        "{error}"
    );
    let requests = target.requests();
    let posts = requests.iter().filter(|r| r.contains("POST /pets")).count();
    assert_eq!(posts, 1, "the POST was resent: {requests:?}");
    assert!(
        requests.iter().any(|r| r.starts_with("DROPPED POST")),
        "{requests:?}"
    );
}

// ---- point 8: -v output held per case ------------------------------------

#[test]
fn verbose_output_of_concurrent_cases_is_printed_per_case() {
    let target = RawTarget::start(Behaviour {
        get_delay: Duration::from_millis(60),
        reuse: Reuse::Keep,
    });
    let dir = out_dir("verbose-jobs");
    let suite = slow_suite(&dir, 6);
    let out = run(&[
        "run",
        &suite,
        "--base-url",
        &target.url(),
        "--jobs",
        "3",
        "--no-progress",
        "-v",
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{console}");
    // Under each case line come exactly its own three steps' dumps.
    let mut current: Option<String> = None;
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for line in console.lines() {
        if let Some(i) = line
            .strip_prefix("PASS")
            .and_then(|l| l.split("slow › case ").nth(1))
        {
            current = Some(i.trim().to_string());
            continue;
        }
        if let Some(url) = line
            .trim_start()
            .strip_prefix("> ")
            .filter(|l| l.starts_with("GET ") || l.starts_with("DELETE "))
        {
            let case = current
                .clone()
                .unwrap_or_else(|| panic!("dump before a case line: {console}"));
            assert!(
                url.ends_with(&format!("/pets/p{case}")),
                "{line} under case {case}:\n{console}"
            );
            *seen.entry(case).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 6, "{console}");
    assert!(seen.values().all(|n| *n == 3), "{seen:?}\n{console}");
}
