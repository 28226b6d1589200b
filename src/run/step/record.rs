//! The record stage, shared by request and webhook steps: the outcome from
//! the checks, redacted request/response records, and redaction of every
//! captured value and check message, so nothing secret reaches a reporter.

use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::Value;

use super::StepCx;
use super::render::RenderedRequest;
use crate::check;
use crate::result::{CheckOutcome, RequestRecord, ResponseRecord, StepOutcome, StepResult};
use crate::run::http::HttpResponse;
use crate::run::webhook::Delivery;
use crate::suite::vars::{REDACTED, Redactor};

/// Bytes of a body kept in reports.
const BODY_EXCERPT: usize = 4096;

/// A failed check fails the step. Returns whether the step failed.
pub(super) fn settle(cx: &mut StepCx<'_>) -> bool {
    let failed = cx
        .result
        .checks
        .iter()
        .any(|c| c.outcome == CheckOutcome::Failed);
    if failed {
        cx.result.outcome = StepOutcome::Failed;
    }
    cx.result.outcome == StepOutcome::Failed
}

/// Redaction of a finished step, applied once by the runner to every step
/// result (stages, setup, teardown, skipped steps): every text a report, the
/// console or `-v` can show (URL, headers, bodies, error, check
/// messages and findings, captures) goes through the redactor.
pub(crate) fn redact_step(redactor: &Redactor, step: &mut StepResult) {
    if let Some(req) = &mut step.request {
        redactor.redact_in_place(&mut req.url);
        for (name, value) in &mut req.headers {
            redactor.redact_header(name, value);
        }
        if let Some(b) = &mut req.body {
            redactor.redact_in_place(b);
        }
        // Built with placeholders; redacted again so no slip can leak.
        if let Some(c) = &mut req.curl {
            redactor.redact_in_place(c);
        }
    }
    if let Some(resp) = &mut step.response {
        for (name, value) in &mut resp.headers {
            redactor.redact_header(name, value);
        }
        if let Some(b) = &mut resp.body {
            redactor.redact_in_place(b);
        }
    }
    if let Some(e) = &mut step.error {
        redactor.redact_in_place(e);
    }
    for n in &mut step.notes {
        redactor.redact_in_place(n);
    }
    for c in &mut step.checks {
        if let Some(m) = &mut c.message {
            redactor.redact_cow(m);
        }
        for f in &mut c.findings {
            redactor.redact_in_place(&mut f.message);
            // The excerpt quotes the response, which can echo a secret;
            // a JSON path can name a member whose key is one.
            for text in [&mut f.excerpt, &mut f.json_path].into_iter().flatten() {
                redactor.redact_in_place(text);
            }
        }
    }
    for (_, v) in &mut step.captures {
        redactor.redact_value(v);
    }
}

/// The request as sent; headers and body only when `full`.
pub(super) fn request(
    method: &reqwest::Method,
    redactor: &Redactor,
    full: bool,
    headers: &[(String, String)],
    rendered: &RenderedRequest,
) -> RequestRecord {
    RequestRecord {
        method: method.as_str().to_owned(),
        // Redacted with everything else in `redact_step`, which every
        // step result passes through before anything can show it.
        url: rendered.url.clone(),
        headers: if full { headers.to_vec() } else { Vec::new() },
        body: if full {
            rendered
                .body
                .as_ref()
                .map(|(b, _)| redactor.redact(&excerpt_bytes(b)).into_owned())
        } else {
            None
        },
        credential: None,
        curl: None,
    }
}

/// The response; headers and body only when `full`.
pub(super) fn response(response: &HttpResponse, redactor: &Redactor, full: bool) -> ResponseRecord {
    ResponseRecord {
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
    }
}

/// A received webhook, recorded as the request the target sent us.
pub(super) fn delivery(delivery: &Delivery, redactor: &Redactor) -> RequestRecord {
    let mut body = delivery.body.clone();
    redactor.redact_value(&mut body);
    RequestRecord {
        method: "POST".into(),
        url: delivery.path.clone(),
        headers: Vec::new(),
        body: Some(check::excerpt(&body, 60, BODY_EXCERPT)),
        credential: None,
        curl: None,
    }
}

