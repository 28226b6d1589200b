//! Run results as plain data. The runner produces them; reporters render
//! them (console, JUnit, JSON, HTML...). Secrets are redacted before a value
//! lands here, so every report is safe to share.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::Finding;
use crate::spec::OperationId;
use crate::suite::Requirement;

/// What the harness's webhook receiver answers to every well-formed
/// delivery (coverage counts a received webhook as this reply).
pub const RECEIVER_STATUS: u16 = 204;

/// The one status family of cases, steps and checks. Reports keep the
/// values they always had (`passed`, `failed`, `flaky`, `skipped`); the
/// other variants are for the features that fill them in (baselines,
/// requirement levels, interrupted runs, certification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    /// Failed, then passed on a retry.
    Flaky,
    /// Did not run or did not apply; the reason is beside it
    /// (`skip_reason`, `error` or `message`).
    Skipped,
    /// Ran, but could not show the requirement is met (e.g. a step it
    /// relies on was skipped).
    NotVerified,
    /// Stopped before it finished (Ctrl-C, a deadline).
    Interrupted,
    /// Failed the same way the accepted baseline says it fails.
    Known,
    /// Failed in the accepted baseline, passes now.
    Fixed,
    /// Failed a `should`-level requirement: reported, never fails the run.
    Advisory,
}

/// A case's status (the [`Status`] family).
pub type CaseStatus = Status;
/// A step's status (the [`Status`] family).
pub type StepOutcome = Status;
/// A check's status (the [`Status`] family).
pub type CheckOutcome = Status;

impl Status {
    /// The console label.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Passed => "PASS",
            Status::Failed => "FAIL",
            Status::Flaky => "FLAKY",
            Status::Skipped => "SKIP",
            Status::NotVerified => "UNVERIFIED",
            Status::Interrupted => "INTERRUPTED",
            Status::Known => "KNOWN",
            Status::Fixed => "FIXED",
            Status::Advisory => "ADVISORY",
        }
    }

    /// The value in reports and CSS classes (`passed`, `not_verified`).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Flaky => "flaky",
            Status::Skipped => "skipped",
            Status::NotVerified => "not_verified",
            Status::Interrupted => "interrupted",
            Status::Known => "known",
            Status::Fixed => "fixed",
            Status::Advisory => "advisory",
        }
    }

    /// Passed in the end (a retry, or a baseline failure now fixed).
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Passed | Status::Flaky | Status::Fixed)
    }

    /// Makes the run fail (exit code 1). Known and advisory failures do not.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed | Status::Interrupted)
    }
}

/// Where a case comes from: a case file, or generated from the spec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    #[default]
    CaseFile,
    /// Built from the spec by the check generator, not written in a file.
    Generated,
}

impl Origin {
    pub fn is_case_file(&self) -> bool {
        *self == Origin::CaseFile
    }
}

/// The result of one case (after retries).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    /// Position of the case in the plan (stable across shards).
    pub index: usize,
    /// Suite file as given on the command line. These four texts are
    /// shared with the compiled suite (no copy per case run).
    pub suite_file: Arc<str>,
    pub suite_name: Arc<str>,
    pub name: Arc<str>,
    /// `file:line:column` of the case.
    pub location: Arc<str>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    pub status: CaseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// How many times the case ran (1 unless retried).
    pub attempts: u32,
    pub duration_ms: f64,
    /// Steps of the last attempt.
    pub steps: Vec<StepResult>,
    /// Failure summaries of earlier, failed attempts (flaky or failed cases).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub earlier_attempts: Vec<Attempt>,
    /// Omitted (a case file) unless generated.
    #[serde(skip_serializing_if = "Origin::is_case_file", default)]
    pub origin: Origin,
}

impl CaseResult {
    /// `suite › case`.
    pub fn full_name(&self) -> String {
        format!("{} › {}", self.suite_name, self.name)
    }

