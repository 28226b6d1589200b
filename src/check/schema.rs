use serde_json::Value;

use super::{Exchange, Finding, Outcome, excerpt, pointer_to_path};
use crate::spec::{SchemaId, Spec};

/// How many schema errors one check reports (the rest are counted).
const MAX_ERRORS: usize = 10;

/// The body must validate against the schema documented for the status and
/// media type; a JSON media type with a body that is not JSON fails.
pub fn response_schema_conformance(x: &Exchange<'_>) -> Outcome {
    if x.documented().is_none() {
        return Outcome::Skip("status not documented".into());
    }
    let Some(media) = x.documented_media() else {
        return Outcome::Skip("no documented media type for this response".into());
    };
    let Some(schema) = media.schema else {
        return Outcome::Skip("no schema documented".into());
    };
    if !media.json {
        return Outcome::Skip(format!("`{}` is not a JSON media type", media.name).into());
    }
    match x.json {
        None => Outcome::Fail(vec![Finding::new(format!(
            "empty body, but `{}` with a schema is documented",
            media.name
        ))]),
        Some(Err(e)) => Outcome::Fail(vec![Finding::new(format!(
            "body is not valid JSON ({e}), but `{}` is documented",
            media.name
        ))]),
        Some(Ok(body)) => validate(x.spec, schema, body, "response body"),
    }
}

/// A request the case expects to succeed must send a body valid against the
/// documented request schema: otherwise the case itself is wrong.
pub fn request_schema_conformance(x: &Exchange<'_>) -> Outcome {
    if !x.expects_success {
        return Outcome::Skip("the case expects this request to fail".into());
    }
    let (Some(body), Some(request_body)) = (x.request_body, &x.operation.request_body) else {
        return Outcome::Skip("no JSON request body".into());
    };
    if x.request_body_valid {
        return Outcome::Pass;
    }
    let schema = request_body
        .content
        .iter()
        .find(|m| m.json)
        .and_then(|m| m.schema);
    match schema {
        Some(schema) => validate(x.spec, schema, body, "request body"),
        None => Outcome::Skip("no JSON request schema documented".into()),
    }
}

/// A webhook the target delivered must carry a body valid against the
/// schema the spec documents for that webhook's request body.
pub fn webhook_schema_conformance(x: &Exchange<'_>) -> Outcome {
    let Some(body) = x.request_body else {
        return Outcome::Skip("no webhook body".into());
    };
    let schema = x
        .operation
        .request_body
        .as_ref()
        .and_then(|b| b.content.iter().find(|m| m.json))
        .and_then(|m| m.schema);
    match schema {
        Some(schema) => validate(x.spec, schema, body, "webhook body"),
        None => Outcome::Skip("no JSON schema documented for this webhook".into()),
    }
}

/// Validates `value` and turns schema errors into findings with the JSON
/// path, the rule broken and the relevant part of the value.
pub fn validate(spec: &Spec, schema: SchemaId, value: &Value, what: &str) -> Outcome {
    let validator = match spec.validator(schema) {
        Ok(v) => v,
        Err(e) => {
            return Outcome::Skip(
                format!(
                    "the documented schema {} is not enforced (the validator refuses it: {})",
                    spec.schema_pointer(schema),
                    e.message
                )
                .into(),
            );
        }
    };
    if validator.is_valid(value) {
        return Outcome::Pass;
    }
    let mut findings = Vec::new();
    let mut extra = 0usize;
    for error in validator.iter_errors(value) {
        if findings.len() >= MAX_ERRORS {
            extra += 1;
            continue;
        }
        let pointer = error.instance_path.clone();
        let path = pointer_to_path(&pointer);
        let parent = parent_pointer(&pointer);
        let context = value.pointer(parent).unwrap_or(value);
        findings.push(Finding {
            message: format!("{what} at {path}: {error}"),
            json_path: Some(path),
            rule: Some(format!("{} at {}", error.keyword, error.schema_path)),
            excerpt: Some(excerpt(context, 12, 800)),
        });
    }
    if extra > 0
        && let Some(last) = findings.last_mut()
    {
        last.message
            .push_str(&format!(" (and {extra} more errors)"));
    }
    Outcome::Fail(findings)
}

fn parent_pointer(pointer: &str) -> &str {
    match pointer.rfind('/') {
        Some(0) | None => "",
        Some(i) => &pointer[..i],
    }
}
