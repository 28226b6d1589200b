//! `apiconform fuzz`, driven through the real binary: generated phases
//! with no case file against the reference servers (embedded, or started
//! in-process on 127.0.0.1:0 and named by --base-url), the safety options,
//! determinism and bad input. Every run is bounded by --max-examples.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apiconform::serve::{self, Api, RunningServer, ServeConfig};
use common::{apiconform, stderr, stdout};
use serde_json::Value;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiconform-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

/// Runs fuzz with a JSON report; returns the output and the report.
fn fuzz_json(name: &str, args: &[&str]) -> (std::process::Output, Value) {
    let dir = out_dir(name);
    let report = dir.join("report.json");
    let mut all: Vec<&str> = vec!["fuzz", "--no-progress"];
    all.extend_from_slice(args);
    let report_arg = report.display().to_string();
    all.extend_from_slice(&["--json", &report_arg]);
    let out = apiconform(&all);
    let json = if report.exists() {
        read_json(&report)
    } else {
        Value::Null
    };
    (out, json)
}

fn cases(report: &Value) -> Vec<&Value> {
    report["cases"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Every request sent: method and URL, in plan order.
fn requests(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in cases(report) {
        for s in c["steps"].as_array().into_iter().flatten() {
            if let Some(r) = s.get("request") {
                out.push((
                    r["method"].as_str().unwrap_or_default().to_string(),
                    r["url"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

/// Path and query of a URL (ports differ between runs).
fn path_of(url: &str) -> String {
    url.splitn(4, '/').nth(3).unwrap_or_default().to_string()
}

/// A reference server on 127.0.0.1:0 with an optional fault, on its own runtime.
struct Server {
    server: Option<RunningServer>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(api: Api, fault: Option<&str>) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = ServeConfig::new(api);
        config.addr = "127.0.0.1:0".parse().expect("addr");
        config.fault = fault.map(str::to_string);
        let server = runtime
            .block_on(serve::start(config))
            .expect("server starts");
        Server {
            server: Some(server),
            runtime,
        }
    }

    fn url(&self) -> String {
        self.server
            .as_ref()
            .map(|s| s.base_url())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = self.runtime.block_on(s.shutdown());
        }
    }
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
        )
        .expect("schema file"),
    )
    .expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn the_embedded_reference_servers_pass_every_generated_phase() {
    let v = validator();
    for spec in [
        "specs/enablenow-sharing-v1.yaml",
        "specs/mycloud-shares-v1.yaml",
    ] {
        let (out, report) = fuzz_json(
            spec.rsplit('/').next().unwrap_or("spec"),
            &["--spec", spec, "--max-examples", "8"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{spec}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let errors: Vec<String> = v.iter_errors(&report).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{spec}: {errors:?}");
        let all = cases(&report);
        assert!(all.len() >= 6, "{spec}: {}", all.len());
        for c in &all {
            assert_eq!(c["origin"], "generated", "{spec}: {c}");
            assert_eq!(c["status"], "passed", "{spec}: {}", c["name"]);
        }
        for phase in [
            "examples", "positive", "negative", "auth", "methods", "stateful",
        ] {
            assert!(
                all.iter().any(|c| c["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(&format!("[{phase}]")))),
                "{spec}: no {phase} case"
            );
        }
        // The generated-only checks ran (not skipped) somewhere.
        let text = report.to_string();
        for check in [
            "negative_data_rejection",
            "ignored_auth",
            "unsupported_method",
            "use_after_free",
        ] {
            assert!(text.contains(check), "{spec}: {check} never ran");
        }
        assert!(
            stdout(&out).contains("embedded"),
            "{spec}: runs against the embedded server: {}",
            stdout(&out)
        );
    }
}

#[test]
fn a_seed_fixes_the_requests() {
    let args = |seed: &'static str| {
        [
            "--spec",
            "specs/mycloud-shares-v1.yaml",
            "--phases",
            "positive,negative",
            "--max-examples",
            "6",
            "--seed",
            seed,
            "-j",
            "1",
        ]
    };
    let (a, first) = fuzz_json("seed-a", &args("7"));
    let (b, second) = fuzz_json("seed-b", &args("7"));
    let (c, other) = fuzz_json("seed-c", &args("8"));
    for o in [&a, &b, &c] {
        assert_eq!(o.status.code(), Some(0), "{}", stdout(o));
    }
    let norm = |r: &Value| -> Vec<(String, String)> {
        requests(r)
            .into_iter()
            .map(|(m, u)| (m, path_of(&u)))
            .collect()
    };
    assert!(!norm(&first).is_empty());
    assert_eq!(norm(&first), norm(&second), "same seed, same requests");
    assert_ne!(norm(&first), norm(&other), "another seed, other requests");
    assert!(
        cases(&first)
            .iter()
            .all(|c| c["steps"].as_array().is_some_and(|s| s.len() <= 6)),
        "--max-examples bounds each operation x phase"
    );
}

#[test]
fn a_fault_is_found_and_fails_the_run() {
    let server = Server::start(Api::EnableNow, Some("missing-auth-accepted"));
    let url = server.url();
    let (out, report) = fuzz_json(
        "fault",
        &[
            "--spec",
            "specs/enablenow-sharing-v1.yaml",
            "--base-url",
            &url,
            "-H",
            "Authorization: Bearer enablenow-dev-token",
            "--phases",
            "auth",
            "--max-examples",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let failed: Vec<&Value> = cases(&report)
        .into_iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|c| c["origin"] == "generated"));
    assert!(report.to_string().contains("ignored_auth"), "{report}");
    let text = format!("{}{}{}", stdout(&out), stderr(&out), report);
    assert!(
        !text.contains("enablenow-dev-token"),
        "the -H credential never appears"
    );
}

#[test]
fn read_only_sends_only_safe_methods() {
    let server = Server::start(Api::EnableNow, None);
    let url = server.url();
    let (out, report) = fuzz_json(
        "read-only",
        &[
            "--spec",
            "specs/enablenow-sharing-v1.yaml",
            "--base-url",
            &url,
            "-H",
            "Authorization: Bearer enablenow-dev-token",
            "--read-only",
            "--max-examples",
            "4",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let sent = requests(&report);
    assert!(!sent.is_empty());
    for (method, url) in &sent {
        assert!(
            ["GET", "HEAD", "OPTIONS"].contains(&method.as_str()),
            "{method} {url}"
        );
    }
    assert!(
        !cases(&report)
            .iter()
            .any(|c| c["name"].as_str().is_some_and(|n| n.contains("[stateful]"))),
        "no chains in read-only mode"
    );
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
}

#[test]
fn include_and_exclude_select_operations() {
    let (out, report) = fuzz_json(
        "include",
        &[
            "--spec",
            "specs/mycloud-shares-v1.yaml",
            "--include",
            "getShare",
            "--max-examples",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let names: Vec<&str> = cases(&report)
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n.starts_with("getShare")), "{names:?}");
    let (out, report) = fuzz_json(
        "exclude",
        &[
            "--spec",
            "specs/mycloud-shares-v1.yaml",
            "--exclude",
            "method:GET",
            "--max-examples",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        cases(&report).iter().all(|c| !c["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("getShare")),
        "getShare excluded"
    );
}

#[test]
fn destructive_operations_need_allow_destructive() {
    let names = |args: &[&str], tag: &str| -> Vec<String> {
        let mut all = vec![
            "--spec",
            "specs/enablenow-sharing-v1.yaml",
            "--phases",
            "positive",
            "--max-examples",
            "2",
        ];
        all.extend_from_slice(args);
        let (out, report) = fuzz_json(tag, &all);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        cases(&report)
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let default = names(&[], "safe");
    assert!(
        !default
            .iter()
            .any(|n| n.starts_with("updateShare") || n.starts_with("deleteShare")),
        "{default:?}"
    );
    let allowed = names(&["--allow-destructive"], "destructive");
    assert!(
        allowed.iter().any(|n| n.starts_with("updateShare")),
        "{allowed:?}"
    );
}

#[test]
fn rate_limit_spaces_every_request_of_the_run() {
    // Generated requests.
    let started = Instant::now();
    let (out, report) = fuzz_json(
        "rate",
        &[
            "--spec",
            "specs/mycloud-shares-v1.yaml",
            "--include",
            "getShare",
            "--phases",
            "positive",
            "--max-examples",
            "6",
            "--rate-limit",
            "10/s",
        ],
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let n = requests(&report).len();
    assert!(n >= 4, "{n}");
    let floor = Duration::from_millis(100 * (n as u64 - 1));
    assert!(took >= floor, "{n} requests at 10/s took {took:?}");
    // Hand-written cases share the same limiter.
    let started = Instant::now();
    let out = apiconform(&[
        "run",
        "cases/mycloud/get.yaml",
        "--no-progress",
        "--rate-limit",
        "20/s",
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let fast = Instant::now();
    let quick = apiconform(&["run", "cases/mycloud/get.yaml", "--no-progress"]);
    let unlimited = fast.elapsed();
    assert_eq!(quick.status.code(), Some(0));
    assert!(
        took > unlimited,
        "limited {took:?} vs unlimited {unlimited:?}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    for (args, says) in [
        (vec!["--phases", "everything"], "unknown phase `everything`"),
        (vec!["--set", "ownerId"], "bad pin"),
        (vec!["--include", "colour:red"], "bad selector"),
        (vec!["--rate-limit", "0/s"], "--rate-limit"),
        (vec!["--time-budget", "soon"], "--time-budget"),
        (vec!["-H", "no colon here"], "Name: value"),
        (vec!["--other-header", "no colon here"], "--other-header"),
        (vec!["--server", "nowhere"], "unknown reference server"),
    ] {
        let mut all = vec!["fuzz", "--spec", "specs/mycloud-shares-v1.yaml"];
        all.extend(args.iter().copied());
        let out = apiconform(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let out = apiconform(&["fuzz", "--spec", "tests/fixtures/petstore-31.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--base-url"), "{}", stderr(&out));
    let out = apiconform(&["fuzz", "--spec", "no/such/spec.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_time_budget_stops_starting_cases() {
    let (out, report) = fuzz_json(
        "budget",
        &[
            "--spec",
            "specs/mycloud-shares-v1.yaml",
            "--max-examples",
            "3",
            "--rate-limit",
            "5/s",
            "--time-budget",
            "300ms",
            "-j",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let skipped = cases(&report)
        .iter()
        .filter(|c| c["status"] == "skipped")
        .count();
    assert!(skipped > 0, "{}", stdout(&out));
    assert!(report.to_string().contains("--time-budget"));
}

#[test]
fn findings_are_deduplicated_reproduced_with_curl_and_saved_as_cases() {
    let server = Server::start(Api::EnableNow, Some("validation-error-plain-json"));
    let url = server.url();
    let dir = out_dir("findings");
    let saved = dir.join("saved");
    let saved_arg = saved.display().to_string();
    let out = apiconform(&[
        "fuzz",
        "--no-progress",
        "--spec",
        "specs/enablenow-sharing-v1.yaml",
        "--base-url",
        &url,
        "-H",
        "Authorization: Bearer enablenow-dev-token",
        "--phases",
        "negative",
        "--include",
        "createShare",
        "--max-examples",
        "6",
        "--save-findings",
        &saved_arg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Findings: 1 "),
        "one check x operation x class: {text}"
    );
    assert!(
        text.contains("content_type_conformance on createShare (4xx"),
        "{text}"
    );
    assert!(text.contains("curl -i -X POST"), "{text}");
    assert!(text.contains("\"Authorization: $AUTHORIZATION\""), "{text}");
    assert!(!text.contains("enablenow-dev-token"), "{text}");
    let files: Vec<PathBuf> = std::fs::read_dir(&saved)
        .expect("findings saved")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let yaml = std::fs::read_to_string(&files[0]).expect("saved case");
    assert!(!yaml.contains("enablenow-dev-token"), "{yaml}");
    // Valid against the case-file schema and the loader.
    let check = apiconform(&["check", &saved_arg, "--secret", "fuzz_credential=x"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    // Re-run: the same check fails the same way against the same target...
    let rerun = apiconform(&[
        "run",
        &saved_arg,
        "--no-progress",
        "--base-url",
        &url,
        "--secret",
        "fuzz_credential=Bearer enablenow-dev-token",
    ]);
    assert_eq!(
        rerun.status.code(),
        Some(1),
        "{}{}",
        stdout(&rerun),
        stderr(&rerun)
    );
    assert!(
        stdout(&rerun).contains("✗ content_type_conformance"),
        "{}",
        stdout(&rerun)
    );
    // ...and passes against a correct one.
    let good = Server::start(Api::EnableNow, None);
    let fixed = apiconform(&[
        "run",
        &saved_arg,
        "--no-progress",
        "--base-url",
        &good.url(),
        "--secret",
        "fuzz_credential=Bearer enablenow-dev-token",
    ]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        stdout(&fixed),
        stderr(&fixed)
    );
}

/// A suite file with a `generate:` section and no hand-written case.
fn generate_suite(dir: &Path, pins: &str, phases: &str) -> PathBuf {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mycloud-shares-v1.yaml");
    let file = dir.join("generated.yaml");
    let text = format!(
        "spec: {}\nname: mycloud-generated\nserver: mycloud\nvariables:\n  mycloud_token: mycloud-dev-token\n  mycloud_user_id: user-1001\ncredentials:\n  owner: {{bearer: \"{{{{ mycloud_token }}}}\"}}\ndefault_credential: owner\ngenerate:\n  max_examples: 3\n  phases: [{phases}]\n  pins:\n    {pins}\ncases: []\n",
        spec.display()
    );
    std::fs::write(&file, text).expect("suite written");
    file
}

#[test]
fn a_suite_generate_section_runs_with_the_suites_variables_credentials_and_server() {
    let dir = out_dir("generate-section");
    let file = generate_suite(
        &dir,
        "body.ownerId: \"{{ mycloud_user_id }}\"",
        "positive, negative, auth, stateful",
    );
    let json = dir.join("report.json");
    let junit = dir.join("junit.xml");
    let out = apiconform(&[
        "run",
        &file.display().to_string(),
        "--no-progress",
        "--json",
        &json.display().to_string(),
        "--junit",
        &junit.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = read_json(&json);
    let all = cases(&report);
    assert!(all.len() >= 4, "{}", all.len());
    assert!(all.iter().all(|c| c["origin"] == "generated"));
    assert!(
        !report.to_string().contains("mycloud-dev-token"),
        "the credential is redacted"
    );
    // JUnit: one testcase per operation x phase (and per chain).
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(xml.matches("<testcase").count(), all.len(), "{xml}");
    // The pin's template was rendered with the suite's variable.
    let text = report.to_string();
    assert!(text.contains("user-1001"), "the pinned ownerId was sent");
    assert!(
        !text.contains("{{ mycloud_user_id }}"),
        "no template left unrendered"
    );
    // A bad section is an input error with its position.
    let bad = generate_suite(&dir, "body.ownerId: x", "everything");
    let out = apiconform(&["run", &bad.display().to_string(), "--no-progress"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("generated.yaml:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown phase `everything`"),
        "{}",
        stderr(&out)
    );
}

/// The bundled `cases/generated/` suites (a `generate:` section and the pins
/// their APIs need, no hand-written case) pass against the embedded
/// reference servers, with the generated-only checks judging every response;
/// without the mycloud pin, those checks fail (so the pin is needed and the
/// checks do run under `run`, not only under `fuzz`).
#[test]
fn the_shipped_generated_suites_pass_and_their_pin_is_needed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = out_dir("shipped-generated");
    let json = dir.join("report.json");
    let out = apiconform(&[
        "run",
        &root.join("cases/generated").display().to_string(),
        "--no-progress",
        "--json",
        &json.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report = read_json(&json);
    let all = cases(&report);
    assert!(all.len() >= 20, "{}", all.len());
    let checked: Vec<String> = all
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .filter_map(|k| k["name"].as_str().map(str::to_string))
        .collect();
    for name in [
        "positive_data_acceptance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
        "not_a_server_error",
        "stored_values",
    ] {
        assert!(checked.iter().any(|c| c == name), "{name} judged nothing");
    }
    // EnableNow's second app: its isolation steps ran and passed.
    let isolated = all
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .filter(|k| k["name"] == "resource_isolation" && k["outcome"] == "passed")
        .count();
    assert!(isolated >= 2, "read and list as the other app: {isolated}");
    let shipped = std::fs::read_to_string(root.join("cases/generated/enablenow.yaml"))
        .expect("shipped suite");
    let unknown = shipped
        .replace("../../specs/", &format!("{}/specs/", root.display()))
        .replace("other_credential: other", "other_credential: nobody");
    assert_ne!(unknown, shipped, "the second identity was renamed");
    let file = dir.join("unknown-other.yaml");
    std::fs::write(&file, unknown).expect("write");
    let out = apiconform(&["run", &file.display().to_string(), "--no-progress"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("unknown other_credential `nobody`"),
        "{}",
        stderr(&out)
    );

    let shipped =
        std::fs::read_to_string(root.join("cases/generated/mycloud.yaml")).expect("shipped suite");
    let unpinned = shipped
        .replace("../../specs/", &format!("{}/specs/", root.display()))
        .replace("  pins:\n    body.ownerId: \"{{ mycloud_user_id }}\"\n", "");
    assert_ne!(unpinned, shipped, "the pin was removed");
    let file = dir.join("unpinned.yaml");
    std::fs::write(&file, unpinned).expect("write");
    let out = apiconform(&["run", &file.display().to_string(), "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✗ positive_data_acceptance"), "{text}");
    assert!(text.contains("SHARES_AUTH_OWNER_MISMATCH"), "{text}");
}

/// `GET /shares` on a reference server: how many shares it holds.
fn share_count(server: &Server) -> u64 {
    let url = format!("{}/shares?pageSize=100", server.url());
    let body: Value = server.runtime.block_on(async {
        reqwest::Client::new()
            .get(&url)
            .header("Authorization", "Bearer enablenow-dev-token")
            .send()
            .await
            .expect("list answered")
            .json()
            .await
            .expect("list is JSON")
    });
    body["_pagination"]["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalCount: {body}"))
}

#[test]
fn what_the_phases_create_is_deleted_afterwards() {
    let server = Server::start(Api::EnableNow, None);
    let url = server.url();
    assert_eq!(share_count(&server), 0, "a fresh server holds no share");
    let (out, report) = fuzz_json(
        "cleanup",
        &[
            "--spec",
            "specs/enablenow-sharing-v1.yaml",
            "--base-url",
            &url,
            "-H",
            "Authorization: Bearer enablenow-dev-token",
            "--phases",
            "examples,positive,negative,auth",
            "--max-examples",
            "6",
            "-v",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // The creates succeeded (so there was something to delete)...
    let created = cases(&report)
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .filter(|s| {
            s["phase"] == "main"
                && s["request"]["method"] == "POST"
                && s["response"]["status"]
                    .as_u64()
                    .is_some_and(|n| (200..300).contains(&n))
        })
        .count();
    let deleted: Vec<&Value> = cases(&report)
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .filter(|s| s["phase"] == "cleanup" && s["request"]["method"] == "DELETE")
        .filter(|s| {
            s["response"]["status"]
                .as_u64()
                .is_some_and(|n| (200..300).contains(&n))
        })
        .collect();
    assert!(created >= 3, "creates: {created}");
    // ...one cleanup delete each, shown as cleanup in the report...
    assert_eq!(deleted.len(), created, "{report}");
    // ...and the server holds none of them.
    assert_eq!(share_count(&server), 0, "{}", stdout(&out));
}

#[test]
fn a_findings_input_is_shrunk_by_resending_and_still_reproduces() {
    let server = Server::start(Api::EnableNow, Some("create-returns-201"));
    let url = server.url();
    let dir = out_dir("shrink");
    let saved = dir.join("saved");
    let saved_arg = saved.display().to_string();
    let report_path = dir.join("report.json");
    let report_arg = report_path.display().to_string();
    let run = |extra: &[&str]| {
        let mut all = vec![
            "fuzz",
            "--no-progress",
            "--spec",
            "specs/enablenow-sharing-v1.yaml",
            "--base-url",
            &url,
            "-H",
            "Authorization: Bearer enablenow-dev-token",
            "--phases",
            "examples",
            "--include",
            "createShare",
            "--max-examples",
            "6",
        ];
        all.extend_from_slice(extra);
        apiconform(&all)
    };
    let out = run(&["--save-findings", &saved_arg, "--json", &report_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("Shrinking re-sent "), "{text}");
    assert!(text.contains("shrunk from "), "{text}");
    // The original failing input: the first failing step's request body
    // (the documented example with every member).
    let report = read_json(&report_path);
    let original = cases(&report)
        .iter()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .find(|s| s["phase"] == "main" && s["outcome"] == "failed")
        .and_then(|s| s["request"]["body"].as_str())
        .map(|b| {
            serde_json::from_str::<Value>(b)
                .expect("body is JSON")
                .to_string()
        })
        .expect("a failing step with a body");
    let files: Vec<PathBuf> = std::fs::read_dir(&saved)
        .expect("findings saved")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let yaml = std::fs::read_to_string(&files[0]).expect("saved case");
    let case: Value = serde_saphyr::from_str(&yaml).expect("saved case is YAML");
    let body = case["cases"][0]["steps"][0]["body"].to_string();
    assert!(
        body.len() < original.len(),
        "saved {body} is not smaller than the original {original}"
    );
    // The shrunk case still reproduces the failure against the same target.
    let rerun = apiconform(&[
        "run",
        &saved_arg,
        "--no-progress",
        "--base-url",
        &url,
        "--secret",
        "fuzz_credential=Bearer enablenow-dev-token",
    ]);
    assert_eq!(
        rerun.status.code(),
        Some(1),
        "{}{}",
        stdout(&rerun),
        stderr(&rerun)
    );
    assert!(
        stdout(&rerun).contains("✗ status_conformance"),
        "{}",
        stdout(&rerun)
    );
    // --shrink-budget 0 keeps the input as found.
    let kept = run(&["--shrink-budget", "0"]);
    assert!(
        !stdout(&kept).contains("Shrinking re-sent"),
        "{}",
        stdout(&kept)
    );
}

/// A stateful chain's finding, saved, replays the chain on the resource it
/// creates: the saved case fails against the faulty server and passes
/// against a correct one (so it is a regression case, not noise).
#[test]
fn chain_findings_are_saved_as_cases_that_replay_the_chain() {
    // EnableNow's delete that deletes nothing and its update that stores
    // nothing (a date-time the read must give back as the same instant);
    // mycloud dropping `useCache` (a boolean).
    for (api, fault, check, spec, token, id) in [
        (
            Api::EnableNow,
            "delete-noop",
            "use_after_free",
            "specs/enablenow-sharing-v1.yaml",
            "Bearer enablenow-dev-token",
            "created_shareId",
        ),
        (
            Api::EnableNow,
            "update-lost",
            "stored_values",
            "specs/enablenow-sharing-v1.yaml",
            "Bearer enablenow-dev-token",
            "created_shareId",
        ),
        (
            Api::MyCloud,
            "use-cache-ignored",
            "stored_values",
            "specs/mycloud-shares-v1.yaml",
            "Bearer mycloud-dev-token",
            "created_shareId",
        ),
    ] {
        let server = Server::start(api, Some(fault));
        let url = server.url();
        let dir = out_dir(&format!("chain-{fault}"));
        let saved = dir.join("saved");
        let saved_arg = saved.display().to_string();
        let header = format!("Authorization: {token}");
        let out = apiconform(&[
            "fuzz",
            "--no-progress",
            "--spec",
            spec,
            "--base-url",
            &url,
            "-H",
            &header,
            "--set",
            "body.ownerId=user-1001",
            "--phases",
            "stateful",
            "--max-examples",
            "3",
            "--save-findings",
            &saved_arg,
        ]);
        assert_eq!(out.status.code(), Some(1), "{fault}: {}", stdout(&out));
        let file = std::fs::read_dir(&saved)
            .expect("findings saved")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.display().to_string().contains(check))
            .unwrap_or_else(|| panic!("{fault}: no {check} finding saved: {}", stdout(&out)));
        let yaml = std::fs::read_to_string(&file).expect("saved case");
        assert!(yaml.contains(id), "{fault}: {yaml}");
        let rerun = |base: &str| {
            apiconform(&[
                "run",
                &file.display().to_string(),
                "--no-progress",
                "--base-url",
                base,
                "--secret",
                &format!("fuzz_credential={token}"),
            ])
        };
        let faulty = rerun(&url);
        assert_eq!(
            faulty.status.code(),
            Some(1),
            "{fault}: the saved case must fail while the fault stands\n{yaml}\n{}",
            stdout(&faulty)
        );
        let correct = Server::start(api, None);
        let fixed = rerun(&correct.url());
        assert_eq!(
            fixed.status.code(),
            Some(0),
            "{fault}: the saved case must pass on a correct server\n{yaml}\n{}",
            stdout(&fixed)
        );
    }
}
