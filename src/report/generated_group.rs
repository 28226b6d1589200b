//! The certificate's requirement group for generated cases (`certify
//! --generate`). A generated case is one operation x phase, not a
//! requirement: its checks are pooled by what they establish, one row per
//! group. The groups the spec itself states are `must` (the spec is the
//! contract: documented statuses, content types, schemas, headers, and
//! that a secured operation refuses a request without a valid
//! credential); the others rest on readings the spec does not state
//! (business rules may refuse schema-valid data, a server may answer
//! schema-invalid data it can still use) and are `should`.

use crate::result::{CaseResult, CheckOutcome};
use crate::suite::Level;

/// One row of the group, as plain data; the certificate turns it into a
/// requirement row (so this file imports nothing from it).
#[derive(Debug, Clone)]
pub(super) struct GroupRow {
    pub id: &'static str,
    pub text: String,
    pub level: Level,
    pub source: &'static str,
    /// `None`: no check of the group judged anything (not verified).
    pub met: Option<bool>,
    /// The generated cases that failed a check of the group (by their
    /// index in the cases given), each with its first failure.
    pub failed: Vec<(usize, String)>,
}

/// One requirement of the group: its id, the checks it pools, its level
/// and what it rests on.
struct Group {
    id: &'static str,
    checks: &'static [&'static str],
    level: Level,
    text: &'static str,
    source: &'static str,
}

const GROUPS: &[Group] = &[
    Group {
        id: "GEN-STATUS",
        checks: &["status_conformance"],
        level: Level::Must,
        text: "Every generated request gets a status the spec documents for its operation.",
        source: "the spec's responses (generated from it)",
    },
    Group {
        id: "GEN-CONTENT-TYPE",
        checks: &["content_type_conformance"],
        level: Level::Must,
        text: "Every response to a generated request has a content type the spec documents.",
        source: "the spec's response content (generated from it)",
    },
    Group {
        id: "GEN-SCHEMA",
        checks: &["response_schema_conformance"],
        level: Level::Must,
        text: "Every response body to a generated request matches the documented schema.",
        source: "the spec's response schemas (generated from it)",
    },
    Group {
        id: "GEN-HEADERS",
        checks: &["response_headers_conformance"],
        level: Level::Must,
        text: "Every documented response header is present and matches its schema.",
        source: "the spec's response headers (generated from it)",
    },
    Group {
        id: "GEN-AUTH",
        checks: &["ignored_auth"],
        level: Level::Must,
        text: "A secured operation refuses a request without a credential or with an invalid one (401 or 403).",
        source: "the spec's security requirements (generated from it)",
    },
    Group {
        id: "GEN-POSITIVE",
        checks: &["positive_data_acceptance"],
        level: Level::Should,
        text: "Schema-valid requests are not refused with a 4xx other than 401, 403, 404, 409.",
        source: "apiconform: business rules may refuse schema-valid data",
    },
    Group {
        id: "GEN-NEGATIVE",
        checks: &["negative_data_rejection"],
        level: Level::Should,
        text: "A request that breaks a schema rule is refused with a 4xx.",
        source: "apiconform: a spec rarely says schema-invalid input must be refused",
    },
    Group {
        id: "GEN-NO-SERVER-ERROR",
        checks: &["not_a_server_error"],
        level: Level::Should,
        text: "No generated request makes the server fail (5xx).",
        source: "apiconform: robustness, beyond the documented statuses",
    },
    Group {
        id: "GEN-METHODS",
        checks: &["unsupported_method"],
        level: Level::Should,
        text: "An undocumented method on a documented path gets 405 with an Allow header.",
        source: "apiconform: RFC 9110 section 15.5.6, not stated by the spec",
    },
    Group {
        id: "GEN-STATEFUL",
        checks: &["use_after_free", "ensure_resource_availability"],
        level: Level::Should,
        text: "A created resource can be read back, and is gone (404) after its delete.",
        source: "apiconform: inferred links between the spec's operations",
    },
    Group {
        id: "GEN-STORED",
        checks: &["stored_values"],
        level: Level::Should,
        text: "A resource read back after a create or an update has the values the request sent.",
        source: "apiconform: request and response schemas declaring the same property",
    },
    Group {
        id: "GEN-ISOLATION",
        checks: &["resource_isolation"],
        level: Level::Should,
        text: "What one identity creates, the run's second identity can neither read (401, 403 or 404) nor list.",
        source: "apiconform: the run's other_credential, which the user says must be isolated",
    },
];

/// The group's rows over the generated cases of a run, in the order above;
/// a row whose checks judged nothing is not verified.
pub(super) fn rows(cases: &[&CaseResult]) -> Vec<GroupRow> {
    GROUPS.iter().map(|g| row(g, cases)).collect()
}

fn row(group: &Group, cases: &[&CaseResult]) -> GroupRow {
    let mut failed: Vec<(usize, String)> = Vec::new();
    let mut judged = 0usize;
    for (i, c) in cases.iter().enumerate() {
        let mut first: Option<String> = None;
        for s in &c.steps {
            for k in s.checks.iter().filter(|k| group.checks.contains(&&*k.name)) {
                match k.outcome {
                    CheckOutcome::Passed => judged += 1,
                    CheckOutcome::Failed => {
                        judged += 1;
                        first.get_or_insert_with(|| {
                            format!(
                                "step `{}`: {}: {}",
                                s.name,
                                k.name,
                                k.message.as_deref().unwrap_or("failed")
                            )
                        });
                    }
                    _ => {}
                }
            }
        }
        if let Some(failure) = first {
            failed.push((i, failure));
        }
    }
    GroupRow {
        id: group.id,
        text: format!("{} ({judged} checks on generated requests)", group.text),
        level: group.level,
        source: group.source,
        met: (judged > 0).then_some(failed.is_empty()),
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::CheckResult;

    fn case(checks: Vec<CheckResult>) -> CaseResult {
        let mut c: CaseResult = serde_json::from_value(serde_json::json!({
            "index": 0, "suite_name": "s", "suite_file": "s.yaml", "name": "createShare [positive]",
            "location": "s.yaml:1:1", "status": "passed", "attempts": 1,
            "duration_ms": 1.0, "steps": [], "tags": []
        }))
        .expect("a case result");
        let mut step: crate::result::StepResult = serde_json::from_value(serde_json::json!({
            "name": "positive #1", "phase": "main", "location": "", "operation": "createShare",
            "method_path": "POST /v1/shares", "outcome": "passed", "duration_ms": 1.0, "checks": []
        }))
        .expect("a step result");
        step.checks = checks;
        c.steps.push(step);
        c
    }

    #[test]
    fn a_failed_check_fails_its_group_only_and_unjudged_groups_are_not_verified() {
        let c = case(vec![
            CheckResult::passed("status_conformance"),
            CheckResult::failed("positive_data_acceptance", "400 for a valid body"),
        ]);
        let rows = rows(&[&c]);
        let by_id = |id: &str| rows.iter().find(|r| r.id == id).expect("row");
        assert_eq!(by_id("GEN-STATUS").met, Some(true));
        assert_eq!(by_id("GEN-STATUS").level, Level::Must);
        let positive = by_id("GEN-POSITIVE");
        assert_eq!(positive.met, Some(false));
        assert_eq!(positive.level, Level::Should);
        assert!(positive.failed[0].1.contains("400"));
        assert_eq!(by_id("GEN-AUTH").met, None);
    }
}
