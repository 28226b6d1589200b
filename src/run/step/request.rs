//! A request step: render -> send -> observe -> record.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::observe::{self, Observation, Reply};
use super::render::{self, RenderedRequest};
use super::{CaseState, Stages, StepCx, ratewait, record, reproduce};
use crate::check::{Exchange, Generated, Prior, Subject};
use crate::generate::plan::{AuthMode, CaptureSource, ChainRole, Expectation};
use crate::run::Record;
use crate::run::http::{self, HttpResponse};
use crate::run::oauth;
use crate::suite::generated::GeneratedStep;
use crate::suite::model::StatusPattern;
use crate::suite::vars::REDACTED;
use crate::suite::{Body, Expect, RequestStep, Step};

/// Runs a request step's stages; the result is in `cx`.
pub(super) async fn run(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    req: &RequestStep,
    state: &mut CaseState,
) {
    if let Some(g) = &req.generated
        && g.cleanup
        && already_deleted(state)
    {
        cx.skip("skipped: the chain already deleted what it created".into());
        return;
    }
    if let Some(g) = &req.generated
        && let Some(reason) = chain_blocked(g, req, state)
    {
        cx.skip(reason);
        return;
    }
    let Some(rendered) = render::stage(cx, req, state) else {
        return;
    };
    // One allocation for the usual results: the step's checks, its status,
    // time and body expectations (a small block: the enabled checks only).
    let checks = cx.step.checks.and(st.config.check_mask).len();
    let expected = checks + 2 + req.expect.body.len();
    cx.result.checks.reserve(expected);
    let sent = sent_headers(st, cx, req, &rendered, state);
    let mut notes = Vec::new();
    let mut tokens = TokenUse::default();
    let outcome = send_waiting(st, cx, req, &rendered, &mut notes, &mut tokens).await;
    cx.result.notes = notes;
    if let Some(source) = oauth_source(cx, req) {
        let redactor = state
            .redactor
            .get_or_insert_with(|| cx.ctx.redactor.clone());
        source.redact_into(redactor, &tokens.sent);
    }
    let response = match outcome {
        Ok(r) => r,
        Err(message) => {
            let redactor = state.redactor(cx.ctx);
            cx.fail(redactor.redact(&message).into_owned());
            let mut record = record::request(&req.method, redactor, true, &sent, &rendered);
            reproduction(st, cx, req, &rendered, redactor, &mut record);
            cx.result.request = Some(record);
            return;
        }
    };
    let json = parse_json(&response, needs_json(cx.step, req));
    observe(st, cx, req, &rendered, &response, json.as_ref(), state);
    let redactor = state.redactor(cx.ctx);
    let failed = record::settle(cx);
    let full = failed || st.config.record == Record::Everything;
    let mut record = record::request(&req.method, redactor, full, &sent, &rendered);
    if failed {
        reproduction(st, cx, req, &rendered, redactor, &mut record);
    }
    cx.result.request = Some(record);
    cx.result.response = Some(record::response(&response, redactor, full));
}

/// The send stage with rate-limit waits: an idempotent request answered
/// 429/503 with a `Retry-After` within `--max-retry-wait` is resent after
/// the wait (at most [`ratewait::MAX_WAITS`] times); the waits are recorded
/// in the step as a `rate_limit_wait` entry.
async fn send_waiting(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    notes: &mut Vec<String>,
    tokens: &mut TokenUse,
) -> Result<HttpResponse, String> {
    let mut waits = Vec::new();
    loop {
        let response = send_authorized(st, cx, req, rendered, notes, tokens).await?;
        let wait = ratewait::wait_for(response.status, &response.headers, st.config.max_retry_wait)
            .filter(|_| ratewait::idempotent(&req.method) && waits.len() < ratewait::MAX_WAITS);
        match wait {
            Some(wait) => {
                waits.push((response.status, wait));
                st.waits.add(wait);
                tokio::time::sleep(wait).await;
            }
            None => {
                if !waits.is_empty() {
                    cx.result.checks.push(crate::result::CheckResult {
                        name: "rate_limit_wait".into(),
                        outcome: crate::result::CheckOutcome::Passed,
                        message: Some(ratewait::describe(&waits).into()),
                        findings: Vec::new(),
                        location: None,
                    });
                }
                return Ok(response);
            }
        }
    }
}

/// The OAuth2 tokens one step sent (for its redactor), and whether it
/// already renewed one after a rejection.
#[derive(Default)]
struct TokenUse {
    sent: Vec<String>,
    renewed: bool,
}

