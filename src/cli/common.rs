//! Helpers every subcommand shares (selection, diagnostics, exit codes),
//! kept apart from `commands` so `certify` and `reports` need not import
//! the dispatcher that imports them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::EXIT_INPUT;
use super::args::{ProfileArgs, SelectArgs};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::event::{Event, Reporter};
use crate::run::session::SessionError;
use crate::run::{self, Filters, Partition, PlannedCase};
use crate::suite::vars::{ExternalVars, parse_assignment};
use crate::suite::{self, LoadOptions, Suite};

/// Prints a line to stdout; `false` when stdout is gone (e.g. `| head`),
/// which is not an error worth a panic.
pub(crate) fn out(line: &str) -> bool {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").is_ok()
}

/// Prints diagnostics to stderr and returns the input-error exit code.
pub(crate) fn input_error(d: &Diagnostics) -> u8 {
    eprintln!("{d}");
    let n = d.len();
    eprintln!(
        "{n} problem{} found; nothing was run",
        if n == 1 { "" } else { "s" }
    );
    EXIT_INPUT
}

pub(crate) fn usage_error(message: &str) -> u8 {
    eprintln!("error: {message}");
    EXIT_INPUT
}

pub(crate) fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        paths.to_vec()
    }
}

pub(crate) fn external_vars(
    var: &[String],
    files: &[PathBuf],
    secret: &[String],
) -> Result<ExternalVars, Diagnostics> {
    let mut cli = Vec::new();
    let mut secrets = Vec::new();
    let mut diagnostics = Diagnostics::default();
    for (flag, list, into) in [("--var", var, &mut cli), ("--secret", secret, &mut secrets)] {
        for v in list {
            match parse_assignment(v) {
                Ok(pair) => {
                    // `--var token=$TOKEN` with the CI variable unset: the
                    // run would send empty credentials and fail every case.
                    if pair.1.is_empty() {
                        eprintln!(
                            "warning: {flag} {}= is empty (an unset environment variable?)",
                            pair.0
                        );
                    }
                    into.push(pair);
                }
                // Never echo a --secret value back.
                Err(_) if flag == "--secret" => diagnostics.push(Diagnostic::new(
                    flag,
                    Pos::UNKNOWN,
                    "not NAME=VALUE (value not shown)",
                )),
                Err(e) => diagnostics.push(Diagnostic::new(flag, Pos::UNKNOWN, e)),
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let mut external = ExternalVars::collect(&cli, files)?;
    external.add_secrets(&secrets);
    Ok(external)
}

/// A profile's variables under the command line's: a name set by a flag
/// or `APICONFORM_VAR_*` keeps that value; the profile's secrets stay
/// secret either way. A profile secret whose environment variable is unset
/// is an error unless one of those sets it.
pub(crate) fn over_profile(
    mut external: ExternalVars,
    profile: &ProfileArgs,
) -> Result<ExternalVars, Diagnostics> {
    let mut missing = Diagnostics::default();
    for (name, d) in &profile.missing_secrets {
        if !external.values.contains_key(name) {
            missing.push(d.clone());
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    for (name, value) in &profile.vars.values {
        external
            .values
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
    external
        .secrets
        .extend(profile.vars.secrets.iter().cloned());
    Ok(external)
}

pub(crate) struct Selection {
    pub suites: Vec<Arc<Suite>>,
    pub plan: Vec<PlannedCase>,
    pub partition: Option<Partition>,
    pub external: ExternalVars,
}

/// Loads and filters the suites. `outline_specs`: each spec is loaded for
/// the operations its suites name (what a run or a listing needs), not
/// whole (what a certificate's coverage and warnings need).
pub(crate) fn select(args: &SelectArgs, outline_specs: bool) -> Result<Selection, u8> {
    let external = external_vars(&args.var, &args.vars_file, &args.secret)
        .and_then(|e| over_profile(e, &args.profile))
        .map_err(|d| input_error(&d))?;
    let partition = match &args.partition {
        Some(p) => Some(
            p.parse::<Partition>()
                .map_err(|e| usage_error(&format!("--partition: {e}")))?,
        ),
        None => None,
    };
    let name_regex = match &args.name_regex {
        Some(r) => {
            Some(regex::Regex::new(r).map_err(|e| usage_error(&format!("--name-regex: {e}")))?)
        }
        None => None,
    };
    let options = LoadOptions {
        external: external.clone(),
        outline_specs,
    };
    let suites =
        suite::load_paths(&default_paths(&args.paths), &options).map_err(|d| input_error(&d))?;
    let filters = Filters {
        name: args.name.clone(),
        name_regex,
        tags: args.tag.clone(),
        exclude_tags: args.exclude_tag.clone(),
    };
    let plan = run::plan(&suites, &filters, partition);
    Ok(Selection {
        suites,
        plan,
        partition,
        external,
    })
}

/// The broken `$ref`s (local references to nothing) inside a schema the
/// planned cases use, one diagnostic each at the `$ref`, naming the first
/// step that needs it. A run over such a schema would check nothing there
/// and blame the target for it, so it is refused before any request.
pub(crate) fn broken_refs_in_plan(plan: &[PlannedCase]) -> Diagnostics {
    let mut out = Diagnostics::default();
    // Each operation is walked once per spec, however many steps use it;
    // only the first step that needs a broken `$ref` is named.
    let mut walked: HashSet<(*const crate::spec::Spec, usize)> = HashSet::new();
    let mut suites_done: Vec<&Arc<Suite>> = Vec::new();
    let mut note = |spec: &Arc<crate::spec::Spec>, step: &crate::suite::Step, who: (&str, &str)| {
        let Some(op) = step.operation_id else {
            return;
        };
        if !walked.insert((Arc::as_ptr(spec), op.0)) {
            return;
        }
        for broken in spec.broken_refs_used_by(op.0) {
            let w = &broken.warning;
            if out.0.iter().any(|d| d.file == w.file && d.pos == w.pos) {
                continue;
            }
            out.push(Diagnostic::new(
                w.file.clone(),
                w.pos,
                format!(
                    "{}; {} `{}` (step `{}` at {}, operation {}) uses this schema, so it cannot be checked: fix the $ref, or leave the case out",
                    w.message.trim_end_matches("; the schema is not enforced"),
                    who.0,
                    who.1,
                    step.name,
                    step.location,
                    step.operation
                ),
            ));
        }
    };
    for pc in plan {
        let suite = &pc.suite;
        if suite.spec.broken_refs.is_empty() {
            continue;
        }
        if !suites_done.iter().any(|s| Arc::ptr_eq(s, suite)) {
            suites_done.push(suite);
            for step in suite.setup.iter().chain(&suite.teardown) {
                note(
                    &suite.spec,
                    step,
                    ("the setup or teardown of suite", &suite.name),
                );
            }
        }
        let case = pc.case();
        for step in case.steps.iter().chain(&case.cleanup) {
            note(&suite.spec, step, ("case", &case.name));
        }
    }
    out
}

/// `10s`, `500ms`, `2m`, or plain seconds.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("`{s}` is not a duration"));
    }
    if let Ok(secs) = s.parse::<f64>() {
        if secs > 0.0 && secs.is_finite() {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("`{s}` must be positive"));
    }
    match crate::suite::template::parse_duration(s) {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs as u64)),
        _ => Err(format!("`{s}` is not a duration like 10s, 500ms or 2m")),
    }
}

/// A reporter shared with the caller (to read its state after the run).
pub(crate) struct Shared<R: Reporter>(pub Arc<std::sync::Mutex<R>>);

impl<R: Reporter> Reporter for Shared<R> {
    fn wants_steps(&self) -> bool {
        self.0.lock().is_ok_and(|r| r.wants_steps())
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match self.0.lock() {
            Ok(mut r) => r.event(event),
            Err(_) => Err(std::io::Error::other("reporter poisoned")),
        }
    }
}

/// Prints why a run could not start or finish; the input-error exit code.
pub(crate) fn session_error(e: SessionError) -> u8 {
    match e {
        SessionError::Input(d) => input_error(&d),
        other => usage_error(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("soon").is_err());
    }
}
