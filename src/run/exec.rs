//! Executing cases: render each step, send it, run the automatic checks and
//! the case's expectations, capture values, and stream events.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::task::JoinSet;

use super::http::{self, HttpResponse};
use super::webhook::Inbox;
use super::{PlannedCase, Record, RunConfig};
use crate::check::{self, Exchange, Outcome};
use crate::diag::{Diagnostic, Diagnostics, Pos, location};
use crate::report::{Event, RunInfo, RunSummary};
use crate::result::{
    Attempt, CaseResult, CaseStatus, CheckOutcome, CheckResult, Phase, RequestRecord,
    ResponseRecord, StepOutcome, StepResult, Totals,
};
use crate::suite::template::{Layered, RenderError, Scope, ValueTemplate};
use crate::suite::vars::{ExternalVars, REDACTED, Redactor, resolve_globals};
use crate::suite::{
    Body, BodyAssertion, Capture, CaptureSource, Case, Credential, PathPart, RequestStep, Step,
    StepKind, Suite, WebhookStep,
};

/// Where a suite's requests go.
#[derive(Debug, Clone)]
pub struct Target {
    pub base_url: String,
    /// E.g. `embedded enablenow reference server`.
    pub note: Option<String>,
}

/// Per-suite state computed once: variables, credentials, secrets.
struct SuiteContext {
    target: Target,
    globals: HashMap<String, Value>,
    redactor: Redactor,
    /// Rendered credentials: header name and value.
    credentials: HashMap<String, (reqwest::header::HeaderName, HeaderValue)>,
}

/// Executes planned cases. Shared by all case tasks.
pub struct Runner {
    client: reqwest::Client,
    config: RunConfig,
    contexts: HashMap<PathBuf, SuiteContext>,
    inbox: Option<Arc<Inbox>>,
}

