//! `--json FILE`: the whole run as one document ([`RunReport`], schema in
//! `schema/report.schema.json`). `--json-lines FILE`: one event per line as
//! the run goes, flushed per line, so a watcher (or a killed CI job) sees
//! every case that finished.

use std::io::Write;

use serde_json::{Value, json};

use super::model::{RunReport, SCHEMA_VERSION, without_userinfo};
use super::{Event, RenderError, Reporter, time_serde};

/// `format` of the first line of a `--json-lines` stream.
pub const EVENTS_FORMAT: &str = "apiconform-events";

/// The report as pretty JSON.
pub fn render(report: &RunReport) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// One JSON object per event, in event order.
pub struct JsonLines<W: Write + Send> {
    out: W,
}

impl JsonLines<super::file::LazyStream> {
    /// Lines to `path` (`-`: stdout); the file is opened at the first event.
    pub fn create(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(JsonLines::new(super::file::LazyStream::new(path)?))
    }
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

/// The JSON object of one event; `event` names its kind.
pub fn event_json(event: &Event) -> Result<Value, serde_json::Error> {
    Ok(match event {
        Event::RunStarted(info) => {
            let suites: Vec<Value> = info
                .suites
                .iter()
                .map(|s| {
                    let mut v = serde_json::to_value(s)?;
                    v["base_url"] = Value::String(without_userinfo(&s.base_url));
                    Ok(v)
                })
                .collect::<Result<_, serde_json::Error>>()?;
            json!({
                "event": "run_started",
                "format": EVENTS_FORMAT,
                "schema_version": SCHEMA_VERSION,
                "tool_version": info.tool_version,
                "started": time_serde::format(info.started),
                "case_count": info.case_count,
                "partition": info.partition,
                "profile": info.profile,
                "suites": suites,
                "insecure": info.network.insecure,
                "proxy": info.network.proxy,
            })
        }
        Event::CaseStarted { index, name } => {
            json!({"event": "case_started", "index": index, "name": name})
        }
        Event::StepFinished { index, step } => {
            json!({"event": "step_finished", "index": index, "step": serde_json::to_value(step)?})
        }
        Event::CaseFinished(case) => {
            json!({"event": "case_finished", "case": serde_json::to_value(case)?})
        }
        Event::RunFinished(summary) => json!({
            "event": "run_finished",
            "totals": serde_json::to_value(super::model::TotalsRecord::from(summary.totals))?,
            "duration_ms": summary.duration_ms,
            "finished": time_serde::format(summary.finished),
            "stopped_early": summary.stopped_early,
            "interrupted": summary.interrupted.is_some(),
            "rate_limit_waits": summary.rate_limit_waits,
        }),
    })
}

impl<W: Write + Send> Reporter for JsonLines<W> {
    fn wants_steps(&self) -> bool {
        true
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        let line = serde_json::to_string(&event_json(event)?)?;
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RunSummary, SuiteInfo};
    use crate::result::{CaseStatus, Totals};
    use std::time::SystemTime;

    #[test]
    fn lines_are_objects_in_order_and_hide_url_credentials() {
        let mut out = Vec::new();
        let mut r = JsonLines::new(&mut out);
        r.event(&Event::RunStarted(crate::report::RunInfo {
            tool_version: "0.1.0",
            started: SystemTime::UNIX_EPOCH,
            suites: vec![SuiteInfo {
                file: "s.yaml".into(),
                name: "s".into(),
                sha256: "ab".into(),
                spec_file: "api.yaml".into(),
                spec_title: "API".into(),
                spec_version: "1".into(),
                spec_sha256: "cd".into(),
                base_url: "https://me:pw-secret@api.test".into(),
                target_note: None,
            }],
            case_count: 1,
            partition: None,
            network: Default::default(),
            profile: None,
        }))
        .unwrap();
        let mut totals = Totals::default();
        totals.add(CaseStatus::Passed);
        r.event(&Event::RunFinished(RunSummary {
            totals,
            duration_ms: 3.0,
            finished: SystemTime::UNIX_EPOCH,
            stopped_early: false,
            interrupted: None,
            rate_limit_waits: Default::default(),
        }))
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["event"], "run_started");
        assert_eq!(lines[0]["started"], "1970-01-01T00:00:00Z");
        assert_eq!(lines[0]["suites"][0]["base_url"], "https://api.test");
        assert_eq!(lines[1]["totals"]["total"], 1);
        assert!(!text.contains("pw-secret"));
    }
}
