//! Profiles (`apiconform.toml`) through the real binary: a profile sets
//! the target, jobs and report paths; flags and environment variables
//! override it; `APICONFORM_PROFILE` selects one; bad files are exit 2 with
//! a position; the file is found from a subfolder and its relative paths
//! resolve from its own folder; secrets read from the environment never
//! reach the output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{fixture, stderr, stdout};
use serde_json::{Value, json};

/// The pets list on 127.0.0.1: it answers after a short wait and records
/// the most requests it ever had in flight at once (what `jobs` sets).
struct Server {
    served: common::Served,
    peak: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Load {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

async fn list(State(load): State<Load>, headers: HeaderMap) -> Response {
    let n = load.now.fetch_add(1, Ordering::SeqCst) + 1;
    load.peak.fetch_max(n, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(800)).await;
    load.now.fetch_sub(1, Ordering::SeqCst);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth != Some("Bearer test-token") {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json!({"title": "no token", "status": 401}).to_string(),
        )
            .into_response();
    }
    axum::Json(json!({"items": [], "total": 0})).into_response()
}

impl Server {
    fn start() -> Server {
        let load = Load {
            now: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        };
        let peak = load.peak.clone();
        let app = Router::new().route("/pets", get(list)).with_state(load);
        Server {
            served: common::serve(app, 2),
            peak,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.served.addr)
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Nothing listens here: a run against it fails.
const DEAD: &str = "http://127.0.0.1:9";

/// Four one-request cases; `pets_token` comes only from outside the suite.
const SUITE: &str = r#"spec: ../specs/pets-api.yaml
name: pets
credentials:
  owner: {bearer: "{{ pets_token }}"}
default_credential: owner
cases:
  - {name: one, steps: [{operation: listPets, expect: {status: 200}}]}
  - {name: two, steps: [{operation: listPets, expect: {status: 200}}]}
  - {name: three, steps: [{operation: listPets, expect: {status: 200}}]}
  - {name: four, steps: [{operation: listPets, expect: {status: 200}}]}
"#;

/// A project folder: `specs/`, `suites/pets.yaml`, `sub/deeper/` and the
/// given `apiconform.toml`.
fn project(tag: &str, toml: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("profiles-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("specs")).expect("specs dir");
    std::fs::create_dir_all(dir.join("suites")).expect("suites dir");
    std::fs::create_dir_all(dir.join("sub/deeper")).expect("sub dir");
    std::fs::create_dir_all(dir.join("out")).expect("out dir");
    std::fs::copy(fixture("pets-api.yaml"), dir.join("specs/pets-api.yaml")).expect("spec");
    std::fs::write(dir.join("suites/pets.yaml"), SUITE).expect("suite");
    std::fs::write(dir.join("apiconform.toml"), toml).expect("toml");
    dir
}

/// Runs the binary in `cwd` with `env` set (and the profile variables of
/// the caller's shell cleared).
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"));
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .env_remove("APICONFORM_PROFILE")
        .env_remove("APICONFORM_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run apiconform")
}

fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

fn report(path: &Path) -> Value {
    let s = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&s).expect("report JSON")
}

#[test]
fn the_default_profile_sets_target_jobs_and_report_path() {
    let server = Server::start();
    let dir = project(
        "default",
        &format!(
            "[profile.default]\nbase_url = \"{}\"\npaths = [\"suites\"]\njobs = 3\n\
             no_progress = true\nvars = {{ pets_token = \"test-token\" }}\n\
             reports = {{ json = \"out/report.json\" }}\n",
            server.url()
        ),
    );
    let out = run_in(&dir, &["run"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("· profile default ·"),
        "header names the profile:\n{all}"
    );
    assert!(all.contains(&server.url()), "{all}");
    assert_eq!(server.peak(), 3, "jobs = 3 runs three cases at once");
    let r = report(&dir.join("out/report.json"));
    assert_eq!(r["profile"], "default");
    assert_eq!(r["totals"]["passed"], 4, "{r}");
}

#[test]
fn flags_and_environment_variables_override_the_profile() {
    let server = Server::start();
    let dir = project(
        "override",
        &format!(
            "[profile.default]\nbase_url = \"{DEAD}\"\npaths = [\"suites\"]\njobs = 4\n\
             timeout = \"soon-ish\"\nvars = {{ pets_token = \"test-token\" }}\n\
             reports = {{ json = \"out/report.json\" }}\n"
        ),
    );
    // A bad value in the file is an error even when a flag would win.
    let out = run_in(&dir, &["run"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("apiconform.toml:5:11:"),
        "{}",
        stderr(&out)
    );
    let toml = std::fs::read_to_string(dir.join("apiconform.toml")).expect("toml");
    std::fs::write(dir.join("apiconform.toml"), toml.replace("soon-ish", "5s")).expect("toml");
    let mine = dir.join("mine.json");
    let out = run_in(
        &dir,
        &[
            "run",
            "--jobs",
            "1",
            "--json",
            &mine.display().to_string(),
            "--no-progress",
        ],
        &[("APICONFORM_BASE_URL", &server.url())],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(server.peak(), 1, "--jobs 1 beats jobs = 4");
    assert!(mine.is_file(), "--json beats the profile's report path");
    assert!(!dir.join("out/report.json").exists());
    // The flag beats the environment variable too.
    let out = run_in(
        &dir,
        &["run", "--base-url", DEAD, "--no-progress"],
        &[("APICONFORM_BASE_URL", &server.url())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn apiconform_profile_selects_a_profile_and_the_flag_beats_it() {
    let server = Server::start();
    let dir = project(
        "select",
        &format!(
            "[profile.default]\nbase_url = \"{DEAD}\"\npaths = [\"suites\"]\nno_progress = true\n\
             vars = {{ pets_token = \"test-token\" }}\n\n\
             [profile.staging]\nbase_url = \"{}\"\nreports = {{ json = \"staging.json\" }}\n",
            server.url()
        ),
    );
    let out = run_in(&dir, &["run"], &[("APICONFORM_PROFILE", "staging")]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("· profile staging ·"), "{all}");
    // An empty APICONFORM_PROFILE (a CI template's unset value) is no choice.
    let out = run_in(&dir, &["list"], &[("APICONFORM_PROFILE", "")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out).lines().count(), 4, "default's paths");
    // Inherited from default: the paths, the variables.
    let r = report(&dir.join("staging.json"));
    assert_eq!(r["profile"], "staging");
    assert_eq!(r["totals"]["passed"], 4);
    let out = run_in(
        &dir,
        &["run", "--profile", "default"],
        &[("APICONFORM_PROFILE", "staging")],
    );
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "default targets a dead port:\n{all}"
    );
    assert!(all.contains("· profile default ·"), "{all}");
}

#[test]
fn an_unknown_key_or_a_wrong_type_is_exit_2_with_file_line_column() {
    let dir = project(
        "badkey",
        "[profile.default]\njobs = 2\n\n[profile.ci]\njbos = 3\n",
    );
    let out = run_in(&dir, &["run"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("apiconform.toml:5:1: unknown key `jbos` (did you mean `jobs`?)"),
        "{err}"
    );
    std::fs::write(
        dir.join("apiconform.toml"),
        "[profile.default]\nretries = \"twice\"\n",
    )
    .expect("toml");
    let out = run_in(&dir, &["list"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("apiconform.toml:2:11:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_profile_is_exit_2_listing_the_known_ones() {
    let dir = project(
        "unknown",
        "[profile.default]\njobs = 2\n[profile.staging]\n[profile.ci]\n",
    );
    for (args, env) in [
        (vec!["run", "--profile", "prod"], vec![]),
        (vec!["run"], vec![("APICONFORM_PROFILE", "prod")]),
    ] {
        let out = run_in(&dir, &args, &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("has no [profile.prod]"), "{err}");
        assert!(err.contains("(known: ci, default, staging)"), "{err}");
    }
    // --profile without any apiconform.toml above is an error too.
    let lone = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let out = run_in(
        &lone,
        &["run", "--profile", "ci", "--config", "nowhere.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("nowhere.toml"), "{}", stderr(&out));
}

#[test]
fn found_from_a_subfolder_with_paths_relative_to_the_file() {
    let server = Server::start();
    let dir = project(
        "subfolder",
        &format!(
            "[profile.default]\nbase_url = \"{}\"\npaths = [\"suites\"]\nno_progress = true\n\
             vars_files = [\"vars.yaml\"]\n\
             reports = {{ json = \"out/report.json\", junit = \"out/junit.xml\" }}\n",
            server.url()
        ),
    );
    std::fs::write(dir.join("vars.yaml"), "pets_token: test-token\n").expect("vars");
    let deeper = dir.join("sub/deeper");
    let out = run_in(&deeper, &["run"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(dir.join("out/report.json").is_file(), "{all}");
    assert!(dir.join("out/junit.xml").is_file());
    assert!(!deeper.join("out/report.json").exists());
    // `list` reads the same profile: its paths.
    let out = run_in(&deeper, &["list"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out).lines().count(), 4, "{}", stdout(&out));
    // An explicit --config from elsewhere resolves against its folder too.
    let cfg = dir.join("apiconform.toml").display().to_string();
    let out = run_in(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &["list", "--config", &cfg],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out).lines().count(), 4);
}

#[test]
fn secrets_from_the_environment_are_used_and_never_printed() {
    let server = Server::start();
    let dir = project(
        "secrets",
        &format!(
            "[profile.default]\npaths = [\"suites\"]\nno_progress = true\n\n\
             [profile.staging]\nbase_url = \"{}\"\nverbose = true\n\
             secrets = {{ pets_token = \"PETS_STAGING_TOKEN\" }}\n\
             reports = {{ json = \"out/report.json\", html = \"out/report.html\" }}\n",
            server.url()
        ),
    );
    let out = run_in(
        &dir,
        &["run", "--profile", "staging"],
        &[("PETS_STAGING_TOKEN", "test-token")],
    );
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the secret reached the requests:\n{all}"
    );
    assert!(all.contains("[redacted]"), "verbose dump shown:\n{all}");
    assert!(!all.contains("test-token"), "secret leaked:\n{all}");
    for f in ["out/report.json", "out/report.html"] {
        let body = std::fs::read_to_string(dir.join(f)).expect("report");
        assert!(!body.contains("test-token"), "secret leaked into {f}");
    }
    // Unset: exit 2 naming the variable, before anything is sent.
    let out = run_in(&dir, &["run", "--profile", "staging"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PETS_STAGING_TOKEN, which is not set"),
        "{err}"
    );
}

#[test]
fn fuzz_takes_its_spec_and_phases_from_the_profile() {
    let spec = fixture("../../specs/mycloud-shares-v1.yaml");
    let dir = project(
        "fuzz",
        &format!(
            "[profile.default]\nno_progress = true\n\n[profile.ci.fuzz]\nspec = {:?}\n\
             phases = [\"examples\"]\nmax_examples = 1\n",
            spec.display().to_string()
        ),
    );
    let out = run_in(
        &dir,
        &["fuzz", "--profile", "ci", "--json", "fuzz.json"],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("· profile ci ·"), "{all}");
    let r = report(&dir.join("fuzz.json"));
    assert_eq!(r["profile"], "ci");
    let cases = r["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    assert!(
        cases
            .iter()
            .all(|c| c["name"].as_str().is_some_and(|n| n.contains("examples"))),
        "only the examples phase ran: {r}"
    );
    // Without a spec anywhere, fuzz says where one may come from.
    let out = run_in(&dir, &["fuzz"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("--spec FILE"), "{}", stderr(&out));
}

#[test]
fn certify_and_check_take_paths_and_the_output_folder_from_the_profile() {
    let cases = fixture("../../cases/mycloud");
    let dir = project(
        "certify",
        &format!(
            "[profile.default]\npaths = [{:?}]\njobs = 4\n\n\
             [profile.release.certify]\nout = \"cert\"\n",
            cases.display().to_string()
        ),
    );
    let deeper = dir.join("sub/deeper");
    let out = run_in(&deeper, &["certify", "--profile", "release"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("· profile release ·"), "{all}");
    assert!(dir.join("cert/certificate.json").is_file(), "{all}");
    // Without `out` anywhere, certify says where it may come from.
    let out = run_in(&deeper, &["certify"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("--out DIR"), "{}", stderr(&out));
    let out = run_in(&deeper, &["check"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("mycloud/errors.yaml"),
        "check read the profile's paths:\n{all}"
    );
}