/// Bytes of a body kept in reports.
const BODY_EXCERPT: usize = 4096;

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
                match render_credential(cred, &globals) {
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
            };
        }
    }

    async fn attempt(&self, pc: &PlannedCase, events: Option<&Sender<Event>>) -> Vec<StepResult> {
        let suite = &pc.suite;
        let case = pc.case();
        let Some(ctx) = self.contexts.get(&suite.file) else {
            return vec![internal_failure(suite, case, "suite was not prepared")];
        };
        let mut state = CaseState {
            locals: HashMap::new(),
            redactor: None,
        };
        for (name, vt) in &case.variables {
            let scope = Layered {
                local: &state.locals,
                shared: &ctx.globals,
            };
            match vt.render(&scope) {
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
                let mut result = if failed && phase == Phase::Main {
                    skipped_step(step, phase, "an earlier step failed")
                } else {
                    self.step(suite, ctx, step, phase, &mut state).await
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

    async fn step(
        &self,
        suite: &Suite,
        ctx: &SuiteContext,
        step: &Step,
        phase: Phase,
        state: &mut CaseState,
    ) -> StepResult {
        match &step.kind {
            StepKind::Request(req) => self.request_step(suite, ctx, step, req, phase, state).await,
            StepKind::Webhook(hook) => {
                self.webhook_step(suite, ctx, step, hook, phase, state)
                    .await
            }
        }
    }

    async fn request_step(
        &self,
        suite: &Suite,
        ctx: &SuiteContext,
        step: &Step,
        req: &RequestStep,
        phase: Phase,
        state: &mut CaseState,
    ) -> StepResult {
        let started = Instant::now();
        let spec = &suite.spec;
        let op = &spec.operations[req.operation];
        let mut result = step_result(step, phase);
        result.checks = Vec::with_capacity(check::REGISTRY.len() + 2 + req.expect.body.len());
        let redactor = state.redactor.as_ref().unwrap_or(&ctx.redactor);

        // Render the request.
        let rendered = {
            let scope = Layered {
                local: &state.locals,
                shared: &ctx.globals,
            };
            render_request(&ctx.target.base_url, req, &scope)
        };
        let rendered = match rendered {
            Ok(r) => r,
            Err(e) => {
                let missing_capture =
                    matches!(e, RenderError::Undefined(_)) && phase == Phase::Cleanup;
                result.outcome = if missing_capture {
                    StepOutcome::Skipped
                } else {
                    StepOutcome::Failed
                };
                result.error = Some(if missing_capture {
                    format!("skipped: {e} (an earlier step did not capture it)")
                } else {
                    e.to_string()
                });
                result.duration_ms = ms(started.elapsed());
                return result;
            }
        };
        let mut builder = self
            .client
            .request(req.method.clone(), rendered.url.as_str());
        let mut sent_headers: Vec<(String, String)> = Vec::new();
        let record_all = self.config.record == Record::Everything;
        for (name, value) in &rendered.headers {
            builder = builder.header(name, value.as_str());
            if record_all {
                sent_headers.push((name.to_string(), redactor.redact(value).into_owned()));
            }
        }
        if let Some((name, value)) = req.credential.as_ref().and_then(|c| ctx.credentials.get(c)) {
            builder = builder.header(name.clone(), value.clone());
            if record_all {
                sent_headers.push((name.to_string(), REDACTED.to_string()));
            }
        }
        if let Some((bytes, content_type)) = rendered.body.clone() {
            builder = builder.header(CONTENT_TYPE, content_type).body(bytes);
        }
        let response = http::send(builder, self.config.timeout, self.config.max_body_size).await;
        let response = match response {
            Ok(r) => r,
            Err(message) => {
                result.outcome = StepOutcome::Failed;
                result.error = Some(redactor.redact(&message).into_owned());
                result.request = Some(request_record(
                    &req.method,
                    redactor,
                    true,
                    &sent_headers,
                    &rendered,
                ));
                result.duration_ms = ms(started.elapsed());
                return result;
            }
        };

        let json = parse_json(&response, step_needs_json(step, req));
        let exchange = Exchange {
            spec,
            operation: op,
            request_body: rendered.json_body.as_deref(),
            expects_success: req.expect.status.as_ref().is_none_or(|s| {
                s.0.iter().all(|p| match p {
                    crate::suite::model::StatusPattern::Code(c) => *c < 400,
                    crate::suite::model::StatusPattern::Class(d) => *d < 4,
                })
            }),
            status: response.status,
            headers: &response.headers,
            json: json.as_ref(),
        };
        for (i, def) in check::REGISTRY.iter().enumerate() {
            if !step.checks.contains(i) || !self.config.check_mask.contains(i) {
                continue;
            }
            result.checks.push(match (def.run)(&exchange) {
                Outcome::Pass => CheckResult::passed(def.name),
                Outcome::Skip(reason) => CheckResult::skipped(def.name, reason),
                Outcome::Fail(findings) => {
                    let mut c = CheckResult::failed(
                        def.name,
                        findings
                            .first()
                            .map(|f| f.message.clone())
                            .unwrap_or_default(),
                    );
                    c.findings = findings;
                    c
                }
            });
        }

        // Captures first, so this step's own expectations and snapshot can
        // relate two fields of the response (e.g. a url containing the id).
        let mut new_captures = Vec::new();
        capture(
            &mut result,
            suite,
            &step.captures,
            json.as_ref(),
            Some(&response.headers),
            &mut new_captures,
        );
        state.apply(new_captures, &ctx.redactor);
        let redactor = state.redactor.as_ref().unwrap_or(&ctx.redactor);
        let scope = Layered {
            local: &state.locals,
            shared: &ctx.globals,
        };
        expectations(&mut result, suite, req, &response, json.as_ref(), &scope);
        if let Some(snap) = &step.snapshot {
            let value = match json.as_ref() {
                Some(Ok(v)) => Some(v),
                _ => None,
            };
            result.checks.push(crate::snapshot::check(
                &self.config.snapshots,
                suite,
                step,
                snap,
                value,
                &scope,
                redactor,
            ));
        }

        let failed = result
            .checks
            .iter()
            .any(|c| c.outcome == CheckOutcome::Failed);
        if failed {
            result.outcome = StepOutcome::Failed;
        }
        let full = record_all || failed;
        result.request = Some(request_record(
            &req.method,
            redactor,
            full,
            &sent_headers,
            &rendered,
        ));
        result.response = Some(ResponseRecord {
            status: response.status,
            headers: if full {
                header_list(&response.headers, redactor)
            } else {
                Vec::new()
            },
            body: if full && !response.body.is_empty() {
                Some(redactor.redact(&excerpt_bytes(&response.body)).into_owned())
            } else {
                None
            },
            size: response.body.len(),
        });
        for (_, v) in &mut result.captures {
            redactor.redact_value(v);
        }
        for c in &mut result.checks {
            if let Some(m) = &mut c.message
                && let std::borrow::Cow::Owned(r) = redactor.redact(m)
            {
                *m = r;
            }
        }
        result.duration_ms = ms(started.elapsed());
        result
    }

    async fn webhook_step(
        &self,
        suite: &Suite,
        ctx: &SuiteContext,
        step: &Step,
        hook: &WebhookStep,
        phase: Phase,
        state: &mut CaseState,
    ) -> StepResult {
        let started = Instant::now();
        let mut result = step_result(step, phase);
        let Some(inbox) = &self.inbox else {
            result.outcome = StepOutcome::Skipped;
            result.error = Some(
                "skipped: no webhook listener (run with --webhook-listen ADDR and make the target deliver there)".into(),
            );
            return result;
        };
        let delivery = {
            let scope = Layered {
                local: &state.locals,
                shared: &ctx.globals,
            };
            let event = hook.event.as_str();
            let matches = |body: &Value| {
                let name = body
                    .get("event")
                    .or_else(|| body.get("type"))
                    .and_then(Value::as_str);
                name == Some(event)
                    && hook
                        .matchers
                        .iter()
                        .all(|a| assertion(a, body, &scope).is_ok())
            };
            inbox
                .wait_for(matches, Duration::from_millis(hook.timeout_ms))
                .await
        };
        let Some(delivery) = delivery else {
            result.outcome = StepOutcome::Failed;
            let wanted: Vec<&str> = hook.matchers.iter().map(|a| a.source.as_str()).collect();
            result.error = Some(format!(
                "no `{}` webhook matching {} arrived within {} ms ({} deliveries received in this run)",
                hook.event,
                wanted.join(", "),
                hook.timeout_ms,
                inbox.len()
            ));
            result.duration_ms = ms(started.elapsed());
            return result;
        };
        if let Some(op) = hook.operation.map(|i| &suite.spec.operations[i])
            && step.checks.is_enabled("response_schema_conformance")
            && self
                .config
                .check_mask
                .is_enabled("response_schema_conformance")
        {
            let schema = op
                .request_body
                .as_ref()
                .and_then(|b| b.content.iter().find(|m| crate::spec::is_json(&m.name)))
                .and_then(|m| m.schema);
            if let Some(schema) = schema {
                let name = "webhook_schema_conformance";
                result.checks.push(
                    match check::validate_schema(
                        &suite.spec,
                        schema,
                        &delivery.body,
                        "webhook body",
                    ) {
                        Outcome::Fail(findings) => {
                            let mut c = CheckResult::failed(name, findings[0].message.clone());
                            c.findings = findings;
                            c
                        }
                        _ => CheckResult::passed(name),
                    },
                );
            }
        }
        {
            let scope = Layered {
                local: &state.locals,
                shared: &ctx.globals,
            };
            for a in &hook.expect {
                let name = "expect.webhook";
                let loc = Some(location(&suite.file, a.matcher.pos));
                result
                    .checks
                    .push(match assertion(a, &delivery.body, &scope) {
                        Ok(()) => CheckResult::passed(name).at(loc),
                        Err(m) => CheckResult::failed(name, m).at(loc),
                    });
            }
        }
        let mut new_captures = Vec::new();
        let parsed = Ok(delivery.body.clone());
        capture(
            &mut result,
            suite,
            &step.captures,
            Some(&parsed),
            None,
            &mut new_captures,
        );
        state.apply(new_captures, &ctx.redactor);
        let redactor = state.redactor.as_ref().unwrap_or(&ctx.redactor);
        if result
            .checks
            .iter()
            .any(|c| c.outcome == CheckOutcome::Failed)
        {
            result.outcome = StepOutcome::Failed;
        }
        let mut body = delivery.body.clone();
        redactor.redact_value(&mut body);
        result.request = Some(RequestRecord {
            method: "POST".into(),
            url: delivery.path.clone(),
            headers: Vec::new(),
            body: Some(check::excerpt(&body, 60, BODY_EXCERPT)),
        });
        result.duration_ms = ms(started.elapsed());
        result
    }
}

/// Mutable per-attempt state of a case.
struct CaseState {
    locals: HashMap<String, Value>,
    /// The suite's redactor plus secret captures, once there are any.
    redactor: Option<Redactor>,
}

impl CaseState {
    fn apply(&mut self, captures: Vec<(String, Value, bool)>, base: &Redactor) {
        for (name, value, secret) in captures {
            if secret {
                let r = self.redactor.get_or_insert_with(|| base.clone());
                r.add_value(&value);
            }
            self.locals.insert(name, value);
        }
    }
}

/// A step's request with every template rendered (public for benchmarks).
pub struct RenderedRequest<'a> {
    pub url: String,
    pub headers: Vec<(reqwest::header::HeaderName, String)>,
    pub json_body: Option<std::borrow::Cow<'a, Value>>,
    pub body: Option<(bytes::Bytes, String)>,
}

/// Characters escaped in a path parameter value.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'|')
    .remove(b'@')
    .remove(b':');

/// Renders a step's URL, headers and body against a scope.
pub fn render_request<'a>(
    base_url: &str,
    req: &'a RequestStep,
    scope: &dyn Scope,
) -> Result<RenderedRequest<'a>, RenderError> {
    let mut url = String::with_capacity(base_url.len() + 64);
    url.push_str(base_url.trim_end_matches('/'));
    for part in &req.path {
        match part {
            PathPart::Literal(s) => url.push_str(s),
            PathPart::Param(_, vt) => {
                let v = vt.render_string(scope)?;
                url.extend(percent_encoding::utf8_percent_encode(&v, SEGMENT));
            }
        }
    }
    if !req.query.is_empty() {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, vt) in &req.query {
            match vt.render(scope)? {
                Value::Array(items) => {
                    for item in items {
                        pairs.append_pair(name, &plain(&item));
                    }
                }
                Value::Null => {}
                other => {
                    pairs.append_pair(name, &plain(&other));
                }
            }
        }
        let q = pairs.finish();
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q);
        }
    }
    let mut headers = Vec::with_capacity(req.headers.len());
    for (name, vt) in &req.headers {
        headers.push((name.clone(), vt.render_string(scope)?));
    }
    let (json_body, body) = match &req.body {
        None => (None, None),
        Some(Body::Json(ValueTemplate::Static(v), ct, Some(bytes))) => {
            (Some(Cow::Borrowed(v)), Some((bytes.clone(), ct.clone())))
        }
        Some(Body::Json(vt, ct, _)) => {
            let v = vt.render(scope)?;
            let bytes = bytes::Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
            (Some(Cow::Owned(v)), Some((bytes, ct.clone())))
        }
        Some(Body::Raw(t, ct)) => (
            None,
            Some((
                bytes::Bytes::from(t.render_string(scope)?.into_bytes()),
                ct.clone(),
            )),
        ),
    };
    Ok(RenderedRequest {
        url,
        headers,
        json_body,
        body,
    })
}

