//! One step as a sequence of small stages over one [`StepCx`]:
//! render (templates, credentials) -> send (a webhook step receives
//! instead) -> observe (automatic checks from the registry, captures,
//! expectations, snapshot) -> record (redaction, request/response records).
//! Request and webhook steps share observe and record.
//!
//! The input is a compiled [`Step`], not YAML: a step built in code
//! ([`Step::request`]) runs exactly like one loaded from a case file.

mod observe;
mod ratewait;
mod receive;
mod record;

pub(crate) use ratewait::WaitTally;
pub(crate) use record::redact_step;
pub mod render;
mod reproduce;
mod request;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::webhook::Inbox;
use super::{RunConfig, Target};
use crate::result::{Phase, StepOutcome, StepResult};
use crate::suite::template::Layered;
use crate::suite::vars::Redactor;
use crate::suite::{Step, StepKind, Suite};

/// Per-suite state computed once: target, variables, credentials, secrets.
pub(super) struct SuiteContext {
    pub target: Target,
    pub globals: HashMap<String, Value>,
    pub redactor: Redactor,
    /// Rendered credentials: header name and value. Looked up on every
    /// step, so hashed with Fx (keys are the suite's own names).
    pub credentials: FxHashMap<String, (HeaderName, HeaderValue)>,
    /// Clients presenting a credential's own client certificate (`tls:`),
    /// by credential name; shared by every suite with the same files.
    pub tls_clients: HashMap<String, super::http::Clients>,
    /// OAuth2 credentials: the run's shared token source of each.
    pub oauth: FxHashMap<String, std::sync::Arc<super::oauth::TokenSource>>,
}

/// Mutable per-attempt state of a case: its variables and captures.
#[derive(Default)]
pub(super) struct CaseState {
    /// Looked up by every template and capture of a step: Fx-hashed
    /// (the keys are the case's own variable names).
    pub locals: FxHashMap<String, Value>,
    /// The suite's redactor plus secret captures, once there are any.
    pub redactor: Option<Redactor>,
    /// A generated chain's earlier exchanges, for the stateful checks.
    pub history: Vec<crate::check::Prior>,
}

impl CaseState {
    /// Variables as templates see them: the case's over the suite's.
    pub fn scope<'s>(&'s self, ctx: &'s SuiteContext) -> Layered<'s> {
        Layered {
            local: &self.locals,
            shared: &ctx.globals,
        }
    }

    /// The redactor for this case so far (secret captures included).
    pub fn redactor<'s>(&'s self, ctx: &'s SuiteContext) -> &'s Redactor {
        self.redactor.as_ref().unwrap_or(&ctx.redactor)
    }

    /// Stores a captured value; a secret one joins the redactor.
    pub fn store(&mut self, name: String, value: Value, secret: bool, base: &Redactor) {
        if secret {
            let r = self.redactor.get_or_insert_with(|| base.clone());
            r.add_value_named(&name, &value);
        }
        self.locals.insert(name, value);
    }
}

/// What the stages need from the runner: the client, the settings and
/// the webhook inbox.
pub(super) struct Stages<'a> {
    pub clients: &'a super::http::Clients,
    pub config: &'a RunConfig,
    pub inbox: Option<&'a Inbox>,
    /// The run's count of rate-limit waits, for the summary.
    pub waits: &'a WaitTally,
}

/// What every stage of one step reads and fills in.
pub(super) struct StepCx<'a> {
    pub suite: &'a Suite,
    pub ctx: &'a SuiteContext,
    pub step: &'a Step,
    pub phase: Phase,
    pub started: Instant,
    pub result: StepResult,
}

impl StepCx<'_> {
    /// Ends the step as failed with a message (no response to check).
    pub fn fail(&mut self, message: String) {
        self.result.outcome = StepOutcome::Failed;
        self.result.error = Some(message);
    }

    /// Ends the step as skipped, saying why.
    pub fn skip(&mut self, reason: String) {
        self.result.outcome = StepOutcome::Skipped;
        self.result.error = Some(reason);
    }
}

impl Stages<'_> {
    /// Runs one compiled step through its stages.
    pub async fn run(
        &self,
        suite: &Suite,
        ctx: &SuiteContext,
        step: &Step,
        phase: Phase,
        state: &mut CaseState,
    ) -> StepResult {
        let mut cx = StepCx {
            suite,
            ctx,
            step,
            phase,
            started: Instant::now(),
            result: fresh_result(step, phase),
        };
        match &step.kind {
            StepKind::Request(req) => request::run(self, &mut cx, req, state).await,
            StepKind::Webhook(hook) => receive::run(self, &mut cx, hook, state).await,
        }
        cx.result.duration_ms = ms(cx.started.elapsed());
        cx.result
    }
}

/// A passed, empty result for a step; the stages fill it in.
pub(super) fn fresh_result(step: &Step, phase: Phase) -> StepResult {
    StepResult {
        name: step.name.clone(),
        phase,
        location: step.location.clone(),
        operation: step.operation.clone(),
        method_path: step.method_path.clone(),
        operation_id: step.operation_id,
        outcome: StepOutcome::Passed,
        error: None,
        request: None,
        response: None,
        duration_ms: 0.0,
        checks: Vec::new(),
        captures: Vec::new(),
        notes: Vec::new(),
    }
}

/// Milliseconds as reports show them.
pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
