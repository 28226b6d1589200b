//! Data-driven cases (`rows:`), end to end against the pets test server on
//! 127.0.0.1: inline and CSV rows, names and requirement ids per row,
//! filters, retries, and load-time diagnostics.

mod common;

use std::path::{Path, PathBuf};

use common::{Mode, TestServer, apiconform, fixture, stderr, stdout};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("apiconform-rows-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).expect("write");
    f
}

/// The number of pets the server holds now.
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

const HEAD: &str = r#"name: rows
credentials:
  owner: {bearer: test-token}
default_credential: owner
"#;

/// A data-driven case over the pets server (`rows` is the `rows:` value).
fn rows_suite(d: &Path, rows: &str) -> PathBuf {
    let suite = format!(
        r#"spec: {spec}
{HEAD}cases:
  - name: "create a pet named {{{{ row.name }}}}"
    tags: [rows]
    requirement: {{id: PET-ROWS, text: "A pet named {{{{ row.name }}}} is created.", level: must, source: test}}
    rows: {rows}
    steps:
      - operation: createPet
        body: {{name: "{{{{ row.name }}}}", tag: "{{{{ row.tag }}}}"}}
        expect:
          status: 201
          body: {{$.tag: {{equals: "{{{{ row.tag }}}}"}}}}
        capture: {{pet_id: {{body: $.id}}}}
    cleanup:
      - operation: deletePet
        path: {{petId: "{{{{ pet_id }}}}"}}
        expect: {{status: 204}}
"#,
        spec = fixture("pets-api.yaml").display()
    );
    write(d, "rows.yaml", &suite)
}

type Cases = Vec<(String, String)>;

/// Runs a rows suite with extra arguments; returns the output and the
/// JSON report's (name, requirement id) per case.
fn run_rows(file: &Path, server: &TestServer, extra: &[&str]) -> (std::process::Output, Cases) {
    let json = file.with_extension("json");
    let (f, url, j) = (
        file.display().to_string(),
        server.url(),
        json.display().to_string(),
    );
    let mut args = vec!["run", &f, "--base-url", &url, "--no-progress", "--json", &j];
    args.extend_from_slice(extra);
    let out = apiconform(&args);
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let cases = report["cases"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap_or_default().to_string();
                    let id = c["requirement"]["id"].as_str().unwrap_or_default();
                    (name, id.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    (out, cases)
}

#[test]
fn inline_rows_expand_into_one_named_case_per_row() {
    let server = TestServer::start(Mode::Good);
    let d = dir("inline");
    let file = rows_suite(
        &d,
        "[{name: rex, tag: good-boy}, {name: fido, tag: bad-boy}]",
    );
    let (out, cases) = run_rows(&file, &server, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "2 passed, 0 failed"), "{text}");
    let want: Cases = vec![
        ("create a pet named rex".into(), "PET-ROWS.1".into()),
        ("create a pet named fido".into(), "PET-ROWS.2".into()),
    ];
    assert_eq!(cases, want);
    // Each row's cleanup ran.
    assert_eq!(pet_count(&server), 0);
    // Filters select rows like any case.
    let (out, cases) = run_rows(&file, &server, &["--name", "fido"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0].0, "create a pet named fido");
}

#[test]
fn csv_rows_are_read_relative_to_the_suite() {
    let server = TestServer::start(Mode::Good);
    let d = dir("csv");
    write(
        &d,
        "pets.csv",
        "name,tag\nrex,good-boy\nfido,\"bad, boy\"\n",
    );
    let file = rows_suite(&d, "pets.csv");
    let (out, cases) = run_rows(&file, &server, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_eq!(cases.len(), 2, "{cases:?}");
    assert_eq!(pet_count(&server), 0);
}

#[test]
fn a_failing_row_is_its_own_case_and_is_retried() {
    let server = TestServer::start(Mode::Good);
    let d = dir("fail");
    // An empty name is a 400, so that row fails; the other passes.
    let file = rows_suite(&d, "[{name: rex, tag: good-boy}, {name: \"\", tag: x}]");
    let (out, cases) = run_rows(&file, &server, &["--retries", "1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l == "1 passed, 1 failed"), "{text}");
    assert_eq!(cases.len(), 2);
    let json = std::fs::read_to_string(file.with_extension("json")).expect("report");
    assert!(
        json.contains("\"attempts\": 2") || json.contains("\"attempts\":2"),
        "{json}"
    );
}

#[test]
fn check_reports_row_problems_with_positions() {
    let d = dir("diag");
    let suite = format!(
        r#"spec: {spec}
{HEAD}cases:
  - name: no row field in this name
    rows: [{{kind: a}}]
    steps:
      - operation: listPets
  - name: "uses {{{{ row.kind }}}}"
    rows: [{{kind: a}}, 7]
    steps:
      - operation: getPet
        path: {{petId: "{{{{ row.nope }}}}"}}
  - name: "from {{{{ row.kind }}}}"
    rows: missing.csv
    steps:
      - operation: listPets
"#,
        spec = fixture("pets-api.yaml").display()
    );
    let file = write(&d, "rows.yaml", &suite);
    let out = apiconform(&["check", &file.display().to_string()]);
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{err}");
    let f = file.display().to_string();
    assert!(
        err.contains(&format!("{f}:7:11: a case with `rows:`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:12:23: a row is a mapping")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:15:23: undefined variable `row.nope`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:17:11: cannot read rows file")),
        "{err}"
    );
}
