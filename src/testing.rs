//! `cargo test` integration: every case of the suites becomes a test
//! trial (libtest-mimic), named `suite::case name`, so the usual flags work:
//! `cargo test --test conformance -- <filter>`, `--exact`, `--skip`,
//! `--list`, `--test-threads N`, `--ignored` (cases tagged `ignore`).
//!
//! Configuration comes from the environment, because `cargo test -- --flag`
//! would reach every test binary of the crate:
//!
//! - `APICONFORM_SUITES`: suite files or folders, separated like `PATH`
//!   (default `cases`; when that folder does not exist there are no trials);
//! - `APICONFORM_BASE_URL`: the target; without it each suite runs against
//!   the bundled reference server it names (`server:`);
//! - `APICONFORM_WEBHOOK_LISTEN`: address for webhook steps;
//! - `APICONFORM_VAR_<name>`: variables, as for `apiconform run`.
//!
//! # In your own crate
//!
//! Add apiconform as a dev-dependency and a test target without the
//! standard harness:
//!
//! ```toml
//! [dev-dependencies]
//! apiconform = "0.1"
//!
//! [[test]]
//! name = "api"
//! harness = false
//! ```
//!
//! `tests/api.rs`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     apiconform::testing::main()
//! }
//! ```
//!
//! Then `APICONFORM_SUITES=conformance APICONFORM_BASE_URL=http://127.0.0.1:8080
//! cargo test --test api` runs your case files against your server; to
//! configure in code instead, call [`run`] with [`Options`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

use crate::result::CaseStatus;
use crate::run::session::{self, TargetOptions};
use crate::run::{self, Filters, PlannedCase, Record, RunConfig};
use crate::suite::vars::ExternalVars;
use crate::suite::{self, LoadOptions};

/// Tag that marks a case as an ignored trial (run with `--ignored`).
pub const IGNORE_TAG: &str = "ignore";

/// What to test and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Suite files or folders.
    pub suites: Vec<PathBuf>,
    /// Whether `suites` was asked for; if not, a missing default folder
    /// means "no trials" rather than an error.
    pub suites_explicit: bool,
    /// Without it, the embedded reference servers.
    pub base_url: Option<String>,
    pub webhook_listen: Option<String>,
}

impl Options {
    /// From `APICONFORM_SUITES`, `APICONFORM_BASE_URL` and
    /// `APICONFORM_WEBHOOK_LISTEN`.
    pub fn from_env() -> Options {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let suites_var = std::env::var_os("APICONFORM_SUITES").filter(|v| !v.is_empty());
        Options {
            suites: match &suites_var {
                Some(v) => std::env::split_paths(v).collect(),
                None => vec![PathBuf::from("cases")],
            },
            suites_explicit: suites_var.is_some(),
            base_url: non_empty("APICONFORM_BASE_URL"),
            webhook_listen: non_empty("APICONFORM_WEBHOOK_LISTEN"),
        }
    }
}

/// The `main` of a `harness = false` test target: options from the
/// environment, flags from the command line.
pub fn main() -> ExitCode {
    match run(&Options::from_env(), &Arguments::from_args()) {
        Ok(conclusion) => conclusion.exit_code(),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(101)
        }
    }
}

/// One trial per planned case.
struct Planned {
    name: String,
    ignored: bool,
    case: PlannedCase,
}

