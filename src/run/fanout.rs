//! A generated phase case's requests are independent (no chain role, no
//! capture another step reads), so they are sent a few at a time instead
//! of one after another: a positive phase of 100 requests was the whole
//! run's critical path while the other workers sat idle.

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;

use super::interrupt;
use super::step::{CaseState, Stages, SuiteContext, redact_step};
use crate::result::{Phase, StepResult};
use crate::suite::{Case, Step, Suite};

/// Most requests of one case in flight at once (and never more than the
/// run's `--jobs`).
const WIDTH: usize = 4;

/// How many of `case`'s main steps may run at once: 1 unless every step
/// is an independent generated request.
pub(super) fn width(case: &Case, jobs: usize) -> usize {
    if case.independent_steps() && !case.stop_on_failure && case.steps.len() > 1 {
        WIDTH.min(jobs).max(1)
    } else {
        1
    }
}

/// Runs the main steps `width` at a time, each on its own copy of the case
/// state (redacted with it); the values they bind are merged back in step
/// order. `None` for a step a signal kept from starting.
pub(super) async fn run_main(
    stages: &Stages<'_>,
    suite: &Suite,
    ctx: &SuiteContext,
    steps: &[Step],
    state: &mut CaseState,
    width: usize,
) -> Vec<Option<StepResult>> {
    let base = &*state;
    // A sliding window in step order (no closure over the borrows: the
    // worker's future must stay `Send` for every lifetime).
    let mut pending = FuturesOrdered::new();
    let mut next = steps.iter();
    let mut runs = Vec::with_capacity(steps.len());
    loop {
        while pending.len() < width.max(1) {
            match next.next() {
                Some(step) => pending.push_back(run_one(stages, suite, ctx, step, base)),
                None => break,
            }
        }
        match pending.next().await {
            Some(run) => runs.push(run),
            None => break,
        }
    }
    drop(pending);
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        match run {
            Some((result, own)) => {
                for (k, v) in own.locals {
                    state.locals.entry(k).or_insert(v);
                }
                if state.redactor.is_none() {
                    state.redactor = own.redactor;
                }
                out.push(Some(result));
            }
            None => out.push(None),
        }
    }
    out
}

/// One step on its own copy of the case state; `None` after a signal.
async fn run_one(
    stages: &Stages<'_>,
    suite: &Suite,
    ctx: &SuiteContext,
    step: &Step,
    base: &CaseState,
) -> Option<(StepResult, CaseState)> {
    if interrupt::requested() {
        return None;
    }
    let mut own = CaseState {
        locals: base.locals.clone(),
        redactor: base.redactor.clone(),
        history: base.history.clone(),
    };
    let mut result = stages.run(suite, ctx, step, Phase::Main, &mut own).await;
    redact_step(own.redactor(ctx), &mut result);
    Some((result, own))
}
