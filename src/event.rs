//! The events a run emits and the trait that consumes them: plain data
//! shared by the engine ([`crate::run`]) and every reporter
//! ([`crate::report`], [`crate::coverage`], benchmarks). It lives outside
//! both so the runner knows no report format and reporters know no runner.

use std::sync::Arc;
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
    /// How the run connects: `--insecure`, proxies.
    pub network: NetworkInfo,
    /// The `apiconform.toml` profile in use, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// The run's connection settings as reports show them (no secret: proxy
/// URLs without their user and password).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetworkInfo {
    /// `--insecure`: server certificates were not verified.
    pub insecure: bool,
    /// The proxies in use, e.g. `http://proxy:3128 (--proxy)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
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
    CaseStarted { index: usize, name: Arc<str> },
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
    /// The signal (`SIGINT`, `SIGTERM`) that stopped the run, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// 429/503 `Retry-After` waits taken before resending.
    pub rate_limit_waits: RateWaits,
}

/// Rate-limit waits of a run: how many, and the seconds spent waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RateWaits {
    pub count: usize,
    pub seconds: f64,
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
