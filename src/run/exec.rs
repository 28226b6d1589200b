//! Executing cases: render each step, send it, run the automatic checks and
//! the case's expectations, capture values, and stream events.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Instant, SystemTime};

use tokio::task::JoinSet;

use super::http;
use super::step::{CaseState, Stages, SuiteContext, fresh_result, ms};
use super::webhook::Inbox;
use super::{PlannedCase, RunConfig};
use crate::diag::{Diagnostic, Diagnostics, Pos, location};
use crate::event::{Event, RunInfo, RunSummary};
use crate::result::{
    Attempt, CaseResult, CaseStatus, CheckOutcome, Origin, Phase, StepOutcome, StepResult, Totals,
};
use crate::suite::vars::{ExternalVars, Redactor, resolve_globals};
use crate::suite::{Case, Step, Suite};

pub use super::step::render::{
    CredentialError, RenderRequestError, RenderedRequest, render_request,
};

/// Where a suite's requests go.
#[derive(Debug, Clone)]
pub struct Target {
    pub base_url: String,
    /// E.g. `embedded enablenow reference server`.
    pub note: Option<String>,
}

/// Executes planned cases. Shared by all case tasks.
pub struct Runner {
    client: reqwest::Client,
    config: RunConfig,
    contexts: HashMap<PathBuf, SuiteContext>,
    inbox: Option<Arc<Inbox>>,
}

impl Runner {
    /// Prepares every suite's variables and credentials. A variable that
    /// cannot be rendered (e.g. an unset `env.` variable) is an input error.
    pub fn new(
        suites: &[Arc<Suite>],
        targets: &HashMap<PathBuf, Target>,
        external: &ExternalVars,
        config: RunConfig,
        inbox: Option<Arc<Inbox>>,
    ) -> Result<Runner, Diagnostics> {
        let client = http::client(config.jobs, config.timeout).map_err(|e| {
            Diagnostics::from(Diagnostic::new(
                "<http client>",
                Pos::UNKNOWN,
                e.to_string(),
            ))
        })?;
        let mut contexts = HashMap::new();
        let mut diagnostics = Diagnostics::default();
        for suite in suites {
            let Some(target) = targets.get(&suite.file) else {
                diagnostics.push(Diagnostic::new(
                    &suite.file,
                    Pos::UNKNOWN,
                    "no target base URL for this suite",
                ));
                continue;
            };
            let globals = match resolve_globals(suite, external) {
                Ok(g) => g,
                Err(e) => {
                    diagnostics.push(Diagnostic::new(
                        &suite.file,
                        Pos::UNKNOWN,
                        format!("variables: {e}"),
                    ));
                    continue;
                }
            };
            let mut redactor =
                Redactor::for_suite(&globals, &suite.secrets, external, &target.base_url);
            let mut credentials = HashMap::new();
            for (name, cred) in &suite.credentials {
                match super::step::render::render_credential(cred, &globals) {
                    Ok((header, value, secret)) => {
                        redactor.add_credential_header(value.to_str().unwrap_or(&secret));
                        credentials.insert(name.clone(), (header, value));
                    }
                    Err(e) => diagnostics.push(Diagnostic::new(
                        &suite.file,
                        Pos::UNKNOWN,
                        format!("credential `{name}`: {e}"),
                    )),
                }
            }
            contexts.insert(
                suite.file.clone(),
                SuiteContext {
                    target: target.clone(),
                    globals,
                    redactor,
                    credentials,
                },
            );
        }
        diagnostics.into_result(Runner {
            client,
            config,
            contexts,
            inbox,
        })
    }