    /// Every failed check of the last attempt, with its step.
    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &CheckResult)> {
        self.steps.iter().flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| c.outcome == CheckOutcome::Failed)
                .map(move |c| (s, c))
        })
    }

    /// One-line failure summary: the first failed step's error or first
    /// failed check (steps skipped after it carry an error too; not those).
    pub fn failure_summary(&self) -> Option<String> {
        let step = self
            .steps
            .iter()
            .find(|s| s.outcome == StepOutcome::Failed)?;
        if let Some(e) = &step.error {
            return Some(format!("{}: {e}", step.name));
        }
        step.checks
            .iter()
            .find(|c| c.outcome == CheckOutcome::Failed)
            .map(|c| {
                format!(
                    "{}: {}: {}",
                    step.name,
                    c.name,
                    c.message.as_deref().unwrap_or("failed")
                )
            })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub duration_ms: f64,
    pub failure: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Main,
    Cleanup,
}

/// One step: the request sent, the response, and every check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    /// The texts below are shared with the compiled step (no copy per run).
    pub name: Arc<str>,
    pub phase: Phase,
    /// `file:line:column` of the step.
    pub location: Arc<str>,
    /// Operation label (operationId or `METHOD /template`).
    pub operation: Arc<str>,
    /// Documented `METHOD /template`, for coverage.
    pub method_path: Arc<str>,
    /// The operation in the suite's spec, for coverage (live runs only).
    #[serde(skip)]
    pub operation_id: Option<OperationId>,
    pub outcome: StepOutcome,
    /// Why the step could not complete (transport error, render error) or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    pub duration_ms: f64,
    pub checks: Vec<CheckResult>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub captures: Vec<(String, Value)>,
    /// What the transport did beyond one plain send (a retry on a fresh
    /// connection after a stale keep-alive one), for the reports.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

impl StepResult {
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The name of the credential the request carried (never its value).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub credential: Option<String>,
    /// For a failed step: a curl command sending the same request, secrets
    /// as `"${NAME}"` placeholders.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub curl: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseRecord {
    pub status: u16,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub headers: Vec<(String, String)>,
    /// The body, truncated for reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub size: usize,
}

/// One automatic check or expectation on one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    /// Check name (`response_schema_conformance`) or expectation
    /// (`expect.status`, `expect.body`); static names cost no allocation.
    pub name: std::borrow::Cow<'static, str>,
    pub outcome: CheckOutcome,
    /// Why it failed or was skipped; fixed texts cost no allocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<std::borrow::Cow<'static, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub findings: Vec<Finding>,
    /// `file:line:column` of the expectation in the case file, shared
    /// with the compiled suite (formatted once, at load).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Arc<str>>,
}

impl CheckResult {
    pub fn passed(name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        CheckResult {
            name: name.into(),
            outcome: CheckOutcome::Passed,
            message: None,
            findings: Vec::new(),
            location: None,
        }
    }

    pub fn failed(
        name: impl Into<std::borrow::Cow<'static, str>>,
        message: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        CheckResult {
            name: name.into(),
            outcome: CheckOutcome::Failed,
            message: Some(message.into()),
            findings: Vec::new(),
            location: None,
        }
    }

    pub fn skipped(
        name: impl Into<std::borrow::Cow<'static, str>>,
        reason: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        CheckResult {
            name: name.into(),
            outcome: CheckOutcome::Skipped,
            message: Some(reason.into()),
            findings: Vec::new(),
            location: None,
        }
    }

    pub fn at(mut self, location: Option<Arc<str>>) -> Self {
        self.location = location;
        self
    }
}

/// Counts for the closing line: one counter per status (a case counts
/// once, under its own status).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub flaky: usize,
    pub skipped: usize,
    #[serde(default)]
    pub not_verified: usize,
    #[serde(default)]
    pub interrupted: usize,
    #[serde(default)]
    pub known: usize,
    #[serde(default)]
    pub fixed: usize,
    #[serde(default)]
    pub advisory: usize,
}

impl Totals {
    /// Counts a case under its status.
    pub fn add(&mut self, status: CaseStatus) {
        *self.counter(status) += 1;
    }