fn request_record(
    method: &reqwest::Method,
    redactor: &Redactor,
    all: bool,
    headers: &[(String, String)],
    rendered: &RenderedRequest,
) -> RequestRecord {
    RequestRecord {
        method: method.to_string(),
        url: redactor.redact(&rendered.url).into_owned(),
        headers: if all { headers.to_vec() } else { Vec::new() },
        body: if all {
            rendered
                .body
                .as_ref()
                .map(|(b, _)| redactor.redact(&excerpt_bytes(b)).into_owned())
        } else {
            None
        },
    }
}

/// A JSON value as query/header text: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render_credential(
    cred: &Credential,
    globals: &HashMap<String, Value>,
) -> Result<(reqwest::header::HeaderName, HeaderValue, String), String> {
    let (name, text, secret) = match cred {
        Credential::Bearer(t) => {
            let token = t.render_string(globals).map_err(|e| e.to_string())?;
            (AUTHORIZATION, format!("Bearer {token}"), token)
        }
        Credential::Basic(u, p) => {
            use base64::Engine as _;
            let user = u.render_string(globals).map_err(|e| e.to_string())?;
            let pass = p.render_string(globals).map_err(|e| e.to_string())?;
            (
                AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                ),
                pass,
            )
        }
        Credential::Header(h, t) => {
            let value = t.render_string(globals).map_err(|e| e.to_string())?;
            let name =
                reqwest::header::HeaderName::from_bytes(h.as_bytes()).map_err(|e| e.to_string())?;
            (name, value.clone(), value)
        }
    };
    let mut value = HeaderValue::from_str(&text)
        .map_err(|_| "value is not a valid header value".to_string())?;
    value.set_sensitive(true);
    Ok((name, value, secret))
}

