//! End-to-end tests of the `apiconform` binary against a pets API started
//! inside the test on 127.0.0.1:0.

mod common;

use common::{Mode, TestServer, apiconform, fixture, normalize, stderr, stdout};

fn suite() -> String {
    fixture("pets-suite.yaml").display().to_string()
}

#[test]
fn passing_suite_exits_zero() {
    let server = TestServer::start(Mode::Good);
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "4 passed, 0 failed"), "{text}");
    assert!(text.contains("PASS"), "{text}");
}

#[test]
fn schema_breaking_server_fails_with_readable_report() {
    let server = TestServer::start(Mode::BreakSchema);
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "--name",
        "create, read",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = normalize(&stdout(&out)).replace(env!("CARGO_MANIFEST_DIR"), "[root]");
    insta::assert_snapshot!("schema_breaking_report", text);
}

#[test]
fn unreachable_target_fails_each_step_and_finishes() {
    // Port 9 (discard) on loopback: nothing listens there in the test sandbox.
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        "http://127.0.0.1:9",
        "--no-progress",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot connect to http://127.0.0.1:9/pets"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "0 passed, 4 failed"), "{text}");
}

#[test]
fn slow_target_times_out_per_request() {
    let server = TestServer::start(Mode::Slow);
    let started = std::time::Instant::now();
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "--timeout",
        "300ms",
        "--name",
        "no token",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("no response within 300 ms"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "timeout not applied"
    );
}

#[test]
fn non_json_body_fails_the_step_with_a_reason() {
    let server = TestServer::start(Mode::NotJson);
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "-n",
        "create, read",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("body is not valid JSON"), "{text}");
}

#[test]
fn oversized_body_fails_the_step() {
    let server = TestServer::start(Mode::Good);
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "-n",
        "create, read",
        "--max-body-size",
        "20",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("exceeds --max-body-size (20 bytes)"),
        "{text}"
    );
}

