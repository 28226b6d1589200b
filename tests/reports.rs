//! Report files written by the real binary against an in-test pets API:
//! every format in one run, the JSON report against its schema, secrets,
//! shard merging, certificates and a real JUnit consumer.

mod common;

use std::path::{Path, PathBuf};

use common::{Mode, TestServer, apiconform, fixture, stderr, stdout};
use serde_json::Value;

fn suite() -> String {
    fixture("pets-suite.yaml").display().to_string()
}

/// A fresh folder under target/ (kept after the run for inspection).
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("reports")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create out dir");
    dir
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn read_json(p: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read report")).expect("report is JSON")
}

/// Runs the pets suite with every report format on.
fn run_all_formats(server: &TestServer, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run".to_string(),
        suite(),
        "--base-url".into(),
        server.url(),
        "--no-progress".into(),
        "--junit".into(),
        path(dir, "junit.xml"),
        "--json".into(),
        path(dir, "report.json"),
        "--json-lines".into(),
        path(dir, "events.jsonl"),
        "--html".into(),
        path(dir, "report.html"),
        "--markdown".into(),
        path(dir, "report.md"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    apiconform(&refs)
}

#[test]
fn one_run_writes_every_format() {
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("all-formats");
    let out = run_all_formats(&server, &dir, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    let report = read_json(&path(&dir, "report.json"));
    assert_eq!(report["format"], "apiconform-report");
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["totals"]["total"], 4);
    assert_eq!(report["suites"][0]["base_url"], server.url());
    assert_eq!(report["specs"][0]["title"], "Pets test API");
    assert_eq!(
        report["specs"][0]["sha256"].as_str().map(str::len),
        Some(64)
    );
    let case = &report["cases"][0];
    assert_eq!(case["requirement"]["id"], "PET-1");
    assert_eq!(case["requirement"]["level"], "must");
    assert_eq!(case["status"], "failed");
    let step = &case["steps"][0];
    assert_eq!(step["request"]["method"], "POST");
    assert!(
        step["checks"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["outcome"] == "failed"))
    );
    // Passing steps keep headers too when a JSON report is requested.
    let passing = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "passed")
        .unwrap();
    assert!(
        passing["steps"][0]["request"]["headers"].is_array(),
        "{passing}"
    );
    assert!(
        report["coverage"]["specs"][0]["rows"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );

    let lines = std::fs::read_to_string(path(&dir, "events.jsonl")).unwrap();
    let events: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.first().unwrap()["event"], "run_started");
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "case_finished")
            .count(),
        4
    );

    let junit = std::fs::read_to_string(path(&dir, "junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="pets" tests="4""#),
        "{junit}"
    );
    assert!(junit.contains("<failure message="), "{junit}");

    let html = std::fs::read_to_string(path(&dir, "report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("create, read and delete a pet"));
    assert!(
        !html.contains("<script src") && !html.contains("<link") && !html.contains("src=\"http"),
        "external assets"
    );
    // Search and filters, inline; titles wrap; one line for checks with
    // nothing to look at; the failed step's reproduction.
    assert!(
        html.contains("<input type=\"search\" id=\"q\"")
            && html.contains("<select id=\"fs\">")
            && html.contains("<select id=\"ft\">")
            && html.contains("data-tags=\"lifecycle smoke\""),
        "filters"
    );
    assert!(!html.contains("text-overflow:ellipsis"), "titles wrap");
    assert!(
        html.contains("not applicable: <span class=\"loc\"><code>response_headers_conformance</code> (no headers documented)"),
        "checks with nothing to check share one line"
    );
    assert!(!html.contains(
        "<code>response_headers_conformance</code> <span class=\"msg\">no headers documented"
    ));
    assert!(
        html.contains("reproduce (secrets are"),
        "reproduction shown"
    );
    // Failures first: the failing case's row comes before a passing one.
    let fail_at = html.find("<details class=\"case failed\"").unwrap();
    let pass_at = html.find("<details class=\"case passed\"").unwrap();
    assert!(fail_at < pass_at);

    let md = std::fs::read_to_string(path(&dir, "report.md")).unwrap();
    assert!(
        md.starts_with("## ❌ API conformance: 3 passed, 1 failed"),
        "{md}"
    );
    assert!(
        md.contains("### Failures") && md.contains("### Coverage"),
        "{md}"
    );
}

#[test]
fn json_report_validates_against_its_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
        )
        .unwrap(),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for mode in [Mode::Good, Mode::BreakSchema, Mode::NotJson] {
        let server = TestServer::start(mode);
        let dir = out_dir(&format!("schema-{mode:?}"));
        let out = run_all_formats(&server, &dir, &[]);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
        let report = read_json(&path(&dir, "report.json"));
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{mode:?}: report breaks its schema:\n{}",
            errors.join("\n")
        );
        // The schema is strict enough to notice drift.
        let mut drifted = report.clone();
        drifted["cases"][0]["steps"][0]["outcome"] = Value::from("ok");
        drifted["cases"][0]["surprise"] = Value::from(1);
        assert_eq!(validator.iter_errors(&drifted).count(), 2);
        // Each streamed line validates against the event definition.
        let event_schema = serde_json::json!({"$ref": "#/$defs/event", "$defs": schema["$defs"]});
        let events = jsonschema::validator_for(&event_schema).expect("event schema compiles");
        for line in std::fs::read_to_string(path(&dir, "events.jsonl"))
            .unwrap()
            .lines()
        {
            let v: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = events
                .iter_errors(&v)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{mode:?}: event breaks the schema:\n{}\n{line}",
                errors.join("\n")
            );
        }
    }
}

