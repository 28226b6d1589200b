//! Micro-benchmarks of the per-step hot paths: validating a share response
//! against its compiled schema, rendering (interpolating) a step, and
//! matching a URL to a path template among 1,000.
//!
//!     cargo bench --bench micro

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;

use apiconform::run::exec::render_request;
use apiconform::spec::router::Router;
use apiconform::suite::template::Layered;
use apiconform::suite::{LoadOptions, StepKind, load_paths};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate_share(c: &mut Criterion) {
    let spec =
        apiconform::spec::load(&root().join("specs/enablenow-sharing-v1.yaml")).expect("spec");
    let op = spec.operation_by_id("getShare").expect("getShare");
    let schema = op
        .response_for(200)
        .and_then(|r| r.media_type("application/json"))
        .and_then(|m| m.schema)
        .expect("schema");
    let validator = spec.validator(schema).expect("compiles");
    let body = json!({"data": {
        "id": "3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a", "clientId": "en-app-ref-002", "reference": null,
        "expirationDateUtc": "2099-04-30T12:00:00Z",
        "consentIds": ["af86536d-34e3-4ebc-6c64-08db56ccef25"], "accountIds": [], "analysisIds": []
    }});
    assert!(validator.is_valid(&body));
    c.bench_function("validate share response (valid)", |b| {
        b.iter(|| validator.is_valid(black_box(&body)))
    });
    let mut bad = body.clone();
    bad["data"]["id"] = json!("not-a-uuid");
    c.bench_function("validate share response (invalid, collect errors)", |b| {
        b.iter(|| validator.iter_errors(black_box(&bad)).count())
    });
}

fn interpolate_step(c: &mut Criterion) {
    let suites = load_paths(
        &[root().join("tests/fixtures/pets-suite.yaml")],
        &LoadOptions::default(),
    )
    .expect("suite");
    let case = &suites[0].cases[0];
    let globals: HashMap<String, Value> = HashMap::from([
        ("pet_name".into(), json!("rex-abcdef")),
        ("tag".into(), json!("good-boy")),
        ("pets_token".into(), json!("test-token")),
    ]);
    let locals: rustc_hash::FxHashMap<String, Value> = [
        (
            "pet_id".into(),
            json!("3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a"),
        ),
        (
            "location".into(),
            json!("/pets/3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a"),
        ),
    ]
    .into_iter()
    .collect();
    let scope = Layered {
        local: &locals,
        shared: &globals,
    };
    for (i, step) in case.steps.iter().take(2).enumerate() {
        let StepKind::Request(req) = &step.kind else {
            continue;
        };
        let name = [
            "render create step (templated body)",
            "render get step (path parameter)",
        ][i];
        c.bench_function(name, |b| {
            b.iter(|| {
                render_request(black_box("http://127.0.0.1:8080"), req, &scope).map(|r| r.url.len())
            })
        });
    }
}

fn route_among_1000(c: &mut Criterion) {
    let mut router = Router::default();
    let mut n = 0;
    for group in 0..100 {
        for (m, t) in [
            ("get", format!("/group{group}/items")),
            ("post", format!("/group{group}/items")),
            ("get", format!("/group{group}/items/{{id}}")),
            ("put", format!("/group{group}/items/{{id}}")),
            ("delete", format!("/group{group}/items/{{id}}")),
            ("get", format!("/group{group}/items/{{id}}/children")),
            (
                "get",
                format!("/group{group}/items/{{id}}/children/{{child}}"),
            ),
            ("get", format!("/group{group}/files/{{name}}.{{ext}}")),
            ("get", format!("/group{group}/stats")),
            ("patch", format!("/group{group}/items/{{id}}")),
        ] {
            router.insert(m, &t, n);
            n += 1;
        }
    }
    assert_eq!(n, 1000);
    assert!(router.find("get", "/group99/items/42/children/7").is_some());
    c.bench_function("match URL among 1,000 templates", |b| {
        b.iter(|| {
            router.find(
                black_box("get"),
                black_box("/group73/items/abc-123/children/9"),
            )
        })
    });
}

criterion_group!(benches, validate_share, interpolate_step, route_among_1000);
criterion_main!(benches);
