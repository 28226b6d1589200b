//! `apiconform fuzz`: the generated phases with no case file. The plan
//! (`generate::plan`) becomes compiled cases (`suite::generated`) in a
//! suite built in code, which runs through the same session, step stages,
//! checks and reporters as `run`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{AUTHORIZATION, HeaderName};

use super::args::FuzzArgs;
use super::common::{Shared, external_vars, input_error, out, parse_timeout, usage_error};
use super::findings;
use super::{EXIT_FAILED, EXIT_OK};
use crate::check::{self, CheckSet};
use crate::event::Reporter;
use crate::generate::plan::{self, Filter, Phase, Pin, PlanConfig, Selector};
use crate::report::Fanout;
use crate::report::console::{Console, Verbosity};
use crate::run::ratelimit::RateLimiter;
use crate::run::session::{self, TargetOptions};
use crate::run::{self, PlannedCase, Record, RunConfig};
use crate::spec::Spec;
use crate::suite::generated::{self, ExtraHeader};
use crate::suite::template::{Template, ValueTemplate};
use crate::suite::{Credential, Suite};

/// The credential variable an `-H` credential header's value is kept in.
const HEADER_VARIABLE: &str = "fuzz_header";

/// `--rate-limit` for `run` and `fuzz`.
pub(super) fn rate_limit(arg: Option<&str>) -> Result<Option<Arc<RateLimiter>>, String> {
    match arg {
        None => Ok(None),
        Some(s) => s
            .parse::<RateLimiter>()
            .map(|r| Some(Arc::new(r)))
            .map_err(|e| format!("--rate-limit: {e}")),
    }
}

pub(super) fn fuzz_command(args: FuzzArgs) -> u8 {
    let spec = match crate::spec::load(&args.spec) {
        Ok(s) => s,
        Err(d) => return input_error(&d),
    };
    let server = match embedded_server(&args, &spec) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let config = match plan_config(&args, server.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let mut headers = match parse_headers(&args.header, server.as_deref()) {
        Ok(h) => h,
        Err(e) => return usage_error(&e),
    };
    let other = match other_identity(args.other_header.as_deref(), &mut headers) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let mut external = match external_vars(&args.var, &[], &args.secret)
        .and_then(|e| super::common::over_profile(e, &args.profile))
    {
        Ok(e) => e,
        Err(d) => return input_error(&d),
    };
    external.add_secrets(&headers.secrets);
    let the_plan = plan::plan(&spec, &config);
    for (label, reason) in &the_plan.skipped {
        eprintln!("not generated: {label}: {reason}");
    }
    for op in &the_plan.operations {
        for (phase, e) in &op.cannot_generate {
            eprintln!(
                "cannot generate: {} [{}]: {}",
                op.label,
                phase.name(),
                e.reason
            );
        }
    }
    let options = headers.options.clone();
    let cases = generated::cases(&spec, &the_plan, &options);
    if cases.is_empty() {
        let phases: Vec<&str> = config.phases.iter().map(Phase::name).collect();
        return usage_error(&nothing_to_generate(&spec, &the_plan, &phases));
    }
    let saved = Saved {
        server: server.clone(),
        credential: headers.credential.as_ref().and_then(|(_, c)| match c {
            Credential::Header(name, _) => Some(name.clone()),
            _ => None,
        }),
        dev_credential: headers.dev_credential.clone(),
    };
    let mut suite = fuzz_suite(&args.spec, spec, server, headers.credential, cases);
    suite.credentials.extend(other);
    let suite = Arc::new(suite);
    let plan: Vec<PlannedCase> = (0..suite.cases.len())
        .map(|i| PlannedCase {
            index: i,
            suite: suite.clone(),
            case: i,
        })
        .collect();
    let generated = Generated {
        plan: &the_plan,
        options: &options,
    };
    run_plan(&args, suite, plan, external, &saved, &generated)
}

/// The plan the run's cases came from and how they authenticate: what
/// shrinking builds its candidates from.
struct Generated<'a> {
    plan: &'a plan::Plan,
    options: &'a generated::Options,
}

