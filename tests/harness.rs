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
fn check_spec_accepts_30_and_31_and_rejects_broken() {
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
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("/paths/~1things/get/responses/200/content/application~1json/schema: schema does not compile"), "{err}");
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
