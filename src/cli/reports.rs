//! Report flags of `run` (wiring file reporters into the fan-out) and
//! `report merge`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::args::{MergeArgs, ReportArgs};
use super::commands::usage_error;
use super::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};
use crate::report::model::{self, RunReport};
use crate::report::{self, FileReporter, Render, json::JsonLines};
use crate::suite::Suite;

/// JSON, JSON lines and HTML show headers and bodies of passing steps too.
pub(super) fn wants_everything(r: &ReportArgs) -> bool {
    r.json.is_some() || r.json_lines.is_some() || r.html.is_some()
}

fn renderers<'a>(
    junit: &'a Option<PathBuf>,
    json: &'a Option<PathBuf>,
    html: &'a Option<PathBuf>,
    markdown: &'a Option<PathBuf>,
) -> impl Iterator<Item = (&'a Path, Render)> {
    [
        (junit, report::junit::render as Render),
        (json, report::json::render as Render),
        (html, report::html::render as Render),
        (markdown, report::markdown::render as Render),
    ]
    .into_iter()
    .filter_map(|(p, r)| p.as_deref().map(|p| (p, r)))
}

/// Adds a reporter per requested file. Files are created now, so a bad
/// path fails before anything is sent.
pub(super) fn add_reporters(
    r: &ReportArgs,
    suites: &[Arc<Suite>],
    fanout: &mut report::Fanout,
) -> Result<(), String> {
    let cannot = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    for (path, render) in renderers(&r.junit, &r.json, &r.html, &r.markdown) {
        fanout.add(Box::new(
            FileReporter::create(path, suites, render).map_err(|e| cannot(path, e))?,
        ));
    }
    if let Some(path) = &r.json_lines {
        fanout.add(Box::new(
            JsonLines::create(path).map_err(|e| cannot(path, e))?,
        ));
    }
    Ok(())
}

/// Reads a JSON report written by `run --json`.
pub(super) fn read_report(path: &Path) -> Result<RunReport, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not an apiconform JSON report: {e}", path.display()))
}

pub(super) fn merge_command(args: MergeArgs) -> u8 {
    let mut reports = Vec::new();
    for path in &args.inputs {
        match read_report(path) {
            Ok(r) => reports.push((path.display().to_string(), r)),
            Err(e) => return usage_error(&e),
        }
    }
    let merged = match model::merge(&reports) {
        Ok(m) => m,
        Err(e) => return usage_error(&e.to_string()),
    };
    let missing = model::missing_partitions(&merged.partitions);
    if !missing.is_empty() {
        eprintln!(
            "warning: no report for {}; the merged report is incomplete",
            missing.join(", ")
        );
    }
    for (path, render) in renderers(&args.junit, &args.json, &args.html, &args.markdown) {
        let written = render(&merged)
            .map_err(|e| e.to_string())
            .and_then(|text| report::write_file(path, text.as_bytes()).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    }
    println!(
        "merged {} ({}): {} cases · {}",
        crate::diag::plural(reports.len(), "report"),
        if merged.partitions.is_empty() {
            "unsharded".to_string()
        } else {
            merged.partitions.join(", ")
        },
        merged.totals.total,
        merged.totals.closing_line()
    );
    if merged.totals.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
