//! Shrinking a fuzz run's findings. Each deduplicated finding's failing
//! request is made smaller one edit at a time (`generate::shrink`), and
//! every candidate is re-sent through the run's own runner (its pooled
//! client, the render, send and check stages, `--rate-limit`) as a case of
//! one step: a candidate is kept only while the same check still fails with
//! the same status class. What a candidate creates is deleted by that
//! case's cleanup, like the phases' creates.

use std::sync::Arc;
use std::time::Instant;

use super::findings::{Finding, Shrunk, input_size, status_class};
use crate::generate::Generator;
use crate::generate::plan::{ChainStep, GeneratedRequest, Phase, Plan};
use crate::generate::shrink::shrink_finding;
use crate::result::{CaseResult, CheckOutcome, StepOutcome, StepResult};
use crate::run::{PlannedCase, Runner, interrupt};
use crate::suite::generated::{self, Options};
use crate::suite::{Case, Suite};

/// How many times the per-finding budget the whole run may send.
const TOTAL_FACTOR: usize = 10;

/// What shrinking re-sends candidates with.
pub(super) struct Probe<'a> {
    pub runtime: &'a tokio::runtime::Runtime,
    pub runner: &'a Runner,
    pub suite: &'a Suite,
    pub plan: &'a Plan,
    pub options: &'a Options,
    /// `--time-budget`: no candidate is sent after it.
    pub deadline: Option<Instant>,
    /// `--shrink-budget`: requests per finding (0: no shrinking).
    pub per_finding: usize,
}

/// Shrinks every finding it can within the budgets; returns the requests
/// sent. A chain's finding is left as found: its request needs the ids its
/// chain's earlier steps captured.
pub(super) fn shrink_all(findings: &mut [Finding], probe: &Probe<'_>) -> usize {
    let total = probe.per_finding.saturating_mul(TOTAL_FACTOR);
    let mut used = 0;
    let g = Generator::new(&probe.suite.spec);
    for f in findings.iter_mut() {
        if probe.per_finding == 0 || used >= total || stopped(probe) {
            break;
        }
        if f.request.phase == Phase::Stateful {
            continue;
        }
        let delete = probe
            .plan
            .operations
            .iter()
            .find(|o| o.operation == f.request.operation)
            .and_then(|o| o.cleanup.as_ref());
        let (check, class) = (f.check.clone(), f.status_class.clone());
        let mut sent = 0;
        let mut message = None;
        let mut still_fails = |candidate: &GeneratedRequest| {
            if used + sent >= total || stopped(probe) {
                return false;
            }
            let Some(result) = resend(probe, candidate, delete) else {
                return false;
            };
            sent += requests_sent(&result.steps);
            match main_step(&result).and_then(|s| same_failure(s, &check, &class)) {
                Some(m) => {
                    message = Some(m);
                    true
                }
                None => false,
            }
        };
        let small = shrink_finding(&g, &f.request, &mut still_fails, probe.per_finding);
        used += sent;
        f.shrunk = Some(Shrunk {
            requests: sent,
            before: input_size(&f.request),
            after: input_size(&small),
        });
        if small != f.request {
            f.request = small;
            if let Some(m) = message {
                f.message = m;
            }
        }
    }
    used
}

/// No more candidates after `--time-budget` or a signal.
fn stopped(probe: &Probe<'_>) -> bool {
    interrupt::requested() || probe.deadline.is_some_and(|d| Instant::now() >= d)
}

/// Sends a candidate as a case of one step (and its cleanup) through the
/// run's runner.
fn resend(
    probe: &Probe<'_>,
    candidate: &GeneratedRequest,
    delete: Option<&ChainStep>,
) -> Option<CaseResult> {
    let case = generated::single_case(&probe.suite.spec, candidate, delete, probe.options)?;
    let pc = PlannedCase {
        index: 0,
        suite: Arc::new(probe_suite(probe.suite, case)),
        case: 0,
    };
    Some(probe.runtime.block_on(probe.runner.run_case(&pc, None)))
}

