//! Baselines: accepted known failures. Each entry names one failure exactly
//! (suite, case, step position and phase, check name, and the assertion's
//! line:column for an expectation), so one entry can never hide another
//! failure. A matching failure becomes `known` (the run does not fail); an
//! entry whose failure no longer happens makes its case `fixed`; an expired
//! entry no longer hides anything.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Pos};
use crate::result::{CaseResult, CheckOutcome, Phase, Status, StepOutcome};

/// The baseline file (YAML or JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub known: Vec<Entry>,
}

/// One accepted failure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Suite name.
    pub suite: String,
    pub case: String,
    /// 1-based position of the step among the case's `steps` (or `cleanup`).
    pub step: usize,
    #[serde(default = "main_phase", skip_serializing_if = "is_main")]
    pub phase: Phase,
    /// Check name (`response_schema_conformance`, `expect.body`), or
    /// `error` for a step that failed without a response.
    pub check: String,
    /// `line:column` of the assertion in the case file, for expectations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Why the failure is accepted (a ticket, a vendor decision).
    #[serde(default)]
    pub reason: String,
    /// Last day (`YYYY-MM-DD`, UTC) the entry is honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

fn main_phase() -> Phase {
    Phase::Main
}

fn is_main(p: &Phase) -> bool {
    *p == Phase::Main
}

/// The identity of one failure, as an entry names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    suite: String,
    case: String,
    step: usize,
    cleanup: bool,
    check: String,
    at: Option<String>,
}

impl Entry {
    fn key(&self) -> Key {
        Key {
            suite: self.suite.clone(),
            case: self.case.clone(),
            step: self.step,
            cleanup: self.phase == Phase::Cleanup,
            check: self.check.clone(),
            at: self.at.clone(),
        }
    }

    /// Whether the entry's last day is before `today` (`YYYY-MM-DD`).
    fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|d| d < today)
    }
}

/// `line:column` from a `file:line:column` location (the file part varies
/// with how the suite path was given; the position does not).
fn position(location: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?;
    let line = parts.next()?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(line) && numeric(column)).then(|| format!("{line}:{column}"))
}

/// Every failure of a case, with its key, in step order.
fn failures(case: &CaseResult) -> Vec<(usize, Option<usize>, Key)> {
    let mut out = Vec::new();
    let (mut main, mut cleanup) = (0, 0);
    for (si, step) in case.steps.iter().enumerate() {
        let n = match step.phase {
            Phase::Main => {
                main += 1;
                main
            }
            Phase::Cleanup => {
                cleanup += 1;
                cleanup
            }
        };
        if step.outcome != StepOutcome::Failed {
            continue;
        }
        let key = |check: &str, at: Option<String>| Key {
            suite: case.suite_name.to_string(),
            case: case.name.to_string(),
            step: n,
            cleanup: step.phase == Phase::Cleanup,
            check: check.to_string(),
            at,
        };
        let failed: Vec<_> = step
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| c.outcome == CheckOutcome::Failed)
            .collect();
        if failed.is_empty() || step.error.is_some() {
            out.push((si, None, key("error", None)));
        }
        for (ci, c) in failed {
            let at = c.location.as_deref().and_then(position);
            out.push((si, Some(ci), key(&c.name, at)));
        }
    }
    out
}

/// Today as `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// What applying the baseline to a case changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Entries whose failure still happens.
    pub known: usize,
    /// Entries whose failure no longer happens.
    pub fixed: Vec<Entry>,
    /// Entries past their expiry date that matched a failure.
    pub expired: Vec<Entry>,
}

impl Baseline {
    /// Reads a baseline file; a malformed one is an error at file:line:column.
    pub fn load(path: &Path) -> Result<Baseline, Diagnostic> {
        let text = crate::yaml::read(path)?;
        let baseline: Baseline = crate::yaml::from_str(path, &text)?;
        for (i, e) in baseline.known.iter().enumerate() {
            if let Some(d) = &e.expires
                && time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_err()
            {
                return Err(Diagnostic::new(
                    path,
                    Pos::UNKNOWN,
                    format!("known[{i}].expires: `{d}` is not a date like 2026-12-31"),
                ));
            }
            if e.step == 0 {
                return Err(Diagnostic::new(
                    path,
                    Pos::UNKNOWN,
                    format!("known[{i}].step: positions start at 1"),
                ));
            }
        }
        Ok(baseline)
    }