#[test]
fn no_output_contains_the_token() {
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("secrets");
    let out = run_all_formats(&server, &dir, &["-v"]);
    let merged = apiconform(&[
        "report",
        "merge",
        &path(&dir, "report.json"),
        "--html",
        &path(&dir, "merged.html"),
    ]);
    let cert = apiconform(&[
        "certify",
        &suite(),
        "--base-url",
        &server.url(),
        "--out",
        &path(&dir, "cert"),
    ]);
    let mut texts = vec![
        ("stdout".to_string(), stdout(&out)),
        ("stderr".to_string(), stderr(&out)),
        ("merge".to_string(), stdout(&merged) + &stderr(&merged)),
        ("certify".to_string(), stdout(&cert) + &stderr(&cert)),
    ];
    let mut files = vec![dir.clone()];
    while let Some(p) = files.pop() {
        for entry in std::fs::read_dir(&p).unwrap().flatten() {
            if entry.path().is_dir() {
                files.push(entry.path());
            } else {
                texts.push((
                    entry.path().display().to_string(),
                    std::fs::read_to_string(entry.path()).unwrap(),
                ));
            }
        }
    }
    assert!(
        texts.len() >= 12,
        "expected every report file: {:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (name, text) in &texts {
        assert!(!text.contains("test-token"), "token leaked into {name}");
    }
    // The header is there, redacted.
    let report = std::fs::read_to_string(path(&dir, "report.json")).unwrap();
    assert!(
        report.contains(r#""authorization","[redacted]""#) || report.contains("\"[redacted]\""),
        "{report}"
    );
}

#[test]
fn merged_shards_equal_an_unsharded_run() {
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("merge");
    let full = path(&dir, "full.json");
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "--json",
        &full,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut shards = Vec::new();
    for i in 1..=3 {
        let shard = path(&dir, &format!("shard{i}.json"));
        let part = format!("slice:{i}/3");
        let out = apiconform(&[
            "run",
            &suite(),
            "--base-url",
            &server.url(),
            "--no-progress",
            "--partition",
            &part,
            "--json",
            &shard,
        ]);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
        shards.push(shard);
    }
    let merged = path(&dir, "merged.json");
    let mut args = vec!["report", "merge"];
    args.extend(shards.iter().rev().map(String::as_str));
    let (xml, html, md) = (
        path(&dir, "merged.xml"),
        path(&dir, "merged.html"),
        path(&dir, "merged.md"),
    );
    args.extend([
        "--json",
        &merged,
        "--junit",
        &xml,
        "--html",
        &html,
        "--markdown",
        &md,
    ]);
    let out = apiconform(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("merged 3 reports (slice:1/3, slice:2/3, slice:3/3): 4 cases"),
        "{}",
        stdout(&out)
    );

    let (full, merged) = (read_json(&full), read_json(&merged));
    assert_eq!(merged["totals"], full["totals"]);
    let names = |r: &Value| -> Vec<(Value, Value, Value)> {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["index"].clone(), c["name"].clone(), c["status"].clone()))
            .collect()
    };
    assert_eq!(names(&merged), names(&full));
    let cov = |r: &Value| -> Vec<(Value, Value, Value)> {
        r["coverage"]["specs"][0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["method_path"].clone(),
                    x["status"].clone(),
                    x["state"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(cov(&merged), cov(&full));
    assert_eq!(
        merged["coverage"]["specs"][0]["covered"],
        full["coverage"]["specs"][0]["covered"]
    );
    assert_eq!(merged["planned_cases"], 4);

    // A missing shard is named.
    let out = apiconform(&["report", "merge", &shards[0], &shards[2]]);
    assert!(
        stderr(&out).contains("no report for slice:2/3"),
        "{}",
        stderr(&out)
    );
    // The same shard twice is refused.
    let out = apiconform(&["report", "merge", &shards[0], &shards[0]]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn certificate_is_written_verified_and_catches_edits() {
    let server = TestServer::start(Mode::Good);
    let dir = out_dir("certify");
    // Certify a copy, so editing it later leaves the fixture alone.
    for f in ["pets-suite.yaml", "pets-api.yaml"] {
        std::fs::copy(fixture(f), dir.join(f)).unwrap();
    }
    let run_in = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("APICONFORM_BASE_URL")
            .current_dir(&dir)
            .output()
            .expect("run apiconform")
    };
    let out = run_in(&[
        "certify",
        "pets-suite.yaml",
        "--base-url",
        &server.url(),
        "--out",
        "cert",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("CONFORMANT: 4/4 must requirements met · 0/0 should (advisory) met"),
        "{}",
        stdout(&out)
    );
    let cert = read_json(&path(&dir, "cert/certificate.json"));
    assert_eq!(cert["verdict"], "conformant");
    assert_eq!(cert["requirements"][0]["id"], "PET-1");
    assert_eq!(cert["requirements"][0]["result"], "met");
    assert_eq!(cert["requirements"][0]["level"], "must");
    assert_eq!(cert["requirements"][1]["stated"], false);
    assert_eq!(cert["requirements"][1]["level"], "must");
    assert_eq!(cert["suites"][0]["file"], "pets-suite.yaml");
    assert_eq!(cert["specs"][0]["documents"][0]["file"], "pets-api.yaml");
    let html = std::fs::read_to_string(path(&dir, "cert/certificate.html")).unwrap();
    assert!(html.contains("CONFORMANT") && html.contains("PET-1"));
    let md = std::fs::read_to_string(path(&dir, "cert/certificate.md")).unwrap();
    assert!(
        md.starts_with("# ✅ API conformance certificate: CONFORMANT"),
        "{md}"
    );

    let out = run_in(&["certify", "--verify", "cert/certificate.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("MATCH: all 2 files"),
        "{}",
        stdout(&out)
    );

    let mut text = std::fs::read_to_string(dir.join("pets-suite.yaml")).unwrap();
    text.push_str("# edited after certification\n");
    std::fs::write(dir.join("pets-suite.yaml"), text).unwrap();
    let out = run_in(&["certify", "--verify", "cert/certificate.json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("CHANGED  pets-suite.yaml"),
        "{}",
        stdout(&out)
    );

    std::fs::remove_file(dir.join("pets-api.yaml")).unwrap();
    let out = run_in(&["certify", "--verify", "cert/certificate.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let out = run_in(&["certify", "--verify", "pets-suite.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an apiconform certificate"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn failing_target_is_not_conformant() {
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("certify-fail");
    let out = apiconform(&[
        "certify",
        &suite(),
        "--base-url",
        &server.url(),
        "--out",
        &path(&dir, "cert"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let cert = read_json(&path(&dir, "cert/certificate.json"));
    assert_eq!(cert["verdict"], "not_conformant");
    assert_eq!(cert["requirements"][0]["result"], "not_met");
}

#[test]
fn unwritable_report_path_fails_before_running() {
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        "http://127.0.0.1:9",
        "--junit",
        "/nonexistent-dir/j.xml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot write /nonexistent-dir/j.xml"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("FAIL"),
        "nothing should run: {}",
        stdout(&out)
    );
}

/// Parses the JUnit with a real consumer (Python's junitparser) through
/// scripts/check-junit.sh. Skips, saying why, where python3 is missing.
#[test]
fn junit_parses_with_junitparser() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED junit_parses_with_junitparser: python3 is not installed");
        return;
    }
    let server = TestServer::start(Mode::BreakSchema);
    let dir = out_dir("junitparser");
    let out = run_all_formats(&server, &dir, &["--retries", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-junit.sh");
    let check = std::process::Command::new("bash")
        .arg(&script)
        .arg(path(&dir, "junit.xml"))
        .arg("--expect")
        .arg("tests=4,failures=1,skipped=0")
        .output()
        .expect("run check-junit.sh");
    let text = format!("{}{}", stdout(&check), stderr(&check));
    assert!(check.status.success(), "{text}");
    assert!(text.contains("junitparser: 1 suite, 4 cases"), "{text}");
}
