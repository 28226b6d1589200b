//! `apiconform scaffold`, driven through the real binary: the suites it
//! writes for both bundled specs load (`check`), validate against the
//! case-file schema, and pass against the embedded reference servers
//! (every case that is not a TODO); `--coverage-json` leaves covered pairs
//! out; bad input exits 2 and never clobbers the out file.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{TestServer, apiconform, stderr, stdout};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("apiconform-scaffold-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// Scaffolds `spec` into `dir/name`; returns the file and its text.
fn scaffold(spec: &str, dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let file = dir.join(name);
    let mut args = vec!["scaffold", "--spec", spec, "--out"];
    let file_arg = arg(&file);
    args.push(&file_arg);
    args.extend_from_slice(extra);
    let o = apiconform(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("wrote "), "{}", stdout(&o));
    let text = std::fs::read_to_string(&file).expect("scaffold written");
    (file, text)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("JSON")
}

/// The case names of a scaffolded file (`operation status`).
fn case_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("  - name: "))
        .map(str::to_string)
        .collect()
}

/// Every `operationId status` pair the spec documents under `paths`.
fn documented_pairs(spec: &str) -> BTreeSet<String> {
    let spec = apiconform::spec::load(&root().join(spec)).expect("spec loads");
    spec.operations
        .iter()
        .filter(|o| o.kind == apiconform::spec::OperationKind::Path)
        .flat_map(|o| {
            o.responses
                .iter()
                .map(move |r| format!("{} {}", o.label(), r.key))
        })
        .collect()
}

fn validates_against_the_case_schema(file: &Path, text: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/case-file.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let value = apiconform::yaml::value_from_str(file, text).expect("YAML");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
}

