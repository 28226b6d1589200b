//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  apiconform run cases/enablenow                 # against the embedded reference server
  apiconform run cases/enablenow --base-url https://staging.example.com \\
      --var enablenow_token=$TOKEN --junit junit.xml
  apiconform run cases --tag smoke --exclude-tag slow --jobs 16
  apiconform run cases --partition slice:2/4 --json shard2.json
  apiconform list cases --tag lifecycle
  apiconform check cases specs/enablenow-sharing-v1.yaml
  apiconform check --spec specs/mycloud-shares-v1.yaml

Exit codes: 0 all cases passed, 1 a case failed, 2 usage or input error.";

/// API conformance test harness: runs declarative YAML cases against any
/// base URL and checks every response against the OpenAPI spec.
#[derive(Debug, Parser)]
#[command(name = "apiconform", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Colours: `auto` (a terminal, unless NO_COLOR is set or
    /// CLICOLOR_FORCE forces them), `always` or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
    /// Largest spec, suite or vars file read, in bytes or with a unit
    /// (`512K`, `64MiB`, `1G`); default 256MiB. A larger input is an error (exit 2).
    #[arg(long, global = true, env = "APICONFORM_MAX_INPUT_SIZE", value_name = "SIZE",
          value_parser = crate::input::parse_size)]
    pub max_input_size: Option<u64>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Applies the choice to every coloured stream of the process.
    pub fn apply(self) {
        anstream::ColorChoice::write_global(match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        });
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against a target (or the embedded reference server).
    #[command(after_help = EXAMPLES)]
    Run(Box<RunArgs>),
    /// List the cases that would run (after filters and partition).
    List(ListArgs),
    /// Validate specs and suites offline: nothing is sent.
    Check(CheckArgs),
    /// List the automatic conformance checks.
    Checks,
    /// Print the JSON Schema of the case-file format.
    Schema {
        /// The schema of `shared:` step-list files instead.
        #[arg(long)]
        shared: bool,
        /// The schema of `apiconform.toml` (profiles) instead.
        #[arg(long, conflicts_with = "shared")]
        profiles: bool,
    },
    /// Generate requests from the spec alone (no case file) and check every
    /// response: examples, positive, negative, auth, methods and stateful phases.
    #[command(after_help = FUZZ_EXAMPLES)]
    Fuzz(Box<FuzzArgs>),
    /// Run a bundled reference server (enablenow, mycloud or all).
    Serve(crate::serve::ServeArgs),
    /// Run suites with every check on and write a conformance certificate
    /// (JSON, HTML, Markdown); or check one against local files (--verify).
    #[command(after_help = CERTIFY_EXAMPLES)]
    Certify(CertifyArgs),
    /// Work with JSON reports (merge CI shards).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Write a starting suite from a spec: one case per operation x
    /// documented status not yet covered (TODO cases where the spec gives
    /// no way to provoke the status).
    #[command(after_help = SCAFFOLD_EXAMPLES)]
    Scaffold(ScaffoldArgs),
}

const SCAFFOLD_EXAMPLES: &str = "\
Examples:
  apiconform scaffold --spec specs/enablenow-sharing-v1.yaml --out cases/new/enablenow.yaml
  apiconform run cases/enablenow --coverage-json coverage.json
  apiconform scaffold --spec specs/enablenow-sharing-v1.yaml --coverage-json coverage.json \\
      --out cases/new/missing.yaml

Exit codes: 0 written, 2 usage or input error (nothing written).";

/// `apiconform scaffold`.
#[derive(Debug, Args)]
pub struct ScaffoldArgs {
    /// The OpenAPI document to scaffold cases for (a file or an http(s) URL).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// Coverage of a previous run (`run --coverage-json`, or a `--json`
    /// report): its covered operation x status pairs get no case.
    #[arg(long, value_name = "PREV")]
    pub coverage_json: Option<PathBuf>,
    /// The suite file to write (its folder must exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace `--out` when it exists (it is never touched on a failure).
    #[arg(long)]
    pub force: bool,
    /// The bundled reference server the suite names (`server:`); default:
    /// the one a bundled spec belongs to, none for other specs.
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Pin a value by name (repeatable), as for `fuzz`:
    /// `body.ownerId={{ user_id }}`, `query.limit=5`.
    #[arg(long = "set", value_name = "WHERE.NAME=VALUE")]
    pub set: Vec<String>,
    /// Seed of the generated values.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
}

