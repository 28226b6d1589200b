//! The shipped `apiconform.toml` JSON Schema is generated from the Rust
//! types, and the example file validates against it.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_profile_schema_matches_the_types() {
    let committed =
        std::fs::read_to_string(root().join("schema/profile.schema.json")).expect("schema file");
    assert_eq!(
        committed.trim_end(),
        apiconform::cli::profile_schema_json().trim_end(),
        "schema/profile.schema.json is stale: run `cargo run -- schema --profiles > schema/profile.schema.json`"
    );
}

#[test]
fn the_example_file_validates_and_a_typo_does_not() {
    let schema: serde_json::Value =
        serde_json::from_str(&apiconform::cli::profile_schema_json()).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let text = std::fs::read_to_string(root().join("examples/apiconform.toml")).expect("example");
    let example: serde_json::Value = toml::from_str(&text).expect("example is TOML");
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let typo: serde_json::Value = toml::from_str("[profile.ci]\njbos = 3\n").expect("TOML");
    assert!(!validator.is_valid(&typo), "an unknown key is rejected");
    let wrong: serde_json::Value = toml::from_str("[profile.ci]\njobs = \"many\"\n").expect("TOML");
    assert!(!validator.is_valid(&wrong), "a wrong type is rejected");
    let zero: serde_json::Value = toml::from_str("[profile.ci]\njobs = 0\n").expect("TOML");
    assert!(!validator.is_valid(&zero), "jobs below 1 is rejected");
}

/// README's Profiles section shows the example file as it is.
#[test]
fn readme_shows_the_example_file() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let example =
        std::fs::read_to_string(root().join("examples/apiconform.toml")).expect("example");
    assert!(
        readme.contains(&format!("```toml\n{example}```")),
        "README's Profiles example differs from examples/apiconform.toml"
    );
}