/// What the findings' reproductions need to know of the run's target.
struct Saved {
    server: Option<String>,
    /// The credential header's name.
    credential: Option<String>,
    dev_credential: Option<String>,
}

/// The bundled server to start: `--server`, else the one the spec belongs
/// to when no `--base-url` is given.
fn embedded_server(args: &FuzzArgs, spec: &Spec) -> Result<Option<String>, String> {
    if args.base_url.is_some() {
        return Ok(None);
    }
    if let Some(name) = &args.server {
        if !crate::serve_names().contains(&name.as_str()) {
            return Err(format!(
                "--server: unknown reference server `{name}` (known: {})",
                crate::serve_names().join(", ")
            ));
        }
        return Ok(Some(name.clone()));
    }
    match bundled_server_of(spec) {
        Some(name) => Ok(Some(name.to_string())),
        None => Err(format!(
            "{}: not a bundled spec; give --base-url (or start `apiconform serve` and point --base-url at it)",
            spec.path.display()
        )),
    }
}

/// The reference server a bundled spec describes, by its title.
fn bundled_server_of(spec: &Spec) -> Option<&'static str> {
    match spec.title.as_str() {
        "EnableNow Sharing API" => Some("enablenow"),
        "mycloud Shares API" => Some("mycloud"),
        _ => None,
    }
}

/// The embedded server's development token, and the pins its business
/// rules need (a mycloud share's `ownerId` is the caller).
fn embedded_defaults(server: &str) -> (&'static str, Vec<&'static str>) {
    let token = |i: usize| crate::serve::DEFAULT_TOKENS.get(i).map_or("", |t| t.0);
    match server {
        "mycloud" => (token(2), vec!["body.ownerId=user-1001"]),
        _ => (token(0), Vec::new()),
    }
}

fn plan_config(args: &FuzzArgs, server: Option<&str>) -> Result<PlanConfig, String> {
    let mut phases = Vec::new();
    for name in args.phases.iter().filter(|p| !p.is_empty()) {
        let p = Phase::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = Phase::ALL.iter().map(Phase::name).collect();
            format!(
                "--phases: unknown phase `{name}` (known: {})",
                known.join(", ")
            )
        })?;
        if !phases.contains(&p) {
            phases.push(p);
        }
    }
    if phases.is_empty() {
        phases = Phase::ALL.to_vec();
    }
    let mut pins = Vec::new();
    for s in &args.set {
        pins.push(Pin::parse(s).map_err(|e| format!("--set: {e}"))?);
    }
    if let Some(name) = server {
        for default in embedded_defaults(name).1 {
            let pin = Pin::parse(default).map_err(|e| e.to_string())?;
            if !pins.iter().any(|p| p.target == pin.target) {
                pins.push(pin);
            }
        }
    }
    let selectors = |list: &[String], flag: &str| -> Result<Vec<Selector>, String> {
        list.iter()
            .map(|s| Selector::parse(s).map_err(|e| format!("{flag}: {e}")))
            .collect()
    };
    Ok(PlanConfig {
        seed: args.seed,
        max_examples: args.max_examples,
        phases,
        filter: Filter {
            include: selectors(&args.include, "--include")?,
            exclude: selectors(&args.exclude, "--exclude")?,
            read_only: args.read_only,
            allow_destructive: args.allow_destructive,
        },
        pins,
        other_identity: args.other_header.is_some(),
    })
}

/// `--other-header`: the second identity, kept as a secret variable and
/// named `other` (the name saved findings use for it).
fn other_identity(
    raw: Option<&str>,
    h: &mut Headers,
) -> Result<Option<(String, Credential)>, String> {
    let Some(line) = raw else { return Ok(None) };
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| "--other-header: expected `Name: value` (value not shown)".to_string())?;
    let name = name.trim();
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("--other-header: `{name}` is not a valid header name"))?;
    let variable = format!("{HEADER_VARIABLE}_OTHER");
    let template = Template::parse(&format!("{{{{ {variable} }}}}"))
        .map_err(|e| format!("--other-header {name}: {e}"))?;
    h.secrets.push((variable, value.trim().to_string()));
    h.options.other_credential = Some("other".into());
    Ok(Some((
        "other".into(),
        Credential::Header(name.to_string(), template),
    )))
}

