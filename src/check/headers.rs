use super::{Exchange, Finding, Outcome};
use serde_json::Value;

/// Documented required response headers must be present, and every
/// documented header that is present must match its schema (values are
/// coerced: `"5"` is tried as the integer 5).
pub fn response_headers_conformance(x: &Exchange<'_>) -> Outcome {
    let Some(response) = x.documented() else {
        return Outcome::Skip("status not documented".into());
    };
    if response.headers.is_empty() {
        return Outcome::Skip("no headers documented".into());
    }
    let mut findings = Vec::new();
    for header in &response.headers {
        if header.name.eq_ignore_ascii_case("content-type") {
            continue; // OpenAPI says Content-Type header definitions are ignored.
        }
        let Some(value) = x.headers.get(header.name.as_str()) else {
            if header.required {
                findings.push(Finding::new(format!(
                    "required header `{}` is missing",
                    header.name
                )));
            }
            continue;
        };
        let Some(schema) = header.schema else {
            continue;
        };
        let Ok(validator) = x.spec.validator(schema) else {
            continue;
        };
        let text = String::from_utf8_lossy(value.as_bytes()).to_string();
        let string_value = Value::String(text.clone());
        let coerced: Option<Value> = serde_json::from_str::<Value>(&text)
            .ok()
            .filter(|v| v.is_number() || v.is_boolean());
        let ok = validator.is_valid(&string_value)
            || coerced.as_ref().is_some_and(|v| validator.is_valid(v));
        if !ok {
            let reason = validator
                .iter_errors(&string_value)
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            let mut f = Finding::new(format!(
                "header `{}: {text}` breaks its schema: {reason}",
                header.name
            ));
            f.rule = Some(x.spec.schema_pointer(schema).to_string());
            findings.push(f);
        }
    }
    if findings.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(findings)
    }
}
