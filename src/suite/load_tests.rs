//! Loader tests, one per step kind (`operation`, `request`, `webhook`) and
//! for a step that names more than one, on suites written to a temp dir
//! against `tests/fixtures/petstore-31.yaml`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::load::{LoadOptions, load_file};
use super::{CaptureSource, StepKind, Suite};
use crate::check::CheckSet;
use crate::diag::Diagnostics;
use crate::spec::OperationId;

fn write_suite(name: &str, cases: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiconform-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/petstore-31.yaml");
    let file = dir.join(format!("{name}.yaml"));
    let text = format!("spec: {}\nname: {name}\ncases:\n{cases}", spec.display());
    std::fs::write(&file, text).expect("write suite");
    file
}

fn load(name: &str, cases: &str) -> Result<Suite, Diagnostics> {
    let file = write_suite(name, cases);
    load_file(&file, &LoadOptions::default(), &mut HashMap::new())
}

#[test]
fn an_operation_step_compiles_to_a_request_with_its_operation() {
    let suite = load(
        "operation",
        r#"  - name: get
    steps:
      - operation: getPet
        path: {petId: p1}
        expect: {status: 200, body: {$.name: {type: string}}}
        capture: {pet_name: {body: $.name, optional: true}}
"#,
    )
    .expect("loads");
    let step = &suite.cases[0].steps[0];
    let StepKind::Request(req) = &step.kind else {
        panic!("a request step")
    };
    assert_eq!(req.method, reqwest::Method::GET);
    assert_eq!(&*step.method_path, "GET /pets/{petId}");
    assert_eq!(step.operation_id, Some(OperationId(req.operation)));
    assert_eq!(req.expect.body.len(), 1);
    assert_eq!(step.checks, CheckSet::all());
    let capture = &step.captures[0];
    assert!(capture.optional && matches!(capture.source, CaptureSource::Body(..)));
}

#[test]
fn result_locations_are_formatted_once_at_load_with_their_line_and_column() {
    let suite = load(
        "sites",
        r#"  - name: get
    steps:
      - operation: getPet
        path: {petId: p1}
        expect:
          status: 200
          body: {$.name: {type: string}}
        capture: {pet_name: {body: $.name}}
"#,
    )
    .expect("loads");
    let step = &suite.cases[0].steps[0];
    let StepKind::Request(req) = &step.kind else {
        panic!("a request step")
    };
    let at = |site: Option<&str>| {
        site.map(|s| s.rsplit_once("sites.yaml:").map(|(_, lc)| lc.to_string()))
    };
    assert_eq!(
        at(req.expect.status_at.as_deref()),
        Some(Some("9:19".into()))
    );
    assert_eq!(
        at(req.expect.body[0].matcher.at.as_deref()),
        Some(Some("10:26".into()))
    );
    assert_eq!(
        at(step.captures[0].at.as_deref()),
        Some(Some("11:29".into()))
    );
}

#[test]
fn a_request_step_finds_its_operation_by_method_and_path() {
    let suite = load(
        "request",
        r#"  - name: get
    steps:
      - request: GET /pets/{petId}
        path: {petId: p1}
"#,
    )
    .expect("loads");
    let step = &suite.cases[0].steps[0];
    assert_eq!(&*step.operation, "getPet");
    assert!(matches!(step.kind, StepKind::Request(_)));
}

#[test]
fn a_webhook_step_names_the_documented_webhook() {
    let suite = load(
        "webhook",
        r#"  - name: hook
    steps:
      - webhook:
          event: pet.created
          match: {$.name: {equals: rex}}
          expect: {$.id: {type: string}}
          timeout_ms: 100
"#,
    )
    .expect("loads");
    let step = &suite.cases[0].steps[0];
    let StepKind::Webhook(hook) = &step.kind else {
        panic!("a webhook step")
    };
    assert_eq!(&*step.method_path, "WEBHOOK pet.created");
    assert_eq!(hook.timeout_ms, 100);
    assert_eq!((hook.matchers.len(), hook.expect.len()), (1, 1));
    assert!(hook.operation.is_some());
    assert_eq!(step.operation_id, hook.operation.map(OperationId));
}

#[test]
fn a_step_with_two_kinds_is_an_error_at_its_position() {
    let err = load(
        "two",
        r#"  - name: both
    steps:
      - operation: getPet
        request: GET /pets/{petId}
"#,
    )
    .err()
    .expect("rejected");
    let text = err.to_string();
    assert!(
        text.contains("needs exactly one of `operation`, `request`, `webhook`"),
        "{text}"
    );
    assert!(text.contains("two.yaml:"), "{text}");
}

#[test]
fn an_unknown_operation_is_an_error_with_a_suggestion() {
    let err = load(
        "unknown",
        r#"  - name: typo
    steps:
      - operation: getPets
"#,
    )
    .err()
    .expect("rejected");
    let text = err.to_string();
    assert!(text.contains("getPets"), "{text}");
    assert!(text.contains("getPet"), "{text}");
}

#[test]
fn skip_keeps_its_reason_and_refuses_an_empty_one() {
    let suite = load(
        "skip",
        r#"  - name: later
    skip: "TODO: needs a fixture"
    steps:
      - operation: getPet
        path: {petId: p1}
"#,
    )
    .expect("loads");
    assert_eq!(
        suite.cases[0].skip.as_deref(),
        Some("TODO: needs a fixture")
    );
    let e = load(
        "skip-empty",
        r#"  - name: later
    skip: " "
    steps:
      - operation: getPet
        path: {petId: p1}
"#,
    )
    .err()
    .expect("an empty reason is refused");
    assert!(e.to_string().contains("`skip:` needs a reason"), "{e}");
}

