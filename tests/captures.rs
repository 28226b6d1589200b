//! Optional captures end to end: a missing optional value leaves the
//! variable unset and the step passes; a missing required one fails it.

mod common;

use common::{Mode, TestServer, apiconform, fixture, stderr, stdout};

/// A suite whose one case captures `$.nickname` (never in the response).
fn suite(optional: bool) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "apiconform-captures-{}-{optional}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = fixture("pets-api.yaml");
    let yaml = format!(
        r#"spec: {spec}
name: captures
credentials:
  owner: {{bearer: test-token}}
default_credential: owner
cases:
  - name: capture a field the response lacks
    steps:
      - name: create
        operation: createPet
        body: {{name: rex, tag: good-boy}}
        expect: {{status: 201}}
        capture:
          pet_id: {{body: $.id}}
          nickname: {{body: $.nickname, optional: {optional}}}
      - name: read it back
        request: GET /pets/{{petId}}
        path: {{petId: "{{{{ pet_id }}}}"}}
        expect: {{status: 200}}
"#,
        spec = spec.display()
    );
    let file = dir.join("captures.yaml");
    std::fs::write(&file, yaml).expect("write suite");
    file
}

fn run(optional: bool) -> std::process::Output {
    let server = TestServer::start(Mode::Good);
    let file = suite(optional);
    apiconform(&[
        "run",
        &file.display().to_string(),
        "--base-url",
        &server.url(),
        "--no-progress",
        "--verbose",
    ])
}

#[test]
fn a_missing_optional_capture_does_not_fail_the_step() {
    let out = run(true);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "1 passed, 0 failed"), "{text}");
}

#[test]
fn a_missing_required_capture_fails_the_step() {
    let out = run(false);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("capture nickname"), "{text}");
    assert!(text.contains("$.nickname selects nothing"), "{text}");
}
