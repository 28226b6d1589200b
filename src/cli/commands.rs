//! What each subcommand does.

use std::path::Path;
use std::sync::Arc;

use super::args::{CheckArgs, Cli, Command, ListArgs, RunArgs};
use super::common::{
    Selection, Shared, broken_refs_in_plan, default_paths, external_vars, input_error, out,
    parse_timeout, select, session_error, usage_error,
};
use super::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};
use crate::check::{self, CheckSet};
use crate::diag::Diagnostics;
use crate::report::Fanout;
use crate::report::console::{Console, Verbosity};
use crate::run::session::{self, TargetOptions};
use crate::run::{self, Record, RunConfig};
use crate::suite::{self, LoadOptions};

pub fn dispatch(cli: Cli) -> u8 {
    cli.color.apply();
    match cli.command {
        Command::Run(args) => run_command(*args),
        Command::Fuzz(args) => super::fuzz::fuzz_command(*args),
        Command::List(args) => list_command(args),
        Command::Check(args) => check_command(args),
        Command::Checks => {
            for c in check::REGISTRY {
                out(&format!("{:<30} {}", c.name, c.description));
            }
            EXIT_OK
        }
        Command::Serve(args) => serve_command(args),
        Command::Schema { shared, profiles } => {
            out(&if profiles {
                super::profile::schema_json()
            } else if shared {
                crate::suite::shared_schema_json()
            } else {
                crate::suite::schema_json()
            });
            EXIT_OK
        }
        Command::Certify(args) => super::certify::certify_command(args),
        Command::Report(super::args::ReportCommand::Merge(args)) => {
            super::reports::merge_command(args)
        }
        Command::Scaffold(args) => super::scaffold::scaffold_command(args),
    }
}

fn serve_command(args: crate::serve::ServeArgs) -> u8 {
    let runtime = match run::runtime() {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    match runtime.block_on(crate::serve::run_cli(args)) {
        Ok(()) => EXIT_OK,
        Err(e) => usage_error(&e.to_string()),
    }
}

fn list_command(args: ListArgs) -> u8 {
    let sel = match select(&args.select, true) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.format == "json" {
        return list_json(&sel.plan);
    }
    for pc in &sel.plan {
        let case = pc.case();
        let tags = if case.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", case.tags.join(", "))
        };
        if !out(&format!("{} › {}{tags}", pc.suite.name, case.name)) {
            return EXIT_OK;
        }
    }
    let suites: std::collections::BTreeSet<&str> =
        sel.plan.iter().map(|p| &*p.suite.name).collect();
    eprintln!(
        "{} in {}",
        crate::diag::plural(sel.plan.len(), "case"),
        crate::diag::plural(suites.len(), "suite")
    );
    EXIT_OK
}

/// `list --format json`: one object per planned case, for CI matrices.
fn list_json(plan: &[run::PlannedCase]) -> u8 {
    let cases: Vec<serde_json::Value> = plan
        .iter()
        .map(|pc| {
            let case = pc.case();
            serde_json::json!({
                "suite": pc.suite.name,
                "file": pc.suite.file_display,
                "name": case.name,
                "location": case.location,
                "tags": case.tags,
                "requirement": case.requirement.as_ref().map(|r| r.id.clone()),
                "level": case.requirement.as_ref().map(|r| r.level().name()),
            })
        })
        .collect();
    match serde_json::to_string_pretty(&cases) {
        Ok(text) => {
            out(&text);
            EXIT_OK
        }
        Err(e) => usage_error(&format!("cannot encode the case list: {e}")),
    }
}

