//! The console reporter: a line per case as it finishes, failure details
//! after the list, and a closing `N passed, M failed` line. A progress bar
//! on a terminal; plain lines otherwise. Colours follow NO_COLOR and the
//! terminal (anstream).

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::{Event, Reporter};
use crate::check::Finding;
use crate::result::{CaseResult, CaseStatus, CheckOutcome, StepOutcome, StepResult};

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    /// Request/response dumps for every step.
    Verbose,
}

pub struct Console<W: Write + Send> {
    out: W,
    verbosity: Verbosity,
    failed: Vec<CaseResult>,
    flaky: Vec<CaseResult>,
    progress: Option<indicatif::ProgressBar>,
    /// `-v` step dumps per running case (by plan index), printed together
    /// under the case's line when it ends, so concurrent cases never
    /// interleave.
    held: std::collections::HashMap<usize, String>,
}

impl Console<anstream::AutoStream<std::io::Stdout>> {
    /// Console on stdout; a progress bar when stderr is a terminal.
    pub fn stdout(verbosity: Verbosity, progress: bool) -> Self {
        let mut c = Console::new(anstream::stdout(), verbosity);
        if progress
            && verbosity != Verbosity::Quiet
            && std::io::IsTerminal::is_terminal(&std::io::stderr())
        {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            c.progress = Some(bar);
        }
        c
    }
}

impl Console<anstream::AutoStream<std::io::Stderr>> {
    /// Console on stderr, for when a report goes to stdout (`--json -`);
    /// no progress bar, which would share the stream.
    pub fn stderr(verbosity: Verbosity) -> Self {
        Console::new(anstream::stderr(), verbosity)
    }
}

impl<W: Write + Send> Console<W> {
    pub fn new(out: W, verbosity: Verbosity) -> Self {
        Console {
            out,
            verbosity,
            failed: Vec::new(),
            flaky: Vec::new(),
            progress: None,
            held: std::collections::HashMap::new(),
        }
    }

    fn line(&mut self, text: &str) -> std::io::Result<()> {
        match &self.progress {
            // Keep the bar below the lines.
            Some(bar) => {
                bar.suspend(|| writeln!(self.out, "{text}"))?;
                Ok(())
            }
            None => writeln!(self.out, "{text}"),
        }
    }

    fn case_line(&mut self, r: &CaseResult) -> std::io::Result<()> {
        let style = match r.status {
            CaseStatus::Passed | CaseStatus::Fixed => GREEN,
            CaseStatus::Failed | CaseStatus::Interrupted => RED,
            CaseStatus::Flaky
            | CaseStatus::Skipped
            | CaseStatus::NotVerified
            | CaseStatus::Known
            | CaseStatus::Advisory => YELLOW,
        };
        let time = if r.status == CaseStatus::Skipped {
            String::from("       ")
        } else {
            format!("{:>7}", format_ms(r.duration_ms))
        };
        let mut line = format!(
            "{style}{:<5}{style:#} {DIM}{time}{DIM:#} {}",
            r.status.label(),
            r.full_name()
        );
        if r.status == CaseStatus::Flaky {
            line.push_str(&format!(" {DIM}(passed on attempt {}){DIM:#}", r.attempts));
        }
        if r.status == CaseStatus::Failed
            && let Some(note) = r.requirement.as_ref().and_then(|q| q.advisory_label())
        {
            line.push_str(&format!(" {YELLOW}[{note}]{YELLOW:#}"));
        }
        if let Some(reason) = &r.skip_reason {
            line.push_str(&format!(" {DIM}({reason}){DIM:#}"));
        } else if r.status == CaseStatus::Passed
            && let Some(step) = r.steps.iter().find(|s| s.outcome == StepOutcome::Skipped)
            && let Some(e) = &step.error
        {
            line.push_str(&format!(" {DIM}(step `{}` {e}){DIM:#}", step.name));
        }
        self.line(&line)
    }

    /// A step's `-v` dump: its name, request, notes and response.
    fn dump_step(step: &StepResult) -> String {
        let mut text = format!("  {DIM}· {} ({}){DIM:#}\n", step.name, step.operation);
        if let Some(req) = &step.request {
            text.push_str(&format!("    {DIM}>{DIM:#} {} {}\n", req.method, req.url));
            for (k, v) in &req.headers {
                text.push_str(&format!("    {DIM}> {k}: {v}{DIM:#}\n"));
            }
            if let Some(body) = &req.body {
                text.push_str(&indent(body, "    > "));
            }
        }
        for note in &step.notes {
            text.push_str(&format!("    {YELLOW}↻{YELLOW:#} {note}\n"));
        }
        if let Some(resp) = &step.response {
            text.push_str(&format!(
                "    {DIM}<{DIM:#} {} ({} bytes, {})\n",
                resp.status,
                resp.size,
                format_ms(step.duration_ms)
            ));
            for (k, v) in &resp.headers {
                text.push_str(&format!("    {DIM}< {k}: {v}{DIM:#}\n"));
            }
            if let Some(body) = &resp.body {
                text.push_str(&indent(body, "    < "));
            }
        }
        text
    }

