//! Environment profiles: `apiconform.toml`, found at or above the current
//! folder, names the settings of each environment (`[profile.default]`,
//! `[profile.staging]`, `[profile.ci]`...) so a run needs no long flag list.
//!
//! Precedence, highest first: a flag, its environment variable
//! (`APICONFORM_BASE_URL`...), the selected profile, `[profile.default]`,
//! the built-in default. A profile only fills in what the command line left
//! unset, which clap's `ValueSource` tells apart from a built-in default.
//! Paths in the file are relative to the file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::args::{CertifyArgs, CheckArgs, Command, FuzzArgs, ProfileArgs, ReportArgs, RunArgs};
use super::args::{SelectArgs, parse_base_url, parse_percent};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::suite::vars::ExternalVars;

/// The file name looked for.
pub const FILE_NAME: &str = "apiconform.toml";
/// The profile every other inherits from, and the one used without `--profile`.
pub const DEFAULT: &str = "default";

/// `apiconform.toml`: named profiles of run settings.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "apiconform.toml",
    description = "Profiles of run settings per environment. `[profile.default]` applies without --profile; every other profile inherits from it. Flags and their environment variables override a profile; relative paths resolve against this file's folder."
)]
pub struct ConfigFile {
    /// Profiles by name: `default`, `staging`, `ci`...
    #[serde(default)]
    pub profile: BTreeMap<String, Profile>,
}

/// One profile: every field is optional and stands for the flag of the
/// same name (`jobs` for `--jobs`...).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Target base URL (`--base-url`).
    #[serde(default, deserialize_with = "de::base_url")]
    pub base_url: Option<String>,
    /// Suite files or folders when none is given on the command line.
    #[serde(default)]
    pub paths: Option<Vec<PathBuf>>,
    /// Only cases whose `suite › case` name contains one of these (`--name`).
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Only cases whose name matches this regex (`--name-regex`).
    #[serde(default, deserialize_with = "de::regex")]
    pub name_regex: Option<String>,
    /// Only cases with one of these tags (`--tag`).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Skip cases with these tags (`--exclude-tag`).
    #[serde(default)]
    pub exclude_tags: Option<Vec<String>>,
    /// Variables files (`--vars-file`), later files win.
    #[serde(default)]
    pub vars_files: Option<Vec<PathBuf>>,
    /// Variables by name; they beat the profile's `vars_files`. A profile's
    /// table merges with `default`'s name by name.
    #[serde(default)]
    pub vars: Option<BTreeMap<String, String>>,
    /// Secret variables read from the environment: `api_token =
    /// "STAGING_TOKEN"` sets `api_token` to `$STAGING_TOKEN`, redacted in
    /// every output. An unset variable is an error when the profile is used.
    #[serde(default, deserialize_with = "de::secrets")]
    pub secrets: Option<BTreeMap<String, String>>,
    /// Cases run concurrently (`--jobs`), at least 1.
    #[serde(default, deserialize_with = "de::positive")]
    #[schemars(range(min = 1))]
    pub jobs: Option<usize>,
    /// Per-request timeout (`--timeout`): `10s`, `500ms`, `2m`.
    #[serde(default, deserialize_with = "de::duration")]
    pub timeout: Option<String>,
    /// Longest `Retry-After` waited for (`--max-retry-wait`); `0` never waits.
    #[serde(default, deserialize_with = "de::wait")]
    pub max_retry_wait: Option<String>,
    /// Re-run a failed case up to this many times (`--retries`).
    #[serde(default)]
    pub retries: Option<u32>,
    /// Stop starting cases after the first failure (`--fail-fast`).
    #[serde(default)]
    pub fail_fast: Option<bool>,
    /// Run the selected cases this many times over (`--repeat`), at least 1.
    #[serde(default, deserialize_with = "de::positive")]
    #[schemars(range(min = 1))]
    pub repeat: Option<usize>,
    /// Largest response body accepted (`--max-body-size`): bytes, or a
    /// string with a unit (`"64MiB"`), at least 1 byte.
    #[serde(default, deserialize_with = "de::size")]
    #[schemars(with = "Option<SizeValue>")]
    pub max_body_size: Option<usize>,
    /// Only these automatic checks (`--checks`).
    #[serde(default, deserialize_with = "de::checks")]
    pub checks: Option<Vec<String>>,
    /// Switch these automatic checks off (`--exclude-checks`).
    #[serde(default, deserialize_with = "de::checks")]
    pub exclude_checks: Option<Vec<String>>,
    /// Only failures and the summary (`--quiet`); `-v` on the command line wins.
    #[serde(default)]
    pub quiet: Option<bool>,
    /// Dump every request and response (`--verbose`); `-q` on the command line wins.
    #[serde(default)]
    pub verbose: Option<bool>,
    /// No progress bar (`--no-progress`).
    #[serde(default)]
    pub no_progress: Option<bool>,
    /// Receive webhooks at this address (`--webhook-listen`).
    #[serde(default)]
    pub webhook_listen: Option<String>,
    /// Snapshot folder (`--snapshot-dir`).
    #[serde(default)]
    pub snapshot_dir: Option<PathBuf>,
    /// Print the coverage table (`--coverage`).
    #[serde(default)]
    pub coverage: Option<bool>,
    /// Write the coverage table as JSON (`--coverage-json`).
    #[serde(default)]
    pub coverage_json: Option<PathBuf>,
    /// Fail the run below this coverage percentage (`--min-coverage`).
    #[serde(default, deserialize_with = "de::percent")]
    #[schemars(range(min = 0, max = 100))]
    pub min_coverage: Option<f64>,
    /// Known failures (`--baseline`).
    #[serde(default)]
    pub baseline: Option<PathBuf>,
    /// Fail when a baseline failure now passes (`--strict-baseline`).
    #[serde(default)]
    pub strict_baseline: Option<bool>,
    /// At most this many requests for the whole run (`--rate-limit`): `10/s`, `120/m`.
    #[serde(default, deserialize_with = "de::rate")]
    pub rate_limit: Option<String>,
    /// Report files to write.
    #[serde(default)]
    pub reports: Option<Reports>,
    /// Settings of `apiconform fuzz` (generated phases).
    #[serde(default)]
    pub fuzz: Option<FuzzProfile>,
    /// Settings of `apiconform certify`.
    #[serde(default)]
    pub certify: Option<CertifyProfile>,
}