fn check_command(args: CheckArgs) -> u8 {
    let mut diagnostics = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut spec_files = args.spec.clone();
    let mut suite_paths = Vec::new();
    for p in &args.paths {
        let url = p.to_str().is_some_and(crate::spec::source::is_url);
        if url || (p.is_file() && looks_like_spec(p)) {
            spec_files.push(p.clone());
        } else {
            suite_paths.push(p.clone());
        }
    }
    let mut report = Vec::new();
    for file in &spec_files {
        match crate::spec::load(file) {
            Ok(spec) => {
                let problems = crate::spec::lint::lint(&spec);
                let dialect = if spec.swagger2 {
                    "Swagger 2.0 read as OpenAPI 3.0".to_string()
                } else {
                    format!("OpenAPI {}", spec.version)
                };
                report.push(format!(
                    "ok: {} ({} {}, {dialect}): {}, {} compiled{}",
                    file.display(),
                    spec.title,
                    spec.api_version,
                    operation_counts(&spec),
                    crate::diag::plural(spec.schema_count(), "schema"),
                    warning_count(problems.len())
                ));
                warnings.0.extend(problems.0);
            }
            Err(d) => diagnostics.0.extend(d.0),
        }
    }
    if !suite_paths.is_empty() || spec_files.is_empty() {
        let external = match external_vars(&args.var, &args.vars_file, &args.secret)
            .and_then(|e| super::common::over_profile(e, &args.profile))
        {
            Ok(e) => e,
            Err(d) => return input_error(&d),
        };
        let paths = default_paths(&suite_paths);
        match suite::load_paths(
            &paths,
            &LoadOptions {
                external,
                outline_specs: false,
            },
        ) {
            Ok(suites) => {
                let every_case = run::plan(&suites, &run::Filters::default(), None);
                diagnostics.0.extend(broken_refs_in_plan(&every_case).0);
                let mut linted: Vec<&Path> = Vec::new();
                for s in &suites {
                    let mut count = 0;
                    if !linted.contains(&s.spec.path.as_path()) {
                        linted.push(&s.spec.path);
                        let lint = crate::spec::lint::lint(&s.spec);
                        count = lint.len();
                        warnings.0.extend(lint.0);
                    }
                    let steps: usize = s
                        .cases
                        .iter()
                        .map(|c| c.steps.len() + c.cleanup.len())
                        .sum();
                    report.push(format!(
                        "ok: {} ({}, {}; spec {}{})",
                        s.file.display(),
                        crate::diag::plural(s.cases.len(), "case"),
                        crate::diag::plural(steps, "step"),
                        s.spec.path.display(),
                        warning_count(count)
                    ));
                }
            }
            Err(d) => diagnostics.0.extend(d.0),
        }
    }
    if !warnings.is_empty() {
        eprintln!("{}", warnings.warnings_text(usize::MAX));
    }
    if !diagnostics.is_empty() {
        diagnostics.0.dedup();
        eprintln!("{diagnostics}");
        eprintln!(
            "{} problem{} found",
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        );
        return EXIT_INPUT;
    }
    for line in report {
        out(&line);
    }
    EXIT_OK
}

/// `, 3 warnings` (nothing for none).
fn warning_count(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 warning (the part concerned is not enforced)".into(),
        n => format!(", {n} warnings (the parts concerned are not enforced)"),
    }
}

/// Before a run: the spec warnings (local flaws worked around), a few per
/// spec, pointing at `check` for the full list.
fn print_spec_warnings(suites: &[Arc<crate::suite::Suite>]) {
    let mut seen: Vec<&Path> = Vec::new();
    // Where suites got one spec both whole and as an outline (they name
    // different operations), the whole one's warnings are the ones to show.
    let mut specs: Vec<&Arc<crate::spec::Spec>> = suites.iter().map(|s| &s.spec).collect();
    specs.sort_by_key(|spec| spec.is_outline());
    for spec in specs {
        if seen.contains(&spec.path.as_path()) || spec.warnings.is_empty() {
            continue;
        }
        seen.push(&spec.path);
        eprintln!("{}", spec.warnings.warnings_text(5));
        let scope = match spec.is_outline() {
            true => " in what the selected suites use",
            false => "",
        };
        eprintln!(
            "({} spec warning{}{scope}: `apiconform check --spec {}` lists them all; schemas compiled lazily may add more)",
            spec.warnings.len(),
            if spec.warnings.len() == 1 { "" } else { "s" },
            spec.path.display()
        );
    }
}

/// An OpenAPI file (rather than a suite) given to `check`.
fn looks_like_spec(path: &Path) -> bool {
    let Ok(text) = crate::input::read_to_string(path) else {
        return false;
    };
    text.lines().take(50).any(|l| {
        let l = l.trim_start_matches(['{', ' ', '"']);
        l.starts_with("openapi") || l.starts_with("swagger")
    })
}