fn step_needs_json(step: &Step, req: &RequestStep) -> bool {
    !req.expect.body.is_empty() || !step.captures.is_empty() || step.snapshot.is_some()
}

/// Parses the body as JSON when it is JSON (or the step needs it).
fn parse_json(response: &HttpResponse, needed: bool) -> Option<Result<Value, String>> {
    if response.body.is_empty() {
        return None;
    }
    let json_type = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::spec::is_json);
    if !json_type && !needed {
        return None;
    }
    Some(serde_json::from_slice::<Value>(&response.body).map_err(|e| e.to_string()))
}

fn assertion(a: &BodyAssertion, body: &Value, scope: &dyn Scope) -> Result<(), String> {
    let selected = a.path.select(body, scope)?;
    a.matcher.check_selection(&a.source, &selected, scope)
}

fn expectations(
    result: &mut StepResult,
    suite: &Suite,
    req: &RequestStep,
    response: &HttpResponse,
    json: Option<&Result<Value, String>>,
    scope: &dyn Scope,
) {
    let expect = &req.expect;
    let status_loc = expect
        .status_pos
        .is_known()
        .then(|| location(&suite.file, expect.status_pos));
    let status_ok = match &expect.status {
        Some(spec) => spec.matches(response.status),
        None => (200..300).contains(&response.status),
    };
    result.checks.push(if status_ok {
        CheckResult::passed("expect.status").at(status_loc)
    } else {
        let wanted = expect
            .status
            .as_ref()
            .map_or("2xx".to_string(), ToString::to_string);
        CheckResult::failed(
            "expect.status",
            format!("expected status {wanted}, got {}", response.status),
        )
        .at(status_loc)
    });
    for (name, matcher) in &expect.headers {
        let values: Vec<Value> = response
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let selected: Vec<&Value> = values.iter().collect();
        let check = "expect.header";
        let loc = Some(location(&suite.file, matcher.pos));
        result.checks.push(
            match matcher.check_selection(&format!("header {name}"), &selected, scope) {
                Ok(()) => CheckResult::passed(check).at(loc),
                Err(m) => CheckResult::failed(check, m).at(loc),
            },
        );
    }
    if !expect.body.is_empty() {
        match json {
            Some(Ok(body)) => {
                for a in &expect.body {
                    let loc = Some(location(&suite.file, a.matcher.pos));
                    let name = "expect.body";
                    result.checks.push(match assertion(a, body, scope) {
                        Ok(()) => CheckResult::passed(name).at(loc),
                        Err(m) => CheckResult::failed(name, m).at(loc),
                    });
                }
            }
            other => {
                let why = match other {
                    Some(Err(e)) => format!("body is not JSON: {e}"),
                    _ => "body is empty".to_string(),
                };
                for a in &expect.body {
                    let loc = Some(location(&suite.file, a.matcher.pos));
                    result.checks.push(
                        CheckResult::failed("expect.body", format!("{}: {why}", a.source)).at(loc),
                    );
                }
            }
        }
    }
    if let Some(max) = expect.max_time_ms {
        let took = response.elapsed.as_millis();
        result.checks.push(if took <= u128::from(max) {
            CheckResult::passed("expect.max_time_ms")
        } else {
            CheckResult::failed(
                "expect.max_time_ms",
                format!("took {took} ms, more than {max} ms"),
            )
        });
    }
}