    fn failure_details(&mut self, r: &CaseResult) -> std::io::Result<()> {
        let mut text = format!(
            "{RED}──{RED:#} {BOLD}{}{BOLD:#}  {DIM}{}{DIM:#}\n",
            r.full_name(),
            r.location
        );
        for step in &r.steps {
            if step.outcome == StepOutcome::Skipped
                && let Some(reason) = &step.error
            {
                text.push_str(&format!(
                    "  step `{}` {YELLOW}{reason}{YELLOW:#}  {DIM}{}{DIM:#}\n",
                    step.name, step.location
                ));
            }
            if step.outcome != StepOutcome::Failed {
                continue;
            }
            let status = step.status().map(|s| format!(" → {s}")).unwrap_or_default();
            text.push_str(&format!(
                "  step `{}` ({}{status})  {DIM}{}{DIM:#}\n",
                step.name, step.operation, step.location
            ));
            if let Some(req) = &step.request {
                let with = req
                    .credential
                    .as_ref()
                    .map(|c| format!("  (credential `{c}`)"))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "    {DIM}{} {}{with}{DIM:#}\n",
                    req.method, req.url
                ));
                if let Some(body) = &req.body {
                    text.push_str(&format!("    {DIM}request body:{DIM:#}\n"));
                    text.push_str(&indent(
                        &crate::check::truncate_text(body, 20, 2000),
                        "      ",
                    ));
                }
            }
            if let Some(e) = &step.error {
                text.push_str(&format!("    {RED}✗{RED:#} {e}\n"));
            }
            for c in step
                .checks
                .iter()
                .filter(|c| c.outcome == CheckOutcome::Failed)
            {
                let at = c
                    .location
                    .as_ref()
                    .map(|l| format!("  {DIM}{l}{DIM:#}"))
                    .unwrap_or_default();
                if c.findings.is_empty() {
                    let msg = c.message.as_deref().unwrap_or("failed");
                    let mut lines = msg.lines();
                    text.push_str(&format!(
                        "    {RED}✗{RED:#} {}: {}{at}\n",
                        c.name,
                        lines.next().unwrap_or("")
                    ));
                    for l in lines {
                        text.push_str(&format!("        {l}\n"));
                    }
                } else {
                    text.push_str(&format!("    {RED}✗{RED:#} {}{at}\n", c.name));
                    let mut last_excerpt = None;
                    for f in &c.findings {
                        // Several errors in one object: show the object once.
                        let next_same =
                            last_excerpt.is_some() && last_excerpt == f.excerpt.as_ref();
                        text.push_str(&finding_text(f, !next_same));
                        last_excerpt = f.excerpt.as_ref();
                    }
                }
            }
            if let Some(resp) = &step.response
                && let Some(body) = &resp.body
                && !step
                    .checks
                    .iter()
                    .any(|c| c.findings.iter().any(|f| f.excerpt.is_some()))
            {
                text.push_str(&format!("    {DIM}response body:{DIM:#}\n"));
                text.push_str(&indent(
                    &crate::check::truncate_text(body, 20, 2000),
                    "      ",
                ));
            }
            if let Some(curl) = step.request.as_ref().and_then(|q| q.curl.as_ref()) {
                text.push_str(&format!("    {DIM}reproduce:{DIM:#} {curl}\n"));
            }
        }
        for (i, a) in r.earlier_attempts.iter().enumerate() {
            text.push_str(&format!("  {DIM}attempt {}: {}{DIM:#}\n", i + 1, a.failure));
        }
        self.line(&text)
    }
}

/// ` · INSECURE TLS: ... · proxy ...` for the header line (nothing when
/// the run verifies certificates and uses no proxy).
fn network_note(n: &crate::event::NetworkInfo) -> String {
    let mut s = String::new();
    if n.insecure {
        s.push_str(&format!(
            " · {YELLOW}insecure: server certificates not verified (--insecure){YELLOW:#}"
        ));
    }
    if let Some(p) = &n.proxy {
        s.push_str(&format!(" · proxy {p}"));
    }
    s
}

/// ` · 2 rate-limit waits (3.0 s)` for the summary line, when there were any.
fn waits_note(w: &crate::event::RateWaits) -> String {
    match w.count {
        0 => String::new(),
        1 => format!(" · 1 rate-limit wait ({:.1} s)", w.seconds),
        n => format!(" · {n} rate-limit waits ({:.1} s)", w.seconds),
    }
}

