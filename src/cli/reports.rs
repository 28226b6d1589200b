//! Report flags of `run` (wiring file reporters into the fan-out) and
//! `report merge`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::args::{MergeArgs, ReportArgs};
use super::common::usage_error;
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

/// How many report flags are `-` (stdout); more than one is a usage
/// error, since two reports would interleave on one stream.
pub(super) fn stdout_reports(paths: &[Option<&Path>]) -> Result<bool, String> {
    let n = paths
        .iter()
        .flatten()
        .filter(|p| report::file::is_stdout(p))
        .count();
    if n > 1 {
        return Err(format!(
            "{n} reports are `-` (stdout); at most one report can go to stdout"
        ));
    }
    Ok(n == 1)
}

/// Whether a `run` report goes to stdout (then the console uses stderr).
pub(super) fn run_reports_to_stdout(
    r: &ReportArgs,
    coverage_json: Option<&Path>,
) -> Result<bool, String> {
    stdout_reports(&[
        r.junit.as_deref(),
        r.json.as_deref(),
        r.json_lines.as_deref(),
        r.html.as_deref(),
        r.markdown.as_deref(),
        coverage_json,
    ])
}

/// Adds a reporter per requested file. Paths are checked now, so a bad
/// path fails before anything is sent; files are written when the run has
/// something to write.
pub(super) fn add_reporters(
    r: &ReportArgs,
    coverage_json: Option<&Path>,
    suites: &[Arc<Suite>],
    other_inputs: &[&Path],
    fanout: &mut report::Fanout,
) -> Result<(), String> {
    let outputs: Vec<(&str, &Path)> = [
        ("--junit", r.junit.as_deref()),
        ("--json", r.json.as_deref()),
        ("--json-lines", r.json_lines.as_deref()),
        ("--html", r.html.as_deref()),
        ("--markdown", r.markdown.as_deref()),
        ("--coverage-json", coverage_json),
    ]
    .into_iter()
    .filter_map(|(flag, p)| Some((flag, p?)))
    .collect();
    refuse_overwriting_inputs(&outputs, &run_inputs(suites, other_inputs))?;
    let cannot = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    // Written after the run by the command itself, but checked with the
    // reports: a run must not end in an unwritable --coverage-json.
    if let Some(path) = coverage_json {
        report::file::check_writable(path).map_err(|e| cannot(path, e))?;
    }
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

/// Every file the run read that a report could be pointed at by mistake:
/// the suite files, their shared step and rows files, their client
/// certificates and keys, each spec's documents, and the caller's others
/// (vars files, a baseline).
pub(super) fn run_inputs(suites: &[Arc<Suite>], others: &[&Path]) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = others.iter().map(|p| p.to_path_buf()).collect();
    for s in suites {
        inputs.push(s.file.clone());
        inputs.extend(s.read_files.iter().cloned());
        for (_, cert) in &s.client_certs {
            inputs.extend([cert.cert.clone(), cert.key.clone()]);
        }
        inputs.extend(s.spec.documents.iter().map(|d| d.file.clone()));
    }
    inputs
}

/// A report written over one of the run's inputs would destroy the user's
/// case file or spec, and two reports on one path would leave only the
/// last: both are usage errors, found before anything is sent. Paths are
/// compared as the files they name (symlinks and `./` resolved).
pub(super) fn refuse_overwriting_inputs(
    outputs: &[(&str, &Path)],
    inputs: &[PathBuf],
) -> Result<(), String> {
    let real = |p: &Path| std::fs::canonicalize(p).ok();
    let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| real(p)).collect();
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for (flag, path) in outputs {
        if report::file::is_stdout(path) {
            continue;
        }
        // A path that does not exist yet names no input; compare it by
        // its folder's real path and its name.
        let Some(file) = real(path).or_else(|| {
            let name = path.file_name()?;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            Some(real(dir.unwrap_or(Path::new(".")))?.join(name))
        }) else {
            continue;
        };
        if inputs.contains(&file) {
            return Err(format!(
                "{flag} {}: that is an input of this run; writing there would overwrite it",
                path.display()
            ));
        }
        // Several reports may go to one device or pipe (`/dev/null`).
        let regular = std::fs::metadata(&file).map_or(true, |m| m.is_file());
        if let Some((other, _)) = seen.iter().find(|(_, f)| regular && *f == file) {
            return Err(format!(
                "{other} and {flag} both write {}; give each report its own file",
                path.display()
            ));
        }
        seen.push((flag, file));
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
    let to_stdout = match stdout_reports(&[
        args.json.as_deref(),
        args.junit.as_deref(),
        args.html.as_deref(),
        args.markdown.as_deref(),
    ]) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
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
        if !args.allow_partial {
            return usage_error(&format!(
                "no report for {}; merge them all, or pass --allow-partial for an incomplete merge",
                missing.join(", ")
            ));
        }
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
    let line = format!(
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
    if to_stdout {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    if merged.totals.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
