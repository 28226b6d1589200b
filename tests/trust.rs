//! Issue 10, "a run you can trust", driven through the real binary:
//! flag validation before the first request, bounded input reads, report
//! files that never lose data, secrets redacted in every form, and
//! tamper-evident certificates.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Mode, TestServer, fixture, stderr, stdout};

/// The binary with colours off and a controlled environment.
fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apiconform"));
    c.args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .env_remove("APICONFORM_MAX_INPUT_SIZE")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    cmd(args).output().expect("run apiconform")
}

/// A fresh folder under target/ (kept after the run for inspection).
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("trust")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create out dir");
    dir
}

fn suite() -> String {
    fixture("pets-suite.yaml").display().to_string()
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

// ---- point 6: bad flags fail before the first request ---------------------

#[test]
fn bad_base_urls_fail_before_any_request() {
    let server = TestServer::start(Mode::Good);
    let cases = [
        ("127.0.0.1:8080", "did you mean `http://127.0.0.1:8080`"),
        ("", "empty"),
        ("not a url", "no scheme"),
        ("ftp://example.com/x", "scheme `ftp`"),
        ("http://", "not a URL"),
        (":99999", "no scheme"),
        ("file:///etc/passwd", "scheme `file`"),
    ];
    for (url, message) in cases {
        for command in ["run", "certify"] {
            let dir = out_dir("bad-url");
            let out_flag = p(&dir, "cert");
            let mut args = vec![command, suite_str(), "--base-url", url];
            if command == "certify" {
                args.extend(["--out", out_flag.as_str()]);
            }
            let o = run(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{command} {url:?}: {err}");
            assert!(err.contains(message), "{command} {url:?}: {err}");
            assert!(!stdout(&o).contains("PASS"), "{command} {url:?} ran cases");
        }
    }
    // An empty variable, as from an unset CI secret, is refused too.
    let o = cmd(&["run", suite_str()])
        .env("APICONFORM_BASE_URL", "")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
    // A good URL still runs (the validation is not a blanket refusal).
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--no-progress",
    ]);
    assert!(stdout(&o).contains("PASS"), "{}", stdout(&o));
}

fn suite_str() -> &'static str {
    static S: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    S.get_or_init(suite).as_str()
}

