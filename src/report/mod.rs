//! The runner emits [`Event`]s; reporters consume them. A new report format
//! is a new [`Reporter`]: no runner code changes.

pub mod console;

use std::time::SystemTime;

use serde::Serialize;

use crate::result::{CaseResult, StepResult, Totals};

/// What a run is about, sent once at the start.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub tool_version: &'static str,
    #[serde(with = "time_serde")]
    pub started: SystemTime,
    pub suites: Vec<SuiteInfo>,
    pub case_count: usize,
    /// `slice:I/N` when partitioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteInfo {
    pub file: String,
    pub name: String,
    pub sha256: String,
    pub spec_file: String,
    pub spec_title: String,
    pub spec_version: String,
    pub spec_sha256: String,
    /// Where this suite's requests go.
    pub base_url: String,
    /// `embedded enablenow` when run against an in-process reference server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_note: Option<String>,
}

/// Events, in order: `RunStarted`, then per case `CaseStarted`,
/// `StepFinished`..., `CaseFinished` (cases interleave when concurrent),
/// then `RunFinished`.
#[derive(Debug, Clone)]
pub enum Event {
    RunStarted(RunInfo),
    CaseStarted { index: usize, name: String },
    StepFinished { index: usize, step: Box<StepResult> },
    CaseFinished(Box<CaseResult>),
    RunFinished(RunSummary),
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub totals: Totals,
    pub duration_ms: f64,
    #[serde(with = "time_serde")]
    pub finished: SystemTime,
    /// Whether `--fail-fast` stopped the run early.
    pub stopped_early: bool,
}

/// Consumes events. Called from one thread, in event order.
pub trait Reporter: Send {
    fn event(&mut self, event: &Event) -> std::io::Result<()>;
}

/// Sends each event to several reporters.
#[derive(Default)]
pub struct Fanout {
    reporters: Vec<Box<dyn Reporter>>,
}

impl Fanout {
    pub fn add(&mut self, r: Box<dyn Reporter>) {
        self.reporters.push(r);
    }
}

impl Reporter for Fanout {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        let mut first_err = None;
        for r in &mut self.reporters {
            if let Err(e) = r.event(event) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// RFC 3339 timestamps in reports.
pub mod time_serde {
    use std::time::SystemTime;

    use serde::Serializer;

    pub fn format(t: SystemTime) -> String {
        let odt = time::OffsetDateTime::from(t);
        odt.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }
}
