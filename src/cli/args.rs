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

/// `--jobs`: a whole number of at least 1 (negative numbers reach this
/// parser, so `--jobs -1` gets this message rather than a tip to write
/// `-- -1`, which would pass `-1` as a path).
fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| format!("`{s}` is too large")),
        Ok(_) => Err(format!(
            "`{s}`: the number of concurrent cases must be at least 1"
        )),
        Err(_) => Err(format!("`{s}` is not a whole number")),
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
    Schema,
    /// Run a bundled reference server (enablenow, mycloud or all).
    Serve(crate::serve::ServeArgs),
    /// Run suites with every check on and write a conformance certificate
    /// (JSON, HTML, Markdown); or check one against local files (--verify).
    #[command(after_help = CERTIFY_EXAMPLES)]
    Certify(CertifyArgs),
    /// Work with JSON reports (merge CI shards).
    #[command(subcommand)]
    Report(ReportCommand),
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
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Target base URL. Without it, suites that name a bundled `server:` run
    /// against that reference server started in-process.
    #[arg(long, env = "APICONFORM_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Cases run concurrently (steps of a case run in order).
    #[arg(long, short = 'j', value_name = "N", allow_negative_numbers = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Per-request timeout: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Re-run a failed case up to N times; a later pass is reported as flaky.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: u32,
    /// Stop starting cases after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Run the selected cases N times over (soak runs, hunting flaky cases).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: usize,
    /// Largest response body accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
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
    /// Snapshot folder.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshot_dir: PathBuf,
    /// Print which operation × documented status pairs the run exercised.
    #[arg(long)]
    pub coverage: bool,
    /// Write the coverage table as JSON.
    #[arg(long, value_name = "FILE")]
    pub coverage_json: Option<PathBuf>,
    /// Fail the run (exit 1) when a spec's coverage is below this percentage.
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,
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

const CERTIFY_EXAMPLES: &str = "\
Examples:
  apiconform certify cases/enablenow --base-url https://api.example.com \\
      --var enablenow_token=$TOKEN --out certificate/
  apiconform certify --verify certificate/certificate.json

Exit codes: 0 conformant (or, with --verify, every hash matches),
1 not conformant (or a file changed), 2 usage or input error.";

#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// Suite files or folders (default: `cases`).
    pub paths: Vec<PathBuf>,
    /// Target base URL; without it, suites run against their bundled reference server.
    #[arg(long, env = "APICONFORM_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Folder for certificate.json, certificate.html and certificate.md.
    #[arg(long, value_name = "DIR", required_unless_present = "verify")]
    pub out: Option<PathBuf>,
    /// Set a variable (repeatable), as for `run`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a file (repeatable), as for `run`.
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Vec<PathBuf>,
    /// Cases run concurrently.
    #[arg(long, short = 'j', value_name = "N", allow_negative_numbers = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Per-request timeout: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: String,
    /// Receive webhooks at this address for webhook steps.
    #[arg(long, value_name = "ADDR")]
    pub webhook_listen: Option<String>,
    /// Recompute the hashes of the spec and suite files a certificate names
    /// (paths as recorded, from the current folder) and say whether they match.
    #[arg(long, value_name = "CERTIFICATE", conflicts_with_all = ["paths", "out"])]
    pub verify: Option<PathBuf>,
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
}