    /// Runs the plan, sending events as it goes; returns the summary.
    pub async fn run(
        self: Arc<Self>,
        plan: Vec<PlannedCase>,
        info: RunInfo,
        events: Sender<Event>,
    ) -> RunSummary {
        let started = Instant::now();
        let _ = events.send(Event::RunStarted(info));
        let stop = Arc::new(AtomicBool::new(false));
        let mut totals = Totals::default();
        let (serial, concurrent): (Vec<PlannedCase>, Vec<PlannedCase>) =
            plan.into_iter().partition(|pc| pc.case().serial.is_some());

        // A fixed pool of `jobs` workers pulling cases from a shared index:
        // no task spawn or semaphore per case, and far fewer thread wake-ups.
        let queue = Arc::new(concurrent);
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers: JoinSet<Totals> = JoinSet::new();
        for _ in 0..self.config.jobs.max(1).min(queue.len()) {
            let (runner, queue, next) = (self.clone(), queue.clone(), next.clone());
            let (events, stop) = (events.clone(), stop.clone());
            workers.spawn(async move {
                let mut totals = Totals::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(pc) = queue.get(i) else { break };
                    totals.add(runner.execute_guarded(pc, &events, &stop).await);
                }
                totals
            });
        }
        while let Some(done) = workers.join_next().await {
            if let Ok(t) = done {
                totals.merge(t);
            }
        }
        for pc in serial {
            totals.add(self.execute_guarded(&pc, &events, &stop).await);
        }
        let summary = RunSummary {
            totals,
            duration_ms: ms(started.elapsed()),
            finished: SystemTime::now(),
            stopped_early: stop.load(Ordering::Relaxed),
        };
        let _ = events.send(Event::RunFinished(summary.clone()));
        summary
    }

    /// Runs a case; a panic inside (a bug) fails that case, not the run.
    async fn execute_guarded(
        &self,
        pc: &PlannedCase,
        events: &Sender<Event>,
        stop: &AtomicBool,
    ) -> CaseStatus {
        use futures_util::FutureExt;
        match std::panic::AssertUnwindSafe(self.execute(pc, events, stop))
            .catch_unwind()
            .await
        {
            Ok(status) => status,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let mut result = skipped_case(pc, "");
                result.status = CaseStatus::Failed;
                result.skip_reason = None;
                result.steps.push(internal_failure(
                    &pc.suite,
                    pc.case(),
                    &format!("internal error (please report it): {message}"),
                ));
                let _ = events.send(Event::CaseFinished(Box::new(result)));
                CaseStatus::Failed
            }
        }
    }

    async fn execute(
        &self,
        pc: &PlannedCase,
        events: &Sender<Event>,
        stop: &AtomicBool,
    ) -> CaseStatus {
        let case = pc.case();
        if stop.load(Ordering::Relaxed) {
            let result = skipped_case(pc, "not run: --fail-fast stopped the run after a failure");
            let _ = events.send(Event::CaseFinished(Box::new(result)));
            return CaseStatus::Skipped;
        }
        if self.config.deadline.is_some_and(|d| Instant::now() >= d) {
            let result = skipped_case(pc, "not run: --time-budget used up");
            let _ = events.send(Event::CaseFinished(Box::new(result)));
            return CaseStatus::Skipped;
        }
        if self.config.step_events {
            let _ = events.send(Event::CaseStarted {
                index: pc.index,
                name: case.name.clone(),
            });
        }
        let step_events = self.config.step_events.then_some(events);
        let result = self.run_case(pc, step_events).await;
        let status = result.status;
        if status == CaseStatus::Failed && self.config.fail_fast {
            stop.store(true, Ordering::Relaxed);
        }
        let _ = events.send(Event::CaseFinished(Box::new(result)));
        status
    }

    /// Runs one case, retrying a failure up to `--retries` times.
    pub async fn run_case(&self, pc: &PlannedCase, events: Option<&Sender<Event>>) -> CaseResult {
        let started = Instant::now();
        let mut earlier = Vec::new();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let attempt_started = Instant::now();
            let steps = self.attempt(pc, events).await;
            let failed = steps.iter().any(|s| s.outcome == StepOutcome::Failed);
            if failed && attempt <= self.config.retries {
                let failure = first_failure(&steps).unwrap_or_else(|| "failed".into());
                earlier.push(Attempt {
                    duration_ms: ms(attempt_started.elapsed()),
                    failure,
                });
                continue;
            }
            let status = match (failed, earlier.is_empty()) {
                (true, _) => CaseStatus::Failed,
                (false, true) => CaseStatus::Passed,
                (false, false) => CaseStatus::Flaky,
            };
            let case = pc.case();
            return CaseResult {
                index: pc.index,
                suite_file: pc.suite.file_display.clone(),
                suite_name: pc.suite.name.clone(),
                name: case.name.clone(),
                location: case.location.clone(),
                tags: case.tags.clone(),
                requirement: case.requirement.clone(),
                status,
                skip_reason: None,
                attempts: attempt,
                duration_ms: ms(started.elapsed()),
                steps,
                earlier_attempts: earlier,
                origin: origin_of(case),
            };
        }
    }

    async fn attempt(&self, pc: &PlannedCase, events: Option<&Sender<Event>>) -> Vec<StepResult> {
        let suite = &pc.suite;
        let case = pc.case();
        let Some(ctx) = self.contexts.get(&suite.file) else {
            return vec![internal_failure(suite, case, "suite was not prepared")];
        };
        let mut state = CaseState::default();
        for (name, vt) in &case.variables {
            match vt.render(&state.scope(ctx)) {
                Ok(v) => {
                    state.locals.insert(name.clone(), v);
                }
                Err(e) => {
                    return vec![internal_failure(
                        suite,
                        case,
                        &format!("case variable `{name}`: {e}"),
                    )];
                }
            }
        }
        let mut results = Vec::with_capacity(case.steps.len() + case.cleanup.len());
        let mut failed = false;
        for (phase, steps) in [(Phase::Main, &case.steps), (Phase::Cleanup, &case.cleanup)] {
            for step in steps.iter() {
                let mut result = if failed && phase == Phase::Main && !case.independent_steps() {
                    skipped_step(step, phase, "an earlier step failed")
                } else {
                    self.stages().run(suite, ctx, step, phase, &mut state).await
                };
                (state.redactor.as_ref().unwrap_or(&ctx.redactor)).redact_step(&mut result);
                failed |= result.outcome == StepOutcome::Failed;
                if let Some(events) = events {
                    let _ = events.send(Event::StepFinished {
                        index: pc.index,
                        step: Box::new(result.clone()),
                    });
                }
                results.push(result);
            }
        }
        results
    }

    /// What the step stages need from the runner.
    fn stages(&self) -> Stages<'_> {
        Stages {
            client: &self.client,
            config: &self.config,
            inbox: self.inbox.as_deref(),
        }
    }
}

