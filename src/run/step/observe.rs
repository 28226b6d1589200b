//! The observe stage, shared by request and webhook steps: the registry's
//! automatic checks, captures, expectations and the snapshot, each adding
//! check results to the step.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{CaseState, Stages, StepCx};
use crate::check::{self, Exchange, Outcome, Subject};
use crate::result::CheckResult;
use crate::suite::template::Scope;
use crate::suite::vars::{REDACTED, Redactor};
use crate::suite::{BodyAssertion, Capture, CaptureSource, Expect};

/// What a step saw: the JSON body (or why there is none usable) and the
/// headers, when the step has any (a webhook delivery keeps none).
pub(super) struct Observation<'a> {
    pub json: Option<&'a Result<Value, String>>,
    pub headers: Option<&'a HeaderMap>,
}

/// Runs every registered check for `subject` that both the step and the
/// run enable, in registry order.
pub(super) fn automatic_checks(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    exchange: &Exchange<'_>,
    subject: Subject,
) {
    for i in cx.step.checks.and(st.config.check_mask).indices() {
        let Some(def) = check::REGISTRY.get(i).filter(|d| d.subject == subject) else {
            continue;
        };
        cx.result
            .checks
            .push(check_result(def.name, (def.run)(exchange)));
    }
}

/// A check's outcome as a result; the first finding is the message.
pub(super) fn check_result(name: &'static str, outcome: Outcome) -> CheckResult {
    match outcome {
        Outcome::Pass => CheckResult::passed(name),
        Outcome::Skip(reason) => CheckResult::skipped(name, reason),
        Outcome::Fail(findings) => {
            let message = findings
                .first()
                .map_or_else(|| format!("{name} failed"), |f| f.message.clone());
            let mut c = CheckResult::failed(name, message);
            c.findings = findings;
            c
        }
    }
}

/// Captures values for later steps (and this step's own expectations).
/// A missing value fails the step, unless the capture is `optional`: then
/// the variable stays unset and a skipped check says why.
pub(super) fn captures(cx: &mut StepCx<'_>, seen: &Observation<'_>, state: &mut CaseState) {
    for c in &cx.step.captures {
        let check = || format!("capture {}", c.name);
        let loc = || c.at.clone();
        match capture_value(c, seen) {
            Ok(v) => {
                let shown = if c.secret {
                    Value::String(REDACTED.into())
                } else {
                    v.clone()
                };
                cx.result.captures.push((c.name.clone(), shown));
                state.store(c.name.clone(), v, c.secret, &cx.ctx.redactor);
            }
            Err(m) if c.optional => cx.result.checks.push(
                CheckResult::skipped(check(), format!("optional, not captured: {m}")).at(loc()),
            ),
            Err(m) => cx
                .result
                .checks
                .push(CheckResult::failed(check(), m).at(loc())),
        }
    }
}

/// The value one capture selects, or why there is none.
fn capture_value(c: &Capture, seen: &Observation<'_>) -> Result<Value, String> {
    match &c.source {
        CaptureSource::Body(src, path) => match seen.json {
            Some(Ok(body)) => match path.select(body).as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(format!("{src} selects nothing")),
                many => Ok(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
            },
            Some(Err(e)) => Err(format!("body is not JSON: {e}")),
            None => Err("body is empty".to_string()),
        },
        CaptureSource::Header(name) => match seen.headers.and_then(|h| h.get(name.as_str())) {
            Some(v) => Ok(Value::String(
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )),
            None => Err(format!("no `{name}` header")),
        },
    }
}

/// Whether one body assertion holds.
pub(super) fn assertion(a: &BodyAssertion, body: &Value, scope: &dyn Scope) -> Result<(), String> {
    let selected = a.path.select(body, scope)?;
    a.matcher.check_selection(&a.source, &selected, scope)
}

/// Body assertions under one check name (`expect.body`, `expect.webhook`);
/// when there is no JSON body, each fails saying why.
pub(super) fn assertions(
    cx: &mut StepCx<'_>,
    name: &'static str,
    list: &[BodyAssertion],
    body: Option<&Result<Value, String>>,
    scope: &dyn Scope,
) {
    for a in list {
        let loc = a.matcher.at.clone();
        let outcome = match body {
            Some(Ok(b)) => assertion(a, b, scope),
            Some(Err(e)) => Err(format!("{}: body is not JSON: {e}", a.source)),
            None => Err(format!("{}: body is empty", a.source)),
        };
        cx.result.checks.push(match outcome {
            Ok(()) => CheckResult::passed(name).at(loc),
            Err(m) => CheckResult::failed(name, m).at(loc),
        });
    }
}

/// A response as the expectations see it.
pub(super) struct Reply<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub elapsed_ms: u128,
    pub json: Option<&'a Result<Value, String>>,
}

