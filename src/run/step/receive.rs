//! A webhook step: wait for a matching delivery (in place of render and
//! send) -> observe -> record, sharing observe and record with requests.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::observe::{self, Observation};
use super::{CaseState, Stages, StepCx, record};
use crate::check::{Exchange, Subject};
use crate::run::webhook::{Delivery, Inbox, RECEIVER_STATUS};
use crate::suite::WebhookStep;

/// Why a webhook step cannot run without a listener.
const NO_LISTENER: &str = "skipped: no webhook listener (run with --webhook-listen ADDR and make the target deliver there)";

/// Runs a webhook step's stages; the result is in `cx`.
pub(super) async fn run(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    hook: &WebhookStep,
    state: &mut CaseState,
) {
    let Some(inbox) = st.inbox else {
        cx.skip(NO_LISTENER.into());
        return;
    };
    let Some(delivery) = receive(cx, hook, inbox, state).await else {
        cx.fail(not_arrived(hook, inbox));
        return;
    };
    observe(st, cx, hook, &delivery, state);
    let redactor = state.redactor(cx.ctx);
    record::settle(cx);
    cx.result.request = Some(record::delivery(&delivery, redactor));
}

/// Waits for the first unclaimed delivery of the event that every
/// matcher accepts.
async fn receive(
    cx: &StepCx<'_>,
    hook: &WebhookStep,
    inbox: &Inbox,
    state: &CaseState,
) -> Option<Delivery> {
    let scope = state.scope(cx.ctx);
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
                .all(|a| observe::assertion(a, body, &scope).is_ok())
    };
    inbox
        .wait_for(matches, Duration::from_millis(hook.timeout_ms))
        .await
}

fn not_arrived(hook: &WebhookStep, inbox: &Inbox) -> String {
    let wanted: Vec<&str> = hook.matchers.iter().map(|a| a.source.as_str()).collect();
    format!(
        "no `{}` webhook matching {} arrived within {} ms ({} deliveries received in this run)",
        hook.event,
        wanted.join(", "),
        hook.timeout_ms,
        inbox.len()
    )
}

/// The observe stage of a webhook step: the registry's webhook checks
/// (when the spec documents the webhook), captures, then expectations.
fn observe(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    hook: &WebhookStep,
    delivery: &Delivery,
    state: &mut CaseState,
) {
    let spec = &cx.suite.spec;
    if let Some(operation) = hook.operation.and_then(|i| spec.operations.get(i)) {
        let no_headers = HeaderMap::new();
        let exchange = Exchange {
            spec,
            operation,
            request_body: Some(&delivery.body),
            request_body_valid: false,
            expects_success: true,
            status: RECEIVER_STATUS,
            headers: &no_headers,
            json: None,
            generated: None,
            looked_up: Default::default(),
        };
        observe::automatic_checks(st, cx, &exchange, Subject::Webhook);
    }
    let body = Ok(delivery.body.clone());
    let seen = Observation {
        json: Some(&body),
        headers: None,
    };
    observe::captures(cx, &seen, state);
    let scope = state.scope(cx.ctx);
    observe::assertions(cx, "expect.webhook", &hook.expect, Some(&body), &scope);
}