/// Headers for a report: credentials and cookies never, secrets redacted.
pub(super) fn header_list(headers: &HeaderMap, redactor: &Redactor) -> Vec<(String, String)> {
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
pub(super) fn excerpt_bytes(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return check::excerpt(&v, 80, BODY_EXCERPT);
    }
    let cut = body.get(..BODY_EXCERPT).unwrap_or(body);
    let text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > BODY_EXCERPT {
        format!("{text}… ({} more bytes)", body.len() - BODY_EXCERPT)
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use serde_json::json;

    use super::*;
    use crate::result::{CheckResult, Phase};

    fn redactor() -> Redactor {
        let mut r = Redactor::new(&HashMap::new(), &HashSet::new());
        r.add("s3cret-token");
        r
    }

    /// A step result with these checks and nothing else.
    fn step_result(outcome: StepOutcome, checks: Vec<CheckResult>) -> StepResult {
        StepResult {
            name: "s".into(),
            phase: Phase::Main,
            location: "".into(),
            operation: "".into(),
            method_path: "".into(),
            operation_id: None,
            outcome,
            error: None,
            request: None,
            response: None,
            duration_ms: 0.0,
            checks,
            captures: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_finding_quoting_the_response_is_redacted() {
        let mut check =
            CheckResult::failed("response_schema_conformance", "wrong type".to_string());
        check.findings = vec![crate::check::Finding {
            message: "response body at $.body: null is not of type \"string\"".into(),
            json_path: Some("$['s3cret-token']".into()),
            rule: Some("type at /components/schemas/Echo".into()),
            excerpt: Some("{\"authorization\": \"Bearer s3cret-token\"}".into()),
        }];
        let mut result = step_result(StepOutcome::Failed, vec![check]);
        redact_step(&redactor(), &mut result);
        let text = serde_json::to_string(&result).expect("serializes");
        assert!(!text.contains("s3cret-token"), "{text}");
        let finding = &result.checks[0].findings[0];
        assert_eq!(
            finding.excerpt.as_deref(),
            Some("{\"authorization\": \"Bearer [redacted]\"}")
        );
    }

    #[test]
    fn nothing_secret_survives_the_record_stage() {
        // Messages that can hold response data are built at run time;
        // literals are program text (see `Redactor::redact_cow`).
        let check = CheckResult::failed("expect.body", format!("got {}", "s3cret-token"));
        let mut result = step_result(StepOutcome::Passed, vec![check]);
        result.error = Some("cannot connect with s3cret-token".into());
        result.captures = vec![("t".into(), json!({"token": "s3cret-token"}))];
        result.notes = vec!["retried once: reset at http://h/?k=s3cret-token".into()];
        redact_step(&redactor(), &mut result);
        let text = serde_json::to_string(&result).expect("serializes");
        assert!(!text.contains("s3cret-token"), "{text}");
        assert!(text.contains(REDACTED), "{text}");
    }

    #[test]
    fn headers_hide_credentials_and_cookies() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "Bearer x".parse().expect("header"));
        h.insert("set-cookie", "a=b".parse().expect("header"));
        h.insert("x-echo", "s3cret-token".parse().expect("header"));
        h.insert("x-plain", "fine".parse().expect("header"));
        let list = header_list(&h, &redactor());
        let text = format!("{list:?}");
        assert!(
            !text.contains("Bearer x") && !text.contains("a=b"),
            "{text}"
        );
        assert!(!text.contains("s3cret-token"), "{text}");
        assert!(text.contains("fine"), "{text}");
    }

    #[test]
    fn long_bodies_are_cut_and_say_how_much() {
        let body = vec![b'a'; BODY_EXCERPT + 10];
        assert!(excerpt_bytes(&body).ends_with("… (10 more bytes)"));
        assert!(excerpt_bytes(br#"{"a":1}"#).contains("\"a\": 1"));
    }
}
