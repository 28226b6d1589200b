//! Unit tests of every registered check on constructed exchanges: one
//! small spec, and for each check a passing, a failing and (where the
//! check can decline) a skipped exchange.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::{Exchange, Outcome, REGISTRY, Subject};
use crate::spec::{Operation, Spec};

const SPEC: &str = r#"openapi: 3.1.0
info: {title: Fixture, version: "1"}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: the thing
          headers:
            X-Request-Id: {required: true, schema: {type: string, minLength: 3}}
          content:
            application/json:
              schema: {type: object, required: [id], properties: {id: {type: string}}}
        "204": {description: nothing}
        "404":
          description: no such thing
          content:
            text/plain: {schema: {type: string}}
  /things:
    post:
      operationId: createThing
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        "201": {description: created}
webhooks:
  thing.created:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [event], properties: {event: {type: string}}}
      responses:
        "204": {description: received}
  thing.untyped:
    post:
      responses:
        "204": {description: received}
"#;

/// The fixture spec, loaded through the real loader from a temp file.
fn spec() -> Spec {
    let dir = std::env::temp_dir().join(format!("apiconform-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("spec-{}.yaml", fastrand::u64(..)));
    std::fs::write(&path, SPEC).expect("write spec");
    let spec = crate::spec::load(&path).expect("fixture spec loads");
    let _ = std::fs::remove_file(&path);
    spec
}

fn op<'s>(spec: &'s Spec, label: &str) -> &'s Operation {
    spec.operations
        .iter()
        .find(|o| o.label() == label || o.path == label)
        .unwrap_or_else(|| panic!("no operation {label}"))
}

fn json_headers(extra: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (k, v) in extra {
        h.insert(*k, HeaderValue::from_str(v).expect("header value"));
    }
    h
}

/// Runs the registered check `name` on one exchange.
fn run(
    name: &str,
    spec: &Spec,
    operation: &Operation,
    status: u16,
    headers: &HeaderMap,
    json: Option<&Result<Value, String>>,
    request_body: Option<&Value>,
) -> Outcome {
    let def = REGISTRY
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} is registered"));
    let x = Exchange {
        spec,
        operation,
        request_body,
        request_body_valid: false,
        expects_success: true,
        status,
        headers,
        json,
        generated: None,
        looked_up: Default::default(),
    };
    (def.run)(&x)
}

fn is_fail(o: &Outcome) -> bool {
    matches!(o, Outcome::Fail(f) if !f.is_empty())
}

fn is_skip(o: &Outcome) -> bool {
    matches!(o, Outcome::Skip(r) if !r.is_empty())
}

#[test]
fn status_conformance() {
    let spec = spec();
    let get = op(&spec, "getThing");
    let h = HeaderMap::new();
    assert_eq!(
        run("status_conformance", &spec, get, 200, &h, None, None),
        Outcome::Pass
    );
    let o = run("status_conformance", &spec, get, 500, &h, None, None);
    assert!(is_fail(&o), "{o:?}");
}

#[test]
fn content_type_conformance() {
    let spec = spec();
    let get = op(&spec, "getThing");
    let body = Ok(json!({"id": "a"}));
    let h = json_headers(&[]);
    let name = "content_type_conformance";
    assert_eq!(
        run(name, &spec, get, 200, &h, Some(&body), None),
        Outcome::Pass
    );
    assert!(is_fail(&run(name, &spec, get, 404, &h, Some(&body), None)));
    assert!(is_skip(&run(name, &spec, get, 500, &h, Some(&body), None)));
}

#[test]
fn response_schema_conformance() {
    let spec = spec();
    let get = op(&spec, "getThing");
    let h = json_headers(&[]);
    let name = "response_schema_conformance";
    let good = Ok(json!({"id": "a"}));
    let bad = Ok(json!({"id": 7}));
    assert_eq!(
        run(name, &spec, get, 200, &h, Some(&good), None),
        Outcome::Pass
    );
    let o = run(name, &spec, get, 200, &h, Some(&bad), None);
    let Outcome::Fail(findings) = &o else {
        panic!("{o:?}")
    };
    assert_eq!(
        findings.first().and_then(|f| f.json_path.as_deref()),
        Some("$.id")
    );
    assert!(is_fail(&run(name, &spec, get, 200, &h, None, None)));
    assert!(is_skip(&run(name, &spec, get, 204, &h, None, None)));
}

