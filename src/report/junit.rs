//! `--junit FILE`: JUnit XML for CI systems. One `<testsuite>` per suite
//! file, one `<testcase>` per case. A failed case carries its first failure
//! as the message and every failed check in the text; a flaky case passes
//! with `<flakyFailure>` per failed attempt, and a case that kept failing
//! under `--retries` lists its earlier attempts as `<rerunFailure>`, the
//! way cargo-nextest records retries.

use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::RenderError;
use super::model::RunReport;
use crate::result::{CaseResult, CaseStatus, StepOutcome};

pub fn render(report: &RunReport) -> Result<String, RenderError> {
    Ok(build(report).to_string()?)
}

pub fn build(report: &RunReport) -> Report {
    let mut out = Report::new("apiconform");
    if let Some(t) = timestamp(&report.started) {
        out.set_timestamp(t);
    }
    out.set_time(duration(report.duration_ms));
    for suite in &report.suites {
        let cases: Vec<&CaseResult> = report
            .cases
            .iter()
            .filter(|c| *c.suite_file == *suite.file)
            .collect();
        let mut ts = TestSuite::new(suite.name.as_str());
        if let Some(t) = timestamp(&report.started) {
            ts.set_timestamp(t);
        }
        ts.set_time(duration(cases.iter().map(|c| c.duration_ms).sum()));
        ts.add_property(Property::new("file", suite.file.as_str()));
        ts.add_property(Property::new("sha256", suite.sha256.as_str()));
        ts.add_property(Property::new("spec", suite.spec_file.as_str()));
        if let Some(spec) = report.specs.iter().find(|s| s.file == suite.spec_file) {
            ts.add_property(Property::new("spec_sha256", spec.sha256.as_str()));
        }
        ts.add_property(Property::new("base_url", suite.base_url.as_str()));
        if report.interrupted {
            // A signal stopped the run: cases that had not started are absent.
            ts.add_property(Property::new("interrupted", "true"));
        }
        // Failed `should` cases, so a CI dashboard can tell advisory
        // failures from binding ones (testcases cannot carry properties).
        for c in cases.iter().filter(|c| c.status == CaseStatus::Failed) {
            if let Some(r) = c.requirement.as_ref().filter(|r| r.is_advisory()) {
                let value = format!(
                    "{} · {} · should · {}",
                    c.name,
                    r.id,
                    r.source.as_deref().unwrap_or("")
                );
                ts.add_property(Property::new("advisory", value.as_str()));
            }
        }
        ts.add_test_cases(cases.into_iter().map(test_case));
        out.add_test_suite(ts);
    }
    out
}

fn test_case(c: &CaseResult) -> TestCase {
    let status = match c.status {
        CaseStatus::Passed | CaseStatus::Fixed => TestCaseStatus::success(),
        CaseStatus::Flaky => {
            let mut s = TestCaseStatus::success();
            s.add_reruns(reruns(c));
            s
        }
        CaseStatus::Skipped
        | CaseStatus::NotVerified
        | CaseStatus::Known
        | CaseStatus::Advisory => {
            let mut s = TestCaseStatus::skipped();
            if let Some(reason) = &c.skip_reason {
                s.set_message(reason.as_str());
            }
            s
        }
        CaseStatus::Interrupted => {
            // Cut off by a signal before it could show anything: it could
            // not complete (an error), and nothing in it failed.
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("interrupted");
            s.set_message(c.skip_reason.as_deref().unwrap_or("interrupted"));
            s
        }
        CaseStatus::Failed => {
            // A step that could not complete (no connection, timeout) is an
            // error; a response that broke a check is a failure.
            let errored = c
                .steps
                .iter()
                .any(|s| s.outcome == StepOutcome::Failed && s.error.is_some());
            let mut s = TestCaseStatus::non_success(if errored {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            });
            let why = c.failure_summary().unwrap_or_else(|| "failed".into());
            match c.requirement.as_ref().and_then(|r| r.advisory_label()) {
                Some(note) => s.set_message(format!("[{note}] {why}")),
                None => s.set_message(why),
            };
            if let Some(ty) = first_failed_check(c) {
                s.set_type(ty);
            }
            s.set_description(super::failure_text(c));
            s.add_reruns(reruns(c));
            s
        }
    };
    let mut tc = TestCase::new(&*c.name, status);
    tc.set_classname(&*c.suite_name);
    tc.set_time(duration(c.duration_ms));
    tc.set_assertions(c.steps.iter().map(|s| s.checks.len()).sum());
    // No per-testcase <properties>: the common JUnit XSD does not allow
    // them, and the location is in the failure text.
    tc
}

fn first_failed_check(c: &CaseResult) -> Option<String> {
    c.failures().next().map(|(_, check)| check.name.to_string())
}

fn reruns(c: &CaseResult) -> Vec<TestRerun> {
    c.earlier_attempts
        .iter()
        .map(|a| {
            let mut r = TestRerun::new(NonSuccessKind::Failure);
            r.set_time(duration(a.duration_ms))
                .set_message(a.failure.as_str());
            r
        })
        .collect()
}