/// `-H` headers, sorted into the credential, other credential-like headers
/// (kept as secret variables) and plain ones.
struct Headers {
    options: generated::Options,
    credential: Option<(String, Credential)>,
    secrets: Vec<(String, String)>,
    /// The embedded server's development credential, when it is the one
    /// used (no secret: saved findings may name it).
    dev_credential: Option<String>,
}

fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "cookie"
        || n == "proxy-authorization"
        || crate::suite::vars::is_secret_name(&n)
}

fn parse_headers(raw: &[String], server: Option<&str>) -> Result<Headers, String> {
    let mut h = Headers {
        options: generated::Options::default(),
        credential: None,
        secrets: Vec::new(),
        dev_credential: None,
    };
    let mut given: Vec<(String, String)> = Vec::new();
    for line in raw {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| "-H: expected `Name: value` (value not shown)".to_string())?;
        given.push((name.trim().to_string(), value.trim().to_string()));
    }
    if let Some(s) = server
        && !given.iter().any(|(n, _)| is_credential_header(n))
    {
        given.push((
            "Authorization".into(),
            format!("Bearer {}", embedded_defaults(s).0),
        ));
    }
    for (i, (name, value)) in given.into_iter().enumerate() {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("-H: `{name}` is not a valid header name"))?;
        if !is_credential_header(&name) {
            h.options.headers.push(ExtraHeader {
                name: header,
                value: ValueTemplate::Static(serde_json::Value::String(value)),
                credential: false,
            });
            continue;
        }
        let variable = format!("{HEADER_VARIABLE}_{i}");
        let template = Template::parse(&format!("{{{{ {variable} }}}}"))
            .map_err(|e| format!("-H {name}: {e}"))?;
        h.secrets.push((variable, value));
        if h.credential.is_none() && header != reqwest::header::COOKIE {
            h.options.credential = Some("fuzz".into());
            h.options.credential_header = Some(header.clone());
            h.credential = Some(("fuzz".into(), Credential::Header(name.clone(), template)));
        } else {
            h.options.headers.push(ExtraHeader {
                name: header,
                value: ValueTemplate::Text(template),
                credential: true,
            });
        }
    }
    if h.options.credential_header.is_none() {
        h.options.credential_header = Some(AUTHORIZATION);
    }
    Ok(h)
}

fn fuzz_suite(
    file: &Path,
    spec: Spec,
    server: Option<String>,
    credential: Option<(String, Credential)>,
    cases: Vec<crate::suite::Case>,
) -> Suite {
    Suite {
        file: file.to_path_buf(),
        file_display: file.display().to_string().into(),
        sha256: spec.sha256.clone(),
        name: format!("fuzz {}", spec.title).into(),
        description: Some("requests generated from the spec".into()),
        spec: Arc::new(spec),
        server,
        variables: Vec::new(),
        secrets: HashSet::new(),
        credentials: credential.into_iter().collect(),
        coverage_exclusions: Vec::new(),
        setup: Vec::new(),
        teardown: Vec::new(),
        cases,
        client_certs: Vec::new(),
        read_files: Vec::new(),
    }
}

/// Every check on (generated-only ones included), then `--checks` and
/// `--exclude-checks`.
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

fn run_config(args: &FuzzArgs) -> Result<RunConfig, String> {
    let timeout = parse_timeout(&args.timeout).map_err(|e| format!("--timeout: {e}"))?;
    let deadline = match &args.time_budget {
        Some(t) => {
            Some(Instant::now() + parse_timeout(t).map_err(|e| format!("--time-budget: {e}"))?)
        }
        None => None,
    };
    Ok(RunConfig {
        jobs: args.jobs.unwrap_or_else(run::default_jobs).max(1),
        timeout,
        max_body_size: args.max_body_size,
        check_mask: check_mask(&args.checks, &args.exclude_checks)
            .map_err(|e| format!("--checks/--exclude-checks: {e}"))?,
        record: if args.verbose || super::reports::wants_everything(&args.reports) {
            Record::Everything
        } else {
            Record::Failures
        },
        rate_limit: rate_limit(args.rate_limit.as_deref())?,
        deadline,
        network: super::net::network(&args.net)?,
        ..RunConfig::default()
    })
}