/// Where a case comes from: generated from the spec, or a case file.
fn origin_of(case: &Case) -> Origin {
    if case.is_generated() {
        Origin::Generated
    } else {
        Origin::CaseFile
    }
}

fn first_failure(steps: &[StepResult]) -> Option<String> {
    steps
        .iter()
        .find(|s| s.outcome == StepOutcome::Failed)
        .map(|s| {
            let detail = s.error.clone().or_else(|| {
                s.checks
                    .iter()
                    .find(|c| c.outcome == CheckOutcome::Failed)
                    .map(|c| format!("{}: {}", c.name, c.message.as_deref().unwrap_or("failed")))
            });
            format!("{}: {}", s.name, detail.unwrap_or_default())
        })
}

fn skipped_step(step: &Step, phase: Phase, reason: &str) -> StepResult {
    StepResult {
        outcome: StepOutcome::Skipped,
        error: Some(format!("skipped: {reason}")),
        ..fresh_result(step, phase)
    }
}

fn internal_failure(suite: &Suite, case: &Case, message: &str) -> StepResult {
    StepResult {
        name: "setup".into(),
        phase: Phase::Main,
        location: location(&suite.file, case.pos),
        operation: String::new(),
        method_path: String::new(),
        operation_id: None,
        outcome: StepOutcome::Failed,
        error: Some(message.to_string()),
        request: None,
        response: None,
        duration_ms: 0.0,
        checks: Vec::new(),
        captures: Vec::new(),
    }
}

/// A case that did not run.
pub fn skipped_case(pc: &PlannedCase, reason: &str) -> CaseResult {
    let case = pc.case();
    CaseResult {
        index: pc.index,
        suite_file: pc.suite.file_display.clone(),
        suite_name: pc.suite.name.clone(),
        name: case.name.clone(),
        location: case.location.clone(),
        tags: case.tags.clone(),
        requirement: case.requirement.clone(),
        status: CaseStatus::Skipped,
        skip_reason: Some(reason.to_string()),
        attempts: 0,
        duration_ms: 0.0,
        steps: Vec::new(),
        earlier_attempts: Vec::new(),
        origin: origin_of(case),
    }
}