/// A request step's expectations: status, headers, body, time.
pub(super) fn expectations(
    cx: &mut StepCx<'_>,
    expect: &Expect,
    reply: &Reply<'_>,
    scope: &dyn Scope,
) {
    expect_status(cx, expect, reply.status);
    expect_headers(cx, expect, reply.headers, scope);
    if !expect.body.is_empty() {
        assertions(cx, "expect.body", &expect.body, reply.json, scope);
    }
    if let Some(max) = expect.max_time_ms {
        let took = reply.elapsed_ms;
        cx.result.checks.push(if took <= u128::from(max) {
            CheckResult::passed("expect.max_time_ms")
        } else {
            CheckResult::failed(
                "expect.max_time_ms",
                format!("took {took} ms, more than {max} ms"),
            )
        });
    }
}

/// `expect.status`, or any 2xx when the case names none.
fn expect_status(cx: &mut StepCx<'_>, expect: &Expect, status: u16) {
    let loc = expect.status_at.clone();
    let ok = match &expect.status {
        Some(spec) => spec.matches(status),
        None => (200..300).contains(&status),
    };
    cx.result.checks.push(if ok {
        CheckResult::passed("expect.status").at(loc)
    } else {
        let wanted = expect
            .status
            .as_ref()
            .map_or("2xx".to_string(), ToString::to_string);
        CheckResult::failed(
            "expect.status",
            format!("expected status {wanted}, got {status}"),
        )
        .at(loc)
    });
}

/// `expect.headers`: each matcher over every value of its header.
fn expect_headers(cx: &mut StepCx<'_>, expect: &Expect, headers: &HeaderMap, scope: &dyn Scope) {
    for (name, matcher) in &expect.headers {
        let values: Vec<Value> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let selected: Vec<&Value> = values.iter().collect();
        let loc = matcher.at.clone();
        let check = "expect.header";
        cx.result.checks.push(
            match matcher.check_selection(&format!("header {name}"), &selected, scope) {
                Ok(()) => CheckResult::passed(check).at(loc),
                Err(m) => CheckResult::failed(check, m).at(loc),
            },
        );
    }
}

/// The step's snapshot, compared (or written) after captures, so
/// placeholders can name this step's captures.
pub(super) fn snapshot(
    st: &Stages<'_>,
    cx: &mut StepCx<'_>,
    json: Option<&Result<Value, String>>,
    scope: &dyn Scope,
    redactor: &Redactor,
) {
    let Some(snap) = &cx.step.snapshot else {
        return;
    };
    let value = match json {
        Some(Ok(v)) => Some(v),
        _ => None,
    };
    cx.result.checks.push(crate::snapshot::check(
        &st.config.snapshots,
        cx.suite,
        cx.step,
        snap,
        value,
        scope,
        redactor,
    ));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diag::Pos;
    use crate::suite::query::BodyPath;

    fn body_capture(path: &str, optional: bool) -> Capture {
        Capture {
            name: "x".into(),
            pos: Pos::UNKNOWN,
            at: None,
            source: CaptureSource::Body(path.into(), BodyPath::parse(path).expect("path")),
            secret: false,
            optional,
        }
    }

    #[test]
    fn captures_select_one_value_many_values_or_say_why_not() {
        let body = Ok(json!({"id": "a", "items": [{"n": 1}, {"n": 2}]}));
        let seen = Observation {
            json: Some(&body),
            headers: None,
        };
        assert_eq!(
            capture_value(&body_capture("$.id", false), &seen),
            Ok(json!("a"))
        );
        assert_eq!(
            capture_value(&body_capture("$.items[*].n", false), &seen),
            Ok(json!([1, 2]))
        );
        let missing = capture_value(&body_capture("$.nope", true), &seen);
        assert_eq!(missing, Err("$.nope selects nothing".to_string()));
        let empty = Observation {
            json: None,
            headers: None,
        };
        assert_eq!(
            capture_value(&body_capture("$.id", false), &empty),
            Err("body is empty".to_string())
        );
    }

    #[test]
    fn header_captures_read_the_response_headers() {
        let mut h = HeaderMap::new();
        h.insert("location", "/pets/1".parse().expect("header"));
        let c = Capture {
            source: CaptureSource::Header("location".into()),
            ..body_capture("$", false)
        };
        let seen = Observation {
            json: None,
            headers: Some(&h),
        };
        assert_eq!(capture_value(&c, &seen), Ok(json!("/pets/1")));
        let none = Observation {
            json: None,
            headers: None,
        };
        assert_eq!(capture_value(&c, &none), Err("no `location` header".into()));
    }

    #[test]
    fn a_failed_check_reports_its_first_finding() {
        let f = crate::check::Finding::new("bad id");
        let c = check_result("status_conformance", Outcome::Fail(vec![f]));
        assert_eq!(c.outcome, crate::result::Status::Failed);
        assert_eq!(c.message.as_deref(), Some("bad id"));
        let c = check_result("status_conformance", Outcome::Fail(Vec::new()));
        assert_eq!(c.message.as_deref(), Some("status_conformance failed"));
        let c = check_result("status_conformance", Outcome::Skip("n/a".into()));
        assert_eq!(c.outcome, crate::result::Status::Skipped);
    }
}