fn capture(
    result: &mut StepResult,
    suite: &Suite,
    captures: &[Capture],
    json: Option<&Result<Value, String>>,
    headers: Option<&HeaderMap>,
    out: &mut Vec<(String, Value, bool)>,
) {
    for c in captures {
        let value = match &c.source {
            CaptureSource::Body(src, path) => match json {
                Some(Ok(body)) => match path.query(body).all().as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(format!("{src} selects nothing")),
                    many => Ok(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
                },
                Some(Err(e)) => Err(format!("body is not JSON: {e}")),
                None => Err("body is empty".to_string()),
            },
            CaptureSource::Header(name) => match headers.and_then(|h| h.get(name.as_str())) {
                Some(v) => Ok(Value::String(
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )),
                None => Err(format!("no `{name}` header")),
            },
        };
        match value {
            Ok(v) => {
                result.captures.push((
                    c.name.clone(),
                    if c.secret {
                        Value::String(REDACTED.into())
                    } else {
                        v.clone()
                    },
                ));
                out.push((c.name.clone(), v, c.secret));
            }
            Err(m) => {
                let loc = Some(location(&suite.file, c.pos));
                result
                    .checks
                    .push(CheckResult::failed(format!("capture {}", c.name), m).at(loc));
            }
        }
    }
}