/// The run's check mask. The generated-only checks stay in it: hand-written
/// steps leave them out through their own masks, and a suite's `generate:`
/// section needs them (without them its cases would pass on status and
/// schema alone).
fn check_mask(only: &[String], exclude: &[String]) -> Result<CheckSet, String> {
    let mut mask = if only.is_empty() {
        CheckSet::with_generated()
    } else {
        CheckSet::none()
    };
    for (names, on) in [(only, true), (exclude, false)] {
        for name in names.iter().filter(|n| !n.is_empty()) {
            let i = check::index_of(name).ok_or_else(|| {
                let known: Vec<&str> = check::REGISTRY.iter().map(|c| c.name).collect();
                format!("unknown check `{name}` (known: {})", known.join(", "))
            })?;
            mask = mask.with(i, on);
        }
    }
    Ok(mask)
}

fn run_command(args: RunArgs) -> u8 {
    let mut sel = match select(&args.select, true) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.repeat == 0 {
        return usage_error("--repeat must be at least 1");
    }
    print_spec_warnings(&sel.suites);
    if args.rerun_failed {
        match super::workflow::load_failed(&default_paths(&args.select.paths)) {
            Ok(failed) if failed.is_empty() => {
                out("nothing failed in the previous run of these paths; nothing to rerun");
                return EXIT_OK;
            }
            Ok(failed) => sel.plan.retain(|pc| {
                failed.contains(&(pc.suite.name.to_string(), pc.case().name.to_string()))
            }),
            Err(e) => return usage_error(&e),
        }
    }
    sel.plan = run::repeat(std::mem::take(&mut sel.plan), args.repeat);
    if sel.plan.is_empty() && sel.partition.is_none() {
        return usage_error("no cases match the given paths and filters");
    }
    let broken = broken_refs_in_plan(&sel.plan);
    if !broken.is_empty() {
        return input_error(&broken);
    }
    run::focus_validators(&sel.plan);
    let timeout = match parse_timeout(&args.timeout) {
        Ok(t) => t,
        Err(e) => return usage_error(&format!("--timeout: {e}")),
    };
    let max_retry_wait = match parse_wait(&args.max_retry_wait) {
        Ok(t) => t,
        Err(e) => return usage_error(&format!("--max-retry-wait: {e}")),
    };
    let mask = match check_mask(&args.checks, &args.exclude_checks) {
        Ok(m) => m,
        Err(e) => return usage_error(&format!("--checks/--exclude-checks: {e}")),
    };
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else if args.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let rate_limit = match super::fuzz::rate_limit(args.rate_limit.as_deref()) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let network = match super::net::network(&args.net) {
        Ok(n) => n,
        Err(e) => return usage_error(&e),
    };
    if let Some(dir) = args
        .snapshot_dir
        .as_deref()
        .filter(|d| d.exists() && !d.is_dir())
    {
        return usage_error(&format!(
            "--snapshot-dir: {} is not a folder",
            dir.display()
        ));
    }
    let config = RunConfig {
        jobs: args.jobs.unwrap_or_else(run::default_jobs).max(1),
        timeout,
        retries: args.retries,
        fail_fast: args.fail_fast,
        max_body_size: args.max_body_size,
        check_mask: mask,
        record: if args.verbose || super::reports::wants_everything(&args.reports) {
            Record::Everything
        } else {
            Record::Failures
        },
        snapshots: crate::snapshot::SnapshotConfig::new(
            args.snapshot_dir.clone(),
            args.update_snapshots,
            args.accept_snapshots,
        ),
        // Decided by the reporters in `session::execute`.
        step_events: true,
        max_retry_wait,
        rate_limit,
        deadline: None,
        network,
    };
    let runtime = match run::runtime_for(config.jobs) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let to_stdout =
        match super::reports::run_reports_to_stdout(&args.reports, args.coverage_json.as_deref()) {
            Ok(s) => s,
            Err(e) => return usage_error(&e),
        };
    let mut reporters = Fanout::default();
    if to_stdout {
        reporters.add(Box::new(Console::stderr(verbosity)));
    } else {
        reporters.add(Box::new(Console::stdout(verbosity, !args.no_progress)));
    }
    let coverage = Arc::new(std::sync::Mutex::new(crate::coverage::Collector::new(
        &sel.suites,
    )));
    reporters.add(Box::new(Shared(coverage.clone())));
    let mut inputs: Vec<&std::path::Path> =
        args.select.vars_file.iter().map(|p| p.as_path()).collect();
    if let Some(path) = &args.write_baseline {
        // Written after the run; it may replace the --baseline it read.
        let outputs = [("--write-baseline", path.as_path())];
        let inputs = super::reports::run_inputs(&sel.suites, &inputs);
        if let Err(e) = super::reports::refuse_overwriting_inputs(&outputs, &inputs) {
            return usage_error(&e);
        }
    }
    inputs.extend(args.baseline.as_deref());
    if let Err(e) = super::reports::add_reporters(
        &args.reports,
        args.coverage_json.as_deref(),
        &sel.suites,
        &inputs,
        &mut reporters,
    ) {
        return usage_error(&e);
    }
    let (reporters, outcome) = match super::workflow::front(&args, reporters) {
        Ok(w) => w,
        Err(code) => return code,
    };
    run::interrupt::install(&runtime);
    let code = runtime.block_on(run_async(&args, sel, config, reporters));
    if let Some(signal) = run::interrupt::signal() {
        // Reports are written; the shell convention tells CI why it stopped.
        return run::interrupt::exit_code(signal);
    }
    if code == EXIT_INPUT {
        return code;
    }
    let code = super::workflow::finish(&args, &outcome, code, to_stdout);
    let table = match coverage.lock() {
        Ok(c) => c.coverage(),
        Err(_) => return usage_error("coverage collector failed"),
    };
    coverage_outputs(&args, &table, code, to_stdout)
}