/// The run's suite holding only `case` (the runner knows the suite by its
/// file, so its target, variables and credentials are the run's).
fn probe_suite(suite: &Suite, case: Case) -> Suite {
    Suite {
        file: suite.file.clone(),
        file_display: suite.file_display.clone(),
        sha256: suite.sha256.clone(),
        name: suite.name.clone(),
        description: suite.description.clone(),
        spec: suite.spec.clone(),
        server: suite.server.clone(),
        variables: suite.variables.clone(),
        secrets: suite.secrets.clone(),
        credentials: suite.credentials.clone(),
        coverage_exclusions: Vec::new(),
        setup: Vec::new(),
        teardown: Vec::new(),
        cases: vec![case],
        client_certs: suite.client_certs.clone(),
        read_files: suite.read_files.clone(),
    }
}

fn main_step(result: &CaseResult) -> Option<&StepResult> {
    result
        .steps
        .iter()
        .find(|s| s.phase == crate::result::Phase::Main)
}

/// Requests a probe case sent: its steps that were not skipped.
fn requests_sent(steps: &[StepResult]) -> usize {
    steps
        .iter()
        .filter(|s| s.outcome != StepOutcome::Skipped && s.request.is_some())
        .count()
}

/// The failure message when `step` fails the way the finding did: the same
/// check (or the request itself, for `request`) with the same status class.
fn same_failure(step: &StepResult, check: &str, class: &str) -> Option<String> {
    if step.outcome != StepOutcome::Failed || status_class(step) != class {
        return None;
    }
    if check == "request" {
        return step.error.clone();
    }
    step.checks
        .iter()
        .find(|c| c.name == check && c.outcome == CheckOutcome::Failed)
        .map(|c| c.message.as_deref().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CheckResult, Phase as StepPhase, ResponseRecord};

    fn step(
        status: Option<u16>,
        outcome: StepOutcome,
        checks: &[(&'static str, bool)],
    ) -> StepResult {
        StepResult {
            name: "negative #1".into(),
            phase: StepPhase::Main,
            location: "".into(),
            operation: "createShare".into(),
            method_path: "POST /shares".into(),
            operation_id: None,
            outcome,
            error: status.is_none().then(|| "connection refused".to_string()),
            request: None,
            response: status.map(|status| ResponseRecord {
                status,
                headers: Vec::new(),
                body: None,
                size: 0,
            }),
            duration_ms: 0.0,
            checks: checks
                .iter()
                .map(|(name, failed)| CheckResult {
                    name: (*name).into(),
                    outcome: if *failed {
                        CheckOutcome::Failed
                    } else {
                        CheckOutcome::Passed
                    },
                    message: Some(format!("{name} says no").into()),
                    findings: Vec::new(),
                    location: None,
                })
                .collect(),
            captures: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_candidate_counts_only_when_the_same_check_fails_in_the_same_class() {
        let check = "content_type_conformance";
        let failing = step(Some(400), StepOutcome::Failed, &[(check, true)]);
        assert_eq!(
            same_failure(&failing, check, "4xx").as_deref(),
            Some("content_type_conformance says no")
        );
        // Another class: a different finding.
        let moved = step(Some(500), StepOutcome::Failed, &[(check, true)]);
        assert_eq!(same_failure(&moved, check, "4xx"), None);
        // Another check failing: not this finding.
        let other = step(
            Some(400),
            StepOutcome::Failed,
            &[(check, false), ("response_schema_conformance", true)],
        );
        assert_eq!(same_failure(&other, check, "4xx"), None);
        let passed = step(Some(400), StepOutcome::Passed, &[(check, false)]);
        assert_eq!(same_failure(&passed, check, "4xx"), None);
        // A request that got no answer is the `request` finding.
        let refused = step(None, StepOutcome::Failed, &[]);
        assert_eq!(
            same_failure(&refused, "request", "no response").as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn only_sent_steps_count_as_requests() {
        let mut sent = step(Some(400), StepOutcome::Failed, &[]);
        sent.request = Some(crate::result::RequestRecord {
            method: "POST".into(),
            url: "http://127.0.0.1:1/shares".into(),
            headers: Vec::new(),
            body: None,
            credential: None,
            curl: None,
        });
        let mut skipped = step(None, StepOutcome::Skipped, &[]);
        skipped.phase = StepPhase::Cleanup;
        assert_eq!(requests_sent(&[sent, skipped]), 1);
    }
}
