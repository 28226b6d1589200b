//! Keep going past a failed step: which later steps of a case still run.
//! A failed step no longer hides the rest of its case; a later step is
//! skipped only when it needs a value the failed step did not capture (or
//! the case asks for the strict `stop_on_failure`). Cleanup always runs.

use std::collections::HashMap;

use crate::result::{Phase, StepOutcome};
use crate::suite::Step;

/// What the earlier steps of one attempt left behind.
#[derive(Debug, Default)]
pub struct Gate {
    /// Capture name -> 1-based position of the main step that should have
    /// captured it but did not finish.
    missing: HashMap<String, usize>,
    /// 1-based position of the first failed main step, if any.
    first_failure: Option<usize>,
}

impl Gate {
    /// Why the step must not run, or `None` to run it. Cleanup steps are
    /// never held back here (their render stage skips one whose variable
    /// was never captured).
    pub fn hold(&self, step: &Step, phase: Phase, stop_on_failure: bool) -> Option<String> {
        if phase == Phase::Cleanup {
            return None;
        }
        if stop_on_failure && let Some(n) = self.first_failure {
            return Some(format!(
                "skipped: step {n} failed and the case sets `stop_on_failure`"
            ));
        }
        if self.missing.is_empty() {
            // The usual case: nothing earlier went missing.
            return None;
        }
        step.variables()
            .into_iter()
            .find_map(|v| self.missing.get(&v).map(|n| (v, *n)))
            .map(|(v, n)| format!("skipped: needs `{v}`, not captured by step {n}"))
    }

    /// Records the end of the main step at 1-based `position`: each of its
    /// required captures that is still undefined (`defined` says) becomes
    /// missing; one it did store is available again.
    pub fn after(
        &mut self,
        step: &Step,
        position: usize,
        outcome: StepOutcome,
        defined: impl Fn(&str) -> bool,
    ) {
        if outcome == StepOutcome::Failed && self.first_failure.is_none() {
            self.first_failure = Some(position);
        }
        for c in &step.captures {
            if defined(&c.name) {
                // Nothing missing is the usual case: no hashing then.
                if !self.missing.is_empty() {
                    self.missing.remove(&c.name);
                }
            } else if !c.optional {
                self.missing.entry(c.name.clone()).or_insert(position);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(yaml: &str) -> crate::suite::Suite {
        let dir = std::env::temp_dir().join(format!("apiconform-gate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let spec =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pets-api.yaml");
        let file = dir.join("gate.yaml");
        let text = format!(
            "spec: {}\nname: gate\ncases:\n  - name: c\n    steps:\n{yaml}",
            spec.display()
        );
        std::fs::write(&file, text).expect("write");
        let mut specs = std::collections::HashMap::new();
        crate::suite::load::load_file(&file, &Default::default(), &mut specs).expect("loads")
    }

    #[test]
    fn a_step_runs_unless_it_needs_a_capture_an_earlier_step_failed_to_make() {
        let suite = suite(
            "      - request: POST /pets\n        body: {name: rex}\n        capture: {pet: {body: $.id}}\n      - request: GET /pets/{petId}\n        path: {petId: \"{{ pet }}\"}\n      - request: GET /pets\n",
        );
        let steps = &suite.cases[0].steps;
        let mut gate = Gate::default();
        assert_eq!(gate.hold(&steps[1], Phase::Main, false), None);
        gate.after(&steps[0], 1, StepOutcome::Failed, |_| false);
        assert_eq!(
            gate.hold(&steps[1], Phase::Main, false).as_deref(),
            Some("skipped: needs `pet`, not captured by step 1")
        );
        assert_eq!(gate.hold(&steps[2], Phase::Main, false), None);
        assert!(gate.hold(&steps[2], Phase::Main, true).is_some());
        assert_eq!(gate.hold(&steps[1], Phase::Cleanup, false), None);
    }
}