fn run_plan(
    args: &FuzzArgs,
    suite: Arc<Suite>,
    plan: Vec<PlannedCase>,
    external: crate::suite::vars::ExternalVars,
    saved: &Saved,
    generated: &Generated<'_>,
) -> u8 {
    let config = match run_config(args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else if args.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let to_stdout =
        match super::reports::run_reports_to_stdout(&args.reports, args.coverage_json.as_deref()) {
            Ok(s) => s,
            Err(e) => return usage_error(&e),
        };
    let suites = vec![suite.clone()];
    let failed = Arc::new(std::sync::Mutex::new(findings::Failed::default()));
    let mut reporters = Fanout::default();
    reporters.add(Box::new(Shared(failed.clone())));
    if to_stdout {
        reporters.add(Box::new(Console::stderr(verbosity)));
    } else {
        reporters.add(Box::new(Console::stdout(verbosity, !args.no_progress)));
    }
    let coverage = Arc::new(std::sync::Mutex::new(crate::coverage::Collector::new(
        &suites,
    )));
    reporters.add(Box::new(Shared(coverage.clone())));
    if let Err(e) = super::reports::add_reporters(
        &args.reports,
        args.coverage_json.as_deref(),
        &suites,
        &[],
        &mut reporters,
    ) {
        return usage_error(&e);
    }
    let runtime = match run::runtime() {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let opts = TargetOptions {
        base_url: args.base_url.clone(),
        webhook_listen: None,
        profile: args.profile.applied.clone(),
    };
    let deadline = config.deadline;
    let config = RunConfig {
        step_events: reporters.wants_steps(),
        ..config
    };
    let prepared = match runtime.block_on(session::prepare(&suites, &external, &opts, config)) {
        Ok(p) => p,
        Err(e) => return super::common::session_error(e),
    };
    let mut info = prepared.run_info(&suites, &plan, None);
    info.profile = opts.profile.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let consumer = std::thread::spawn(move || crate::event::consume(rx, reporters));
    // As `run` does: a first Ctrl-C stops new cases, lets the chains
    // clean up what they created and still writes every report.
    run::interrupt::install(&runtime);
    let summary = runtime.block_on(prepared.runner.clone().run(plan, info, tx));
    if let Ok(Some(e)) = consumer.join() {
        runtime.block_on(prepared.shutdown());
        return super::common::session_error(session::SessionError::Report(e));
    }
    let code = if summary.totals.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    };
    let mut list = match failed.lock() {
        Ok(f) => findings::collect(&f.0, &suite),
        Err(_) => return usage_error("findings collector failed"),
    };
    // While the target is still up: shrink each finding by re-sending.
    let probe = super::shrink::Probe {
        runtime: &runtime,
        runner: &prepared.runner,
        suite: &suite,
        plan: generated.plan,
        options: generated.options,
        deadline,
        per_finding: args.shrink_budget,
    };
    super::shrink::shrink_all(&mut list, &probe);
    runtime.block_on(prepared.shutdown());
    if let Some(e) = report_findings(args, list, saved, to_stdout) {
        return e;
    }
    let code = coverage_output(args, &coverage, to_stdout).unwrap_or(code);
    match run::interrupt::signal() {
        // Reports are written; the shell convention tells CI why it stopped.
        Some(signal) => run::interrupt::exit_code(signal),
        None => code,
    }
}

/// Prints the deduplicated findings with curl reproductions and writes
/// them with `--save-findings`; `Some(exit code)` on an error.
fn report_findings(
    args: &FuzzArgs,
    list: Vec<findings::Finding>,
    saved: &Saved,
    to_stdout: bool,
) -> Option<u8> {
    if list.is_empty() {
        return None;
    }
    let base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| EMBEDDED_REPRODUCTION_URL.to_string());
    let auth = findings::Auth {
        header: saved.credential.as_deref(),
    };
    let mut text = findings::render(&list, &base_url, &auth);
    if args.base_url.is_none() {
        text.push_str(&format!(
            "\n(reproductions target `apiconform serve {}` on its default address)\n",
            saved.server.as_deref().unwrap_or_default()
        ));
    }
    if to_stdout {
        eprint!("{text}");
    } else {
        out(text.trim_end());
    }
    let dir = args.save_findings.as_ref()?;
    let target = findings::SaveTarget {
        server: if args.base_url.is_none() {
            saved.server.as_deref()
        } else {
            None
        },
        spec: &args.spec,
        credential: saved
            .credential
            .as_deref()
            .map(|h| (h, saved.dev_credential.as_deref())),
    };
    match findings::save(&list, dir, &target) {
        Ok(files) => {
            eprintln!(
                "{} finding{} saved in {} (re-run with `apiconform run {}`{})",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                dir.display(),
                dir.display(),
                if saved.credential.is_some() && saved.dev_credential.is_none() {
                    format!(
                        " --base-url URL --secret {}=...",
                        findings::CREDENTIAL_VARIABLE
                    )
                } else if args.base_url.is_some() {
                    " --base-url URL".to_string()
                } else {
                    String::new()
                }
            );
            None
        }
        Err(e) => Some(usage_error(&format!("--save-findings: {e}"))),
    }
}