/// `[profile.NAME.reports]`: the report flags.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    /// JUnit XML (`--junit`).
    #[serde(default)]
    pub junit: Option<PathBuf>,
    /// The JSON report (`--json`).
    #[serde(default)]
    pub json: Option<PathBuf>,
    /// One JSON event per line (`--json-lines`).
    #[serde(default)]
    pub json_lines: Option<PathBuf>,
    /// The HTML report (`--html`).
    #[serde(default)]
    pub html: Option<PathBuf>,
    /// The Markdown summary (`--markdown`).
    #[serde(default)]
    pub markdown: Option<PathBuf>,
}

/// `[profile.NAME.fuzz]`: the flags only `apiconform fuzz` has.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FuzzProfile {
    /// The OpenAPI document to generate requests from (`--spec`).
    #[serde(default)]
    pub spec: Option<PathBuf>,
    /// A bundled reference server to run against (`--server`).
    #[serde(default)]
    pub server: Option<String>,
    /// Generated phases to run (`--phases`): examples, positive, negative,
    /// auth, methods, stateful.
    #[serde(default, deserialize_with = "de::phases")]
    pub phases: Option<Vec<String>>,
    /// Seed of the generation (`--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Most requests per operation and phase (`--max-examples`), at least 1.
    #[serde(default, deserialize_with = "de::positive")]
    #[schemars(range(min = 1))]
    pub max_examples: Option<usize>,
    /// Start no new case after this long (`--time-budget`).
    #[serde(default, deserialize_with = "de::duration")]
    pub time_budget: Option<String>,
    /// Pinned values (`--set`): `path.shareId=abc`.
    #[serde(default)]
    pub set: Option<Vec<String>>,
    /// Only these operations (`--include`).
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Leave these operations out (`--exclude`).
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
    /// Send only GET, HEAD and OPTIONS (`--read-only`).
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Also run PUT, PATCH and DELETE outside chains (`--allow-destructive`).
    #[serde(default)]
    pub allow_destructive: Option<bool>,
    /// Write each finding as a case file into this folder (`--save-findings`).
    #[serde(default)]
    pub save_findings: Option<PathBuf>,
}

/// `[profile.NAME.certify]`: the flags only `apiconform certify` has.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifyProfile {
    /// Folder for the certificate files (`--out`).
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Ed25519 signing key (`--sign-key`).
    #[serde(default)]
    pub sign_key: Option<PathBuf>,
}

/// Why a profile cannot be used (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0}")]
    File(Diagnostic),
    #[error("profile `{name}`: no {FILE_NAME} in {} or any folder above", start.display())]
    NoFile { name: String, start: PathBuf },
    #[error("profile `{name}`: {} has no [profile.{name}] (known: {known})", file.display())]
    Unknown {
        name: String,
        file: PathBuf,
        known: String,
    },
    #[error("{0}")]
    Vars(Diagnostics),
    #[error("{0}")]
    Required(String),
}

/// A loaded file: where it is and what it says.
#[derive(Debug)]
pub struct Loaded {
    pub file: PathBuf,
    pub config: ConfigFile,
}

/// The profile a command runs with: its name and settings (with
/// `default` merged in and paths resolved).
#[derive(Debug)]
pub struct Selected {
    pub name: String,
    pub file: PathBuf,
    pub profile: Profile,
}

/// The nearest `apiconform.toml` at or above `start`, up to the
/// filesystem root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|f| f.is_file())
}

/// Reads and checks a file; a syntax error, an unknown key or a wrong
/// type is a diagnostic at its line and column.
pub fn load(file: &Path) -> Result<Loaded, ProfileError> {
    let text = crate::input::read_to_string(file).map_err(|e| {
        ProfileError::File(Diagnostic::new(
            file,
            Pos::UNKNOWN,
            format!("cannot read: {e}"),
        ))
    })?;
    let config = parse(file, &text)?;
    Ok(Loaded {
        file: file.to_path_buf(),
        config,
    })
}

/// Parses the text of `file`.
pub fn parse(file: &Path, text: &str) -> Result<ConfigFile, ProfileError> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        let pos = e
            .span()
            .map_or(Pos::UNKNOWN, |span| position(text, span.start));
        let message = unknown_key_hint(e.message().trim());
        let mut d = Diagnostic::new(file, pos, message);
        if let Some(snippet) = crate::diag::snippet(text, pos) {
            d = d.with_detail(snippet);
        }
        ProfileError::File(d)
    })
}

