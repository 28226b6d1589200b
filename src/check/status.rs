use super::{Exchange, Finding, Outcome};

/// The status must be documented: exactly, by a range like `4XX`, or by `default`.
pub fn status_conformance(x: &Exchange<'_>) -> Outcome {
    if x.documented().is_some() {
        return Outcome::Pass;
    }
    let documented: Vec<&str> = x
        .operation
        .responses
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    Outcome::Fail(vec![Finding::new(format!(
        "status {} is not documented for {} (documented: {})",
        x.status,
        x.operation.label(),
        if documented.is_empty() {
            "none".to_string()
        } else {
            documented.join(", ")
        }
    ))])
}
