//! The runner emits [`Event`]s; reporters consume them. A new report format
//! is a new [`Reporter`]: no runner code changes.

pub mod certificate;
pub mod console;
pub mod file;
mod generated_group;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod signing;

pub use crate::event::{
    Event, Fanout, Reporter, RunInfo, RunSummary, SuiteInfo, consume, time_serde,
};

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
            let with = req
                .credential
                .as_ref()
                .map(|c| format!("  (credential `{c}`)"))
                .unwrap_or_default();
            s.push_str(&format!("  {} {}{with}\n", req.method, req.url));
            if let Some(body) = &req.body {
                s.push_str("  request body:\n");
                for line in crate::check::truncate_text(body, 20, 2000).lines() {
                    s.push_str(&format!("    {line}\n"));
                }
            }
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
        if let Some(curl) = step.request.as_ref().and_then(|r| r.curl.as_ref()) {
            s.push_str(&format!("  reproduce: {curl}\n"));
        }
    }
    for (i, a) in case.earlier_attempts.iter().enumerate() {
        s.push_str(&format!("attempt {}: {}\n", i + 1, a.failure));
    }
    s
}
