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
                self.missing.remove(&c.name);
            } else if !c.optional {
                self.missing.entry(c.name.clone()).or_insert(position);
            }
        }
    }
}