#[test]
fn response_headers_conformance() {
    let spec = spec();
    let get = op(&spec, "getThing");
    let name = "response_headers_conformance";
    let ok = json_headers(&[("x-request-id", "abc-1")]);
    let short = json_headers(&[("x-request-id", "a")]);
    let none = json_headers(&[]);
    assert_eq!(run(name, &spec, get, 200, &ok, None, None), Outcome::Pass);
    assert!(is_fail(&run(name, &spec, get, 200, &short, None, None)));
    assert!(is_fail(&run(name, &spec, get, 200, &none, None, None)));
    assert!(is_skip(&run(name, &spec, get, 204, &none, None, None)));
}

#[test]
fn request_schema_conformance() {
    let spec = spec();
    let post = op(&spec, "createThing");
    let h = HeaderMap::new();
    let name = "request_schema_conformance";
    let good = json!({"name": "n"});
    let bad = json!({"name": 1});
    assert_eq!(
        run(name, &spec, post, 201, &h, None, Some(&good)),
        Outcome::Pass
    );
    assert!(is_fail(&run(name, &spec, post, 201, &h, None, Some(&bad))));
    assert!(is_skip(&run(name, &spec, post, 201, &h, None, None)));
}

#[test]
fn a_body_the_loader_validated_passes_the_request_check_without_validating_again() {
    let spec = spec();
    let post = op(&spec, "createThing");
    let h = HeaderMap::new();
    // A value the schema refuses, so only the loader's verdict can pass it:
    // the check does not validate a body the loader already validated.
    let body = json!({"name": 1});
    let exchange = |request_body_valid| Exchange {
        spec: &spec,
        operation: post,
        request_body: Some(&body),
        request_body_valid,
        expects_success: true,
        status: 201,
        headers: &h,
        json: None,
        generated: None,
        looked_up: Default::default(),
    };
    let check = super::schema::request_schema_conformance;
    assert_eq!(check(&exchange(true)), Outcome::Pass);
    assert!(is_fail(&check(&exchange(false))));
    // The verdict never turns a request the case expects to fail into a pass.
    let mut failing = exchange(true);
    failing.expects_success = false;
    assert!(is_skip(&check(&failing)));
}

#[test]
fn webhook_schema_conformance() {
    let spec = spec();
    let hook = op(&spec, "thing.created");
    let untyped = op(&spec, "thing.untyped");
    let h = HeaderMap::new();
    let name = "webhook_schema_conformance";
    let good = json!({"event": "thing.created"});
    let bad = json!({"event": 3});
    assert_eq!(
        run(name, &spec, hook, 204, &h, None, Some(&good)),
        Outcome::Pass
    );
    assert!(is_fail(&run(name, &spec, hook, 204, &h, None, Some(&bad))));
    assert!(is_skip(&run(
        name,
        &spec,
        untyped,
        204,
        &h,
        None,
        Some(&good)
    )));
}

#[test]
fn every_check_is_tested_here_and_webhook_checks_are_marked() {
    let tested = [
        "status_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "request_schema_conformance",
        "webhook_schema_conformance",
        // The generated-only checks are tested beside their logic.
        "not_a_server_error",
        "negative_data_rejection",
        "positive_data_acceptance",
        "ignored_auth",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
        "stored_values",
        "resource_isolation",
    ];
    // The generated-only checks judge a `Generated` context; their pass,
    // fail and skip tests sit beside each of them in its own file.
    let tested_beside = [
        "not_a_server_error",
        "negative_data_rejection",
        "positive_data_acceptance",
        "ignored_auth",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
        "stored_values",
        "resource_isolation",
    ];
    for def in REGISTRY {
        assert!(
            tested.contains(&def.name) || (def.generated_only && tested_beside.contains(&def.name)),
            "{} has no unit test",
            def.name
        );
        assert_eq!(
            def.subject == Subject::Webhook,
            def.name.starts_with("webhook_")
        );
    }
}