fn duration(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

fn timestamp(rfc3339: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::Coverage;
    use crate::report::model::{REPORT_FORMAT, SCHEMA_VERSION, SuiteRecord, Tool, TotalsRecord};
    use crate::result::{Attempt, CheckResult, Phase, StepResult};

    fn case(index: usize, name: &str, status: CaseStatus) -> CaseResult {
        CaseResult {
            name: name.into(),
            location: "pets.yaml:3:5".into(),
            duration_ms: 12.5,
            ..crate::report::model::tests::case(index, status)
        }
    }

    fn report(cases: Vec<CaseResult>) -> RunReport {
        RunReport {
            format: REPORT_FORMAT.into(),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "apiconform".into(),
                version: "0.1.0".into(),
            },
            started: "2026-03-01T12:00:00Z".into(),
            finished: "2026-03-01T12:00:01Z".into(),
            duration_ms: 1000.0,
            partitions: Vec::new(),
            profile: None,
            stopped_early: false,
            interrupted: false,
            warnings: Vec::new(),
            specs: Vec::new(),
            suites: vec![SuiteRecord {
                file: "pets.yaml".into(),
                name: "pets".into(),
                sha256: "ab".into(),
                spec_file: "api.yaml".into(),
                base_url: "http://127.0.0.1:1".into(),
                target_note: None,
            }],
            planned_cases: cases.len(),
            totals: TotalsRecord::of(&cases),
            cases,
            coverage: Coverage::default(),
            insecure: false,
            proxy: None,
            rate_limit_waits: Default::default(),
        }
    }

    fn failing_step() -> StepResult {
        StepResult {
            name: "create".into(),
            phase: Phase::Main,
            location: "pets.yaml:5:9".into(),
            operation: "createPet".into(),
            method_path: "POST /pets".into(),
            operation_id: None,
            outcome: StepOutcome::Failed,
            error: None,
            request: None,
            response: None,
            duration_ms: 3.0,
            checks: vec![
                CheckResult::passed("status_conformance"),
                CheckResult::failed("expect.status", "expected 201, got 500 <&>"),
            ],
            captures: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn statuses_map_to_junit_elements() {
        let mut failed = case(1, "create", CaseStatus::Failed);
        failed.steps.push(failing_step());
        failed.attempts = 2;
        failed.earlier_attempts.push(Attempt {
            duration_ms: 4.0,
            failure: "create: expect.status: got 502".into(),
        });
        let mut flaky = case(2, "list", CaseStatus::Flaky);
        flaky.attempts = 2;
        flaky.earlier_attempts.push(Attempt {
            duration_ms: 2.0,
            failure: "list: timed out".into(),
        });
        let mut skipped = case(3, "later", CaseStatus::Skipped);
        skipped.skip_reason = Some("not run: --fail-fast".into());
        let xml = render(&report(vec![
            case(0, "ok", CaseStatus::Passed),
            failed,
            flaky,
            skipped,
        ]))
        .unwrap();

        // Read it back with quick-junit's own parser: counts and elements.
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.tests, 4);
        assert_eq!(parsed.failures, 1);
        let suite = &parsed.test_suites[0];
        assert_eq!(suite.name.as_str(), "pets");
        assert_eq!(suite.skipped, 1);
        assert!(xml.contains(r#"<failure message="create: expect.status: expected 201, got 500 &lt;&amp;&gt;" type="expect.status">"#), "{xml}");
        assert!(xml.contains("<rerunFailure"), "{xml}");
        assert!(xml.contains("<flakyFailure"), "{xml}");
        assert!(
            xml.contains(r#"<skipped message="not run: --fail-fast"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="ok" classname="pets" assertions="0" time="0.013"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<property name="sha256" value="ab"/>"#),
            "{xml}"
        );
        match &suite.test_cases[2].status {
            TestCaseStatus::Success { flaky_runs } => assert_eq!(flaky_runs.len(), 1),
            other => panic!("flaky case should pass: {other:?}"),
        }
    }

    #[test]
    fn failed_should_cases_are_marked_advisory() {
        let mut advisory = case(0, "order", CaseStatus::Failed);
        advisory.steps.push(failing_step());
        advisory.requirement = Some(crate::suite::Requirement {
            id: "P-9".into(),
            text: "Checks run in order.".into(),
            level: Some(crate::suite::Level::Should),
            source: Some("E31".into()),
        });
        let mut binding = case(1, "create", CaseStatus::Failed);
        binding.steps.push(failing_step());
        let xml = render(&report(vec![advisory, binding])).unwrap();
        assert!(
            xml.contains(r#"<property name="advisory" value="order · P-9 · should · E31"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="[advisory: should, E31] create: expect.status"#),
            "{xml}"
        );
        assert_eq!(xml.matches(r#"name="advisory""#).count(), 1, "{xml}");
    }

    #[test]
    fn an_interrupted_case_is_an_error_saying_so_never_a_failure() {
        let mut c = case(0, "slow", CaseStatus::Interrupted);
        c.skip_reason = Some("interrupted (SIGINT) before step `get`; cleanup ran".into());
        let xml = render(&report(vec![c])).unwrap();
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((parsed.failures, parsed.errors), (0, 1), "{xml}");
        assert!(
            xml.contains(r#"<error message="interrupted (SIGINT) before step `get`; cleanup ran" type="interrupted"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn transport_failures_are_errors() {
        let mut c = case(0, "down", CaseStatus::Failed);
        let mut step = failing_step();
        step.checks.clear();
        step.error = Some("cannot connect to http://127.0.0.1:9/pets".into());
        c.steps.push(step);
        let xml = render(&report(vec![c])).unwrap();
        assert!(
            xml.contains(r#"<error message="create: cannot connect"#),
            "{xml}"
        );
    }
}