/// Where `apiconform serve` listens by default (reproductions of findings
/// from an embedded server).
const EMBEDDED_REPRODUCTION_URL: &str = "http://127.0.0.1:8080";

/// `--coverage` and `--coverage-json`; `Some(exit code)` on an error.
fn coverage_output(
    args: &FuzzArgs,
    coverage: &std::sync::Mutex<crate::coverage::Collector>,
    to_stdout: bool,
) -> Option<u8> {
    if !args.coverage && args.coverage_json.is_none() {
        return None;
    }
    let table = match coverage.lock() {
        Ok(c) => c.coverage(),
        Err(_) => return Some(usage_error("coverage collector failed")),
    };
    if args.coverage {
        let text = crate::coverage::render_table(&table);
        if to_stdout {
            eprintln!("{}", text.trim_end());
        } else {
            out(text.trim_end());
        }
    }
    if let Some(path) = &args.coverage_json {
        let json = match serde_json::to_string_pretty(&table) {
            Ok(j) => j + "\n",
            Err(e) => return Some(usage_error(&format!("cannot encode coverage: {e}"))),
        };
        if let Err(e) = crate::report::write_file(path, json.as_bytes()) {
            // The error names the path already.
            return Some(usage_error(&format!("cannot write the coverage JSON: {e}")));
        }
    }
    None
}

/// Why a fuzz run has no case: a spec without request operations, every
/// operation left out (each named above), or filters that match nothing.
fn nothing_to_generate(spec: &crate::spec::Spec, the_plan: &plan::Plan, phases: &[&str]) -> String {
    let webhooks = spec.webhook_count();
    if webhooks == spec.operations.len() {
        let only = if webhooks == 0 {
            String::new()
        } else {
            format!(
                ", only {} (the API sends those; nothing here sends them)",
                crate::diag::plural(webhooks, "webhook")
            )
        };
        return format!(
            "nothing to generate: the spec documents no request operations under `paths`{only}"
        );
    }
    if !the_plan.skipped.is_empty() && the_plan.operations.is_empty() {
        return "nothing to generate: every operation was left out (see `not generated:` above)"
            .into();
    }
    if !the_plan.operations.is_empty() {
        // Operations were selected, but no selected phase made a request
        // for any of them (the examples phase of a spec without examples).
        return format!(
            "nothing to generate: the phases run ({}) make no request for the {} selected; add a phase with --phases, e.g. positive",
            phases.join(", "),
            crate::diag::plural(the_plan.operations.len(), "operation")
        );
    }
    "nothing to generate: no operation and phase left after the filters".into()
}
