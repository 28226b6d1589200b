//! The daily QA workflow, end to end against the real binary: keep going
//! past a failed step, baselines, rerun what failed, profiles, list JSON.

mod common;

use common::{Mode, TestServer, apiconform, apiconform_in, fixture, stderr, stdout};
use serde_json::Value;

fn workflow(name: &str) -> String {
    fixture(&format!("workflow/{name}")).display().to_string()
}

/// Runs and returns (exit code, stdout, JSON report).
fn run_json(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String, Value) {
    let report = dir.join("report.json");
    let report_s = report.display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--no-progress", "--json", &report_s]);
    let out = apiconform_in(dir, &all);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    (out.status.code(), text, json)
}

/// A fresh folder under the cargo target dir for one test.
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("workflow-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn case<'v>(report: &'v Value, name: &str) -> &'v Value {
    report["cases"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no case `{name}` in {report}"))
}

fn step_outcomes(case: &Value) -> Vec<(String, String)> {
    case["steps"]
        .as_array()
        .map(|ss| {
            ss.iter()
                .map(|s| {
                    (
                        s["outcome"].as_str().unwrap_or("").to_string(),
                        s["error"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failed_step_skips_only_the_steps_that_need_its_capture() {
    let server = TestServer::start(Mode::Good);
    let dir = scratch("keep-going");
    let (code, text, report) = run_json(
        &[
            "run",
            &workflow("keep-going.yaml"),
            "--base-url",
            &server.url(),
        ],
        &dir,
    );
    assert_eq!(code, Some(1), "{text}");
    let steps = step_outcomes(case(&report, "later steps run"));
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert_eq!(steps[0].0, "failed", "{steps:?}");
    assert_eq!(
        steps[1],
        (
            "skipped".into(),
            "skipped: needs `pet_id`, not captured by step 1".into()
        )
    );
    assert_eq!(steps[2].0, "passed", "the independent step ran: {steps:?}");
    assert_eq!(steps[3].0, "skipped", "cleanup without the id: {steps:?}");
    assert!(
        text.contains("step `read it back` skipped: needs `pet_id`, not captured by step 1"),
        "the console says why: {text}"
    );

    let strict = step_outcomes(case(&report, "strict case stops"));
    assert_eq!(strict[0].0, "failed");
    assert_eq!(
        strict[1],
        (
            "skipped".into(),
            "skipped: step 1 failed and the case sets `stop_on_failure`".into()
        )
    );
}

#[test]
fn a_baseline_accepts_exactly_the_listed_failures_and_reports_fixed_ones() {
    let server = TestServer::start(Mode::Good);
    let dir = scratch("baseline");
    let suite = workflow("baseline.yaml");
    let base = dir.join("baseline.yaml");
    let base_s = base.display().to_string();
    let url = server.url();

    // The failing run writes the baseline.
    let (code, text, _) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--write-baseline",
            &base_s,
        ],
        &dir,
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("wrote 1 baseline entry"), "{text}");
    let written = std::fs::read_to_string(&base).unwrap();
    assert!(written.contains("check: expect.body"), "{written}");
    assert!(written.contains("at: \"21:20\""), "{written}");

    // With it, the same failure is known: exit 0, `known` in every report.
    let html = dir.join("r.html").display().to_string();
    let md = dir.join("r.md").display().to_string();
    let (code, text, report) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--baseline",
            &base_s,
            "--html",
            &html,
            "--markdown",
            &md,
        ],
        &dir,
    );
    for file in [&html, &md] {
        let body = std::fs::read_to_string(file).unwrap();
        assert!(body.to_lowercase().contains("known"), "{file}: {body}");
    }
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(case(&report, "two wrong expectations")["status"], "known");
    assert!(text.contains("KNOWN"), "{text}");
    assert!(
        text.contains("baseline: 1 known failure, 0 fixed"),
        "{text}"
    );
    // A known failure is still rerun by --rerun-failed (to check a fix).
    let (_, text, rerun) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--baseline",
            &base_s,
            "--rerun-failed",
        ],
        &dir,
    );
    assert_eq!(rerun["cases"].as_array().map(Vec::len), Some(1), "{text}");
    assert_eq!(case(&rerun, "two wrong expectations")["status"], "known");

    let (code, text, report) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--baseline",
            &base_s,
            "--var",
            "want_tag=dog",
            "--name",
            "two wrong",
        ],
        &dir,
    );
    // want_tag=dog makes the listed failure pass: fixed.
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(case(&report, "two wrong expectations")["status"], "fixed");
    assert!(text.contains("baseline entry fixed (remove it)"), "{text}");
    let (code, text, _) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--baseline",
            &base_s,
            "--var",
            "want_tag=dog",
            "--strict-baseline",
        ],
        &dir,
    );
    assert_eq!(code, Some(1), "--strict-baseline fails on fixed: {text}");

    // An expired entry hides nothing.
    let expired = written.replace("reason:", "expires: 2000-01-01\n  reason:");
    std::fs::write(&base, expired).unwrap();
    let (code, text, report) = run_json(
        &["run", &suite, "--base-url", &url, "--baseline", &base_s],
        &dir,
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(case(&report, "two wrong expectations")["status"], "failed");
    assert!(
        text.contains("baseline entry expired on 2000-01-01"),
        "{text}"
    );

    // An unknown key is an input error with a position.
    std::fs::write(&base, "known:\n  - suite: x\n    bogus: 1\n").unwrap();
    let (code, text, _) = run_json(
        &["run", &suite, "--base-url", &url, "--baseline", &base_s],
        &dir,
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("baseline.yaml:3:"), "{text}");
}