/// Prints/writes coverage and applies `--min-coverage`.
/// With a report on stdout (`to_stdout`), the table goes to stderr.
fn coverage_outputs(
    args: &RunArgs,
    table: &crate::coverage::Coverage,
    code: u8,
    to_stdout: bool,
) -> u8 {
    if args.coverage {
        let text = crate::coverage::render_table(table);
        if to_stdout {
            eprintln!("{}", text.trim_end());
        } else {
            out(text.trim_end());
        }
    }
    if let Some(path) = &args.coverage_json {
        let json = match serde_json::to_string_pretty(table) {
            Ok(j) => j + "\n",
            Err(e) => return usage_error(&format!("cannot encode coverage as JSON: {e}")),
        };
        if let Err(e) = crate::report::write_file(path, json.as_bytes()) {
            // The error names the path already.
            return usage_error(&format!("cannot write the coverage JSON: {e}"));
        }
    }
    if let Some(min) = args.min_coverage {
        let got = table.min_percent();
        if got < min {
            eprintln!("coverage {got:.1}% is below --min-coverage {min}%");
            return EXIT_FAILED;
        }
    }
    code
}

async fn run_async(args: &RunArgs, sel: Selection, config: RunConfig, reporters: Fanout) -> u8 {
    let opts = TargetOptions {
        base_url: args.base_url.clone(),
        webhook_listen: args.webhook_listen.clone(),
        profile: args.select.profile.applied.clone(),
    };
    let result = session::execute(
        &sel.suites,
        sel.plan,
        sel.partition,
        &sel.external,
        &opts,
        config,
        reporters,
    )
    .await;
    match result {
        Ok(summary) if summary.totals.failed + summary.totals.interrupted > 0 => EXIT_FAILED,
        Ok(_) => EXIT_OK,
        Err(e) => session_error(e),
    }
}

/// `--max-retry-wait`: a duration like `--timeout`, or `0` to never wait.
fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    parse_timeout(s)
}

/// `3 operations` or `2 operations, 1 webhook`.
fn operation_counts(spec: &crate::spec::Spec) -> String {
    let webhooks = spec.webhook_count();
    let paths = crate::diag::plural(spec.operations.len() - webhooks, "operation");
    match webhooks {
        0 => paths,
        n => format!("{paths}, {}", crate::diag::plural(n, "webhook")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_masks() {
        let m = check_mask(&[], &["response_schema_conformance".into()]).unwrap();
        assert!(!m.is_enabled("response_schema_conformance"));
        let m = check_mask(&["status_conformance".into()], &[]).unwrap();
        assert_eq!(m.iter().count(), 1);
        assert!(check_mask(&["nope".into()], &[]).is_err());
    }
}