/// `check` accepts the file, `run` passes every case that is not a TODO
/// against the embedded server, and every TODO case is skipped with its
/// reason. Returns the JSON report.
fn check_and_run(file: &Path, dir: &Path) -> Value {
    let o = apiconform(&["check", &arg(file)]);
    assert!(o.status.success(), "check: {}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("ok: "), "{}", stdout(&o));
    let report = dir.join("report.json");
    let o = apiconform(&["run", &arg(file), "--no-progress", "--json", &arg(&report)]);
    assert!(o.status.success(), "run: {}{}", stdout(&o), stderr(&o));
    let report = read_json(&report);
    for case in report["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or_default();
        match case["status"].as_str() {
            Some("passed") => {}
            Some("skipped") => {
                let why = case["skip_reason"].as_str().unwrap_or_default();
                assert!(why.starts_with("skip: TODO: "), "{name}: {why}");
            }
            other => panic!("{name}: {other:?}\n{case:#}"),
        }
    }
    report
}

fn statuses(report: &Value, status: &str) -> BTreeSet<String> {
    report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == status)
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// The steps (main and cleanup) of a case in the report: operation and status.
fn steps_of(report: &Value, case: &str) -> Vec<(String, String, u64)> {
    let c = report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    c["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["phase"].as_str().unwrap_or("main").to_string(),
                s["operation"].as_str().unwrap_or_default().to_string(),
                s["response"]["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn scaffolded_enablenow_suite_passes_against_the_reference_server() {
    let dir = out_dir("enablenow");
    let spec = "specs/enablenow-sharing-v1.yaml";
    let (file, text) = scaffold(spec, &dir, "enablenow.yaml", &[]);
    validates_against_the_case_schema(&file, &text);
    // One case per operation x documented status.
    let names: BTreeSet<String> = case_names(&text).into_iter().collect();
    assert_eq!(names, documented_pairs(spec));
    assert!(text.contains("server: enablenow"), "{text}");
    assert!(text.contains("bearer: \"{{ enablenow_token }}\""), "{text}");
    assert!(text.contains("# TODO: assert"), "{text}");
    let report = check_and_run(&file, &dir);
    // Every EnableNow status can be provoked from the spec.
    assert!(statuses(&report, "skipped").is_empty());
    assert_eq!(statuses(&report, "passed"), names);
    // An item case chains the create it needs and removes it in cleanup.
    let steps = steps_of(&report, "updateShare 204");
    assert_eq!(
        steps,
        vec![
            ("main".into(), "createShare".into(), 200),
            ("main".into(), "updateShare".into(), 204),
            ("cleanup".into(), "deleteShare".into(), 204),
        ],
        "{steps:?}"
    );
    // A 401 case on an item: created with the credential, sent without it.
    let steps = steps_of(&report, "deleteShare 401");
    assert_eq!(steps[1], ("main".into(), "deleteShare".into(), 401));
    assert_eq!(steps[2], ("cleanup".into(), "deleteShare".into(), 204));
    // The delete's own 2xx case needs no cleanup.
    assert_eq!(steps_of(&report, "deleteShare 204").len(), 2);
}

#[test]
fn scaffolded_mycloud_suite_passes_and_leaves_the_unprovokable_as_todo() {
    let dir = out_dir("mycloud");
    let spec = "specs/mycloud-shares-v1.yaml";
    let (file, text) = scaffold(spec, &dir, "mycloud.yaml", &[]);
    validates_against_the_case_schema(&file, &text);
    let names: BTreeSet<String> = case_names(&text).into_iter().collect();
    assert_eq!(names, documented_pairs(spec));
    // The owner rule (ownerId is the caller) comes from a variable.
    assert!(
        text.contains("ownerId: \"{{ mycloud_user_id }}\""),
        "{text}"
    );
    let report = check_and_run(&file, &dir);
    let skipped = statuses(&report, "skipped");
    let expected: BTreeSet<String> = ["createShare 500", "getShare 400", "getShare 401"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(skipped, expected);
    assert_eq!(statuses(&report, "passed").len(), names.len() - 3);
    // getShare 200 reads the share its own create made.
    let steps = steps_of(&report, "getShare 200");
    assert_eq!(steps[0], ("main".into(), "createShare".into(), 201));
    assert_eq!(steps[1], ("main".into(), "getShare".into(), 200));
    // The console shows them as SKIP, with the reason.
    let o = apiconform(&["run", &arg(&file), "--no-progress"]);
    let text = stdout(&o);
    assert!(
        text.contains("SKIP") && text.contains("TODO: server errors cannot be provoked"),
        "{text}"
    );
    assert!(text.contains("3 skipped"), "{text}");
}

#[test]
fn coverage_json_leaves_covered_pairs_out() {
    let dir = out_dir("coverage");
    // A real previous run: one bundled suite file, its coverage as JSON.
    let coverage = dir.join("coverage.json");
    let o = apiconform(&[
        "run",
        "cases/enablenow/lifecycle.yaml",
        "--no-progress",
        "-q",
        "--coverage-json",
        &arg(&coverage),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let table = read_json(&coverage);
    let mut covered = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for row in table["specs"][0]["rows"].as_array().expect("rows") {
        if row["method_path"]
            .as_str()
            .is_some_and(|m| m.starts_with("WEBHOOK"))
        {
            continue;
        }
        let pair = format!(
            "{} {}",
            row["operation"].as_str().unwrap_or_default(),
            row["status"].as_str().unwrap_or_default()
        );
        if row["state"] == "covered" {
            covered.insert(pair);
        } else {
            missing.insert(pair);
        }
    }
    assert!(!covered.is_empty() && !missing.is_empty(), "{table:#}");
    let (file, text) = scaffold(
        "specs/enablenow-sharing-v1.yaml",
        &dir,
        "missing.yaml",
        &["--coverage-json", &arg(&coverage)],
    );
    let names: BTreeSet<String> = case_names(&text).into_iter().collect();
    assert_eq!(names, missing, "{text}");
    assert!(names.is_disjoint(&covered));
    assert!(text.contains("not covered in"), "{text}");
    validates_against_the_case_schema(&file, &text);
    check_and_run(&file, &dir);

    // A `--json` report of a run works the same way.
    let report = dir.join("report.json");
    let o = apiconform(&[
        "run",
        "cases/enablenow/lifecycle.yaml",
        "--no-progress",
        "-q",
        "--json",
        &arg(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, from_report) = scaffold(
        "specs/enablenow-sharing-v1.yaml",
        &dir,
        "missing2.yaml",
        &["--coverage-json", &arg(&report)],
    );
    assert_eq!(
        case_names(&from_report)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        missing
    );

    // Coverage of another spec is refused, naming what it does cover.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--coverage-json",
        &arg(&coverage),
        "--out",
        &arg(&dir.join("other.yaml")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("has no coverage of `mycloud Shares API`")
            && stderr(&o).contains("EnableNow Sharing API"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("other.yaml").exists());
}

#[test]
fn a_spec_outside_the_bundle_gets_env_placeholders_and_runs_with_base_url() {
    let dir = out_dir("pets");
    let (file, text) = scaffold("tests/fixtures/pets-api.yaml", &dir, "pets.yaml", &[]);
    assert!(!text.contains("\nserver:"), "{text}");
    // The credential is a placeholder read from the environment: no value.
    assert!(
        text.contains("bearer_token: \"{{ env.BEARER_TOKEN }}\""),
        "{text}"
    );
    assert!(!text.contains("test-token"));
    validates_against_the_case_schema(&file, &text);
    let o = apiconform(&["check", &arg(&file)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let server = TestServer::start(common::Mode::Good);
    let report = dir.join("report.json");
    let o = apiconform(&[
        "run",
        &arg(&file),
        "--base-url",
        &server.url(),
        "--secret",
        "bearer_token=test-token",
        "--no-progress",
        "--json",
        &arg(&report),
    ]);
    let report = read_json(&report);
    for case in report["cases"].as_array().expect("cases") {
        let ok = case["status"] == "passed"
            || (case["status"] == "skipped"
                && case["skip_reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("skip: TODO: ")));
        assert!(ok, "{case:#}\n{}", stdout(&o));
    }
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // A pin's variable is declared, read from the environment.
    let (pinned, text) = scaffold(
        "tests/fixtures/pets-api.yaml",
        &dir,
        "pinned.yaml",
        &["--set", "body.name={{ pet_name }}"],
    );
    assert!(text.contains("pet_name: \"{{ env.PET_NAME }}\""), "{text}");
    assert!(text.contains("name: \"{{ pet_name }}\""), "{text}");
    let o = apiconform(&["check", &arg(&pinned)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn bad_input_exits_2_and_never_clobbers_the_out_file() {
    let dir = out_dir("bad");
    let out = dir.join("suite.yaml");
    std::fs::write(&out, "keep me\n").expect("write");
    let keep = || std::fs::read_to_string(&out).expect("still there");
    // A spec that does not exist.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/nope.yaml",
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("specs/nope.yaml") && stderr(&o).contains("nothing was written"),
        "{}",
        stderr(&o)
    );
    // A malformed spec: file:line:column.
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "openapi: 3.1.0\ninfo: [\n").expect("write");
    let o = apiconform(&[
        "scaffold",
        "--spec",
        &arg(&broken),
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.yaml:2:"), "{}", stderr(&o));
    // Coverage that is not JSON.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--coverage-json",
        &arg(&broken),
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not JSON"), "{}", stderr(&o));
    // A --set value that is not a template the suite can load.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--set",
        "body.deviceId={{ unclosed",
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("check the --set values"),
        "{}",
        stderr(&o)
    );
    // An unknown reference server.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--server",
        "nope",
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown reference server"),
        "{}",
        stderr(&o)
    );
    // An existing file without --force.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--out",
        &arg(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pass --force"), "{}", stderr(&o));
    assert_eq!(keep(), "keep me\n");
    // A folder that does not exist.
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--out",
        &arg(&dir.join("no/such/dir.yaml")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    // No temporary file is left behind, and --force does replace it.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    let o = apiconform(&[
        "scaffold",
        "--spec",
        "specs/mycloud-shares-v1.yaml",
        "--out",
        &arg(&out),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(keep().contains("spec: "), "{}", keep());
}
