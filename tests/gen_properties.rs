//! Generator correctness as properties, over every request schema (parameters
//! and JSON request bodies) of the bundled specs, the test fixtures and, when
//! `benches/fetch-github-spec.sh` has fetched it, GitHub's REST description:
//!
//! - every positive value validates against the compiled request validator;
//! - every negative value fails it, for the rule it names;
//! - unfiltered draws are valid too (the walk itself is right, not only the filter);
//! - no schema hangs: "cannot generate" comes back with a reason, and the
//!   share of such schemas stays small.
//!
//! Bounded: three positive and four negative values per schema (request
//! schemas are counted once per location: a shared `$ref` is one schema).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use apiconform::generate::{Carrier, Generator, Shape};
use apiconform::spec::{self, SchemaId, Spec};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    out.sort();
    out
}

/// Request schemas of a spec: (schema, carrier), deduplicated.
fn request_schemas(spec: &Spec) -> Vec<(SchemaId, Carrier)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for op in &spec.operations {
        for p in &op.parameters {
            if let Some(s) = p.schema
                && seen.insert(s)
            {
                out.push((s, Carrier::Text));
            }
        }
        if let Some(body) = &op.request_body {
            for m in body.content.iter().filter(|m| spec::is_json(&m.name)) {
                if let Some(s) = m.schema
                    && seen.insert(s)
                {
                    out.push((s, Carrier::Json));
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    schemas: usize,
    positive_values: usize,
    negative_values: usize,
    raw_draws: usize,
    raw_invalid: Vec<String>,
    cannot: BTreeMap<String, usize>,
    rules: BTreeMap<String, usize>,
}

fn check_spec(name: &str, spec: &Spec, tally: &mut Tally, failures: &mut Vec<String>) {
    let g = Generator::new(spec);
    for (k, (schema, carrier)) in request_schemas(spec).into_iter().enumerate() {
        tally.schemas += 1;
        let at = format!("{name} {}", spec.schema_pointer(schema));
        let seed = k as u64;
        match g.positive(schema, seed, 3, carrier) {
            Ok(values) => {
                for v in values {
                    tally.positive_values += 1;
                    if !g.is_valid(schema, &v, carrier) {
                        failures.push(format!("{at}: positive value {v} is invalid"));
                    }
                }
            }
            Err(e) => {
                *tally
                    .cannot
                    .entry(e.reason.chars().take(60).collect())
                    .or_default() += 1;
                continue;
            }
        }
        for shape in [Shape::Smallest, Shape::Largest, Shape::Random] {
            if let Ok(v) = g.draw(schema, seed, shape) {
                tally.raw_draws += 1;
                if !g.is_valid(schema, &v, carrier) {
                    tally.raw_invalid.push(format!("{at}: {shape:?} draw {v}"));
                }
            }
        }
        match g.negative(schema, seed, 4, carrier) {
            Ok(list) => {
                for n in list {
                    tally.negative_values += 1;
                    *tally
                        .rules
                        .entry(n.mutation.rule.name().to_string())
                        .or_default() += 1;
                    if !g.breaks_rule(schema, &n.value, n.mutation.rule, carrier) {
                        failures.push(format!(
                            "{at}: negative value {} does not break `{}`",
                            n.value, n.mutation.rule
                        ));
                    }
                }
            }
            Err(e) => failures.push(format!("{at}: negative failed after positive worked: {e}")),
        }
    }
}

#[test]
fn generated_values_keep_their_promises() {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut files: Vec<PathBuf> = yaml_files(&root().join("specs"));
    files.extend(yaml_files(&root().join("tests/fixtures")));
    let mut loaded = 0;
    for file in &files {
        // Fixtures include suite files and deliberately broken specs.
        let Ok(spec) = spec::load(file) else { continue };
        loaded += 1;
        check_spec(
            &file.display().to_string(),
            &spec,
            &mut tally,
            &mut failures,
        );
    }
    assert!(
        loaded >= 4,
        "expected the bundled specs and fixtures, loaded {loaded}"
    );
    let local = tally.schemas;
    let github = root().join("benches/data/package/generated/api.github.com.json");
    if github.exists() {
        let spec = spec::load(&github).expect("GitHub's description loads");
        check_spec("github", &spec, &mut tally, &mut failures);
        eprintln!(
            "GitHub REST description: {} request schemas",
            tally.schemas - local
        );
    } else {
        eprintln!(
            "GitHub REST description absent ({}): run benches/fetch-github-spec.sh to include it",
            github.display()
        );
    }
    eprintln!(
        "{} schemas ({local} bundled/fixtures), {} positive and {} negative values, {} raw draws ({} invalid) in {:?}",
        tally.schemas,
        tally.positive_values,
        tally.negative_values,
        tally.raw_draws,
        tally.raw_invalid.len(),
        started.elapsed()
    );
    eprintln!("rules broken: {:?}", tally.rules);
    eprintln!("cannot generate: {:?}", tally.cannot);
    for r in tally.raw_invalid.iter().take(10) {
        eprintln!("raw invalid: {r}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let cannot: usize = tally.cannot.values().sum();
    assert!(
        cannot * 50 <= tally.schemas,
        "more than 2% of schemas cannot generate: {:?}",
        tally.cannot
    );
    assert!(
        tally.raw_invalid.len() * 50 <= tally.raw_draws,
        "more than 2% of unfiltered draws are invalid: {:?}",
        &tally.raw_invalid[..tally.raw_invalid.len().min(10)]
    );
    assert!(
        tally.negative_values > 0 && tally.rules.len() >= 5,
        "{:?}",
        tally.rules
    );
}
