//! The runner emits [`Event`]s; reporters consume them. A new report format
//! is a new [`Reporter`]: no runner code changes.

pub mod certificate;
pub mod console;
pub mod file;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod signing;

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
/// then `RunFinished`. `CaseStarted` and `StepFinished` are sent only when a
/// reporter [wants them](Reporter::wants_steps) (`RunConfig::step_events`).
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

    /// Whether this reporter needs `CaseStarted` and `StepFinished` as they
    /// happen. Most read whole cases from `CaseFinished`; when none asks,
    /// the runner skips the per-step events (a cross-thread wake-up each).
    fn wants_steps(&self) -> bool {
        false
    }
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
    fn wants_steps(&self) -> bool {
        self.reporters.iter().any(|r| r.wants_steps())
    }

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

/// Renders a finished run into a file's text.
pub type Render = fn(&model::RunReport) -> Result<String, RenderError>;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

/// A reporter that writes one file when the run finishes (JUnit, JSON,
/// HTML, Markdown). Writability is checked up front, so an unwritable path
/// fails before any request is sent, but nothing at the path changes until
/// the report is ready ([`file`]).
pub struct FileReporter {
    path: std::path::PathBuf,
    builder: model::ReportBuilder,
    render: Render,
}

impl FileReporter {
    pub fn create(
        path: &std::path::Path,
        suites: &[std::sync::Arc<crate::suite::Suite>],
        render: Render,
    ) -> std::io::Result<FileReporter> {
        file::check_writable(path)?;
        Ok(FileReporter {
            path: path.to_path_buf(),
            builder: model::ReportBuilder::new(suites),
            render,
        })
    }
}

impl Reporter for FileReporter {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Some(report) = self.builder.observe(event) {
            let text = (self.render)(&report)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", self.path.display())))?;
            write_file(&self.path, text.as_bytes())?;
        }
        Ok(())
    }
}

pub use file::write_file;

/// Feeds events to a reporter until the sender hangs up; returns the first
/// reporter error. It polls (every few milliseconds) instead of blocking, so
/// the runner's `send` never has to wake this thread: a futex call per event
/// was a large share of a fast run's CPU.
pub fn consume(
    events: std::sync::mpsc::Receiver<Event>,
    mut reporter: impl Reporter,
) -> Option<std::io::Error> {
    use std::sync::mpsc::TryRecvError;
    let mut first_error = None;
    loop {
        match events.try_recv() {
            Ok(event) => {
                let event = without_url_credentials(event);
                if let Err(e) = reporter.event(&event) {
                    first_error.get_or_insert(e);
                }
            }
            Err(TryRecvError::Empty) => std::thread::sleep(std::time::Duration::from_millis(3)),
            Err(TryRecvError::Disconnected) => return first_error,
        }
    }
}

/// Every reporter sees the targets without URL userinfo (the console's
/// `target` line, report headers, JUnit properties).
fn without_url_credentials(event: Event) -> Event {
    match event {
        Event::RunStarted(mut info) => {
            for s in &mut info.suites {
                if let std::borrow::Cow::Owned(u) = crate::redact::strip_userinfo(&s.base_url) {
                    s.base_url = u;
                }
            }
            Event::RunStarted(info)
        }
        other => other,
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

/// Plain-text details of a failed (or flaky) case: each failed step with
/// its request, error, failed checks and findings, and earlier attempts.
/// Shared by JUnit, Markdown and `cargo test` trial messages.
pub fn failure_text(case: &crate::result::CaseResult) -> String {
    use crate::result::{CheckOutcome, StepOutcome};
    let mut s = format!("{}  ({})\n", case.full_name(), case.location);
    for step in case
        .steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::Failed)
    {
        let status = step.status().map(|s| format!(" → {s}")).unwrap_or_default();
        s.push_str(&format!(
            "step `{}` ({}{status})  {}\n",
            step.name, step.operation, step.location
        ));
        if let Some(req) = &step.request {
            s.push_str(&format!("  {} {}\n", req.method, req.url));
        }
        if let Some(e) = &step.error {
            s.push_str(&format!("  ✗ {e}\n"));
        }
        for c in step
            .checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Failed)
        {
            let at = c
                .location
                .as_ref()
                .map(|l| format!("  ({l})"))
                .unwrap_or_default();
            let msg = c.message.as_deref().unwrap_or("failed");
            s.push_str(&format!(
                "  ✗ {}: {}{at}\n",
                c.name,
                msg.replace('\n', "\n      ")
            ));
            for f in c.findings.iter().skip(usize::from(
                c.findings.len() == 1 && c.findings[0].message == msg,
            )) {
                s.push_str(&format!("      - {}", f.message));
                if let Some(rule) = &f.rule {
                    s.push_str(&format!(" [rule: {rule}]"));
                }
                s.push('\n');
            }
        }
        if let Some(body) = step.response.as_ref().and_then(|r| r.body.as_ref()) {
            s.push_str("  response body:\n");
            for line in crate::check::truncate_text(body, 20, 2000).lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
    }
    for (i, a) in case.earlier_attempts.iter().enumerate() {
        s.push_str(&format!("attempt {}: {}\n", i + 1, a.failure));
    }
    s
}
