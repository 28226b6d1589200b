//! No panic and no hang on any input: generated and mutated case files,
//! specs and templates go to the loaders (in process) and to `check` (the
//! binary); each must end with a value or a diagnostic within a time bound.
//! Bounded: a fixed number of cases per property, a few seconds in all.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One input may take this long (a debug build on a loaded 2-core machine).
const BOUND: Duration = Duration::from_secs(20);

/// Fragments that tend to break parsers: YAML structure, templates,
/// numbers at the edges, unusual characters.
const TOKENS: &[&str] = &[
    "\n",
    "  ",
    "\t",
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!binary ",
    "<<: *a",
    "---\n",
    "...",
    "{{",
    "}}",
    "{{ now(+3000000d) }}",
    "{{ now_ms(-99999999999999h) }}",
    "{{ random(0) }}",
    "{{ env. }}",
    "{{ x",
    "$ref: \"#/x\"",
    "$ref: other.yaml",
    "%7B",
    "~1",
    "-1",
    "18446744073709551616",
    "1e400",
    "null",
    "~",
    "0x1F",
    "\u{0}",
    "\u{feff}",
    "é",
    "\r\n",
    "? complex\n: key\n",
    "pattern: '(?<n>a)\\k<n>'",
    "pattern: '\\p{XDigit}'",
    "type: 7",
    "status: 999",
    "operation: nope",
    "swagger: \"2.0\"",
    "openapi: 3.1.0",
];

/// Runs `f` on a thread and fails if it panics or outlasts [`BOUND`].
fn bounded<F: FnOnce() + Send + 'static>(what: &str, f: F) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(BOUND) {
        Ok(()) => {
            if handle.join().is_err() {
                panic!("panicked on {what}");
            }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("panicked on {what}"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no answer within {BOUND:?} on {what}"),
    }
}

/// A mutation: at a relative position, delete some bytes and insert a token.
fn mutation() -> impl Strategy<Value = (f64, usize, usize)> {
    (0.0..1.0f64, 0usize..8, 0..TOKENS.len())
}

fn mutate(text: &str, edits: &[(f64, usize, usize)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, delete, token) in edits {
        let i = ((chars.len() as f64) * at) as usize;
        let i = i.min(chars.len());
        let end = (i + delete).min(chars.len());
        chars.splice(i..end, TOKENS[token].chars());
    }
    chars.into_iter().collect()
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(common::fixture(name)).expect("fixture")
}

/// A scratch folder with the fixtures a mutated suite may refer to.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiconform-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["pets-api.yaml", "petstore-30.yaml", "common.yaml"] {
        let _ = std::fs::copy(common::fixture(f), dir.join(f));
    }
    dir
}

fn load_suite(path: &Path) {
    let options = apiconform::suite::LoadOptions::default();
    let _ = apiconform::suite::load_paths(&[path.to_path_buf()], &options);
}

fn load_spec(path: &Path) {
    if let Ok(spec) = apiconform::spec::load(path) {
        let _ = apiconform::spec::lint::lint(&spec);
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        // Shrinking re-runs the loader many times; the failing input is
        // printed as is instead.
        max_shrink_iters: 0,
        ..Config::default()
    })
}

#[test]
fn mutated_case_files_load_or_fail_cleanly() {
    let dir = scratch();
    let seeds = [
        fixture_text("pets-suite.yaml"),
        fixture_text("bad/unknown-field.yaml"),
    ];
    let mut runner = runner(48);
    let n = AtomicUsize::new(0);
    runner
        .run(
            &(0..seeds.len(), prop::collection::vec(mutation(), 1..6)),
            |(seed, edits)| {
                let n = n.fetch_add(1, Ordering::Relaxed);
                let text = mutate(&seeds[seed], &edits);
                let file = dir.join(format!("suite-{n}.yaml"));
                std::fs::write(&file, &text).expect("write");
                bounded(&text.clone(), move || load_suite(&file));
                Ok(())
            },
        )
        .expect("no panic, no hang");
}

#[test]
fn mutated_specs_load_or_fail_cleanly() {
    let dir = scratch();
    let seeds = [
        fixture_text("petstore-30.yaml"),
        fixture_text("pets-api-swagger2.yaml"),
        fixture_text("real-patterns.yaml"),
        fixture_text("petstore-31.yaml"),
    ];
    let mut runner = runner(48);
    let n = AtomicUsize::new(0);
    runner
        .run(
            &(0..seeds.len(), prop::collection::vec(mutation(), 1..6)),
            |(seed, edits)| {
                let n = n.fetch_add(1, Ordering::Relaxed);
                let text = mutate(&seeds[seed], &edits);
                let file = dir.join(format!("spec-{n}.yaml"));
                std::fs::write(&file, &text).expect("write");
                bounded(&text.clone(), move || load_spec(&file));
                Ok(())
            },
        )
        .expect("no panic, no hang");
}

#[test]
fn generated_templates_parse_or_fail_cleanly() {
    let mut runner = runner(256);
    let piece = prop_oneof![
        prop::sample::select(TOKENS).prop_map(str::to_string),
        "[a-z_.()+0-9, -]{0,12}",
        prop::sample::select(
            &[
                "now(",
                "now_ms(",
                "random(",
                "random_int(",
                "uuid()",
                "env.",
                "d)",
                "h)",
                "w)",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    runner
        .run(&prop::collection::vec(piece, 0..8), |pieces| {
            let text = pieces.concat();
            let shown = text.clone();
            bounded(&shown, move || {
                if let Ok(t) = apiconform::suite::template::Template::parse(&text) {
                    let scope = std::collections::HashMap::new();
                    let _ = t.render_string(&scope);
                }
            });
            Ok(())
        })
        .expect("no panic, no hang");
}

#[test]
fn check_answers_every_mutated_input_with_a_documented_exit_code() {
    let dir = scratch();
    let seeds = [
        fixture_text("pets-suite.yaml"),
        fixture_text("petstore-30.yaml"),
    ];
    let mut runner = runner(12);
    let n = AtomicUsize::new(0);
    runner
        .run(
            &(0..seeds.len(), prop::collection::vec(mutation(), 1..4)),
            |(seed, edits)| {
                let n = n.fetch_add(1, Ordering::Relaxed);
                let text = mutate(&seeds[seed], &edits);
                let file = dir.join(format!("check-{n}.yaml"));
                std::fs::write(&file, &text).expect("write");
                let out = common::apiconform(&["check", &file.display().to_string()]);
                let err = common::stderr(&out);
                prop_assert!(
                    matches!(out.status.code(), Some(0 | 2)),
                    "exit {:?} on:\n{text}\n{err}",
                    out.status.code()
                );
                prop_assert!(!err.contains("panicked"), "{err}");
                Ok(())
            },
        )
        .expect("clean diagnostics");
}