fn finding_text(f: &Finding, with_excerpt: bool) -> String {
    let mut s = format!("        {}\n", f.message);
    if let Some(rule) = &f.rule {
        s.push_str(&format!("        {DIM}rule: {rule}{DIM:#}\n"));
    }
    if let Some(ex) = f.excerpt.as_ref().filter(|_| with_excerpt) {
        s.push_str(&indent(ex, "          "));
    }
    s
}

fn indent(text: &str, prefix: &str) -> String {
    let mut s = String::new();
    for line in text.lines() {
        s.push_str(prefix);
        s.push_str(line);
        s.push('\n');
    }
    s
}

pub fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        format!("{ms:.0}ms")
    }
}

impl<W: Write + Send> Reporter for Console<W> {
    fn wants_steps(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::RunStarted(info) => {
                if let Some(bar) = &self.progress {
                    bar.set_length(info.case_count as u64);
                }
                if self.verbosity == Verbosity::Quiet {
                    // No header line when quiet, but an unverified run still says so.
                    if info.network.insecure {
                        self.line(&format!(
                            "{YELLOW}insecure: server certificates not verified (--insecure){YELLOW:#}"
                        ))?;
                    }
                    return Ok(());
                }
                let mut targets: Vec<String> = info
                    .suites
                    .iter()
                    .map(|s| match &s.target_note {
                        Some(n) => format!("{} ({n})", s.base_url),
                        None => s.base_url.clone(),
                    })
                    .collect();
                targets.dedup();
                let partition = info
                    .partition
                    .as_ref()
                    .map(|p| format!(" · {p}"))
                    .unwrap_or_default();
                let partition = match &info.profile {
                    Some(p) => format!("{partition} · profile {p}"),
                    None => partition,
                };
                self.line(&format!(
                    "{BOLD}apiconform {}{BOLD:#} · {} suite{} · {} case{}{partition} · target {}{}",
                    info.tool_version,
                    info.suites.len(),
                    if info.suites.len() == 1 { "" } else { "s" },
                    info.case_count,
                    if info.case_count == 1 { "" } else { "s" },
                    targets.join(", "),
                    network_note(&info.network)
                ))?;
            }
            Event::CaseStarted { .. } => {}
            Event::StepFinished { index, step } => {
                if self.verbosity == Verbosity::Verbose {
                    let text = Self::dump_step(step);
                    self.held.entry(*index).or_default().push_str(&text);
                }
            }
            Event::CaseFinished(result) => {
                if let Some(bar) = &self.progress {
                    bar.inc(1);
                }
                let show = match self.verbosity {
                    Verbosity::Quiet => result.status == CaseStatus::Failed,
                    _ => true,
                };
                if show {
                    self.case_line(result)?;
                }
                if let Some(text) = self.held.remove(&result.index) {
                    self.line(text.trim_end())?;
                }
                match result.status {
                    CaseStatus::Failed => self.failed.push(result.as_ref().clone()),
                    CaseStatus::Flaky => self.flaky.push(result.as_ref().clone()),
                    _ => {}
                }
            }
            Event::RunFinished(summary) => {
                if let Some(bar) = self.progress.take() {
                    bar.finish_and_clear();
                }
                let mut failed = std::mem::take(&mut self.failed);
                failed.sort_by_key(|r| r.index);
                if !failed.is_empty() {
                    self.line(&format!("\n{BOLD}Failures:{BOLD:#}\n"))?;
                    for r in &failed {
                        self.failure_details(r)?;
                    }
                }
                let flaky = std::mem::take(&mut self.flaky);
                if !flaky.is_empty() && self.verbosity != Verbosity::Quiet {
                    let names: Vec<String> = flaky.iter().map(|r| r.full_name()).collect();
                    self.line(&format!(
                        "{YELLOW}flaky{YELLOW:#} (passed on retry): {}",
                        names.join(", ")
                    ))?;
                }
                let t = summary.totals;
                let style = if t.failed + t.interrupted > 0 || summary.interrupted.is_some() {
                    RED
                } else {
                    GREEN
                };
                let early = if summary.stopped_early {
                    " (stopped early: --fail-fast)"
                } else {
                    ""
                };
                self.line(&format!(
                    "{DIM}{} case{} in {}{early}{}{DIM:#}",
                    t.total(),
                    if t.total() == 1 { "" } else { "s" },
                    format_ms(summary.duration_ms),
                    waits_note(&summary.rate_limit_waits)
                ))?;
                if let Some(signal) = &summary.interrupted {
                    self.line(&format!(
                        "{RED}interrupted by {signal}{RED:#}: cases not started are not reported; every started case ran its cleanup"
                    ))?;
                }
                self.line(&format!("{style}{}{style:#}", t.closing_line()))?;
                self.out.flush()?;
            }
        }
        Ok(())
    }
}
