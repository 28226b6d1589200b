use super::{Exchange, Finding, Outcome};

/// The Content-Type must be one of the media types documented for the
/// status; a response documented without content must have no body type.
pub fn content_type_conformance(x: &Exchange<'_>) -> Outcome {
    let Some(response) = x.documented() else {
        return Outcome::Skip("status not documented".into());
    };
    // Named only in a failure's message: built when one is reported.
    let documented = || {
        let names: Vec<&str> = response.content.iter().map(|m| m.name.as_str()).collect();
        names.join(", ")
    };
    match (x.content_type(), response.content.is_empty()) {
        (None, true) => Outcome::Pass,
        (None, false) if x.json.is_none() => {
            // No body at all while one is documented.
            Outcome::Fail(vec![Finding::new(format!(
                "no Content-Type and no body; documented: {}",
                documented()
            ))])
        }
        (None, false) => Outcome::Fail(vec![Finding::new(format!(
            "response has a body but no Content-Type; documented: {}",
            documented()
        ))]),
        (Some(ct), true) => {
            if x.json.is_none() {
                // A Content-Type on an empty body is harmless.
                Outcome::Pass
            } else {
                Outcome::Fail(vec![Finding::new(format!(
                    "status {} is documented without a body, but the response has `{ct}` content",
                    x.status
                ))])
            }
        }
        (Some(ct), false) => {
            if x.documented_media().is_some() {
                Outcome::Pass
            } else {
                Outcome::Fail(vec![Finding::new(format!(
                    "Content-Type `{ct}` is not documented for status {} (documented: {})",
                    x.status,
                    documented()
                ))])
            }
        }
    }
}