#[test]
fn bad_jobs_and_min_coverage_are_usage_errors() {
    let server = TestServer::start(Mode::Good);
    let url = server.url();
    for (flag, value, message) in [
        ("--jobs", "0", "at least 1"),
        ("--min-coverage", "nan", "between 0 and 100"),
        ("--min-coverage", "inf", "between 0 and 100"),
        ("--min-coverage", "200", "between 0 and 100"),
        ("--min-coverage=-5", "", "between 0 and 100"),
        ("--max-body-size", "0", "at least 1 byte"),
        ("--max-body-size", "12XB", "unknown unit"),
    ] {
        let mut args = vec!["run", suite_str(), "--base-url", &url, flag];
        if !value.is_empty() {
            args.push(value);
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(message),
            "{flag} {value}: {}",
            stderr(&o)
        );
        assert!(!stdout(&o).contains("PASS"));
    }
    let dir = out_dir("jobs0");
    let o = run(&[
        "certify",
        suite_str(),
        "--jobs",
        "0",
        "--out",
        &p(&dir, "c"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn an_unusable_coverage_json_or_snapshot_dir_fails_before_any_request() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("unusable-paths");
    let file = dir.join("a-file");
    std::fs::write(&file, "keep").expect("write");
    let (dir_s, file_s) = (dir.display().to_string(), file.display().to_string());
    for (flag, value, message) in [
        ("--coverage-json", dir_s.as_str(), "is a directory"),
        ("--snapshot-dir", file_s.as_str(), "is not a folder"),
    ] {
        let o = run(&["run", suite_str(), "--base-url", &server.url(), flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{flag}: {}", stderr(&o));
        let shown = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            !shown.contains("PASS") && !shown.contains("FAIL"),
            "{flag} ran cases: {shown}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep");
}

#[test]
fn a_report_never_overwrites_an_input_of_the_run_or_another_report() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("report-over-input");
    // Copies, so a failure of this test cannot destroy the fixtures.
    let spec = dir.join("pets-api.yaml");
    std::fs::copy(fixture("pets-api.yaml"), &spec).expect("copy spec");
    let suite_text = std::fs::read_to_string(suite_str()).expect("suite");
    let spec_line = suite_text
        .lines()
        .find(|l| l.starts_with("spec:"))
        .expect("spec line");
    let suite = dir.join("suite.yaml");
    let suite_written = suite_text.replace(spec_line, &format!("spec: {}", spec.display()));
    std::fs::write(&suite, &suite_written).expect("write suite");
    let vars = dir.join("vars.yaml");
    std::fs::write(&vars, "unused: 1\n").expect("write vars");
    let link = dir.join("link-to-suite.yaml");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&suite, &link).expect("symlink");
    let (suite_s, spec_s, vars_s, link_s) = (
        suite.display().to_string(),
        spec.display().to_string(),
        vars.display().to_string(),
        link.display().to_string(),
    );
    let report = p(&dir, "r.out");
    let url = server.url();
    for (flags, message) in [
        (vec!["--json", suite_s.as_str()], "--json"),
        (vec!["--html", spec_s.as_str()], "--html"),
        (vec!["--junit", link_s.as_str()], "--junit"),
        (vec!["--markdown", vars_s.as_str()], "--markdown"),
        (
            vec!["--json", report.as_str(), "--html", report.as_str()],
            "both write",
        ),
        (
            vec!["--write-baseline", suite_s.as_str()],
            "--write-baseline",
        ),
    ] {
        let mut args = vec!["run", suite_s.as_str(), "--base-url", url.as_str()];
        args.extend(["--vars-file", vars_s.as_str()]);
        args.extend(flags.iter().copied());
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{flags:?}: {}", stderr(&o));
        assert!(!stdout(&o).contains("PASS"), "{flags:?} ran cases");
    }
    assert_eq!(
        std::fs::read_to_string(&suite).expect("suite"),
        suite_written
    );
    assert_eq!(
        std::fs::read(&spec).expect("spec"),
        std::fs::read(fixture("pets-api.yaml")).expect("fixture")
    );
    assert_eq!(std::fs::read_to_string(&vars).expect("vars"), "unused: 1\n");
    assert!(!Path::new(&report).exists());
    // Nor does a scaffold, even with --force.
    let o = run(&["scaffold", "--spec", &spec_s, "--out", &spec_s, "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&spec).expect("spec"),
        std::fs::read(fixture("pets-api.yaml")).expect("fixture")
    );
    // Several reports into one device are fine.
    let o = run(&[
        "run",
        &suite_s,
        "--base-url",
        &server.url(),
        "--json",
        "/dev/null",
        "--junit",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_report_never_overwrites_a_shared_step_file_or_a_rows_file() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("report-over-shared");
    let shared_text = "steps:\n  list:\n    - operation: listPets\n      expect: {status: 200}\n";
    let rows_text = "- {n: 1}\n- {n: 2}\n";
    let shared = dir.join("_steps.shared.yaml");
    let rows = dir.join("rows.yaml");
    std::fs::write(&shared, shared_text).expect("write shared");
    std::fs::write(&rows, rows_text).expect("write rows");
    let suite = dir.join("suite.yaml");
    let suite_text = format!(
        "spec: {}\nname: inputs\ncredentials:\n  owner: {{bearer: test-token}}\ndefault_credential: owner\n\
         shared: [_steps.shared.yaml]\ncases:\n  - name: listed {{{{ row.n }}}}\n    rows: rows.yaml\n\
         \x20   steps:\n      - use: list\n",
        fixture("pets-api.yaml").display()
    );
    std::fs::write(&suite, &suite_text).expect("write suite");
    // A report aimed at the shared file through a symlink elsewhere, as
    // a user's shell alias or CI artifact path might.
    let elsewhere = out_dir("report-over-shared-link");
    let link = elsewhere.join("report.json");
    std::os::unix::fs::symlink(&shared, &link).expect("symlink");
    let (suite_s, shared_s, rows_s, link_s) = (
        suite.display().to_string(),
        shared.display().to_string(),
        rows.display().to_string(),
        link.display().to_string(),
    );
    let url = server.url();
    // The suite runs as written (so the refusals below are about the paths).
    let o = run(&["run", &suite_s, "--base-url", &url, "--no-progress"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("listed 2"), "{}", stdout(&o));
    for (flag, path) in [
        ("--json", link_s.as_str()),
        ("--junit", shared_s.as_str()),
        ("--html", rows_s.as_str()),
    ] {
        let o = run(&["run", &suite_s, "--base-url", &url, flag, path]);
        assert_eq!(o.status.code(), Some(2), "{flag} {path}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{flag}: {}", stderr(&o));
        assert!(!stdout(&o).contains("PASS"), "{flag} ran cases");
    }
    assert_eq!(
        std::fs::read_to_string(&shared).expect("shared"),
        shared_text
    );
    assert_eq!(std::fs::read_to_string(&rows).expect("rows"), rows_text);
}

#[test]
fn merge_with_a_missing_shard_needs_allow_partial() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("merge-partial");
    let shard = p(&dir, "shard1.json");
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--partition",
        "slice:1/2",
        "--json",
        &shard,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = p(&dir, "merged.json");
    let o = run(&["report", "merge", &shard, "--json", &merged]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("slice:2/2"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-partial"), "{}", stderr(&o));
    assert!(!Path::new(&merged).exists());
    let o = run(&[
        "report",
        "merge",
        &shard,
        "--json",
        &merged,
        "--allow-partial",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("incomplete"), "{}", stderr(&o));
    assert!(Path::new(&merged).exists());
}

// ---- point 10: bounded input reads -----------------------------------------

#[test]
fn endless_inputs_stop_at_the_input_limit() {
    let dir = out_dir("dev-zero");
    // A vars file that never ends.
    let started = std::time::Instant::now();
    let o = run(&[
        "run",
        suite_str(),
        "--vars-file",
        "/dev/zero",
        "--max-input-size",
        "4M",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/dev/zero"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("input limit of 4 MiB"),
        "{}",
        stderr(&o)
    );
    // A suite whose spec never ends, with the limit from the environment.
    let suite = dir.join("zero.yaml");
    std::fs::write(
        &suite,
        "name: zero\nspec: /dev/zero\ncases:\n  - name: c\n    steps:\n      - operation: listPets\n",
    )
    .expect("write suite");
    let o = cmd(&["check", &suite.display().to_string()])
        .env("APICONFORM_MAX_INPUT_SIZE", "2MiB")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("input limit of 2 MiB"),
        "{}",
        stderr(&o)
    );
    let o = cmd(&["run", &suite.display().to_string()])
        .env("APICONFORM_MAX_INPUT_SIZE", "2MiB")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("input limit"), "{}", stderr(&o));
    // A suite file over the limit; and the default limit is generous.
    let o = run(&["check", suite_str(), "--max-input-size", "100"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("input limit of 100 bytes"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", suite_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["check", suite_str(), "--max-input-size", "lots"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

// ---- point 2: report files never lose data --------------------------------

#[test]
fn an_earlier_report_survives_a_run_that_never_starts() {
    let dir = out_dir("no-truncate");
    let server = TestServer::start(Mode::Good);
    let names = ["r.json", "r.xml", "r.html", "r.md", "r.jsonl"];
    for n in names {
        std::fs::write(dir.join(n), "earlier report").expect("seed");
    }
    // Fails after the report flags are checked, before any event.
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--webhook-listen",
        "not-an-address",
        "--json",
        &p(&dir, "r.json"),
        "--junit",
        &p(&dir, "r.xml"),
        "--html",
        &p(&dir, "r.html"),
        "--markdown",
        &p(&dir, "r.md"),
        "--json-lines",
        &p(&dir, "r.jsonl"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for n in names {
        assert_eq!(
            std::fs::read_to_string(dir.join(n)).expect("read"),
            "earlier report",
            "{n} was touched"
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).expect("ls").count(),
        names.len(),
        "a temporary file was left behind"
    );
    // An unwritable path still fails before anything is sent.
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--json",
        &p(&dir, "no/such/folder/r.json"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stdout(&o).contains("PASS"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_report_writes_its_target_and_keeps_the_link() {
    let dir = out_dir("symlink");
    let server = TestServer::start(Mode::Good);
    std::fs::write(dir.join("real.json"), "old").expect("seed");
    std::os::unix::fs::symlink("real.json", dir.join("link.json")).expect("symlink");
    std::os::unix::fs::symlink("real.xml", dir.join("dangling.xml")).expect("symlink");
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--json",
        &p(&dir, "link.json"),
        "--junit",
        &p(&dir, "dangling.xml"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let link = std::fs::symlink_metadata(dir.join("link.json")).expect("link");
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("real.json")).expect("read"))
            .expect("JSON");
    assert_eq!(report["format"], "apiconform-report");
    assert!(
        std::fs::symlink_metadata(dir.join("dangling.xml"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(dir.join("real.xml"))
            .expect("target created")
            .contains("<testsuites")
    );
}

#[test]
fn dash_sends_one_report_to_stdout_and_the_console_to_stderr() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("dash");
    for flag in ["--json", "--json-lines", "--junit", "--markdown", "--html"] {
        let o = run(&["run", suite_str(), "--base-url", &server.url(), flag, "-"]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        let out = stdout(&o);
        let err = stderr(&o);
        assert!(!out.contains("PASS "), "{flag}: console on stdout:\n{out}");
        assert!(
            err.contains("PASS "),
            "{flag}: no console on stderr:\n{err}"
        );
        match flag {
            "--json" => {
                let v: serde_json::Value =
                    serde_json::from_str(&out).expect("stdout is one JSON document");
                assert_eq!(v["format"], "apiconform-report");
            }
            "--json-lines" => {
                for line in out.lines() {
                    serde_json::from_str::<serde_json::Value>(line).expect("each line is JSON");
                }
                assert!(out.lines().count() > 2);
            }
            "--junit" => assert!(out.starts_with("<?xml"), "{out}"),
            "--markdown" => assert!(out.starts_with('#') || out.contains("| "), "{out}"),
            "--html" => assert!(out.starts_with("<!DOCTYPE html>"), "{out}"),
            _ => unreachable!(),
        }
        assert!(
            !dir.join("-").exists() && !Path::new(env!("CARGO_MANIFEST_DIR")).join("-").exists()
        );
    }
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--json",
        "-",
        "--junit",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at most one report"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("PASS"));
    // `report merge` takes `-` too.
    let shard = p(&dir, "all.json");
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--json",
        &shard,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["report", "merge", &shard, "--markdown", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("merged 1 report ("), "{}", stderr(&o));
    assert!(!stdout(&o).contains("merged 1 report"));
}

/// `apiconform run ... 2>&1 | head -1`: the reader goes away while the run
/// still prints. No panic (exit 101), every file report complete, and the
/// lost console is named in the exit code the README documents.
#[cfg(unix)]
#[test]
fn a_console_whose_reader_went_away_loses_no_report_and_never_panics() {
    use std::io::Read;
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("closed-console");
    let json = p(&dir, "r.json");
    for _ in 0..3 {
        let _ = std::fs::remove_file(&json);
        let (mut reader, writer) = std::io::pipe().expect("pipe");
        let mut child = cmd(&[
            "run",
            suite_str(),
            "--base-url",
            &server.url(),
            "-v",
            "--json",
            &json,
        ])
        .stdout(writer.try_clone().expect("clone"))
        .stderr(writer)
        .spawn()
        .expect("spawn");
        let mut first = [0u8; 16];
        let _ = reader.read(&mut first);
        drop(reader);
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(2), "{status:?}");
        let v = read_value(Path::new(&json));
        assert_eq!(v["format"], "apiconform-report");
        assert!(!v["cases"].as_array().expect("cases").is_empty());
    }
}

#[cfg(unix)]
#[test]
fn device_and_pipe_paths_are_written_in_place() {
    let server = TestServer::start(Mode::Good);
    // /dev/stdout: a symlink to a pipe here (Command::output pipes stdout).
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--junit",
        "/dev/stdout",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("<testsuites"), "{}", stdout(&o));
    assert!(
        std::fs::symlink_metadata("/dev/stdout")
            .map(|m| !m.is_file())
            .unwrap_or(true),
        "/dev/stdout was replaced by a regular file"
    );
    // A named pipe, read by another thread.
    let dir = out_dir("fifo");
    let fifo = dir.join("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable; pipe part skipped");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
    };
    let o = run(&[
        "run",
        suite_str(),
        "--base-url",
        &server.url(),
        "--json",
        &fifo.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = reader.join().expect("reader");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON through the pipe");
    assert_eq!(v["format"], "apiconform-report");
    let m = std::fs::symlink_metadata(&fifo).expect("fifo still there");
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()));
}

// ---- point 3: secrets in every form ----------------------------------------

/// A target that answers every request with what it received: method,
/// full URL, every header and the body.
struct EchoServer(common::Served);

impl EchoServer {
    fn start() -> EchoServer {
        use axum::http::{HeaderMap, Method, Uri};
        async fn echo(
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: String,
        ) -> axum::Json<serde_json::Value> {
            let headers: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                    )
                })
                .collect();
            axum::Json(serde_json::json!({
                "method": method.as_str(),
                "url": uri.to_string(),
                "headers": headers,
                "body": body,
            }))
        }
        EchoServer(common::serve(axum::Router::new().fallback(echo), 1))
    }
}

/// Each secret in each form the tool or the echoing target can produce.
fn secret_forms(secrets: &[&str]) -> Vec<(String, String)> {
    use base64::Engine as _;
    let mut forms = Vec::new();
    for s in secrets {
        let json = serde_json::to_string(s).expect("json");
        let pct = percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        let html = s.replace('&', "&amp;").replace('"', "&quot;");
        for (kind, form) in [
            ("raw", s.to_string()),
            ("json-escaped", json[1..json.len() - 1].to_string()),
            (
                "base64",
                base64::engine::general_purpose::STANDARD.encode(s),
            ),
            ("percent", pct.clone()),
            ("form", pct.replace("%20", "+")),
            ("html", html),
        ] {
            forms.push((format!("{kind} of {s}"), form));
        }
    }
    forms
}

fn assert_no_secret(outputs: &[(String, String)], secrets: &[&str]) {
    for (kind, form) in secret_forms(secrets) {
        // Escaped any number of times (a JSON body inside a JSON string
        // inside a JSON report) it is the same text with backslashes gone.
        let bare = form.replace('\\', "");
        for (name, text) in outputs {
            assert!(
                !text.contains(&form),
                "{kind} (`{form}`) leaked into {name}"
            );
            assert!(
                !text.replace('\\', "").contains(&bare),
                "{kind} (`{form}`), escaped, leaked into {name}"
            );
        }
    }
}

/// Runs the echo suite with every output on; returns each output's text.
fn echo_run(
    dir: &Path,
    base_url_flag: Option<&str>,
    env_base_url: Option<&str>,
    extra: &[&str],
) -> Vec<(String, String)> {
    let echo_suite = fixture("echo-suite.yaml").display().to_string();
    let mut args = vec!["run", echo_suite.as_str(), "-v", "--no-progress"];
    if let Some(u) = base_url_flag {
        args.extend(["--base-url", u]);
    }
    let files = ["r.json", "r.jsonl", "r.xml", "r.html", "r.md"];
    let paths: Vec<String> = files.iter().map(|f| p(dir, f)).collect();
    for (flag, path) in ["--json", "--json-lines", "--junit", "--html", "--markdown"]
        .iter()
        .zip(&paths)
    {
        args.extend([*flag, path.as_str()]);
    }
    args.extend(extra);
    let mut c = cmd(&args);
    if let Some(u) = env_base_url {
        c.env("APICONFORM_BASE_URL", u);
    }
    let o = c.output().expect("run");
    // One case fails on purpose, so failure output is exercised too.
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let mut outputs = vec![
        ("stdout".to_string(), stdout(&o)),
        ("stderr".to_string(), stderr(&o)),
    ];
    for (f, path) in files.iter().zip(&paths) {
        outputs.push((
            f.to_string(),
            std::fs::read_to_string(path).expect("report written"),
        ));
    }
    outputs
}

#[test]
fn secrets_never_leave_in_any_form() {
    let server = EchoServer::start();
    let dir = out_dir("secrets");
    let db_password = "s3cr3t\"Pa55/&w0rd";
    let vendor = "VEND-0r-c0de 42";
    let url_password = "Url!Pa55word";
    let base = format!("http://bob:{}@{}", "Url%21Pa55word", server.0.addr);
    let secret_flag = format!("vendor_code={vendor}");
    for (how, flag, env) in [
        ("--base-url", Some(base.as_str()), None),
        ("APICONFORM_BASE_URL", None, Some(base.as_str())),
    ] {
        let outputs = echo_run(&dir, flag, env, &["--secret", &secret_flag]);
        // The secrets did reach the target (so the test can fail): the
        // target echoed them, and every output shows the redaction instead.
        let json = &outputs[2].1;
        assert!(
            json.contains("[redacted]"),
            "{how}: nothing redacted in the JSON report"
        );
        assert!(
            outputs[0].1.contains("GET http://"),
            "{how}: -v shows no requests"
        );
        assert!(
            json.contains("/echo?q="),
            "{how}: the echoed URL is missing"
        );
        assert_no_secret(
            &outputs,
            &[
                db_password,
                &format!("alice:{db_password}"),
                vendor,
                url_password,
                &format!("bob:{url_password}"),
                "bob:Url%21Pa55word",
                "Url%21Pa55word",
            ],
        );
        // Userinfo never shows in a URL, not even the user name.
        for (name, text) in &outputs {
            assert!(!text.contains("bob:"), "{how}: URL userinfo in {name}");
            assert!(!text.contains("bob@"), "{how}: URL userinfo in {name}");
        }
    }
}

/// Issue 14 point 6: a failed step carries its credential's name and a curl
/// command in which every secret is a `"${NAME}"` placeholder; run with
/// those variables set, it sends the same request.
#[test]
fn failed_steps_carry_a_curl_with_named_placeholders_that_reproduces_them() {
    let server = EchoServer::start();
    let dir = out_dir("reproduce");
    let vendor = "VEND-0r-c0de 42";
    let db_password = "s3cr3t\"Pa55/&w0rd";
    let base = format!("http://{}", server.0.addr);
    let json = p(&dir, "r.json");
    let o = run(&[
        "run",
        &fixture("echo-suite.yaml").display().to_string(),
        "--base-url",
        &base,
        "--no-progress",
        "--color",
        "never",
        "--secret",
        &format!("vendor_code={vendor}"),
        "--json",
        &json,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = read_value(Path::new(&json));
    let failed: Vec<&serde_json::Value> = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .filter(|s| s["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    let request = &failed[0]["request"];
    assert_eq!(request["credential"], "db", "{request}");
    let curl = request["curl"].as_str().expect("a curl command");
    assert!(
        curl.starts_with(&format!(
            "curl -i -X GET '{base}/echo' --url-query 'q='\"${{VENDOR_CODE}}\""
        )),
        "{curl}"
    );
    assert!(
        curl.contains(r#"-u "${APP_USER}:${DB_PASSWORD}""#),
        "{curl}"
    );
    assert!(
        !curl.contains("VEND-0r") && !curl.contains("Pa55"),
        "{curl}"
    );
    let console = stdout(&o);
    assert!(console.contains(&format!("reproduce: {curl}")), "{console}");
    assert!(console.contains("(credential `db`)"), "{console}");
    // Passing steps carry none.
    let curls = report.to_string().matches("\"curl\"").count();
    assert_eq!(curls, 1, "only the failed step has a reproduction");

    // Run it: the target sees what the step sent.
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl is not installed here: the command was checked, not run");
        return;
    }
    let sent = Command::new("sh")
        .arg("-c")
        .arg(curl.replacen("curl -i", "curl -s", 1))
        .env("VENDOR_CODE", vendor)
        .env("APP_USER", "alice")
        .env("DB_PASSWORD", db_password)
        .output()
        .expect("sh runs");
    let echoed: serde_json::Value = serde_json::from_slice(&sent.stdout)
        .unwrap_or_else(|e| panic!("{e}: {curl}\n{}", String::from_utf8_lossy(&sent.stderr)));
    assert_eq!(echoed["url"], "/echo?q=VEND-0r-c0de+42", "{echoed}");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{db_password}"));
    assert_eq!(
        echoed["headers"]["authorization"],
        format!("Basic {basic}"),
        "{echoed}"
    );
}

// ---- point 5: tamper-evident certificates ----------------------------------

fn read_value(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn write_value(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).expect("json")).expect("write");
}

#[test]
fn certificates_are_sealed_signed_and_verified_from_anywhere() {
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("certify");
    let keys = dir.join("keys");
    let o = run(&["certify", "keygen", "--out", &keys.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let private = keys.join("apiconform-signing-key.pem");
    let public = keys.join("apiconform-signing-key.pub.pem");
    // Never overwrites a key.
    let o = run(&["certify", "keygen", "--out", &keys.display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let other_keys = dir.join("other-keys");
    let o = run(&[
        "certify",
        "keygen",
        "--out",
        &other_keys.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let other_public = other_keys.join("apiconform-signing-key.pub.pem");

    // Relative suite path, so --verify must resolve it against a root.
    let signed = dir.join("signed");
    let unsigned = dir.join("unsigned");
    for (out, key) in [(&signed, Some(&private)), (&unsigned, None)] {
        let out_s = out.display().to_string();
        let key_s = key.map(|k| k.display().to_string());
        let mut args = vec!["certify", "tests/fixtures/pets-suite.yaml", "--base-url"];
        let url = server.url();
        args.extend([url.as_str(), "--out", out_s.as_str()]);
        if let Some(k) = &key_s {
            args.extend(["--sign-key", k.as_str()]);
        }
        let o = run(&args);
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(1),
            "{}",
            stderr(&o)
        );
    }
    let signed_cert = signed.join("certificate.json");
    let unsigned_cert = unsigned.join("certificate.json");
    let cert = read_value(&signed_cert);
    assert_eq!(
        cert["verdict"], "not_conformant",
        "the edit below must change something"
    );
    assert_eq!(cert["signature"]["algorithm"], "ed25519");
    assert_eq!(cert["digest"]["algorithm"], "sha256");
    assert!(
        cert["project_root"]
            .as_str()
            .is_some_and(|r| Path::new(r).is_absolute())
    );

    let verify = |cert: &Path, extra: &[&str], cwd: &Path| {
        let cert_s = cert.display().to_string();
        let mut args = vec!["certify", "--verify", cert_s.as_str()];
        args.extend(extra);
        cmd(&args).current_dir(cwd).output().expect("run")
    };
    let elsewhere = out_dir("certify-elsewhere");
    let pub_s = public.display().to_string();
    let other_s = other_public.display().to_string();
    // Signed, right key, from another folder: the recorded root is used.
    let o = verify(&signed_cert, &["--public-key", &pub_s], &elsewhere);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("signature valid"), "{}", stdout(&o));
    assert!(stdout(&o).contains("MATCH"), "{}", stdout(&o));
    // Unsigned: integrity only, said so.
    let o = verify(&unsigned_cert, &[], &elsewhere);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("integrity only, unsigned"),
        "{}",
        stdout(&o)
    );
    // Unsigned with a key asked for: fails.
    let o = verify(&unsigned_cert, &["--public-key", &pub_s], &elsewhere);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("UNSIGNED"), "{}", stdout(&o));
    // Wrong key: fails.
    let o = verify(&signed_cert, &["--public-key", &other_s], &elsewhere);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("BAD SIGNATURE"), "{}", stdout(&o));

    // A naive edit: verdict and results turned to success.
    for source in [&signed_cert, &unsigned_cert] {
        let mut v = read_value(source);
        v["verdict"] = "conformant".into();
        if let Some(rows) = v["requirements"].as_array_mut() {
            for r in rows {
                r["result"] = "met".into();
            }
        }
        let edited = dir.join("edited.json");
        write_value(&edited, &v);
        let o = verify(&edited, &[], &elsewhere);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(stdout(&o).contains("TAMPERED"), "{}", stdout(&o));
        // A careful edit that recomputes the digest passes the integrity
        // check, but never the signature check.
        v["digest"] =
            serde_json::to_value(apiconform::report::signing::digest(&v)).expect("digest");
        write_value(&edited, &v);
        let o = verify(&edited, &["--public-key", &pub_s], &elsewhere);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(!stdout(&o).contains("signature valid"), "{}", stdout(&o));
    }
    // Any edit at all, even of a time, breaks a signature.
    let mut v = read_value(&signed_cert);
    v["finished"] = "2030-01-01T00:00:00Z".into();
    v["digest"] = serde_json::to_value(apiconform::report::signing::digest(&v)).expect("digest");
    let edited = dir.join("edited-time.json");
    write_value(&edited, &v);
    let o = verify(&edited, &["--public-key", &pub_s], &elsewhere);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));

    // --root: the customer's copy of the files, in another folder.
    let copy = dir.join("customer");
    std::fs::create_dir_all(copy.join("tests/fixtures")).expect("mkdir");
    for f in ["pets-suite.yaml", "pets-api.yaml"] {
        std::fs::copy(fixture(f), copy.join("tests/fixtures").join(f)).expect("copy");
    }
    let root_s = copy.display().to_string();
    let o = verify(
        &signed_cert,
        &["--public-key", &pub_s, "--root", &root_s],
        &elsewhere,
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    std::fs::write(
        copy.join("tests/fixtures/pets-suite.yaml"),
        std::fs::read_to_string(fixture("pets-suite.yaml")).expect("read") + "\n# changed\n",
    )
    .expect("edit");
    let o = verify(
        &signed_cert,
        &["--public-key", &pub_s, "--root", &root_s],
        &elsewhere,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("CHANGED"), "{}", stdout(&o));
    let o = verify(
        &signed_cert,
        &["--root", &elsewhere.display().to_string()],
        &elsewhere,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--root"), "{}", stderr(&o));
}

// ---- point 11: one planned schema bump, version 1 still read ---------------

#[test]
fn merge_reads_version_1_reports_and_writes_version_2() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("schema-v1");
    let (one, two) = (dir.join("s1.json"), dir.join("s2.json"));
    for (slice, path) in [("slice:1/2", &one), ("slice:2/2", &two)] {
        let o = run(&[
            "run",
            suite_str(),
            "--base-url",
            &server.url(),
            "--partition",
            slice,
            "--json",
            &path.display().to_string(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = read_value(path);
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["interrupted"], false);
        assert!(v["warnings"].as_array().is_some_and(|w| w.is_empty()));
    }
    // Turn the first shard into what a version-1 writer produced.
    let mut v = read_value(&one);
    v["schema_version"] = 1.into();
    let obj = v.as_object_mut().expect("object");
    obj.remove("interrupted");
    obj.remove("warnings");
    write_value(&one, &v);
    let merged = dir.join("merged.json");
    let o = run(&[
        "report",
        "merge",
        &one.display().to_string(),
        &two.display().to_string(),
        "--json",
        &merged.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = read_value(&merged);
    assert_eq!(m["schema_version"], 2);
    assert_eq!(m["interrupted"], false);
    assert_eq!(
        m["partitions"],
        serde_json::json!(["slice:1/2", "slice:2/2"])
    );
    // A version from the future is refused, with exit 2.
    v["schema_version"] = 3.into();
    write_value(&one, &v);
    let o = run(&[
        "report",
        "merge",
        &one.display().to_string(),
        &two.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("newer"), "{}", stderr(&o));
}

#[test]
fn base_url_userinfo_reaches_the_target_as_basic_auth() {
    // The plain-HTTP transport takes userinfo out of the URL and sends it
    // as `Authorization: Basic`, as reqwest's builder and curl do.
    let server = EchoServer::start();
    let dir = out_dir("userinfo-basic");
    let spec = fixture("echo-api.yaml");
    let suite = dir.join("userinfo.yaml");
    std::fs::write(
        &suite,
        format!(
            "spec: {}\nname: userinfo\ncases:\n  - name: basic from the URL\n    steps:\n      - operation: echoGet\n        query: {{q: x}}\n        expect:\n          status: 200\n          body:\n            $.headers.authorization: {{equals: \"Basic Ym9iOlVybCFQYTU1d29yZA==\"}}\n            $.url: {{regex: \"^/echo\"}}\n",
            spec.display()
        ),
    )
    .expect("write suite");
    let base = format!("http://bob:Url%21Pa55word@{}", server.0.addr);
    let o = cmd(&[
        "run",
        &suite.display().to_string(),
        "--base-url",
        &base,
        "--no-progress",
    ])
    .output()
    .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
}