#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Suite files or folders (default: `cases`).
    pub paths: Vec<PathBuf>,
    /// Only cases whose `suite › case` name contains this (repeatable).
    #[arg(long = "name", short = 'n', value_name = "TEXT")]
    pub name: Vec<String>,
    /// Only cases whose `suite › case` name matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub name_regex: Option<String>,
    /// Only cases with this tag (repeatable; any of them).
    #[arg(long = "tag", short = 't', value_name = "TAG")]
    pub tag: Vec<String>,
    /// Skip cases with this tag (repeatable).
    #[arg(long = "exclude-tag", value_name = "TAG")]
    pub exclude_tag: Vec<String>,
    /// Run one slice of the cases, e.g. `slice:1/4`; the N slices together are the whole suite.
    #[arg(long, value_name = "slice:I/N")]
    pub partition: Option<String>,
    /// Set a variable (repeatable); overrides --vars-file, APICONFORM_VAR_* and suite defaults.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a YAML or JSON mapping (repeatable; later files win).
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Vec<PathBuf>,
    /// Set a variable whose value is secret whatever its name (repeatable):
    /// as --var, and redacted in every output.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Target base URL. Without it, suites that name a bundled `server:` run
    /// against that reference server started in-process.
    #[arg(long, env = "APICONFORM_BASE_URL", value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<String>,
    /// Cases run concurrently (steps of a case run in order); at least 1.
    #[arg(long, short = 'j', value_name = "N", allow_negative_numbers = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Per-request timeout: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Longest `Retry-After` of a 429 or 503 to wait for before resending
    /// an idempotent request (`30s`, `500ms`; `0` never waits).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub max_retry_wait: String,
    /// Re-run a failed case up to N times; a later pass is reported as flaky.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: u32,
    /// Stop starting cases after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Run the selected cases N times over (soak runs, hunting flaky cases).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: usize,
    /// Largest response body accepted, in bytes or with a unit (`512K`,
    /// `64MiB`, `1G`); a larger body fails its step.
    #[arg(long, default_value = "10MiB", value_name = "SIZE",
          value_parser = crate::input::parse_memory_size)]
    pub max_body_size: usize,
    /// Only these automatic checks (comma-separated names; see `apiconform checks`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub checks: Vec<String>,
    /// Switch these automatic checks off (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub exclude_checks: Vec<String>,
    /// Only failures and the summary.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Dump every request and response (secrets redacted).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Receive webhooks at this address (e.g. 127.0.0.1:9000) for webhook steps.
    #[arg(long, value_name = "ADDR")]
    pub webhook_listen: Option<String>,
    /// Write pending `.snap.new` files for missing or changed snapshots.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Write snapshots straight into `.snap` files (implies --update-snapshots).
    #[arg(long)]
    pub accept_snapshots: bool,
    /// Snapshot folder. Default: the nearest `snapshots/` folder at or above
    /// each suite file's folder (up to the project root), else `snapshots/`
    /// beside the suite file; never the current directory.
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Print which operation × documented status pairs the run exercised.
    #[arg(long)]
    pub coverage: bool,
    /// Write the coverage table as JSON.
    #[arg(long, value_name = "FILE")]
    pub coverage_json: Option<PathBuf>,
    /// Fail the run (exit 1) when a spec's coverage is below this percentage.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub min_coverage: Option<f64>,
    /// Accepted known failures (YAML, from --write-baseline): a matching
    /// failure is reported `known` and does not fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every failure of this run as a baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Fail the run when a baseline failure now passes (`fixed`), so the
    /// baseline only shrinks.
    #[arg(long, requires = "baseline")]
    pub strict_baseline: bool,
    /// Run only the cases that failed, were interrupted or were known
    /// (baseline) in the previous run of the same paths (state in
    /// .apiconform/last-run/).
    #[arg(long)]
    pub rerun_failed: bool,
    /// At most this many requests, shared by the whole run: `10/s`, `120/m`.
    #[arg(long, value_name = "N/s")]
    pub rate_limit: Option<String>,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub net: super::net::NetArgs,
}