/// The send stage with an OAuth2 credential's token: fetched (or renewed)
/// through the run's shared token source; a 401 whose `WWW-Authenticate`
/// says `invalid_token` renews it and resends the request, once per step,
/// noted in the step.
async fn send_authorized(
    st: &Stages<'_>,
    cx: &StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    notes: &mut Vec<String>,
    tokens: &mut TokenUse,
) -> Result<HttpResponse, String> {
    let Some(source) = oauth_source(cx, req) else {
        return send(st, cx, req, rendered, notes, None).await;
    };
    let (timeout, max_body) = (st.config.timeout, st.config.max_body_size);
    let client = st.clients.pooled().map_err(|e| e.to_string())?;
    let fetch = |grant| oauth::exchange(client, source.config(), grant, timeout, max_body);
    let token = source.current(&fetch).await.map_err(|e| e.to_string())?;
    tokens.sent.push(token.clone());
    let response = send(st, cx, req, rendered, notes, Some(&token)).await?;
    if tokens.renewed || !oauth::rejects_token(response.status, &response.headers) {
        return Ok(response);
    }
    tokens.renewed = true;
    let token = source
        .after_rejection(&token, &fetch)
        .await
        .map_err(|e| format!("{e} (renewing the token the API rejected with 401 invalid_token)"))?;
    tokens.sent.push(token.clone());
    notes.push(
        "oauth2: the API rejected the token (401 invalid_token); renewed it and resent the request once"
            .into(),
    );
    send(st, cx, req, rendered, notes, Some(&token)).await
}

/// The send stage: the rendered request, its credential (or the given
/// OAuth2 bearer token), one attempt.
async fn send(
    st: &Stages<'_>,
    cx: &StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    notes: &mut Vec<String>,
    bearer: Option<&str>,
) -> Result<HttpResponse, String> {
    if let Some(limiter) = &st.config.rate_limit {
        limiter.acquire().await;
    }
    // A credential with its own client certificate has its own clients.
    let clients = req
        .credential
        .as_ref()
        .and_then(|c| cx.ctx.tls_clients.get(c))
        .unwrap_or(st.clients);
    let request = build_request(req, rendered, credential(cx, req), bearer)?;
    let sent = clients
        .send(request, st.config.timeout, st.config.max_body_size)
        .await;
    notes.extend(sent.retried);
    sent.response.map_err(|e| match e {
        http::SendError::Transport(text) => via_proxy(st, &rendered.url, text),
        other => other.to_string(),
    })
}

/// The request to send: the rendered URL, headers and body, the
/// credential's header and an OAuth2 bearer token.
fn build_request(
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    credential: Option<&(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    bearer: Option<&str>,
) -> Result<reqwest::Request, String> {
    use reqwest::header::HeaderValue;
    let mut request = http::new_request(req.method.clone(), &rendered.url)?;
    let headers = request.headers_mut();
    for (name, value) in &rendered.headers {
        // The render stage refused values HTTP cannot carry.
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header `{name}`: the value cannot be sent"))?;
        headers.append(name.clone(), value);
    }
    if let Some((name, value)) = credential {
        headers.append(name.clone(), value.clone());
    }
    if let Some(token) = bearer {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            "oauth2: the token endpoint issued a token that is not a valid header value".to_string()
        })?;
        value.set_sensitive(true);
        headers.append(reqwest::header::AUTHORIZATION, value);
    }
    if let Some((bytes, content_type)) = &rendered.body {
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| format!("content type `{content_type}` cannot be sent"))?;
        headers.append(CONTENT_TYPE, value);
        *request.body_mut() = Some(bytes.clone().into());
    }
    Ok(request)
}

/// A transport error names the proxy the request went through, if any
/// (without its credentials): the proxy may be what failed.
fn via_proxy(st: &Stages<'_>, url: &str, text: String) -> String {
    let proxy = url::Url::parse(url)
        .ok()
        .and_then(|u| st.config.network.proxy.route(&u).map(|p| p.shown()));
    match proxy {
        Some(p) => format!("{text} (through proxy {p})"),
        None => text,
    }
}

/// What a failed step's record adds to reproduce it: the credential's
/// name and a curl command.
fn reproduction(
    st: &Stages<'_>,
    cx: &StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    redactor: &crate::suite::vars::Redactor,
    record: &mut crate::result::RequestRecord,
) {
    let credential = req
        .credential
        .as_deref()
        .and_then(|name| Some((name, cx.suite.credential(name)?)));
    record.credential = req.credential.clone();
    let network = &st.config.network;
    let own_cert = req
        .credential
        .as_deref()
        .and_then(|name| cx.suite.client_certs.iter().find(|(n, _)| n == name))
        .map(|(_, cert)| cert);
    let proxy = url::Url::parse(&rendered.url)
        .ok()
        .and_then(|url| network.proxy.route(&url).cloned());
    let transport = reproduce::Transport {
        insecure: network.insecure,
        cacerts: &network.cacert_files,
        client_cert: own_cert.or(network.client_cert.as_ref()),
        proxy: proxy.as_ref(),
    };
    record.curl = Some(reproduce::curl(
        &req.method,
        rendered,
        credential,
        redactor,
        &transport,
    ));
}