/// `unknown field `jbos`, expected one of ...` (every key of the table)
/// shortened to `unknown key `jbos` (did you mean `jobs`?)`.
fn unknown_key_hint(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let mut names = rest.split('`').step_by(2);
    let Some(name) = names.next() else {
        return message.to_string();
    };
    let known: Vec<&str> = names.filter(|n| !n.is_empty()).collect();
    let hint = crate::suite::load::suggest(name, &known);
    if hint.is_empty() {
        format!("unknown key `{name}` (the keys are listed in schema/profile.schema.json)")
    } else {
        format!("unknown key `{name}`{hint}")
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> Pos {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

impl Loaded {
    /// The named profile over `default` (or `default` alone when `name`
    /// is `None`); `Ok(None)` when no name is asked and there is no default.
    pub fn select(&self, name: Option<&str>) -> Result<Option<Selected>, ProfileError> {
        let profiles = &self.config.profile;
        let base = profiles.get(DEFAULT).cloned();
        let chosen = match name {
            None | Some(DEFAULT) => match base {
                Some(p) => p,
                None if name.is_none() => return Ok(None),
                None => Profile::default(),
            },
            Some(n) => {
                let Some(own) = profiles.get(n) else {
                    return Err(self.unknown(n));
                };
                own.clone().over(base.unwrap_or_default())
            }
        };
        let dir = base_dir(&self.file);
        Ok(Some(Selected {
            name: name.unwrap_or(DEFAULT).to_string(),
            file: self.file.clone(),
            profile: chosen.resolved(&dir),
        }))
    }

    fn unknown(&self, name: &str) -> ProfileError {
        let mut known: Vec<&str> = self.config.profile.keys().map(String::as_str).collect();
        if !known.contains(&DEFAULT) {
            known.insert(0, DEFAULT);
        }
        ProfileError::Unknown {
            name: name.to_string(),
            file: self.file.clone(),
            known: known.join(", "),
        }
    }
}

/// The folder relative paths of `file` resolve against: empty (the
/// current folder) when the file is in it, so reports keep short paths.
fn base_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    let here = std::env::current_dir().ok();
    if dir.as_os_str().is_empty() || here.as_deref() == Some(dir) {
        PathBuf::new()
    } else {
        dir.to_path_buf()
    }
}

/// `Some(b)` when `a` is `None`: the field-wise fallback of a merge.
fn or<T>(a: Option<T>, b: Option<T>) -> Option<T> {
    a.or(b)
}

/// Two tables merged name by name, `a` winning.
fn merged_map(
    a: Option<BTreeMap<String, String>>,
    b: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    match (a, b) {
        (Some(a), Some(mut b)) => {
            b.extend(a);
            Some(b)
        }
        (a, b) => a.or(b),
    }
}

impl Profile {
    /// This profile with `base` filling what it leaves out: scalars and
    /// lists are replaced whole, `vars` and `secrets` merge by name,
    /// nested tables merge field by field.
    pub fn over(self, base: Profile) -> Profile {
        Profile {
            base_url: or(self.base_url, base.base_url),
            paths: or(self.paths, base.paths),
            names: or(self.names, base.names),
            name_regex: or(self.name_regex, base.name_regex),
            tags: or(self.tags, base.tags),
            exclude_tags: or(self.exclude_tags, base.exclude_tags),
            vars_files: or(self.vars_files, base.vars_files),
            vars: merged_map(self.vars, base.vars),
            secrets: merged_map(self.secrets, base.secrets),
            jobs: or(self.jobs, base.jobs),
            timeout: or(self.timeout, base.timeout),
            max_retry_wait: or(self.max_retry_wait, base.max_retry_wait),
            retries: or(self.retries, base.retries),
            fail_fast: or(self.fail_fast, base.fail_fast),
            repeat: or(self.repeat, base.repeat),
            max_body_size: or(self.max_body_size, base.max_body_size),
            checks: or(self.checks, base.checks),
            exclude_checks: or(self.exclude_checks, base.exclude_checks),
            quiet: or(self.quiet, base.quiet),
            verbose: or(self.verbose, base.verbose),
            no_progress: or(self.no_progress, base.no_progress),
            webhook_listen: or(self.webhook_listen, base.webhook_listen),
            snapshot_dir: or(self.snapshot_dir, base.snapshot_dir),
            coverage: or(self.coverage, base.coverage),
            coverage_json: or(self.coverage_json, base.coverage_json),
            min_coverage: or(self.min_coverage, base.min_coverage),
            baseline: or(self.baseline, base.baseline),
            strict_baseline: or(self.strict_baseline, base.strict_baseline),
            rate_limit: or(self.rate_limit, base.rate_limit),
            reports: merge_nested(self.reports, base.reports, Reports::over),
            fuzz: merge_nested(self.fuzz, base.fuzz, FuzzProfile::over),
            certify: merge_nested(self.certify, base.certify, CertifyProfile::over),
        }
    }

    /// Relative paths joined to `dir` (the file's folder).
    fn resolved(mut self, dir: &Path) -> Profile {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        for list in [&mut self.paths, &mut self.vars_files]
            .into_iter()
            .flatten()
        {
            list.iter_mut().for_each(join);
        }
        for p in [
            &mut self.snapshot_dir,
            &mut self.coverage_json,
            &mut self.baseline,
        ]
        .into_iter()
        .flatten()
        {
            join(p);
        }
        if let Some(r) = &mut self.reports {
            for p in [
                &mut r.junit,
                &mut r.json,
                &mut r.json_lines,
                &mut r.html,
                &mut r.markdown,
            ]
            .into_iter()
            .flatten()
            {
                join(p);
            }
        }
        if let Some(f) = &mut self.fuzz {
            for p in [&mut f.spec, &mut f.save_findings].into_iter().flatten() {
                join(p);
            }
        }
        if let Some(c) = &mut self.certify {
            for p in [&mut c.out, &mut c.sign_key].into_iter().flatten() {
                join(p);
            }
        }
        self
    }
}

fn merge_nested<T>(a: Option<T>, b: Option<T>, over: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(over(a, b)),
        (a, b) => a.or(b),
    }
}

impl Reports {
    fn over(self, base: Reports) -> Reports {
        Reports {
            junit: or(self.junit, base.junit),
            json: or(self.json, base.json),
            json_lines: or(self.json_lines, base.json_lines),
            html: or(self.html, base.html),
            markdown: or(self.markdown, base.markdown),
        }
    }
}

impl FuzzProfile {
    fn over(self, base: FuzzProfile) -> FuzzProfile {
        FuzzProfile {
            spec: or(self.spec, base.spec),
            server: or(self.server, base.server),
            phases: or(self.phases, base.phases),
            seed: or(self.seed, base.seed),
            max_examples: or(self.max_examples, base.max_examples),
            time_budget: or(self.time_budget, base.time_budget),
            set: or(self.set, base.set),
            include: or(self.include, base.include),
            exclude: or(self.exclude, base.exclude),
            read_only: or(self.read_only, base.read_only),
            allow_destructive: or(self.allow_destructive, base.allow_destructive),
            save_findings: or(self.save_findings, base.save_findings),
        }
    }
}

impl CertifyProfile {
    fn over(self, base: CertifyProfile) -> CertifyProfile {
        CertifyProfile {
            out: or(self.out, base.out),
            sign_key: or(self.sign_key, base.sign_key),
        }
    }
}

impl Selected {
    /// The profile's variables as one layer: its files, then `vars`, then
    /// `secrets` read from the environment (secret whatever their name).
    /// A secret whose environment variable is unset or empty is left out
    /// and named in the second list, as a diagnostic for the caller to
    /// raise unless a flag sets that variable.
    pub fn vars(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(ExternalVars, Vec<(String, Diagnostic)>), ProfileError> {
        let p = &self.profile;
        let pairs: Vec<(String, String)> = p
            .vars
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let files = p.vars_files.clone().unwrap_or_default();
        let mut layer = ExternalVars::collect(&pairs, &files).map_err(ProfileError::Vars)?;
        let mut secrets = Vec::new();
        let mut missing = Vec::new();
        for (var, name) in p.secrets.iter().flatten() {
            match env(name) {
                Some(value) if !value.is_empty() => secrets.push((var.clone(), value)),
                got => {
                    let why = if got.is_some() { "empty" } else { "not set" };
                    let message = format!(
                        "profile `{}`: secret `{var}` is read from the environment variable {name}, which is {why}",
                        self.name
                    );
                    missing.push((
                        var.clone(),
                        Diagnostic::new(&self.file, Pos::UNKNOWN, message),
                    ));
                }
            }
        }
        layer.add_secrets(&secrets);
        Ok((layer, missing))
    }
}

/// What a command's flags were given by: only the user's own choices
/// (the command line, or a flag's environment variable) beat a profile.
struct Given<'a>(&'a ArgMatches);

impl Given<'_> {
    fn by_user(&self, id: &str) -> bool {
        matches!(
            self.0.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    }

    /// Puts the profile's value in `slot` unless the user set the flag.
    fn fill<T>(&self, id: &str, slot: &mut T, value: Option<T>) {
        if let Some(v) = value
            && !self.by_user(id)
        {
            *slot = v;
        }
    }
}

/// Applies the selected profile (if any) to the parsed command line.
/// `matches` are the top-level matches the `cli` was built from.
pub fn apply(command: &mut Command, matches: &ArgMatches) -> Result<(), ProfileError> {
    let Some((_, sub)) = matches.subcommand() else {
        return Ok(());
    };
    let given = Given(sub);
    match command {
        Command::Run(args) => apply_run(args, &given),
        Command::List(args) => {
            let Some(sel) = select_for(&args.select.profile)? else {
                return Ok(());
            };
            apply_select(&mut args.select, &sel, &given, Sends::Nothing)?;
            args.select.profile.applied = Some(sel.name);
            Ok(())
        }
        Command::Check(args) => apply_check(args, &given),
        Command::Fuzz(args) => apply_fuzz(args, &given),
        Command::Certify(args) if args.action.is_none() && args.verify.is_none() => {
            apply_certify(args, &given)
        }
        _ => Ok(()),
    }
}

/// Finds the file (`--config`, else upward from the current folder) and
/// picks the profile `--profile` / `APICONFORM_PROFILE` names.
/// An empty name or file (`APICONFORM_PROFILE=` in a CI template) counts
/// as not given.
fn select_for(flags: &ProfileArgs) -> Result<Option<Selected>, ProfileError> {
    let name = flags
        .profile
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let file = match flags.config.as_ref().filter(|f| !f.as_os_str().is_empty()) {
        Some(f) => Some(f.clone()),
        None => std::env::current_dir().ok().and_then(|d| discover(&d)),
    };
    let Some(file) = file else {
        return match name {
            Some(name) => Err(ProfileError::NoFile {
                name: name.to_string(),
                start: std::env::current_dir().unwrap_or_default(),
            }),
            None => Ok(None),
        };
    };
    load(&file)?.select(name)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Suite paths, filters and variables (`run` and `list`).
fn apply_select(
    args: &mut SelectArgs,
    sel: &Selected,
    given: &Given,
    sends: Sends,
) -> Result<(), ProfileError> {
    let p = &sel.profile;
    given.fill("paths", &mut args.paths, p.paths.clone());
    given.fill("name", &mut args.name, p.names.clone());
    given.fill(
        "name_regex",
        &mut args.name_regex,
        p.name_regex.clone().map(Some),
    );
    given.fill("tag", &mut args.tag, p.tags.clone());
    given.fill("exclude_tag", &mut args.exclude_tag, p.exclude_tags.clone());
    set_vars(&mut args.profile, sel, sends)
}

/// Whether the command sends requests: only then is a secret that no
/// source sets an error (`list` and `check` send nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sends {
    Requests,
    Nothing,
}

fn set_vars(flags: &mut ProfileArgs, sel: &Selected, sends: Sends) -> Result<(), ProfileError> {
    let (vars, missing) = sel.vars(env_var)?;
    flags.vars = vars;
    if sends == Sends::Requests {
        flags.missing_secrets = missing;
    }
    Ok(())
}

fn apply_reports(reports: &mut ReportArgs, p: &Profile, given: &Given) {
    let Some(r) = &p.reports else { return };
    given.fill("junit", &mut reports.junit, r.junit.clone().map(Some));
    given.fill("json", &mut reports.json, r.json.clone().map(Some));
    given.fill(
        "json_lines",
        &mut reports.json_lines,
        r.json_lines.clone().map(Some),
    );
    given.fill("html", &mut reports.html, r.html.clone().map(Some));
    given.fill(
        "markdown",
        &mut reports.markdown,
        r.markdown.clone().map(Some),
    );
}

/// `-q` and `-v` exclude each other: a profile's one gives way to the
/// other on the command line.
fn apply_verbosity(quiet: &mut bool, verbose: &mut bool, p: &Profile, given: &Given) {
    let user = given.by_user("quiet") || given.by_user("verbose");
    if user {
        return;
    }
    given.fill("quiet", quiet, p.quiet);
    given.fill("verbose", verbose, p.verbose);
    if *quiet && *verbose {
        *verbose = false;
    }
}

fn apply_run(args: &mut RunArgs, given: &Given) -> Result<(), ProfileError> {
    let Some(sel) = select_for(&args.select.profile)? else {
        return Ok(());
    };
    apply_select(&mut args.select, &sel, given, Sends::Requests)?;
    let p = &sel.profile;
    given.fill("base_url", &mut args.base_url, p.base_url.clone().map(Some));
    given.fill("jobs", &mut args.jobs, p.jobs.map(Some));
    given.fill("timeout", &mut args.timeout, p.timeout.clone());
    given.fill(
        "max_retry_wait",
        &mut args.max_retry_wait,
        p.max_retry_wait.clone(),
    );
    given.fill("retries", &mut args.retries, p.retries);
    given.fill("fail_fast", &mut args.fail_fast, p.fail_fast);
    given.fill("repeat", &mut args.repeat, p.repeat);
    given.fill("max_body_size", &mut args.max_body_size, p.max_body_size);
    given.fill("checks", &mut args.checks, p.checks.clone());
    given.fill(
        "exclude_checks",
        &mut args.exclude_checks,
        p.exclude_checks.clone(),
    );
    apply_verbosity(&mut args.quiet, &mut args.verbose, p, given);
    given.fill("no_progress", &mut args.no_progress, p.no_progress);
    given.fill(
        "webhook_listen",
        &mut args.webhook_listen,
        p.webhook_listen.clone().map(Some),
    );
    given.fill(
        "snapshot_dir",
        &mut args.snapshot_dir,
        p.snapshot_dir.clone().map(Some),
    );
    given.fill("coverage", &mut args.coverage, p.coverage);
    given.fill(
        "coverage_json",
        &mut args.coverage_json,
        p.coverage_json.clone().map(Some),
    );
    given.fill(
        "min_coverage",
        &mut args.min_coverage,
        p.min_coverage.map(Some),
    );
    given.fill("baseline", &mut args.baseline, p.baseline.clone().map(Some));
    given.fill(
        "strict_baseline",
        &mut args.strict_baseline,
        p.strict_baseline,
    );
    given.fill(
        "rate_limit",
        &mut args.rate_limit,
        p.rate_limit.clone().map(Some),
    );
    apply_reports(&mut args.reports, p, given);
    args.select.profile.applied = Some(sel.name);
    Ok(())
}

fn apply_check(args: &mut CheckArgs, given: &Given) -> Result<(), ProfileError> {
    let Some(sel) = select_for(&args.profile)? else {
        return Ok(());
    };
    given.fill("paths", &mut args.paths, sel.profile.paths.clone());
    set_vars(&mut args.profile, &sel, Sends::Nothing)?;
    args.profile.applied = Some(sel.name);
    Ok(())
}

fn apply_certify(args: &mut CertifyArgs, given: &Given) -> Result<(), ProfileError> {
    let Some(sel) = select_for(&args.profile)? else {
        return Ok(());
    };
    let p = &sel.profile;
    given.fill("paths", &mut args.paths, p.paths.clone());
    given.fill("base_url", &mut args.base_url, p.base_url.clone().map(Some));
    given.fill("jobs", &mut args.jobs, p.jobs.map(Some));
    given.fill("timeout", &mut args.timeout, p.timeout.clone());
    given.fill(
        "webhook_listen",
        &mut args.webhook_listen,
        p.webhook_listen.clone().map(Some),
    );
    if let Some(c) = &p.certify {
        given.fill("out", &mut args.out, c.out.clone().map(Some));
        given.fill("sign_key", &mut args.sign_key, c.sign_key.clone().map(Some));
    }
    if args.out.is_none() {
        return Err(ProfileError::Required(format!(
            "certify needs --out DIR (or `out` in [profile.{}.certify])",
            sel.name
        )));
    }
    set_vars(&mut args.profile, &sel, Sends::Requests)?;
    args.profile.applied = Some(sel.name);
    Ok(())
}

fn apply_fuzz(args: &mut FuzzArgs, given: &Given) -> Result<(), ProfileError> {
    let sel = select_for(&args.profile)?;
    if let Some(sel) = &sel {
        fill_fuzz(args, sel, given)?;
    }
    if args.spec.as_os_str().is_empty() {
        return Err(ProfileError::Required(
            "fuzz needs --spec FILE (or `spec` in a profile's [fuzz] table)".into(),
        ));
    }
    args.profile.applied = sel.map(|s| s.name);
    Ok(())
}

fn fill_fuzz(args: &mut FuzzArgs, sel: &Selected, given: &Given) -> Result<(), ProfileError> {
    let p = &sel.profile;
    // `--server` on the command line beats a profile's base URL.
    if !given.by_user("server") {
        given.fill("base_url", &mut args.base_url, p.base_url.clone().map(Some));
    }
    given.fill("jobs", &mut args.jobs, p.jobs.map(Some));
    given.fill("timeout", &mut args.timeout, p.timeout.clone());
    given.fill("max_body_size", &mut args.max_body_size, p.max_body_size);
    given.fill("checks", &mut args.checks, p.checks.clone());
    given.fill(
        "exclude_checks",
        &mut args.exclude_checks,
        p.exclude_checks.clone(),
    );
    apply_verbosity(&mut args.quiet, &mut args.verbose, p, given);
    given.fill("no_progress", &mut args.no_progress, p.no_progress);
    given.fill("coverage", &mut args.coverage, p.coverage);
    given.fill(
        "coverage_json",
        &mut args.coverage_json,
        p.coverage_json.clone().map(Some),
    );
    given.fill(
        "rate_limit",
        &mut args.rate_limit,
        p.rate_limit.clone().map(Some),
    );
    apply_reports(&mut args.reports, p, given);
    if let Some(f) = &p.fuzz {
        // `--base-url` and `--server` conflict: a profile's server only
        // applies when no base URL is set from anywhere.
        if args.base_url.is_none() {
            given.fill("server", &mut args.server, f.server.clone().map(Some));
        }
        given.fill("spec", &mut args.spec, f.spec.clone());
        given.fill("phases", &mut args.phases, f.phases.clone());
        given.fill("seed", &mut args.seed, f.seed);
        given.fill("max_examples", &mut args.max_examples, f.max_examples);
        given.fill(
            "time_budget",
            &mut args.time_budget,
            f.time_budget.clone().map(Some),
        );
        given.fill("set", &mut args.set, f.set.clone());
        given.fill("include", &mut args.include, f.include.clone());
        given.fill("exclude", &mut args.exclude, f.exclude.clone());
        if !given.by_user("allow_destructive") {
            given.fill("read_only", &mut args.read_only, f.read_only);
        }
        if !given.by_user("read_only") {
            given.fill(
                "allow_destructive",
                &mut args.allow_destructive,
                f.allow_destructive,
            );
        }
        given.fill(
            "save_findings",
            &mut args.save_findings,
            f.save_findings.clone().map(Some),
        );
    }
    if args.read_only && args.allow_destructive {
        return Err(ProfileError::Required(format!(
            "profile `{}`: fuzz `read_only` and `allow_destructive` exclude each other",
            sel.name
        )));
    }
    set_vars(&mut args.profile, sel, Sends::Requests)
}

/// The JSON Schema of `apiconform.toml` ([`ConfigFile`]).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// A size in bytes, or with a unit: `max_body_size = 1048576` or
/// `max_body_size = "1MiB"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum SizeValue {
    Bytes(#[schemars(range(min = 1))] usize),
    Text(String),
}

/// Value checks run while the file is read, so a bad value is reported
/// at its line and column.
mod de {
    use super::*;

    fn string<'de, D: Deserializer<'de>>(
        d: D,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, D::Error> {
        let s = String::deserialize(d)?;
        check(&s).map_err(D::Error::custom)?;
        Ok(Some(s))
    }

    pub fn base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let s = String::deserialize(d)?;
        parse_base_url(&s).map(Some).map_err(D::Error::custom)
    }

    pub fn regex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, |s| {
            regex::Regex::new(s)
                .map(|_| ())
                .map_err(|e| format!("not a regex: {e}"))
        })
    }

    pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, |s| crate::cli::common::parse_timeout(s).map(|_| ()))
    }

    pub fn wait<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, |s| {
            if s.trim() == "0" {
                return Ok(());
            }
            crate::cli::common::parse_timeout(s).map(|_| ())
        })
    }

    pub fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        string(d, |s| {
            s.parse::<crate::run::ratelimit::RateLimiter>()
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    pub fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        match usize::deserialize(d)? {
            0 => Err(D::Error::custom("must be at least 1")),
            n => Ok(Some(n)),
        }
    }

    /// A byte count or a size with a unit, as `--max-body-size` takes.
    pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        // One parser for both forms, so a bare number and a string are
        // refused (0, too large) with the same words.
        let text = match super::SizeValue::deserialize(d)? {
            super::SizeValue::Bytes(n) => n.to_string(),
            super::SizeValue::Text(s) => s,
        };
        crate::input::parse_memory_size(&text)
            .map(Some)
            .map_err(D::Error::custom)
    }

    pub fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = f64::deserialize(d)?;
        parse_percent(&v.to_string())
            .map(Some)
            .map_err(D::Error::custom)
    }

    fn names<'de, D: Deserializer<'de>>(
        d: D,
        known: &[&str],
        what: &str,
    ) -> Result<Option<Vec<String>>, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        if let Some(bad) = list.iter().find(|n| !known.contains(&n.trim())) {
            return Err(D::Error::custom(format!(
                "unknown {what} `{bad}` (known: {})",
                known.join(", ")
            )));
        }
        Ok(Some(list))
    }

    pub fn checks<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let known: Vec<&str> = crate::check::REGISTRY.iter().map(|c| c.name).collect();
        names(d, &known, "check")
    }

    pub fn phases<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        let known: Vec<&str> = crate::generate::plan::Phase::ALL
            .iter()
            .map(crate::generate::plan::Phase::name)
            .collect();
        names(d, &known, "phase")
    }

    pub fn secrets<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeMap<String, String>>, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        if let Some((var, _)) = map.iter().find(|(_, env)| env.trim().is_empty()) {
            return Err(D::Error::custom(format!(
                "secret `{var}`: name the environment variable to read it from"
            )));
        }
        Ok(Some(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<ConfigFile, ProfileError> {
        parse(Path::new("apiconform.toml"), text)
    }

    fn loaded(text: &str) -> Loaded {
        Loaded {
            file: PathBuf::from("/proj/apiconform.toml"),
            config: parsed(text).expect("valid"),
        }
    }

    const FILE: &str = r#"
[profile.default]
jobs = 4
timeout = "5s"
paths = ["cases"]
vars = { region = "eu", tenant = "t1" }
reports = { junit = "out/junit.xml" }

[profile.staging]
base_url = "https://staging.example.com"
vars = { tenant = "t2" }
secrets = { api_token = "STAGING_TOKEN" }
reports = { json = "out/staging.json" }

[profile.ci]
jobs = 16
"#;

    #[test]
    fn a_profile_inherits_from_default() {
        let l = loaded(FILE);
        let s = l.select(Some("staging")).unwrap().unwrap();
        assert_eq!(s.name, "staging");
        let p = &s.profile;
        assert_eq!(p.jobs, Some(4));
        assert_eq!(p.timeout.as_deref(), Some("5s"));
        assert_eq!(p.base_url.as_deref(), Some("https://staging.example.com"));
        let vars = p.vars.as_ref().unwrap();
        assert_eq!(vars["region"], "eu");
        assert_eq!(vars["tenant"], "t2");
        let r = p.reports.as_ref().unwrap();
        assert_eq!(r.junit.as_deref(), Some(Path::new("/proj/out/junit.xml")));
        assert_eq!(r.json.as_deref(), Some(Path::new("/proj/out/staging.json")));
        let ci = l.select(Some("ci")).unwrap().unwrap().profile;
        assert_eq!(ci.jobs, Some(16));
        assert_eq!(ci.paths, Some(vec![PathBuf::from("/proj/cases")]));
        assert!(ci.base_url.is_none());
    }

    #[test]
    fn no_name_means_default_and_absent_default_means_none() {
        let l = loaded(FILE);
        assert_eq!(l.select(None).unwrap().unwrap().name, "default");
        let bare = loaded("[profile.ci]\njobs = 2\n");
        assert!(bare.select(None).unwrap().is_none());
        // Asking for `default` explicitly works even when it is empty.
        let d = bare.select(Some("default")).unwrap().unwrap();
        assert!(d.profile.jobs.is_none());
    }

    #[test]
    fn an_unknown_profile_lists_the_known_ones() {
        let e = loaded(FILE).select(Some("prod")).unwrap_err().to_string();
        assert!(e.contains("no [profile.prod]"), "{e}");
        assert!(e.contains("known: ci, default, staging"), "{e}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_carry_line_and_column() {
        let e = parsed("[profile.default]\njobs = 2\n  jbos = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("apiconform.toml:3:3: unknown key `jbos` (did you mean `jobs`?)"),
            "{e}"
        );
        for (text, expected) in [
            ("[profile.ci]\njobs = \"many\"\n", "apiconform.toml:2:8:"),
            ("[profile.ci]\njobs = 0\n", "2:8: must be at least 1"),
            (
                "[profile.ci]\nmax_body_size = 0\n",
                "2:17: `0`: a size must be at least 1 byte",
            ),
            ("[profile.ci]\nmax_body_size = \"9Q\"\n", "unknown unit"),
            ("[profile.ci]\ntimeout = \"soon\"\n", "2:11: `soon`"),
            (
                "[profile.ci]\nbase_url = \"localhost:80\"\n",
                "did you mean `http://localhost:80`",
            ),
            (
                "[profile.ci]\nchecks = [\"nope\"]\n",
                "unknown check `nope`",
            ),
            (
                "[profile.ci.fuzz]\nphases = [\"chaos\"]\n",
                "unknown phase `chaos`",
            ),
            ("[profile.ci]\nmin_coverage = 120\n", "between 0 and 100"),
        ] {
            let e = parsed(text).unwrap_err().to_string();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
        for (value, bytes) in [("2048", 2048), ("\"64KiB\"", 64 << 10)] {
            let c = parsed(&format!("[profile.ci]\nmax_body_size = {value}\n")).expect("valid");
            assert_eq!(c.profile["ci"].max_body_size, Some(bytes), "{value}");
        }
        let e = parsed("[server]\nx = 1\n").unwrap_err().to_string();
        assert!(
            e.starts_with("apiconform.toml:1:2: unknown key `server`"),
            "{e}"
        );
        let e = parsed("[profile.ci\n").unwrap_err().to_string();
        assert!(e.starts_with("apiconform.toml:1:"), "{e}");
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position("ab\ncd", 4), Pos { line: 2, column: 2 });
        assert_eq!(position("é = 1", 3), Pos { line: 1, column: 3 });
        assert_eq!(position("x", 99), Pos { line: 1, column: 2 });
        assert_eq!(position("é", 1), Pos { line: 1, column: 1 });
    }

    #[test]
    fn secrets_come_from_the_environment_and_are_secret() {
        let s = loaded(FILE).select(Some("staging")).unwrap().unwrap();
        let (vars, missing) = s
            .vars(|name| (name == "STAGING_TOKEN").then(|| "s3cret".to_string()))
            .unwrap();
        assert!(missing.is_empty());
        assert_eq!(vars.values["api_token"], "s3cret");
        assert!(vars.secrets.contains("api_token"));
        assert_eq!(vars.values["tenant"], "t2");
        assert!(!vars.secrets.contains("tenant"));
        for value in [None, Some(String::new())] {
            let (vars, missing) = s.vars(|_| value.clone()).unwrap();
            assert!(!vars.values.contains_key("api_token"));
            let [(var, d)] = missing.as_slice() else {
                panic!("{missing:?}")
            };
            assert_eq!(var, "api_token");
            assert!(d.message.contains("STAGING_TOKEN, which is"), "{d}");
        }
    }

    #[test]
    fn discovery_walks_up_to_the_nearest_file() {
        let root = std::env::temp_dir().join(format!("apiconform-prof-{}", std::process::id()));
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_ne!(discover(&deep), Some(root.join(FILE_NAME)));
        std::fs::write(root.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(root.join(FILE_NAME)));
        std::fs::write(root.join("a").join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(root.join("a").join(FILE_NAME)));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn absolute_paths_stay() {
        let l = loaded("[profile.default]\nbaseline = \"/etc/known.yaml\"\n");
        let p = l.select(None).unwrap().unwrap().profile;
        assert_eq!(p.baseline.as_deref(), Some(Path::new("/etc/known.yaml")));
    }

    #[test]
    fn the_example_file_is_valid() {
        let text = include_str!("../../examples/apiconform.toml");
        let config = parsed(text).expect("examples/apiconform.toml parses");
        assert!(config.profile.contains_key(DEFAULT));
    }

    /// The profile flags sit under their own help heading without pulling
    /// the flags after them under it.
    #[test]
    fn profile_flags_have_their_own_help_heading() {
        use clap::CommandFactory;
        let cli = super::super::args::Cli::command();
        for sub in ["run", "list", "check", "fuzz", "certify"] {
            let cmd = cli.find_subcommand(sub).expect("subcommand");
            let heading = |id: &str| {
                cmd.get_arguments()
                    .find(|a| a.get_id() == id)
                    .map(|a| a.get_help_heading().map(str::to_string))
            };
            assert_eq!(heading("profile"), Some(Some("Profile".into())), "{sub}");
            assert_eq!(heading("config"), Some(Some("Profile".into())), "{sub}");
        }
        let run = cli.find_subcommand("run").expect("run");
        let base = run.get_arguments().find(|a| a.get_id() == "base_url");
        assert_eq!(base.and_then(|a| a.get_help_heading()), None);
    }

    /// Every flag id a profile fills exists (clap panics on an unknown id
    /// in debug builds only, so this catches a renamed flag).
    #[test]
    fn every_filled_flag_id_exists() {
        use clap::CommandFactory;
        let cli = super::super::args::Cli::command();
        let ids = |sub: &str| -> Vec<String> {
            cli.find_subcommand(sub)
                .map(|c| c.get_arguments().map(|a| a.get_id().to_string()).collect())
                .unwrap_or_default()
        };
        let run = ids("run");
        for id in [
            "paths",
            "name",
            "name_regex",
            "tag",
            "exclude_tag",
            "base_url",
            "jobs",
            "timeout",
            "max_retry_wait",
            "retries",
            "fail_fast",
            "repeat",
            "max_body_size",
            "checks",
            "exclude_checks",
            "quiet",
            "verbose",
            "no_progress",
            "webhook_listen",
            "snapshot_dir",
            "coverage",
            "coverage_json",
            "min_coverage",
            "baseline",
            "strict_baseline",
            "rate_limit",
            "junit",
            "json",
            "json_lines",
            "html",
            "markdown",
        ] {
            assert!(run.contains(&id.to_string()), "run --{id}");
        }
        let fuzz = ids("fuzz");
        for id in [
            "spec",
            "server",
            "phases",
            "seed",
            "max_examples",
            "time_budget",
            "set",
            "include",
            "exclude",
            "read_only",
            "allow_destructive",
            "save_findings",
            "base_url",
            "jobs",
            "timeout",
            "max_body_size",
            "checks",
            "exclude_checks",
            "quiet",
            "verbose",
            "no_progress",
            "coverage",
            "coverage_json",
            "rate_limit",
        ] {
            assert!(fuzz.contains(&id.to_string()), "fuzz --{id}");
        }
        let certify = ids("certify");
        for id in [
            "paths",
            "base_url",
            "jobs",
            "timeout",
            "webhook_listen",
            "out",
            "sign_key",
        ] {
            assert!(certify.contains(&id.to_string()), "certify --{id}");
        }
        assert!(ids("check").contains(&"paths".to_string()));
        assert!(ids("list").contains(&"tag".to_string()));
    }
}