/// The mycloud spec as JSON (outlines are made of JSON documents only)
/// and a suite naming `getShare`, in a folder of their own.
fn json_spec_suite(name: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("apiconform-outline-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mycloud-shares-v1.yaml");
    let text = std::fs::read_to_string(&yaml).expect("bundled spec");
    let value = crate::yaml::value_from_str(&yaml, &text).expect("parses");
    let spec = dir.join("mycloud.json");
    std::fs::write(&spec, value.to_string()).expect("write spec");
    let suite = dir.join("suite.yaml");
    let cases = "spec: mycloud.json\nname: outline\ncases:\n  - name: get\n    steps:\n      - {operation: getShare, path: {shareId: s1}, expect: {status: 404}}\n";
    std::fs::write(&suite, cases).expect("write suite");
    (spec, suite)
}

#[test]
fn with_outline_specs_a_suite_gets_its_operations_whole_and_the_others_outlined() {
    let (_, file) = json_spec_suite("used");
    let options = LoadOptions {
        outline_specs: true,
        ..LoadOptions::default()
    };
    let suite = load_file(&file, &options, &mut HashMap::new()).expect("loads");
    let spec = &suite.spec;
    assert!(spec.is_outline());
    let get = spec.operation_index_by_id("getShare").expect("getShare");
    let create = spec
        .operation_index_by_id("createShare")
        .expect("createShare");
    assert!(!spec.is_outlined(OperationId(get)));
    assert!(spec.is_outlined(OperationId(create)));
    // The outline keeps what coverage and security need.
    assert!(!spec.operations[create].responses.is_empty());
    assert!(spec.operations[create].request_body.is_none());
    // Without the option the spec is whole.
    let suite = load_file(&file, &LoadOptions::default(), &mut HashMap::new()).expect("loads");
    assert!(!suite.spec.is_outline());
    assert!(suite.spec.operations[create].request_body.is_some());
}

#[test]
fn an_outline_that_lacks_an_operation_the_suite_uses_is_replaced_by_the_whole_spec() {
    let (spec_file, file) = json_spec_suite("lacking");
    let key = spec_file.canonicalize().expect("canonical");
    // Cached by an earlier suite that named nothing: every operation outlined.
    let earlier =
        crate::spec::load_for(&spec_file, &crate::spec::Wanted::default()).expect("loads");
    assert!(earlier.is_outline());
    let mut specs = HashMap::from([(key.clone(), std::sync::Arc::new(earlier))]);
    let options = LoadOptions {
        outline_specs: true,
        ..LoadOptions::default()
    };
    let suite = load_file(&file, &options, &mut specs).expect("loads");
    assert!(!suite.spec.is_outline(), "compiled against the whole spec");
    assert!(!specs[&key].is_outline(), "and the whole spec is cached");
}

#[test]
fn a_static_body_is_serialized_once_and_its_schema_verdict_kept_for_the_run() {
    use super::{Body, StaticBody};
    let dir = std::env::temp_dir().join(format!("apiconform-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/enablenow-sharing-v1.yaml");
    let file = dir.join("static-bodies.yaml");
    let text = format!(
        r#"spec: {}
name: static bodies
variables: {{client: en-app-ref-002}}
cases:
  - name: bodies
    steps:
      - operation: createShare
        body: {{clientId: en-app-ref-002, consentIds: [3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a]}}
      - operation: createShare
        body: {{clientId: "{{{{ client }}}}", consentIds: [3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a]}}
      - operation: createShare
        body: {{clientId: 7}}
        expect: {{status: 400}}
"#,
        spec.display()
    );
    std::fs::write(&file, text).expect("write suite");
    let suite = load_file(&file, &LoadOptions::default(), &mut HashMap::new()).expect("loads");
    let prepared: Vec<Option<&StaticBody>> = suite.cases[0]
        .steps
        .iter()
        .map(|s| match &s.kind {
            StepKind::Request(r) => match &r.body {
                Some(Body::Json(_, _, prepared)) => prepared.as_ref(),
                _ => panic!("a JSON body"),
            },
            StepKind::Webhook(_) => panic!("a request step"),
        })
        .collect();
    let valid = prepared[0].expect("a static body is prepared");
    assert!(valid.schema_valid);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&valid.bytes).expect("JSON"),
        serde_json::json!({"clientId": "en-app-ref-002", "consentIds": ["3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a"]})
    );
    // A templated body is rendered (and checked) per request.
    assert!(prepared[1].is_none());
    // A body sent to be refused was not validated: nothing to trust.
    assert!(!prepared[2].expect("static").schema_valid);
}

#[cfg(unix)]
#[test]
fn a_folder_walk_follows_symlinked_folders_once_and_never_loops() {
    use std::os::unix::fs::symlink;
    let root = std::env::temp_dir().join(format!("apiconform-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let other = root.join("other");
    std::fs::create_dir_all(root.join("cases/sub")).expect("dirs");
    std::fs::create_dir_all(&other).expect("dirs");
    for f in ["cases/a.yaml", "cases/sub/b.yml", "other/c.yaml"] {
        std::fs::write(root.join(f), "").expect("write");
    }
    let cases = root.join("cases");
    symlink(".", cases.join("loop")).expect("link");
    symlink("..", cases.join("sub/up")).expect("link");
    symlink(&other, cases.join("linked")).expect("link");
    let files = super::load::expand_paths(std::slice::from_ref(&cases)).expect("walks");
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&cases).unwrap_or(f).display().to_string())
        .collect();
    assert_eq!(names, ["a.yaml", "linked/c.yaml", "sub/b.yml"], "{names:?}");
}
