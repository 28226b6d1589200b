//! Suite setup and teardown: steps run once per suite file, setup before
//! its first case (lazily, by whichever case needs it first) and teardown
//! after the run's last case. Setup captures seed every case's variables.

use serde_json::Value;

use super::step::{CaseState, Stages, SuiteContext};
use crate::result::{CaseResult, CaseStatus, CheckOutcome, Origin, Phase, StepOutcome, StepResult};
use crate::suite::vars::Redactor;
use crate::suite::{Step, Suite};

/// What a suite's setup left behind: its captures (read-only for cases,
/// and the start of teardown's variables, even after a failure, so
/// teardown can remove what setup made), the redactor with secret ones,
/// its step results, and why it failed.
pub(super) struct SetupOutcome {
    locals: rustc_hash::FxHashMap<String, Value>,
    redactor: Option<Redactor>,
    pub steps: Vec<StepResult>,
    pub failed: Option<String>,
}

impl SetupOutcome {
    /// A fresh case state seeded with the setup's captures.
    pub fn seed(&self) -> CaseState {
        CaseState {
            locals: self.locals.clone(),
            redactor: self.redactor.clone(),
            history: Vec::new(),
        }
    }
}

/// Runs steps in order, each redacted; after a failed step the rest of a
/// setup is skipped (teardown steps all run: each cleans up on its own).
pub(super) async fn run_steps(
    stages: &Stages<'_>,
    suite: &Suite,
    ctx: &SuiteContext,
    steps: &[Step],
    phase: Phase,
    state: &mut CaseState,
) -> Vec<StepResult> {
    let mut results = Vec::with_capacity(steps.len());
    let mut failed = false;
    for step in steps {
        let mut result = if failed && phase == Phase::Main {
            StepResult {
                outcome: StepOutcome::Skipped,
                error: Some("skipped: an earlier setup step failed".into()),
                ..super::step::fresh_result(step, phase)
            }
        } else {
            stages.run(suite, ctx, step, phase, state).await
        };
        super::step::redact_step(state.redactor(ctx), &mut result);
        failed |= result.outcome == StepOutcome::Failed;
        results.push(result);
    }
    results
}

/// Runs a suite's setup steps into an outcome.
pub(super) async fn setup(stages: &Stages<'_>, suite: &Suite, ctx: &SuiteContext) -> SetupOutcome {
    let mut state = CaseState::default();
    let steps = run_steps(stages, suite, ctx, &suite.setup, Phase::Main, &mut state).await;
    let failed = steps
        .iter()
        .find(|s| s.outcome == StepOutcome::Failed)
        .map(|s| {
            format!(
                "suite setup failed at step `{}` ({}): {}",
                s.name,
                s.location,
                failure_text(s)
            )
        });
    SetupOutcome {
        locals: state.locals,
        redactor: state.redactor,
        steps,
        failed,
    }
}

/// A failed step's error, or its first failed check.
fn failure_text(s: &StepResult) -> String {
    s.error.clone().unwrap_or_else(|| {
        s.checks
            .iter()
            .find(|c| c.outcome == CheckOutcome::Failed)
            .map(|c| format!("{}: {}", c.name, c.message.as_deref().unwrap_or("failed")))
            .unwrap_or_else(|| "failed".into())
    })
}

/// A suite's setup or teardown as a case result, for reports: only sent
/// when it failed (a passing one is silent), so its steps can be read.
pub(super) fn hook_case(
    suite: &Suite,
    name: &str,
    index: usize,
    steps: Vec<StepResult>,
) -> CaseResult {
    let failed = steps.iter().any(|s| s.outcome == StepOutcome::Failed);
    let duration_ms = steps.iter().map(|s| s.duration_ms).sum();
    CaseResult {
        index,
        suite_file: suite.file_display.clone(),
        suite_name: suite.name.clone(),
        name: name.into(),
        location: suite.file_display.clone(),
        tags: Vec::new(),
        requirement: None,
        status: if failed {
            CaseStatus::Failed
        } else {
            CaseStatus::Passed
        },
        skip_reason: None,
        attempts: 1,
        duration_ms,
        steps,
        earlier_attempts: Vec::new(),
        origin: Origin::CaseFile,
    }
}