    fn counter(&mut self, status: CaseStatus) -> &mut usize {
        match status {
            Status::Passed => &mut self.passed,
            Status::Failed => &mut self.failed,
            Status::Flaky => &mut self.flaky,
            Status::Skipped => &mut self.skipped,
            Status::NotVerified => &mut self.not_verified,
            Status::Interrupted => &mut self.interrupted,
            Status::Known => &mut self.known,
            Status::Fixed => &mut self.fixed,
            Status::Advisory => &mut self.advisory,
        }
    }

    pub fn merge(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.flaky += other.flaky;
        self.skipped += other.skipped;
        self.not_verified += other.not_verified;
        self.interrupted += other.interrupted;
        self.known += other.known;
        self.fixed += other.fixed;
        self.advisory += other.advisory;
    }

    pub fn total(&self) -> usize {
        self.passed
            + self.failed
            + self.flaky
            + self.skipped
            + self.not_verified
            + self.interrupted
            + self.known
            + self.fixed
            + self.advisory
    }

    /// Cases that did not run or could not show their requirement.
    pub fn unverified(&self) -> usize {
        self.skipped + self.not_verified + self.interrupted
    }

    /// `N passed, M failed` then every other non-zero counter (`K
    /// skipped`, `1 interrupted`...): flaky and fixed cases passed.
    pub fn closing_line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed",
            self.passed + self.flaky + self.fixed,
            self.failed
        );
        for (n, what) in [
            (self.skipped, "skipped"),
            (self.not_verified, "not verified"),
            (self.interrupted, "interrupted"),
            (self.known, "known failures"),
            (self.advisory, "advisory"),
        ] {
            if n > 0 {
                line.push_str(&format!(", {n} {what}"));
            }
        }
        line
    }
}

/// Why a case whose steps did not fail still shows nothing: the first
/// skipped main step, `step: reason` (e.g. no webhook listener).
pub fn skipped_step_reason(steps: &[StepResult]) -> Option<String> {
    steps
        .iter()
        .find(|s| s.phase == Phase::Main && s.outcome == StepOutcome::Skipped)
        .map(|s| {
            let reason = s.error.as_deref().unwrap_or("skipped");
            let reason = reason.strip_prefix("skipped: ").unwrap_or(reason);
            format!("step `{}` skipped: {reason}", s.name)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_values_of_existing_statuses_stay() {
        for (s, v) in [
            (Status::Passed, "\"passed\""),
            (Status::Failed, "\"failed\""),
            (Status::Flaky, "\"flaky\""),
            (Status::Skipped, "\"skipped\""),
            (Status::NotVerified, "\"not_verified\""),
        ] {
            assert_eq!(serde_json::to_string(&s).ok().as_deref(), Some(v));
            assert_eq!(format!("\"{}\"", s.name()), v);
        }
    }

    #[test]
    fn only_failures_fail_the_run() {
        assert!(Status::Failed.is_failure() && Status::Interrupted.is_failure());
        assert!(!Status::Known.is_failure() && !Status::Advisory.is_failure());
        assert!(Status::Fixed.is_success() && !Status::Skipped.is_success());
        let mut t = Totals::default();
        for s in [
            Status::Passed,
            Status::Fixed,
            Status::Interrupted,
            Status::Known,
        ] {
            t.add(s);
        }
        assert_eq!((t.passed, t.fixed, t.interrupted, t.known), (1, 1, 1, 1));
        assert_eq!((t.failed, t.skipped, t.total()), (0, 0, 4));
        assert_eq!(
            t.closing_line(),
            "2 passed, 0 failed, 1 interrupted, 1 known failures"
        );
    }

    #[test]
    fn a_case_file_case_has_no_origin_field() {
        assert!(Origin::CaseFile.is_case_file());
        assert_eq!(
            serde_json::to_string(&Origin::Generated).ok().as_deref(),
            Some("\"generated\"")
        );
    }
}