/// `apiconform fuzz`: generated phases with no case file.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// The OpenAPI document to generate requests from (required here or
    /// as `spec` in a profile's `[fuzz]` table).
    #[arg(long, value_name = "FILE", default_value = "", hide_default_value = true,
          value_parser = any_path)]
    pub spec: PathBuf,
    /// Target base URL.
    #[arg(long, env = "APICONFORM_BASE_URL", value_name = "URL", value_parser = parse_base_url,
          conflicts_with = "server")]
    pub base_url: Option<String>,
    /// Run against a bundled reference server started in-process
    /// (enablenow, mycloud); the default for a bundled spec without --base-url.
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// A header sent on every request, as curl takes it (repeatable):
    /// `-H 'Authorization: Bearer ...'`. Authorization, cookies and
    /// secret-looking headers are the credential: redacted everywhere, left
    /// out or spoiled in the auth phase.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub header: Vec<String>,
    /// Seed of the generation: the same seed sends the same requests.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Most requests per operation and phase.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = parse_jobs)]
    pub max_examples: usize,
    /// Start no new operation x phase case after this long: `30s`, `2m`.
    #[arg(long, value_name = "DURATION")]
    pub time_budget: Option<String>,
    /// Phases to run (comma-separated): examples, positive, negative, auth,
    /// methods, stateful (default: all).
    #[arg(long, value_delimiter = ',', value_name = "PHASES")]
    pub phases: Vec<String>,
    /// Pin a value by name (repeatable): `body.ownerId={{ user_id }}`,
    /// `path.shareId=abc`, `query.limit=5`, `header.X-Tenant=t1`.
    #[arg(long = "set", value_name = "WHERE.NAME=VALUE")]
    pub set: Vec<String>,
    /// Only these operations (repeatable): operationId, `tag:NAME`,
    /// `method:GET`, `path:/v1/shares*`.
    #[arg(long, value_name = "SELECTOR")]
    pub include: Vec<String>,
    /// Leave these operations out (repeatable; same selectors as --include).
    #[arg(long, value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// Send only GET, HEAD and OPTIONS requests.
    #[arg(long, conflicts_with = "allow_destructive")]
    pub read_only: bool,
    /// Also run PUT, PATCH and DELETE outside stateful chains (they may
    /// change or remove data this run did not create).
    #[arg(long)]
    pub allow_destructive: bool,
    /// At most this many requests, shared by the whole run: `10/s`, `120/m`.
    #[arg(long, value_name = "N/s")]
    pub rate_limit: Option<String>,
    /// Set a variable for pinned templates (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Set a secret variable (repeatable; redacted in every output).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    /// Cases run concurrently; at least 1.
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Per-request timeout: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Largest response body accepted, in bytes or with a unit (`512K`,
    /// `64MiB`, `1G`); a larger body fails its step.
    #[arg(long, default_value = "10MiB", value_name = "SIZE",
          value_parser = crate::input::parse_memory_size)]
    pub max_body_size: usize,
    /// Only these checks (comma-separated names; see `apiconform checks`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub checks: Vec<String>,
    /// Switch these checks off (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub exclude_checks: Vec<String>,
    /// Only failures and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Dump every request and response (secrets redacted).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Print which operation x documented status pairs the run exercised.
    #[arg(long)]
    pub coverage: bool,
    /// Write the coverage table as JSON.
    #[arg(long, value_name = "FILE")]
    pub coverage_json: Option<PathBuf>,
    /// Write each finding as a ready case file into DIR (a regression case:
    /// it fails while the finding stands).
    #[arg(long, value_name = "DIR")]
    pub save_findings: Option<PathBuf>,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub net: super::net::NetArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// A second identity's credential header, as `-H` takes it: stateful
    /// chains read what they created, and list its collection, with it and
    /// expect not to see it (resource_isolation). Redacted like `-H`.
    #[arg(long, value_name = "NAME: VALUE")]
    pub other_header: Option<String>,
    /// Most candidates shrinking tries for one finding's failing input (each
    /// is re-sent, plus the delete of what it created, to see whether it
    /// still fails); 0 turns shrinking off. The whole run's shrinking sends
    /// at most ten times this many requests.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub shrink_budget: usize,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// `text` (one `suite › case` line each) or `json` (an array of cases
    /// with suite, file, location, tags and requirement id, for CI matrices).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Suite files or folders, and/or OpenAPI files (default: `cases`).
    pub paths: Vec<PathBuf>,
    /// An OpenAPI or Swagger 2.0 document to validate, a file or an
    /// http(s) URL (repeatable).
    #[arg(long = "spec", value_name = "FILE|URL")]
    pub spec: Vec<PathBuf>,
    /// Set a variable, as for `run`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a file, as for `run`.
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Vec<PathBuf>,
    /// Set a secret variable, as for `run`.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// Report files a run writes; any number of them at once.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Reports")]