#[test]
fn an_entry_for_another_assertion_hides_nothing() {
    let server = TestServer::start(Mode::Good);
    let dir = scratch("baseline-other");
    let suite = workflow("baseline.yaml");
    let base = dir.join("baseline.yaml");
    let base_s = base.display().to_string();
    let url = server.url();
    let (code, _, _) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--write-baseline",
            &base_s,
        ],
        &dir,
    );
    assert_eq!(code, Some(1));
    // Point the entry at the `$.name` assertion of the same step.
    let edited = std::fs::read_to_string(&base)
        .unwrap()
        .replace("21:20", "20:20");
    std::fs::write(&base, edited).unwrap();
    let (code, text, report) = run_json(
        &["run", &suite, "--base-url", &url, "--baseline", &base_s],
        &dir,
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(case(&report, "two wrong expectations")["status"], "failed");
    assert!(text.contains("baseline entry fixed (remove it)"), "{text}");
}

#[test]
fn rerun_failed_runs_only_what_failed_last_time() {
    let server = TestServer::start(Mode::Good);
    let dir = scratch("rerun");
    let suite = workflow("rerun.yaml");
    let url = server.url();
    let (code, text, _) = run_json(&["run", &suite, "--base-url", &url], &dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("next: apiconform run {suite} --rerun-failed -v")),
        "the hint names the next command: {text}"
    );

    // Only the failed case runs again; fixed, it passes and the state empties.
    let (code, text, report) = run_json(
        &[
            "run",
            &suite,
            "--base-url",
            &url,
            "--rerun-failed",
            "--var",
            "want=json",
        ],
        &dir,
    );
    assert_eq!(code, Some(0), "{text}");
    let names: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["fails until fixed"], "{text}");
    assert!(!text.contains("next:"), "no hint after a green run: {text}");

    let out = apiconform_in(&dir, &["run", &suite, "--base-url", &url, "--rerun-failed"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("nothing failed in the previous run"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn rerun_failed_without_an_earlier_run_is_a_usage_error() {
    let dir = scratch("rerun-none");
    let suite = dir.join("copy.yaml");
    std::fs::copy(fixture("workflow/rerun.yaml"), &suite).unwrap();
    std::fs::copy(fixture("pets-api.yaml"), dir.join("pets-api.yaml")).unwrap();
    let text = std::fs::read_to_string(&suite)
        .unwrap()
        .replace("../pets-api.yaml", "pets-api.yaml");
    std::fs::write(&suite, text).unwrap();
    let out = apiconform_in(
        &dir,
        &["run", &suite.display().to_string(), "--rerun-failed"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no earlier run of these paths"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_json_gives_cases_tags_requirements_and_files() {
    let out = apiconform(&[
        "list",
        &fixture("pets-suite.yaml").display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cases: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let first = &cases[0];
    assert_eq!(first["suite"], "pets");
    assert_eq!(first["name"], "create, read and delete a pet");
    assert_eq!(first["tags"], serde_json::json!(["lifecycle", "smoke"]));
    assert_eq!(first["requirement"], "PET-1");
    assert!(
        first["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("pets-suite.yaml"))
    );
    assert!(
        first["location"]
            .as_str()
            .is_some_and(|l| l.contains("pets-suite.yaml:"))
    );
    let bad = apiconform(&["list", "--format", "xml"]);
    assert_eq!(bad.status.code(), Some(2));
}
