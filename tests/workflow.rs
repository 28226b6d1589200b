//! The daily QA workflow, end to end against the real binary: keep going
//! past a failed step, baselines, rerun what failed, profiles, list JSON.

mod common;

use common::{Mode, TestServer, apiconform, fixture, stderr, stdout};
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
    let out = apiconform(&all);
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