fn header_list(headers: &HeaderMap, redactor: &Redactor) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let value = if k == AUTHORIZATION || k == "set-cookie" || k == "cookie" {
                REDACTED.to_string()
            } else {
                redactor
                    .redact(&String::from_utf8_lossy(v.as_bytes()))
                    .into_owned()
            };
            (k.to_string(), value)
        })
        .collect()
}

/// Text of a body for reports: pretty JSON when it is JSON, cut to a size.
fn excerpt_bytes(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return check::excerpt(&v, 80, BODY_EXCERPT);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]).into_owned();
    if body.len() > BODY_EXCERPT {
        format!("{text}… ({} more bytes)", body.len() - BODY_EXCERPT)
    } else {
        text
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

/// A passed, empty result for a step; the executor fills it in.
fn step_result(step: &Step, phase: Phase) -> StepResult {
    StepResult {
        name: step.name.clone(),
        phase,
        location: step.location.clone(),
        operation: step.operation.clone(),
        method_path: step.method_path.clone(),
        outcome: StepOutcome::Passed,
        error: None,
        request: None,
        response: None,
        duration_ms: 0.0,
        checks: Vec::new(),
        captures: Vec::new(),
    }
}

fn skipped_step(step: &Step, phase: Phase, reason: &str) -> StepResult {
    StepResult {
        outcome: StepOutcome::Skipped,
        error: Some(format!("skipped: {reason}")),
        ..step_result(step, phase)
    }
}

fn internal_failure(suite: &Suite, case: &Case, message: &str) -> StepResult {
    StepResult {
        name: "setup".into(),
        phase: Phase::Main,
        location: location(&suite.file, case.pos),
        operation: String::new(),
        method_path: String::new(),
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
    }
}