pub struct ReportArgs {
    /// JUnit XML for CI: a testsuite per suite file, a testcase per case.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The full run as JSON (schema/report.schema.json); merge shards with `report merge`.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Stream one JSON event per line while the run goes.
    #[arg(long, value_name = "FILE")]
    pub json_lines: Option<PathBuf>,
    /// A self-contained HTML page: summary, cases (failures first), coverage.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// A Markdown summary for pull-request comments.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Which profile of `apiconform.toml` fills in the options the command
/// line leaves unset.
#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// Use this profile of apiconform.toml (it inherits from
    /// `[profile.default]`, which applies without this flag); flags and
    /// their environment variables override it.
    #[arg(
        long = "profile",
        env = "APICONFORM_PROFILE",
        value_name = "NAME",
        help_heading = "Profile"
    )]
    pub profile: Option<String>,
    /// Read profiles from this file instead of the nearest apiconform.toml
    /// at or above the current folder.
    #[arg(
        long = "config",
        env = "APICONFORM_CONFIG",
        value_name = "FILE",
        help_heading = "Profile"
    )]
    pub config: Option<PathBuf>,
    /// The profile applied (set after parsing): named in the run header
    /// and the report.
    #[arg(skip)]
    pub applied: Option<String>,
    /// The profile's variables, below every flag and APICONFORM_VAR_*.
    #[arg(skip)]
    pub vars: crate::suite::vars::ExternalVars,
    /// Profile secrets whose environment variable is unset: (variable,
    /// diagnostic), an error unless a flag sets the variable.
    #[arg(skip)]
    pub missing_secrets: Vec<(String, crate::diag::Diagnostic)>,
}

const FUZZ_EXAMPLES: &str = "\
Examples:
  apiconform fuzz --spec specs/mycloud-shares-v1.yaml        # against the embedded mycloud server
  apiconform fuzz --spec openapi.yaml --base-url http://127.0.0.1:8080 \\
      -H 'Authorization: Bearer $TOKEN' --max-examples 25 --seed 7 --junit fuzz.xml
  apiconform fuzz --spec openapi.yaml --base-url URL --read-only --rate-limit 5/s
  apiconform fuzz --spec specs/mycloud-shares-v1.yaml --set 'body.ownerId={{ user }}' --var user=user-1001

A bundled spec without --base-url runs against its embedded reference server,
with that server's development token (and, for mycloud, ownerId pinned to the
token's user). Exit codes: 0 no finding, 1 a generated case failed, 2 usage or input error.";

const CERTIFY_EXAMPLES: &str = "\
Examples:
  apiconform certify cases/enablenow --base-url https://api.example.com \\
      --var enablenow_token=$TOKEN --out certificate/
  apiconform certify keygen --out keys/
  apiconform certify cases/enablenow --sign-key keys/apiconform-signing-key.pem --out certificate/
  apiconform certify --verify certificate/certificate.json --public-key vendor.pub.pem --root .

Exit codes: 0 conformant (or, with --verify, content and every hash match),
1 not conformant (or the certificate or a file changed, or a bad signature),
2 usage or input error.";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CertifyArgs {
    #[command(subcommand)]
    pub action: Option<CertifyAction>,
    /// Suite files or folders (default: `cases`).
    pub paths: Vec<PathBuf>,
    /// Target base URL; without it, suites run against their bundled reference server.
    #[arg(long, env = "APICONFORM_BASE_URL", value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<String>,
    /// Folder for certificate.json, certificate.html and certificate.md
    /// (required here or as `out` in a profile's `[certify]` table).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Set a variable (repeatable), as for `run`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a file (repeatable), as for `run`.
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Vec<PathBuf>,
    /// Set a secret variable (repeatable), as for `run`.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    /// Cases run concurrently; at least 1.
    #[arg(long, short = 'j', value_name = "N", allow_negative_numbers = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Per-request timeout: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Receive webhooks at this address for webhook steps.
    #[arg(long, value_name = "ADDR")]
    pub webhook_listen: Option<String>,
    /// Sign the certificate with this Ed25519 private key (PKCS#8 PEM, from
    /// `certify keygen`).
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub sign_key: Option<PathBuf>,
    /// Check a certificate: its content against its digest (and signature,
    /// with --public-key), then the hashes of the spec and suite files it
    /// names, resolved against its recorded project root or --root.
    #[arg(long, value_name = "CERTIFICATE", conflicts_with_all = ["paths", "out"])]
    pub verify: Option<PathBuf>,
    /// With --verify: the issuer's Ed25519 public key (PEM); the
    /// certificate must then carry a valid signature by it.
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub public_key: Option<PathBuf>,
    /// With --verify: the folder the certificate's relative file paths
    /// resolve against (default: the project root it records).
    #[arg(long, value_name = "DIR", requires = "verify")]
    pub root: Option<PathBuf>,
    /// Include the generated phases of the suites' `generate:` sections
    /// (e.g. cases/generated/) as their own requirement group: status,
    /// content type, schema, headers and auth at level must (the spec is
    /// the contract), the other generated checks at should. Without it,
    /// generated cases are left out of a certificate.
    #[arg(long, conflicts_with = "verify")]
    pub generate: bool,
    /// Boxed: it would make `Command::Certify` the largest variant by far.
    #[command(flatten)]
    pub net: Box<super::net::NetArgs>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Subcommand)]