    /// The baseline that accepts every failure of these cases as it is now.
    pub fn from_results<'a>(cases: impl IntoIterator<Item = &'a CaseResult>) -> Baseline {
        let mut seen = HashSet::new();
        let mut known = Vec::new();
        for case in cases {
            for (_, _, k) in failures(case) {
                if seen.insert(k.clone()) {
                    known.push(Entry {
                        suite: k.suite,
                        case: k.case,
                        step: k.step,
                        phase: if k.cleanup {
                            Phase::Cleanup
                        } else {
                            Phase::Main
                        },
                        check: k.check,
                        at: k.at,
                        reason: "accepted with --write-baseline; say why".into(),
                        expires: None,
                    });
                }
            }
        }
        Baseline { known }
    }

    /// The file text (YAML).
    pub fn to_yaml(&self) -> String {
        let mut s = String::from(
            "# apiconform baseline: accepted known failures (apiconform run --baseline FILE).\n\
             # Each entry names one failure: suite, case, step position, check, assertion position.\n",
        );
        s.push_str(&serde_saphyr::to_string(self).unwrap_or_default());
        s
    }

    /// Marks the case's failures this baseline accepts as `known`, and the
    /// case `known` when nothing else failed, or `fixed` when it passed
    /// but the baseline lists failures for it.
    pub fn apply(&self, case: &mut CaseResult, today: &str) -> Applied {
        let mut applied = Applied::default();
        let mine: Vec<&Entry> = self
            .known
            .iter()
            .filter(|e| *e.suite == *case.suite_name && *e.case == *case.name)
            .collect();
        if mine.is_empty() || case.status == Status::Skipped {
            return applied;
        }
        let mut matched = HashSet::new();
        let mut accepted_errors = HashSet::new();
        for (si, ci, key) in failures(case) {
            let Some(entry) = mine.iter().find(|e| e.key() == key) else {
                continue;
            };
            matched.insert(key);
            let Some(step) = case.steps.get_mut(si) else {
                continue;
            };
            if entry.expired(today) {
                let note = format!(
                    "baseline entry expired on {}: {}",
                    entry.expires.as_deref().unwrap_or(""),
                    entry.reason
                );
                match ci.and_then(|ci| step.checks.get_mut(ci)) {
                    Some(c) => c.message = Some(join(c.message.as_deref(), &note).into()),
                    None => step.error = Some(join(step.error.as_deref(), &note)),
                }
                applied.expired.push((*entry).clone());
                continue;
            }
            applied.known += 1;
            match ci.and_then(|ci| step.checks.get_mut(ci)) {
                Some(c) => c.outcome = Status::Known,
                None => {
                    accepted_errors.insert(si);
                }
            }
        }
        for (si, step) in case.steps.iter_mut().enumerate() {
            let open_check = step
                .checks
                .iter()
                .any(|c| c.outcome == CheckOutcome::Failed);
            let open_error = step.error.is_some() && !accepted_errors.contains(&si);
            let had_known = accepted_errors.contains(&si)
                || step.checks.iter().any(|c| c.outcome == CheckOutcome::Known);
            if step.outcome == StepOutcome::Failed && had_known && !open_check && !open_error {
                step.outcome = Status::Known;
            }
        }
        applied.fixed = mine
            .iter()
            .filter(|e| !matched.contains(&e.key()))
            .map(|e| (*e).clone())
            .collect();
        let still_failed = case.steps.iter().any(|s| s.outcome == StepOutcome::Failed);
        case.status = match case.status {
            Status::Failed if !still_failed => Status::Known,
            Status::Passed | Status::Flaky if !applied.fixed.is_empty() => Status::Fixed,
            other => other,
        };
        applied
    }
}

fn join(first: Option<&str>, note: &str) -> String {
    match first {
        Some(m) => format!("{m} ({note})"),
        None => note.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CheckResult, StepResult};

    fn check(name: &str, outcome: Status, location: Option<&str>) -> CheckResult {
        serde_json::from_value(serde_json::json!({
            "name": name, "outcome": outcome, "location": location,
        }))
        .unwrap()
    }

    fn case(checks: Vec<CheckResult>) -> CaseResult {
        let failed = checks.iter().any(|c| c.outcome == Status::Failed);
        let outcome = if failed {
            Status::Failed
        } else {
            Status::Passed
        };
        let step: StepResult = serde_json::from_value(serde_json::json!({
            "name": "s", "phase": "main", "location": "f.yaml:3:9", "operation": "op",
            "method_path": "GET /x", "outcome": outcome, "duration_ms": 1.0, "checks": checks,
        }))
        .unwrap();
        serde_json::from_value(serde_json::json!({
            "index": 0, "suite_file": "f.yaml", "suite_name": "s1", "name": "c1",
            "location": "f.yaml:2:9", "tags": [], "status": outcome, "attempts": 1,
            "duration_ms": 1.0, "steps": [step],
        }))
        .unwrap()
    }

    #[test]
    fn an_entry_accepts_exactly_its_failure() {
        let two = || {
            case(vec![
                check("expect.body", Status::Failed, Some("f.yaml:10:5")),
                check("expect.body", Status::Failed, Some("f.yaml:11:5")),
            ])
        };
        let written = Baseline::from_results([&two()]);
        assert_eq!(written.known.len(), 2);
        assert_eq!(written.known[0].at.as_deref(), Some("10:5"));

        let mut one = written.clone();
        one.known.truncate(1);
        let mut c = two();
        let applied = one.apply(&mut c, "2026-01-01");
        assert_eq!(applied.known, 1);
        assert_eq!(c.status, Status::Failed, "the second failure is not hidden");

        let mut c = two();
        written.apply(&mut c, "2026-01-01");
        assert_eq!(c.status, Status::Known);
        assert!(c.steps[0].checks.iter().all(|k| k.outcome == Status::Known));
    }

    #[test]
    fn a_passing_case_with_entries_is_fixed_and_expiry_ends_an_entry() {
        let failing = case(vec![check(
            "expect.status",
            Status::Failed,
            Some("f.yaml:9:5"),
        )]);
        let mut baseline = Baseline::from_results([&failing]);
        let mut passing = case(vec![check(
            "expect.status",
            Status::Passed,
            Some("f.yaml:9:5"),
        )]);
        let applied = baseline.apply(&mut passing, "2026-01-01");
        assert_eq!(passing.status, Status::Fixed);
        assert_eq!(applied.fixed.len(), 1);

        baseline.known[0].expires = Some("2025-12-31".into());
        let mut c = failing.clone();
        let applied = baseline.apply(&mut c, "2026-01-01");
        assert_eq!(c.status, Status::Failed);
        assert_eq!(applied.expired.len(), 1);
        let msg = c.steps[0].checks[0].message.clone().unwrap_or_default();
        assert!(msg.contains("expired on 2025-12-31"), "{msg}");
    }

    #[test]
    fn positions_drop_the_file_part() {
        assert_eq!(position("C:/x/f.yaml:12:7").as_deref(), Some("12:7"));
        assert_eq!(position("nothing"), None);
    }
}
