//! Suite setup and teardown, and shared step lists (`use:`), end to end
//! against the pets test server on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};

use common::{Mode, TestServer, apiconform, fixture, stderr, stdout};

/// A fresh folder for one test's files.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("apiconform-setup-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).expect("write");
    f
}

fn run(file: &Path, server: &TestServer) -> std::process::Output {
    apiconform(&[
        "run",
        &file.display().to_string(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "--jobs",
        "2",
    ])
}

/// The number of pets the server holds now (teardown should leave none).
fn pet_count(server: &TestServer) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let body: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/pets", server.url()))
            .bearer_auth("test-token")
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        body["total"].as_u64().expect("total")
    })
}

const HEAD: &str = r#"name: hooks
credentials:
  owner: {bearer: test-token}
default_credential: owner
"#;

fn suite_text(setup_status: u16) -> String {
    format!(
        r#"spec: {spec}
{HEAD}setup:
  - name: create the shared pet
    operation: createPet
    body: {{name: fixture, tag: good-boy}}
    expect: {{status: {setup_status}}}
    capture:
      pet_id: {{body: $.id}}
teardown:
  - name: delete the shared pet
    operation: deletePet
    path: {{petId: "{{{{ pet_id }}}}"}}
    expect: {{status: 204}}
cases:
  - name: first reader
    steps:
      - operation: getPet
        path: {{petId: "{{{{ pet_id }}}}"}}
        expect: {{status: 200, body: {{$.name: {{equals: fixture}}}}}}
      - operation: listPets
        expect: {{body: {{$.total: {{equals: 1}}}}}}
  - name: second reader
    steps:
      - operation: listPets
        expect: {{body: {{"$.items[0].id": {{equals: "{{{{ pet_id }}}}"}}, $.total: {{equals: 1}}}}}}
  - name: a failing case
    steps:
      - operation: getPet
        path: {{petId: "{{{{ pet_id }}}}"}}
        expect: {{status: 418}}
"#,
        spec = fixture("pets-api.yaml").display()
    )
}

#[test]
fn setup_runs_once_its_captures_reach_every_case_and_teardown_runs_after_a_failure() {
    let server = TestServer::start(Mode::Good);
    let d = dir("once");
    let file = write(&d, "hooks.yaml", &suite_text(201));
    let out = run(&file, &server);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    // Both readers saw exactly one pet: setup ran once, not per case.
    assert!(
        text.contains("PASS") && text.contains("first reader"),
        "{text}"
    );
    assert!(text.contains("second reader"), "{text}");
    assert!(text.lines().any(|l| l == "2 passed, 1 failed"), "{text}");
    // Teardown deleted the pet although a case failed (and was silent).
    assert_eq!(pet_count(&server), 0, "{text}");
    assert!(!text.contains("suite teardown"), "{text}");
}

#[test]
fn a_failed_setup_skips_the_suites_cases_with_the_reason() {
    let server = TestServer::start(Mode::Good);
    let d = dir("failed");
    let file = write(&d, "hooks.yaml", &suite_text(200));
    let out = run(&file, &server);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("suite setup failed at step `create the shared pet`"),
        "{text}"
    );
    assert_eq!(text.matches("SKIP").count(), 3, "{text}");
    assert!(text.contains("suite setup"), "{text}");
    // The setup created a pet before its expectation failed: teardown,
    // seeded with the capture, still removed it.
    assert_eq!(pet_count(&server), 0, "{text}");
}

#[test]
fn a_failing_teardown_is_reported() {
    let server = TestServer::start(Mode::Good);
    let d = dir("teardown");
    let text = suite_text(201).replace("expect: {status: 204}", "expect: {status: 410}");
    let file = write(&d, "hooks.yaml", &text);
    let out = run(&file, &server);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("suite teardown"), "{text}");
}

const SHARED: &str = r#"steps:
  new_pet:
    - name: create a pet
      operation: createPet
      body: {name: "{{ pet_name }}", tag: good-boy}
      expect: {status: 201}
      capture:
        pet_id: {body: $.id}
  remove_pet:
    - operation: deletePet
      path: {petId: "{{ pet_id }}"}
      expect: {status: 204}
"#;

#[test]
fn shared_step_lists_are_included_by_name() {
    let server = TestServer::start(Mode::Good);
    let d = dir("shared");
    write(&d, "pets.shared.yaml", SHARED);
    let suite = format!(
        r#"spec: {spec}
{HEAD}shared: [pets.shared.yaml]
variables:
  pet_name: rex
cases:
  - name: made and read back
    steps:
      - use: new_pet
      - operation: getPet
        path: {{petId: "{{{{ pet_id }}}}"}}
        expect: {{status: 200, body: {{$.name: {{equals: rex}}}}}}
    cleanup:
      - use: remove_pet
"#,
        spec = fixture("pets-api.yaml").display()
    );
    let file = write(&d, "uses.yaml", &suite);
    let out = run(&file, &server);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "1 passed, 0 failed"), "{text}");
    assert_eq!(pet_count(&server), 0, "{text}");
}

#[test]
fn check_names_the_include_and_the_included_step() {
    let d = dir("diag");
    write(
        &d,
        "bad.shared.yaml",
        "steps:\n  broken:\n    - operation: noSuchOperation\n    - operation: getPet\n      path: {petId: \"{{ never_captured }}\"}\n",
    );
    let suite = format!(
        r#"spec: {spec}
{HEAD}shared: [bad.shared.yaml]
setup:
  - use: missing_list
cases:
  - name: uses a broken list
    steps:
      - use: broken
"#,
        spec = fixture("pets-api.yaml").display()
    );
    let file = write(&d, "bad.yaml", &suite);
    let out = apiconform(&["check", &file.display().to_string()]);
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{err}");
    let shared = d.join("bad.shared.yaml").display().to_string();
    let suite = file.display().to_string();
    assert!(
        err.contains(&format!(
            "{shared}:3:18: unknown operationId `noSuchOperation`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("included by `use: broken` at {suite}:12:14")),
        "{err}"
    );
    assert!(err.contains("undefined variable `never_captured`"), "{err}");
    assert!(
        err.contains(&format!(
            "{suite}:8:10: unknown shared step list `missing_list` (known: broken)"
        )),
        "{err}"
    );
}