fn credential<'c>(
    cx: &StepCx<'c>,
    req: &RequestStep,
) -> Option<&'c (reqwest::header::HeaderName, reqwest::header::HeaderValue)> {
    req.credential
        .as_ref()
        .and_then(|c| cx.ctx.credentials.get(c))
}

/// The run's token source of the step's credential, if it is `oauth2`.
fn oauth_source<'c>(cx: &StepCx<'c>, req: &RequestStep) -> Option<&'c oauth::TokenSource> {
    req.credential
        .as_ref()
        .and_then(|c| cx.ctx.oauth.get(c))
        .map(|s| &**s)
}

/// The headers sent, redacted, for the record (only kept in full records;
/// the credential is never shown).
fn sent_headers(
    st: &Stages<'_>,
    cx: &StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    state: &CaseState,
) -> Vec<(String, String)> {
    if st.config.record != Record::Everything {
        return Vec::new();
    }
    let redactor = state.redactor(cx.ctx);
    let mut out: Vec<(String, String)> = rendered
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), redactor.redact(value).into_owned()))
        .collect();
    if let Some((name, _)) = credential(cx, req) {
        out.push((name.to_string(), REDACTED.to_string()));
    }
    if oauth_source(cx, req).is_some() {
        out.push(("authorization".to_string(), REDACTED.to_string()));
    }
    out
}

/// The observe stage of a request step. Captures run before the
/// expectations, so a step can relate two fields of its own response.
fn observe(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    req: &RequestStep,
    rendered: &RenderedRequest<'_>,
    response: &HttpResponse,
    json: Option<&Result<Value, String>>,
    state: &mut CaseState,
) {
    let spec = &cx.suite.spec;
    let Some(operation) = spec.operations.get(req.operation) else {
        cx.fail(format!(
            "the step names operation #{} that the spec does not have",
            req.operation
        ));
        return;
    };
    if let Some(g) = &req.generated {
        let history = state.history.clone();
        let context = Generated {
            phase: g.phase,
            method: req.method.as_str(),
            rule: g.rule,
            role: g.role,
            history: &history,
        };
        let exchange = Exchange {
            spec,
            operation,
            request_body: rendered.json_body.as_deref(),
            request_body_valid: false,
            expects_success: generated_expects_success(g),
            status: response.status,
            headers: &response.headers,
            json,
            generated: Some(&context),
            looked_up: Default::default(),
        };
        observe::automatic_checks(st, cx, &exchange, Subject::Response);
        let sent = rendered.json_body.as_deref();
        after_generated(cx, g, sent, response, json, state);
        return;
    }
    let exchange = Exchange {
        spec,
        operation,
        request_body: rendered.json_body.as_deref(),
        request_body_valid: req.body.as_ref().is_some_and(Body::schema_valid_at_load),
        expects_success: expects_success(&req.expect),
        status: response.status,
        headers: &response.headers,
        json,
        generated: None,
        looked_up: Default::default(),
    };
    observe::automatic_checks(st, cx, &exchange, Subject::Response);
    let seen = Observation {
        json,
        headers: Some(&response.headers),
    };
    observe::captures(cx, &seen, state);
    let scope = state.scope(cx.ctx);
    let reply = Reply {
        status: response.status,
        headers: &response.headers,
        elapsed_ms: response.elapsed.as_millis(),
        json,
    };
    observe::expectations(cx, &req.expect, &reply, &scope);
    observe::snapshot(st, cx, json, &scope, state.redactor(cx.ctx));
}

/// Whether a generated request is one a correct server accepts (so its
/// body is held to the request schema): schema-valid data with the run's
/// credential.
fn generated_expects_success(g: &GeneratedStep) -> bool {
    matches!(
        g.request.expect,
        Expectation::Accepted | Expectation::Available
    ) && g.request.auth == AuthMode::Default
}

