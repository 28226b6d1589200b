//! The shipped case-file JSON Schema is generated from the Rust types and
//! accepts every bundled case file (so editors never flag a valid file).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn committed_schema_matches_the_types() {
    let committed =
        std::fs::read_to_string(root().join("schema/case-file.schema.json")).expect("schema file");
    assert_eq!(
        committed.trim_end(),
        apiconform::suite::schema_json().trim_end(),
        "schema/case-file.schema.json is stale: run `cargo run -- schema > schema/case-file.schema.json`"
    );
}

#[test]
fn committed_shared_schema_matches_the_types() {
    let committed = std::fs::read_to_string(root().join("schema/shared-steps.schema.json"))
        .expect("schema file");
    assert_eq!(
        committed.trim_end(),
        apiconform::suite::shared_schema_json().trim_end(),
        "schema/shared-steps.schema.json is stale: run `cargo run -- schema --shared > schema/shared-steps.schema.json`"
    );
}

/// Bundled `shared:` files (named `_*.yaml`, so folder runs skip them)
/// validate against their own schema.
fn is_shared(file: &Path) -> bool {
    file.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('_'))
}

#[test]
fn every_bundled_case_file_validates_against_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&apiconform::suite::schema_json()).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let shared: serde_json::Value =
        serde_json::from_str(&apiconform::suite::shared_schema_json()).expect("schema is JSON");
    let shared = jsonschema::validator_for(&shared).expect("schema compiles");
    let mut files = Vec::new();
    yaml_files(&root().join("cases"), &mut files);
    files.push(root().join("tests/fixtures/pets-suite.yaml"));
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let value = apiconform::yaml::value_from_str(file, &text).expect("YAML");
        let v = if is_shared(file) { &shared } else { &validator };
        let errors: Vec<String> = v
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    // And the schema is not vacuous: a typo is rejected.
    let bad = serde_json::json!({"spec": "x.yaml", "cases": [{"name": "x", "steps": [{"operation": "a", "expcet": {}}]}]});
    assert!(!validator.is_valid(&bad));
}
