//! Spec coverage: which operation × documented status pairs a run
//! exercised. Statuses a client cannot provoke (5xx) are listed as excluded,
//! with the reason, instead of counting as missing.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event::{Event, Reporter};
use crate::result::{RECEIVER_STATUS, StepOutcome};
use crate::spec::{OperationId, OperationKind, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairState {
    Covered,
    Missing,
    Excluded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoverageRow {
    /// operationId, or `METHOD /path`.
    pub operation: String,
    pub method_path: String,
    /// Documented response key: `200`, `4XX`, `default`.
    pub status: String,
    pub state: PairState,
    /// How many steps got this status.
    pub hits: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpecCoverage {
    pub spec_file: String,
    pub title: String,
    pub rows: Vec<CoverageRow>,
    pub covered: usize,
    /// Pairs that count (all but excluded).
    pub coverable: usize,
    /// `covered / coverable` in percent (100 when nothing is coverable).
    pub percent: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Coverage {
    pub specs: Vec<SpecCoverage>,
}

impl Coverage {
    /// The lowest percentage over all specs.
    pub fn min_percent(&self) -> f64 {
        self.specs.iter().map(|s| s.percent).fold(100.0, f64::min)
    }
}

/// Why a documented status is not expected to be provoked by a client.
pub fn exclusion_reason(status: &str) -> Option<&'static str> {
    if status.starts_with('5') {
        Some("server errors cannot be provoked by a conforming client")
    } else if status == "default" {
        Some("`default` documents unexpected errors, not a specific status")
    } else {
        None
    }
}

/// Collects coverage from finished cases; use as a reporter.
pub struct Collector {
    /// Suite file -> spec.
    specs_by_suite: HashMap<String, Arc<Spec>>,
    /// Spec path -> (operation index, response key) -> hits.
    hits: HashMap<String, HashMap<(usize, String), usize>>,
    /// Specs in first-seen order.
    specs: Vec<Arc<Spec>>,
    /// Spec path -> (operation index, response key) -> reason, from suites.
    exclusions: HashMap<String, HashMap<(usize, String), String>>,
}

impl Collector {
    pub fn new(suites: &[Arc<crate::suite::Suite>]) -> Collector {
        let mut specs: Vec<Arc<Spec>> = Vec::new();
        let mut specs_by_suite = HashMap::new();
        let mut exclusions: HashMap<String, HashMap<(usize, String), String>> = HashMap::new();
        for s in suites {
            let key = s.spec.path.display().to_string();
            for (op, status, reason) in &s.coverage_exclusions {
                exclusions
                    .entry(key.clone())
                    .or_default()
                    .insert((*op, status.clone()), reason.clone());
            }
            specs_by_suite.insert(s.file.display().to_string(), s.spec.clone());
            if !specs.iter().any(|x| Arc::ptr_eq(x, &s.spec)) {
                specs.push(s.spec.clone());
            }
        }
        Collector {
            specs_by_suite,
            hits: HashMap::new(),
            specs,
            exclusions,
        }
    }

    /// Records one exercised (operation, status).
    pub fn observe(&mut self, suite_file: &str, operation: OperationId, status: u16) {
        let Some(spec) = self.specs_by_suite.get(suite_file) else {
            return;
        };
        let Some(resp) = spec
            .operations
            .get(operation.0)
            .and_then(|op| op.response_for(status))
        else {
            return;
        };
        *self
            .hits
            .entry(spec.path.display().to_string())
            .or_default()
            .entry((operation.0, resp.key.clone()))
            .or_default() += 1;
    }

    pub fn coverage(&self) -> Coverage {
        let mut out = Coverage::default();
        for spec in &self.specs {
            let key = spec.path.display().to_string();
            let hits = self.hits.get(&key);
            let declared = self.exclusions.get(&key);
            let mut rows = Vec::new();
            for (i, op) in spec.operations.iter().enumerate() {
                for resp in &op.responses {
                    let n = hits
                        .and_then(|h| h.get(&(i, resp.key.clone())))
                        .copied()
                        .unwrap_or(0);
                    let reason: Option<String> = match op.kind {
                        OperationKind::Webhook(_) => Some(
                            "a webhook's responses are the receiver's reply; the harness's receiver answers 204".into(),
                        ),
                        OperationKind::Path => declared
                            .and_then(|d| d.get(&(i, resp.key.clone())).cloned())
                            .or_else(|| exclusion_reason(&resp.key).map(str::to_string)),
                    };
                    let state = match (n > 0, &reason) {
                        (true, _) => PairState::Covered,
                        (false, Some(_)) => PairState::Excluded,
                        (false, None) => PairState::Missing,
                    };
                    rows.push(CoverageRow {
                        operation: op.label(),
                        method_path: match &op.kind {
                            OperationKind::Path => op.method_path(),
                            OperationKind::Webhook(name) => format!("WEBHOOK {name}"),
                        },
                        status: resp.key.clone(),
                        state,
                        hits: n,
                        reason: if state == PairState::Excluded {
                            reason
                        } else {
                            None
                        },
                    });
                }
            }
            let covered = rows
                .iter()
                .filter(|r| r.state == PairState::Covered)
                .count();
            let coverable = rows
                .iter()
                .filter(|r| r.state != PairState::Excluded)
                .count();
            let percent = if coverable == 0 {
                100.0
            } else {
                covered as f64 * 100.0 / coverable as f64
            };
            out.specs.push(SpecCoverage {
                spec_file: key,
                title: spec.title.clone(),
                rows,
                covered,
                coverable,
                percent,
            });
        }
        out
    }
}

impl Reporter for Collector {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::CaseFinished(case) = event {
            for step in &case.steps {
                let Some(op) = step.operation_id else {
                    continue;
                };
                if let Some(status) = step.status() {
                    self.observe(&case.suite_file, op, status);
                } else if step.response.is_none()
                    && step.request.is_some()
                    && step.outcome == StepOutcome::Passed
                {
                    // A received webhook counts as the reply our receiver sends.
                    self.observe(&case.suite_file, op, RECEIVER_STATUS);
                }
            }
        }
        Ok(())
    }
}

impl Coverage {
    /// Sums the hits of several runs' tables (shards of one plan): a pair
    /// is covered when any shard covered it, excluded (with the reason a
    /// shard gave) when none did and a shard excluded it.
    pub fn merge<'a>(tables: impl IntoIterator<Item = &'a Coverage>) -> Coverage {
        let mut specs: Vec<SpecCoverage> = Vec::new();
        for table in tables {
            for spec in &table.specs {
                let Some(into) = specs.iter_mut().find(|s| s.spec_file == spec.spec_file) else {
                    specs.push(spec.clone());
                    continue;
                };
                for row in &spec.rows {
                    let same = |r: &&mut CoverageRow| {
                        r.method_path == row.method_path && r.status == row.status
                    };
                    match into.rows.iter_mut().find(same) {
                        Some(r) => {
                            r.hits += row.hits;
                            if r.reason.is_none() {
                                r.reason.clone_from(&row.reason);
                            }
                        }
                        None => into.rows.push(row.clone()),
                    }
                }
            }
        }
        for spec in &mut specs {
            for r in &mut spec.rows {
                r.state = match (r.hits > 0, &r.reason) {
                    (true, _) => PairState::Covered,
                    (false, Some(_)) => PairState::Excluded,
                    (false, None) => PairState::Missing,
                };
                if r.state != PairState::Excluded {
                    r.reason = None;
                }
            }
            spec.covered = spec
                .rows
                .iter()
                .filter(|r| r.state == PairState::Covered)
                .count();
            spec.coverable = spec
                .rows
                .iter()
                .filter(|r| r.state != PairState::Excluded)
                .count();
            spec.percent = if spec.coverable == 0 {
                100.0
            } else {
                spec.covered as f64 * 100.0 / spec.coverable as f64
            };
        }
        Coverage { specs }
    }
}

/// A plain-text table of a coverage result.
pub fn render_table(c: &Coverage) -> String {
    let mut s = String::new();
    for spec in &c.specs {
        s.push_str(&format!(
            "Coverage of {} ({}): {}/{} pairs ({:.0}%)\n",
            spec.title, spec.spec_file, spec.covered, spec.coverable, spec.percent
        ));
        let width = spec
            .rows
            .iter()
            .map(|r| r.operation.len())
            .max()
            .unwrap_or(9)
            .max(9);
        for r in &spec.rows {
            let state = match r.state {
                PairState::Covered => format!("covered ({}x)", r.hits),
                PairState::Missing => "MISSING".to_string(),
                PairState::Excluded => format!("excluded: {}", r.reason.as_deref().unwrap_or("")),
            };
            s.push_str(&format!(
                "  {:<width$}  {:<7}  {state}\n",
                r.operation, r.status
            ));
        }
    }
    s
}