/// After a generated step: the values its chain binds (or the generated
/// fallbacks), and its place in the chain's history.
fn after_generated(
    cx: &StepCx<'_>,
    g: &GeneratedStep,
    sent: Option<&Value>,
    response: &HttpResponse,
    json: Option<&Result<Value, String>>,
    state: &mut CaseState,
) {
    let mut ids = Vec::new();
    for bind in &g.binds {
        let found = bind
            .sources
            .iter()
            .find_map(|source| bound_value(source, response, json));
        // Only what this create made: never a guessed id (a later delete
        // could remove a resource the run did not create).
        if let Some(value) = found
            && (200..300).contains(&response.status)
        {
            ids.push(value.clone());
            state.locals.insert(bind.variable.clone(), value);
        }
    }
    if let Some(role) = g.role {
        state.history.push(Prior {
            role,
            operation: cx.step.operation.to_string(),
            status: response.status,
            body: sent.cloned(),
            ids,
        });
    }
}

/// A chain's value from a create's response: a JSON pointer into its body,
/// or the last path segment of its `Location`.
fn bound_value(
    source: &CaptureSource,
    response: &HttpResponse,
    json: Option<&Result<Value, String>>,
) -> Option<Value> {
    match source {
        CaptureSource::Body(pointer) => match json {
            Some(Ok(body)) => body
                .pointer(pointer)
                .filter(|v| !v.is_null() && !v.is_object() && !v.is_array())
                .cloned(),
            _ => None,
        },
        CaptureSource::Location => response
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.split('?').next())
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
            .filter(|seg| !seg.is_empty())
            .map(|seg| Value::String(seg.to_string())),
    }
}

/// Why a chain step after the create cannot run: the create did not
/// succeed, or its response gave no id for this step's path.
fn chain_blocked(g: &GeneratedStep, req: &RequestStep, state: &CaseState) -> Option<String> {
    let role = g.role?;
    if role == ChainRole::Create {
        return None;
    }
    let created = state
        .history
        .iter()
        .find(|p| p.role == ChainRole::Create)
        .is_some_and(|p| (200..300).contains(&p.status));
    if !created {
        return Some("skipped: the chain's create did not succeed".into());
    }
    let mut needed = Vec::new();
    for part in &req.path {
        if let crate::suite::PathPart::Param(_, vt) = part {
            vt.variables(&mut needed);
        }
    }
    needed
        .iter()
        .find(|v| !state.locals.contains_key(v.as_str()))
        .map(|v| format!("skipped: the create's response gave no value for `{v}`"))
}

/// Whether this chain already deleted what it created (a 2xx delete).
fn already_deleted(state: &CaseState) -> bool {
    state
        .history
        .iter()
        .any(|p| p.role == ChainRole::Delete && (200..300).contains(&p.status))
}

/// Whether the case expects success (no expected status, or only
/// 1xx-3xx): deliberate bad requests are not schema-checked.
fn expects_success(expect: &Expect) -> bool {
    expect.status.as_ref().is_none_or(|s| {
        s.0.iter().all(|p| match p {
            StatusPattern::Code(c) => *c < 400,
            StatusPattern::Class(d) => *d < 4,
        })
    })
}

fn needs_json(step: &Step, req: &RequestStep) -> bool {
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
    // Checking UTF-8 once over the whole body is cheaper than serde_json
    // checking each string it reads; a body that is not UTF-8 gets
    // serde_json's own error (with its position).
    let parsed = match std::str::from_utf8(&response.body) {
        Ok(text) => serde_json::from_str::<Value>(text),
        Err(_) => serde_json::from_slice::<Value>(&response.body),
    };
    Some(parsed.map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content_type: &str, body: &'static [u8]) -> HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type.parse().expect("header"));
        HttpResponse {
            status: 200,
            headers,
            body: bytes::Bytes::from_static(body),
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn a_json_body_parses_and_a_broken_one_says_where() {
        let ok = parse_json(&response("application/json", br#"{"a":["b",1]}"#), false);
        assert_eq!(ok, Some(Ok(serde_json::json!({"a": ["b", 1]}))));
        let broken = parse_json(&response("application/json", br#"{"a": }"#), false);
        let Some(Err(e)) = broken else {
            panic!("expected an error, got {broken:?}")
        };
        assert!(e.contains("line 1 column 7"), "{e}");
        // Not UTF-8: serde_json's own message for the bytes.
        let bytes = parse_json(&response("application/json", b"\"\xff\""), false);
        assert!(
            matches!(bytes, Some(Err(ref e)) if e.contains("line 1")),
            "{bytes:?}"
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_parsed_only_when_the_step_needs_it() {
        let text = response("text/plain", b"hello");
        assert_eq!(parse_json(&text, false), None);
        assert!(matches!(parse_json(&text, true), Some(Err(_))));
        assert_eq!(parse_json(&response("application/json", b""), true), None);
    }
}