/// Loads the suites into trial descriptions; `Err` for input problems.
fn plan(opts: &Options) -> Result<Vec<Planned>, String> {
    let present: Vec<PathBuf> = opts.suites.iter().filter(|p| p.exists()).cloned().collect();
    if !opts.suites_explicit && present.is_empty() {
        eprintln!(
            "note: no suites at {}; set APICONFORM_SUITES to test other files",
            opts.suites
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(Vec::new());
    }
    let external = ExternalVars::collect(&[], &[]).map_err(|d| d.to_string())?;
    let suites = suite::load_paths(
        &opts.suites,
        &LoadOptions {
            external,
            outline_specs: false,
        },
    )
    .map_err(|d| d.to_string())?;
    Ok(run::plan(&suites, &Filters::default(), None)
        .into_iter()
        .map(|pc| {
            let case = pc.case();
            Planned {
                name: format!("{}::{}", pc.suite.name, case.name),
                ignored: case.tags.iter().any(|t| t == IGNORE_TAG) || case.skip.is_some(),
                case: pc.clone(),
            }
        })
        .collect())
}

/// The trial names `--list` prints, in plan order.
pub fn trial_names(opts: &Options) -> Result<Vec<String>, String> {
    Ok(plan(opts)?.into_iter().map(|p| p.name).collect())
}

/// Runs the trials with libtest's flags. `Err` when the suites cannot be
/// loaded or the async runtime cannot start; a target that cannot be
/// reached fails each trial instead, with the reason.
pub fn run(opts: &Options, args: &Arguments) -> Result<Conclusion, String> {
    let planned = plan(opts)?;
    let describe =
        |p: &Planned| Trial::test(p.name.clone(), || Ok(())).with_ignored_flag(p.ignored);
    let will_run = planned.iter().any(|p| {
        let t = describe(p);
        !args.is_filtered_out(&t) && !args.is_ignored(&t)
    });
    if args.list || !will_run {
        return Ok(libtest_mimic::run(
            args,
            planned.iter().map(describe).collect(),
        ));
    }

    let runtime = run::runtime().map_err(|e| e.to_string())?;
    let threads = args
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = RunConfig {
        jobs: threads.max(1),
        record: Record::Failures,
        ..RunConfig::default()
    };
    let target = TargetOptions {
        base_url: opts.base_url.clone(),
        webhook_listen: opts.webhook_listen.clone(),
        profile: None,
    };
    let mut suites: Vec<Arc<suite::Suite>> = Vec::new();
    for p in &planned {
        if !suites.iter().any(|s| Arc::ptr_eq(s, &p.case.suite)) {
            suites.push(p.case.suite.clone());
        }
    }
    let external = ExternalVars::collect(&[], &[]).map_err(|d| d.to_string())?;
    let prepared = runtime.block_on(session::prepare(&suites, &external, &target, config));
    let (runner, prepared) = match prepared {
        Ok(p) => (Ok(p.runner.clone()), Some(p)),
        Err(e) => (
            Err(format!(
                "{e} (set APICONFORM_BASE_URL to test a running server)"
            )),
            None,
        ),
    };
    // Serial cases take the write side: they never run beside another case.
    let serial = Arc::new(RwLock::new(()));
    let trials = planned
        .into_iter()
        .map(|p| {
            let runner = runner.clone();
            let handle = runtime.handle().clone();
            let serial = serial.clone();
            Trial::ignorable_test(p.name, move || {
                let runner = runner.map_err(Failed::from)?;
                let result = if p.case.case().serial.is_some() {
                    let _alone = serial.write().unwrap_or_else(|e| e.into_inner());
                    handle.block_on(runner.run_case(&p.case, None))
                } else {
                    let _shared = serial.read().unwrap_or_else(|e| e.into_inner());
                    handle.block_on(runner.run_case(&p.case, None))
                };
                match result.status {
                    s if s.is_failure() => Err(crate::report::failure_text(&result).into()),
                    CaseStatus::Passed | CaseStatus::Flaky | CaseStatus::Fixed => {
                        Ok(Completion::Completed)
                    }
                    other => Ok(Completion::ignored_with(
                        result.skip_reason.unwrap_or_else(|| other.name().into()),
                    )),
                }
            })
            .with_ignored_flag(p.ignored)
        })
        .collect();
    let conclusion = libtest_mimic::run(args, trials);
    if let Some(p) = prepared {
        runtime.block_on(p.shutdown());
    }
    Ok(conclusion)
}