pub enum CertifyAction {
    /// Generate an Ed25519 key pair for signing certificates: DIR gets
    /// apiconform-signing-key.pem (PKCS#8, keep it secret) and
    /// apiconform-signing-key.pub.pem (hand it to customers).
    Keygen {
        /// Folder for the two key files (created; existing keys are never overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge the JSON reports of `--partition` shards into one report.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports written by `run --json` (one per shard).
    #[arg(required = true, value_name = "REPORT.json")]
    pub inputs: Vec<PathBuf>,
    /// Write the merged report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the merged report as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the merged report as HTML.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the merged report as Markdown.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Merge even when a shard's report is missing (the result is marked
    /// incomplete); without it a missing shard is an error (exit 2).
    #[arg(long)]
    pub allow_partial: bool,
}

/// A target base URL: absolute `http` or `https` with a host (and a valid
/// port). Checked while parsing, so a typo fails before any request.
pub fn parse_base_url(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(
            "the base URL is empty (an unset CI variable?); give one like https://api.example.com"
                .into(),
        );
    }
    let suggest = |why: &str| {
        if !t.contains("://") && !t.starts_with(':') && !t.contains(char::is_whitespace) {
            format!("{why}; did you mean `http://{t}`?")
        } else {
            format!("{why}; give one like https://api.example.com or http://127.0.0.1:8080")
        }
    };
    let url = match url::Url::parse(t) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err(suggest(&format!("`{t}` has no scheme")));
        }
        Err(e) => return Err(suggest(&format!("`{t}` is not a URL ({e})"))),
    };
    match url.scheme() {
        "http" | "https" => {}
        // `localhost:8080` parses as scheme `localhost`.
        other if !t.contains("://") => {
            return Err(suggest(&format!(
                "`{t}` has no http(s) scheme (read `{other}:` as one)"
            )));
        }
        other => {
            return Err(format!(
                "`{t}`: scheme `{other}` is not supported; the base URL must be http:// or https://"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{t}` has no host; give one like http://127.0.0.1:8080"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("`{t}`: a base URL cannot have a #fragment"));
    }
    // Step paths are appended to the base URL, so a query would end up in
    // the middle of every request URL (`...?x=1/shares`).
    if url.query().is_some() {
        return Err(format!(
            "`{t}`: a base URL cannot have a ?query (each step's path goes after it); set query parameters in the cases"
        ));
    }
    Ok(t.to_string())
}

/// A path that may be empty: `fuzz --spec` defaults to none, which a
/// profile can fill in (clap's own path parser refuses an empty one).
fn any_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

/// `--jobs`: a positive count.
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| format!("`{s}` is too large")),
        Ok(_) => Err(format!(
            "`{s}`: the number of concurrent cases must be at least 1"
        )),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// `--min-coverage`: a finite percentage in 0..=100 (`nan` would switch
/// the gate off silently, `200` could never pass).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!("`{s}` is not a percentage between 0 and 100"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/v1/").unwrap(),
            "http://127.0.0.1:8080/v1/"
        );
        assert!(parse_base_url("https://bob:pw@api.example.com").is_ok());
        let e = parse_base_url("127.0.0.1:8080").unwrap_err();
        assert!(e.contains("did you mean `http://127.0.0.1:8080`"), "{e}");
        let e = parse_base_url("localhost:8080").unwrap_err();
        assert!(e.contains("did you mean `http://localhost:8080`"), "{e}");
        for bad in [
            "",
            "  ",
            "not a url",
            "ftp://example.com",
            "http://",
            ":99999",
            "file:///etc/passwd",
            "http://host:99999",
            "http://h/#x",
            "http://h?x=1",
            "http://h/v1/?",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse_base_url("ftp://x")
                .unwrap_err()
                .contains("scheme `ftp`")
        );
    }

    #[test]
    fn jobs_and_percentages() {
        assert_eq!(parse_jobs("4"), Ok(4));
        assert!(parse_jobs("0").is_err());
        assert!(parse_jobs("-1").is_err());
        assert_eq!(parse_percent("80"), Ok(80.0));
        assert_eq!(parse_percent("0"), Ok(0.0));
        assert_eq!(parse_percent("100%"), Ok(100.0));
        for bad in ["nan", "NaN", "inf", "-inf", "200", "-1", "x"] {
            assert!(parse_percent(bad).is_err(), "{bad}");
        }
    }
}