#[test]
fn malformed_inputs_exit_2_with_positions() {
    let cases = [
        (
            "unclosed-quote.yaml",
            "unclosed-quote.yaml:3:11: unclosed quote",
        ),
        (
            "unknown-operation.yaml",
            "unknown-operation.yaml:5:20: unknown operationId `listPet` (did you mean `listPets`?)",
        ),
        (
            "undefined-variable.yaml",
            "undefined-variable.yaml:6:23: undefined variable `pet_idd`",
        ),
        (
            "duplicate-case.yaml",
            "duplicate-case.yaml:6:11: duplicate case name `same`",
        ),
        (
            "unknown-field.yaml",
            "unknown-field.yaml:6:9: unknown field `expcet`",
        ),
        (
            "missing-spec.yaml",
            "missing-spec.yaml:1:7: cannot use spec",
        ),
        ("broken-spec.yaml", "broken-syntax.yaml:3:1:"),
        (
            "bad-request-body.yaml",
            "bad-request-body.yaml:6:15: request body breaks the request schema of createPet",
        ),
        (
            "unknown-query.yaml",
            "unknown-query.yaml:6:23: unknown query parameter `limt`",
        ),
        (
            "requirement-without-level.yaml",
            "requirement-without-level.yaml:3:11: requirement `PET-9` of case `no level` has no `level` (must or should)",
        ),
    ];
    for (file, expected) in cases {
        let path = fixture("bad").join(file).display().to_string();
        for command in ["run", "check"] {
            let out = apiconform(
                &[command, &path, "--base-url", "http://127.0.0.1:9"]
                    [..if command == "run" { 4 } else { 2 }],
            );
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command} {file}: {err}");
            assert!(
                err.contains(expected),
                "{command} {file}: expected `{expected}` in:\n{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    let out = apiconform(&["run", "tests/fixtures/no-such-folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file or folder"));
}

#[test]
fn a_spec_of_webhooks_only_is_counted_as_such_and_fuzz_says_why_it_sends_nothing() {
    let spec = fixture("webhooks-only.yaml").display().to_string();
    let out = apiconform(&["check", "--spec", &spec]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 operations, 1 webhook, 1 schema compiled"),
        "{}",
        stdout(&out)
    );
    let out = apiconform(&["fuzz", "--spec", &spec, "--base-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("the spec documents no request operations under `paths`, only 1 webhook"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_empty_var_is_warned_about_as_a_likely_unset_environment_variable() {
    let out = apiconform(&["check", "cases/mycloud", "--var", "mycloud_token="]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("warning: --var mycloud_token= is empty (an unset environment variable?)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fuzz_says_when_the_chosen_phases_make_no_request() {
    // pets-api.yaml has no examples, so the examples phase alone sends nothing.
    let spec = fixture("pets-api.yaml").display().to_string();
    let args = ["fuzz", "--spec", &spec, "--base-url", "http://127.0.0.1:9"];
    let out = apiconform(&[&args[..], &["--phases", "examples"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the phases run (examples) make no request"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_spec_accepts_30_and_31_and_warns_about_local_flaws() {
    for ok in ["petstore-30.yaml", "petstore-31.yaml", "pets-api.yaml"] {
        let out = apiconform(&["check", "--spec", &fixture(ok).display().to_string()]);
        assert_eq!(out.status.code(), Some(0), "{ok}: {}", stderr(&out));
        assert!(stdout(&out).contains("schemas compiled"));
    }
    let out = apiconform(&[
        "check",
        "--spec",
        &fixture("broken-30.yaml").display().to_string(),
    ]);
    // Local flaws are warnings: the rest of the spec is usable.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning: "), "{err}");
    assert!(
        err.contains("/components/schemas/Missing` names nothing in this document"),
        "{err}"
    );
    assert!(
        err.contains("/paths/~1things/get/responses/400/content/application~1json/schema/minProperties: `minProperties` must be a non-negative integer, found -3"),
        "{err}"
    );
    assert!(stdout(&out).contains("2 warnings"), "{}", stdout(&out));
}

#[test]
fn partitions_are_disjoint_and_cover_the_suite() {
    let all = stdout(&apiconform(&["list", &suite()]));
    let mut all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), 4);
    for n in 1..=5 {
        let mut union = Vec::new();
        for i in 1..=n {
            let out = apiconform(&["list", &suite(), "--partition", &format!("slice:{i}/{n}")]);
            assert_eq!(out.status.code(), Some(0));
            union.extend(stdout(&out).lines().map(str::to_string));
        }
        let mut sorted = union.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            union.len(),
            "slices of {n} overlap: {union:?}"
        );
        all.sort();
        assert_eq!(sorted, all, "slices of {n} do not cover the suite");
    }
}

#[test]
fn filters_by_tag_and_name() {
    let out = stdout(&apiconform(&[
        "list",
        &suite(),
        "--tag",
        "errors",
        "--exclude-tag",
        "auth",
    ]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let out = stdout(&apiconform(&["list", &suite(), "--name-regex", "40[01]$"]));
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn secrets_never_reach_the_output() {
    let server = TestServer::start(Mode::BreakSchema);
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "-v",
    ]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("authorization: [redacted]"), "{all}");
    assert!(!all.contains("test-token"), "token leaked:\n{all}");
}

#[test]
fn readme_example_runs_green_against_the_embedded_server() {
    let readme = std::fs::read_to_string(common::fixture("../../README.md")).expect("README");
    let start = readme.find("## Case format").expect("case format section");
    let block = &readme[start..];
    let open = block.find("```yaml\n").expect("yaml block") + 8;
    let close = block[open..].find("```").expect("end of block") + open;
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = block[open..close].replace("../../specs/", &format!("{root}/specs/"));
    let dir = std::env::temp_dir().join(format!("apiconform-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("example.yaml");
    std::fs::write(&file, yaml).expect("write example");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args([
            "run",
            &file.display().to_string(),
            "--no-progress",
            "--accept-snapshots",
            "--snapshot-dir",
        ])
        .arg(dir.join("snapshots"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("APICONFORM_BASE_URL")
        .output()
        .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).lines().any(|l| l == "1 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn retries_report_flaky_cases_as_passed() {
    let args = |server: &TestServer, retries: &str| {
        apiconform(&[
            "run",
            &suite(),
            "--base-url",
            &server.url(),
            "--no-progress",
            "--tag",
            "lifecycle",
            "--retries",
            retries,
        ])
    };
    let server = TestServer::start(Mode::FlakyOnce);
    let out = args(&server, "0");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    let server = TestServer::start(Mode::FlakyOnce);
    let out = args(&server, "2");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("FLAKY") && text.contains("(passed on attempt 2)"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "1 passed, 0 failed"), "{text}");
}

#[test]
fn fail_fast_skips_the_cases_not_started() {
    let out = apiconform(&[
        "run",
        &suite(),
        "--base-url",
        "http://127.0.0.1:9",
        "--no-progress",
        "--fail-fast",
        "--jobs",
        "1",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines().any(|l| l == "0 passed, 1 failed, 3 skipped"),
        "{text}"
    );
    assert!(text.contains("--fail-fast stopped the run"), "{text}");
}
