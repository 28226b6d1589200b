//! Executing cases: render each step, send it, run the automatic checks and
//! the case's expectations, capture values, and stream events.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Instant, SystemTime};

use rustc_hash::FxHashMap;
use tokio::task::JoinSet;

use super::hooks::{self, SetupOutcome};
use super::keep_going::Gate;
use super::step::{CaseState, Stages, SuiteContext, WaitTally, fresh_result, ms};
use super::webhook::Inbox;
use super::{PlannedCase, RunConfig};
use super::{http, interrupt};
use crate::diag::{Diagnostic, Diagnostics, Pos, location};
use crate::event::{Event, RunInfo, RunSummary};
use crate::result::{
    Attempt, CaseResult, CaseStatus, CheckOutcome, Origin, Phase, StepOutcome, StepResult, Totals,
    skipped_step_reason,
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
    clients: http::Clients,
    config: RunConfig,
    /// Per-suite maps are keyed by [`suite_key`], hashed with Fx: looked
    /// up for every case, with keys from the run's own suite list.
    contexts: FxHashMap<OsString, SuiteContext>,
    inbox: Option<Arc<Inbox>>,
    /// Each suite's setup outcome, run once by the first case that needs it.
    setups: FxHashMap<OsString, tokio::sync::OnceCell<SetupOutcome>>,
    /// Rate-limit waits of every step, for the summary.
    waits: WaitTally,
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
        let client_error = |e: reqwest::Error| {
            Diagnostics::from(Diagnostic::new(
                "<http client>",
                Pos::UNKNOWN,
                e.to_string(),
            ))
        };
        let mut config = config;
        config.network.proxy.bypass = embedded_addresses(targets);
        let default = http::Clients::build(config.jobs, config.timeout, &config.network, None)
            .map_err(client_error)?;
        let tls_clients = credential_clients(suites, &config)?;
        let mut contexts = FxHashMap::default();
        let mut diagnostics = Diagnostics::default();
        let mut oauth_sources = super::oauth::Sources::default();
        for suite in suites {
            let Some(target) = targets.get(&suite.file) else {
                diagnostics.push(Diagnostic::new(
                    &suite.file,
                    Pos::UNKNOWN,
                    "no target base URL for this suite",
                ));
                continue;
            };
            let tls = tls_clients.get(&suite.file).cloned().unwrap_or_default();
            let prepared = suite_context(suite, target, external, &config, &mut oauth_sources, tls);
            match prepared {
                Ok(ctx) => drop(contexts.insert(suite_key(suite).to_owned(), ctx)),
                Err(found) => found.into_iter().for_each(|d| diagnostics.push(d)),
            }
        }
        let setups = suites
            .iter()
            .filter(|s| !s.setup.is_empty())
            .map(|s| (suite_key(s).to_owned(), tokio::sync::OnceCell::new()))
            .collect();
        diagnostics.into_result(Runner {
            clients: default,
            config,
            contexts,
            inbox,
            setups,
            waits: WaitTally::default(),
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
        let hooked = hooked_suites(&plan);
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
                // After a signal no case starts; running ones finish.
                while !interrupt::requested() {
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
        for pc in serial.iter().take_while(|_| !interrupt::requested()) {
            totals.add(self.execute_guarded(pc, &events, &stop).await);
        }
        for (suite, index) in hooked {
            for result in self.finish_suite(&suite, index).await {
                totals.add(result.status);
                let _ = events.send(Event::CaseFinished(Box::new(result)));
            }
        }
        let summary = RunSummary {
            totals,
            duration_ms: ms(started.elapsed()),
            finished: SystemTime::now(),
            stopped_early: stop.load(Ordering::Relaxed),
            interrupted: interrupt::signal().map(|s| interrupt::name(s).to_string()),
            rate_limit_waits: self.waits.totals(),
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
        if let Some(reason) = &case.skip {
            // `skip:` in the case file: shown as skipped, never as passed.
            let result = skipped_case(pc, &format!("skip: {reason}"));
            let _ = events.send(Event::CaseFinished(Box::new(result)));
            return CaseStatus::Skipped;
        }
        if self.config.step_events {
            let _ = events.send(Event::CaseStarted {
                index: pc.index,
                name: case.name.clone(),
            });
        }
        if let Some(reason) = self.setup_failure(pc).await {
            let result = skipped_case(pc, &reason);
            let _ = events.send(Event::CaseFinished(Box::new(result)));
            return CaseStatus::Skipped;
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
            if failed && attempt <= self.config.retries && !interrupt::requested() {
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
            // A skipped step means the case showed nothing: it is skipped,
            // never passed (its requirement is not verified).
            let skip_reason = (!failed).then(|| skipped_step_reason(&steps)).flatten();
            let status = if skip_reason.is_some() {
                CaseStatus::Skipped
            } else {
                status
            };
            let (status, skip_reason) = match interrupted_reason(&steps) {
                Some(why) if !failed => (CaseStatus::Interrupted, Some(why)),
                _ => (status, skip_reason),
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
                skip_reason,
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
        let Some(ctx) = self.contexts.get(suite_key(suite)) else {
            return vec![internal_failure(suite, case, "suite was not prepared")];
        };
        let mut state = match self.setup_of(suite, ctx).await {
            Some(SetupOutcome {
                failed: Some(reason),
                ..
            }) => return vec![internal_failure(suite, case, reason)],
            Some(setup) => setup.seed(),
            None => CaseState::default(),
        };
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
        let mut gate = Gate::default();
        let width = super::fanout::width(case, self.config.jobs);
        let mut ahead = if width > 1 {
            let stages = self.stages();
            super::fanout::run_main(&stages, suite, ctx, &case.steps, &mut state, width).await
        } else {
            Vec::new()
        };
        for (phase, steps) in [(Phase::Main, &case.steps), (Phase::Cleanup, &case.cleanup)] {
            for (i, step) in steps.iter().enumerate() {
                let ran = match phase {
                    Phase::Main => ahead.get_mut(i).and_then(Option::take),
                    _ => None,
                };
                let mut result = match (ran, gate.hold(step, phase, case.stop_on_failure)) {
                    (Some(done), _) => done,
                    (None, Some(reason)) => skipped_step(step, phase, &reason),
                    (None, None) if phase == Phase::Main && interrupt::requested() => {
                        interrupted_step(step)
                    }
                    (None, None) => self.stages().run(suite, ctx, step, phase, &mut state).await,
                };
                super::step::redact_step(state.redactor(ctx), &mut result);
                if phase == Phase::Main {
                    gate.after(step, i + 1, result.outcome, |v| {
                        state.locals.contains_key(v)
                    });
                }
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

    /// The suite's setup outcome, running the setup if no case has yet;
    /// `None` when the suite has no setup.
    async fn setup_of(&self, suite: &Suite, ctx: &SuiteContext) -> Option<&SetupOutcome> {
        let cell = self.setups.get(suite_key(suite))?;
        Some(
            cell.get_or_init(|| async {
                let stages = self.stages();
                hooks::setup(&stages, suite, ctx).await
            })
            .await,
        )
    }

    /// Why a case is skipped because its suite's setup failed.
    async fn setup_failure(&self, pc: &PlannedCase) -> Option<String> {
        let ctx = self.contexts.get(suite_key(&pc.suite))?;
        self.setup_of(&pc.suite, ctx).await?.failed.clone()
    }

    /// After the last case: a failed setup's result (its steps), then the
    /// teardown, seeded with what setup captured; a teardown result only
    /// when it failed. `index` numbers the results after the plan's cases.
    async fn finish_suite(&self, suite: &Suite, index: usize) -> Vec<CaseResult> {
        let Some(ctx) = self.contexts.get(suite_key(suite)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let setup = match self.setups.get(suite_key(suite)).and_then(|c| c.get()) {
            Some(s) => {
                if s.failed.is_some() {
                    out.push(hooks::hook_case(
                        suite,
                        "suite setup",
                        index,
                        s.steps.clone(),
                    ));
                }
                s.seed()
            }
            None => CaseState::default(),
        };
        let mut state = setup;
        let steps = &suite.teardown;
        let results = hooks::run_steps(
            &self.stages(),
            suite,
            ctx,
            steps,
            Phase::Cleanup,
            &mut state,
        )
        .await;
        if results.iter().any(|r| r.outcome == StepOutcome::Failed) {
            out.push(hooks::hook_case(
                suite,
                "suite teardown",
                index + 1,
                results,
            ));
        }
        out
    }

    /// What the step stages need from the runner.
    fn stages(&self) -> Stages<'_> {
        Stages {
            clients: &self.clients,
            config: &self.config,
            inbox: self.inbox.as_deref(),
            waits: &self.waits,
        }
    }

    /// The run's TLS and proxy settings (as resolved for this run's targets).
    pub fn network(&self) -> &http::Network {
        &self.config.network
    }
}

/// One suite's variables, redactor and rendered credentials; every
/// problem found, as diagnostics naming the suite file.
fn suite_context(
    suite: &Suite,
    target: &Target,
    external: &ExternalVars,
    config: &RunConfig,
    oauth_sources: &mut super::oauth::Sources,
    tls_clients: HashMap<String, http::Clients>,
) -> Result<SuiteContext, Vec<Diagnostic>> {
    let problem = |message: String| Diagnostic::new(&suite.file, Pos::UNKNOWN, message);
    let globals =
        resolve_globals(suite, external).map_err(|e| vec![problem(format!("variables: {e}"))])?;
    let mut redactor = Redactor::for_suite(
        &globals,
        &suite.secrets,
        &external.secrets,
        &external.values,
        &target.base_url,
    );
    // Proxy passwords never reach a report either.
    for p in config.network.proxy.urls() {
        redactor.add_url_userinfo(p.url.as_str());
    }
    let mut credentials = FxHashMap::default();
    let mut oauth = FxHashMap::default();
    let mut problems = Vec::new();
    for (name, cred) in &suite.credentials {
        if let crate::suite::Credential::OAuth2(o) = cred {
            match oauth_sources.source(o, &globals, &mut redactor) {
                Ok(source) => drop(oauth.insert(name.clone(), source)),
                Err(e) => problems.push(problem(format!("credential `{name}`: {e}"))),
            }
            continue;
        }
        match super::step::render::render_credential(cred, &globals) {
            Ok((header, value, secret)) => {
                redactor.add_credential_header(value.to_str().unwrap_or(&secret));
                credentials.insert(name.clone(), (header, value));
            }
            Err(e) => problems.push(problem(format!("credential `{name}`: {e}"))),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SuiteContext {
        target: target.clone(),
        globals,
        redactor,
        credentials,
        tls_clients,
        oauth,
    })
}

/// The key of a suite's per-run state: its file's bytes. Hashing a `Path`
/// walks its components, and every case looks its suite up.
fn suite_key(suite: &Suite) -> &OsStr {
    suite.file.as_os_str()
}

/// `host:port` of every embedded reference server: never proxied.
fn embedded_addresses(targets: &HashMap<PathBuf, Target>) -> Vec<(String, u16)> {
    targets
        .values()
        .filter(|t| t.note.is_some())
        .filter_map(|t| url::Url::parse(&t.base_url).ok())
        .filter_map(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)))
        .collect()
}

/// Clients for the credentials that carry their own client certificate,
/// by suite file and credential name: one pair per distinct certificate
/// and key, built once for the run and shared (pooled) by every step.
fn credential_clients(
    suites: &[Arc<Suite>],
    config: &RunConfig,
) -> Result<HashMap<PathBuf, HashMap<String, http::Clients>>, Diagnostics> {
    let mut pool: HashMap<(PathBuf, PathBuf), http::Clients> = HashMap::new();
    let mut out: HashMap<PathBuf, HashMap<String, http::Clients>> = HashMap::new();
    for suite in suites {
        for (name, cert) in &suite.client_certs {
            let key = cert.pool_key();
            let clients = match pool.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let c = http::Clients::build(
                        config.jobs,
                        config.timeout,
                        &config.network,
                        Some(cert),
                    )
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::new(
                            &suite.file,
                            Pos::UNKNOWN,
                            format!(
                                "credential `{name}`: client certificate {}: {e}",
                                cert.cert.display()
                            ),
                        ))
                    })?;
                    pool.insert(key, c.clone());
                    c
                }
            };
            out.entry(suite.file.clone())
                .or_default()
                .insert(name.clone(), clients);
        }
    }
    Ok(out)
}

/// Suites of the plan with setup or teardown, each with the first result
/// index after the plan's cases for its hook results (two per suite).
fn hooked_suites(plan: &[PlannedCase]) -> Vec<(Arc<Suite>, usize)> {
    let mut out: Vec<(Arc<Suite>, usize)> = Vec::new();
    let base = plan.iter().map(|p| p.index + 1).max().unwrap_or(0);
    for pc in plan {
        let s = &pc.suite;
        let hooked = !s.setup.is_empty() || !s.teardown.is_empty();
        if hooked && !out.iter().any(|(o, _)| Arc::ptr_eq(o, s)) {
            let index = base + 2 * out.len();
            out.push((s.clone(), index));
        }
    }
    out
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

/// A step held back; `reason` starts with `skipped:`.
fn skipped_step(step: &Step, phase: Phase, reason: &str) -> StepResult {
    StepResult {
        outcome: StepOutcome::Skipped,
        error: Some(reason.to_string()),
        ..fresh_result(step, phase)
    }
}

/// A main step not run because a signal stopped the run (cleanup still runs).
fn interrupted_step(step: &Step) -> StepResult {
    let signal = interrupt::signal().map_or("a signal", interrupt::name);
    StepResult {
        outcome: StepOutcome::Interrupted,
        error: Some(format!("not run: the run was interrupted ({signal})")),
        ..fresh_result(step, Phase::Main)
    }
}

/// `interrupted (SIGINT) before step `x``, when a step did not run for it.
fn interrupted_reason(steps: &[StepResult]) -> Option<String> {
    let step = steps
        .iter()
        .find(|s| s.outcome == StepOutcome::Interrupted)?;
    let signal = interrupt::signal().map_or("a signal", interrupt::name);
    Some(format!(
        "interrupted ({signal}) before step `{}`; cleanup ran",
        step.name
    ))
}

fn internal_failure(suite: &Suite, case: &Case, message: &str) -> StepResult {
    StepResult {
        name: "setup".into(),
        phase: Phase::Main,
        location: location(&suite.file, case.pos).into(),
        operation: "".into(),
        method_path: "".into(),
        operation_id: None,
        outcome: StepOutcome::Failed,
        error: Some(message.to_string()),
        request: None,
        response: None,
        duration_ms: 0.0,
        checks: Vec::new(),
        captures: Vec::new(),
        notes: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(header: &str) -> Suite {
        let dir = std::env::temp_dir().join(format!("apiconform-context-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let spec =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pets-api.yaml");
        let file = dir.join(format!("{}.yaml", header.len()));
        let text = format!(
            "spec: {}\nname: ctx\n{header}cases:\n  - name: c\n    steps:\n      - request: GET /pets\n",
            spec.display()
        );
        std::fs::write(&file, text).expect("write");
        let mut specs = HashMap::new();
        crate::suite::load::load_file(&file, &Default::default(), &mut specs).expect("loads")
    }

    fn target() -> Target {
        Target {
            base_url: "http://127.0.0.1:9".into(),
            note: None,
        }
    }

    #[test]
    fn a_suite_context_renders_its_credentials_and_redacts_their_secrets() {
        let suite = suite(
            "variables:\n  token: s3cr3t-t0ken-value\ncredentials:\n  app: {bearer: \"{{ token }}\"}\n",
        );
        let config = RunConfig::default();
        let ctx = suite_context(
            &suite,
            &target(),
            &ExternalVars::default(),
            &config,
            &mut Default::default(),
            HashMap::new(),
        )
        .expect("context");
        let (name, value) = ctx.credentials.get("app").expect("credential rendered");
        assert_eq!(name.as_str(), "authorization");
        assert_eq!(value.to_str().ok(), Some("Bearer s3cr3t-t0ken-value"));
        let shown = ctx.redactor.redact("sent s3cr3t-t0ken-value");
        assert!(!shown.contains("s3cr3t-t0ken-value"), "{shown}");
    }

    #[test]
    fn every_credential_that_cannot_be_rendered_is_named_in_its_own_diagnostic() {
        let suite = suite(
            "credentials:\n  one: {bearer: \"{{ env.APICONFORM_TEST_UNSET_ONE }}\"}\n  two: {bearer: \"{{ env.APICONFORM_TEST_UNSET_TWO }}\"}\n",
        );
        let found = suite_context(
            &suite,
            &target(),
            &ExternalVars::default(),
            &RunConfig::default(),
            &mut Default::default(),
            HashMap::new(),
        )
        .err()
        .expect("both credentials fail");
        let messages: Vec<String> = found.iter().map(|d| d.message.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("credential `one`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("credential `two`")),
            "{messages:?}"
        );
    }
}
