//! Diagnostics a newcomer meets, each pinned (insta) so its wording stays
//! something a user can act on. Targets are raw HTTP servers on 127.0.0.1
//! started inside the test, answering exactly the bytes a case needs.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{Scratch, apiconform, fixture, stderr, stdout};

/// Answers every connection with `head`, then (after `pause`) `tail`.
fn raw_server(head: Vec<u8>, pause: Duration, tail: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let (head, tail) = (head.clone(), tail.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(&head);
                let _ = stream.flush();
                std::thread::sleep(pause);
                let _ = stream.write_all(&tail);
            });
        }
    });
    format!("http://{addr}")
}

/// A spec with one operation answering `schema` as JSON.
fn one_operation_spec(scratch: &Scratch, schema: &str) -> String {
    scratch.write(
        "api.yaml",
        &format!(
            "openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\npaths:\n  /thing:\n    get:\n      operationId: getThing\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {schema}\n"
        ),
    );
    scratch.write(
        "suite.yaml",
        "spec: api.yaml\nname: t\ncases:\n  - name: get\n    steps:\n      - operation: getThing\n        expect: {status: 200}\n",
    )
}

fn json_response(body: &[u8], extra: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn run(suite: &str, base: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", suite, "--base-url", base, "--no-progress"];
    args.extend_from_slice(extra);
    apiconform(&args)
}

/// The failure detail lines of a run (from the `Failures:` heading on).
fn failures(text: &str) -> String {
    text.split_once("Failures:")
        .map(|(_, f)| f.trim().to_string())
        .unwrap_or_else(|| text.to_string())
}

#[test]
fn one_of_failures_say_why_each_branch_failed_or_which_matched() {
    let scratch = Scratch::new("oneof");
    let suite = one_operation_spec(&scratch, "{oneOf: [{type: integer}, {type: number}]}");
    let both = raw_server(json_response(b"7", ""), Duration::ZERO, Vec::new());
    let out = run(&suite, &both, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    insta::assert_snapshot!("one_of_matches_two", scratch.hide(&failures(&stdout(&out))));

    let check = apiconform(&[
        "check",
        "--spec",
        &scratch.0.join("api.yaml").display().to_string(),
    ]);
    assert_eq!(check.status.code(), Some(0));
    insta::assert_snapshot!("one_of_overlap_warning", scratch.hide(&stderr(&check)));

    let scratch = Scratch::new("anyof");
    let suite = one_operation_spec(
        &scratch,
        "{anyOf: [{type: object, required: [id]}, {type: string, minLength: 3}]}",
    );
    let neither = raw_server(
        json_response(b"{\"name\": 1}", ""),
        Duration::ZERO,
        Vec::new(),
    );
    let out = run(&suite, &neither, &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(
        "any_of_matches_none",
        scratch.hide(&failures(&stdout(&out)))
    );
}

#[test]
fn a_body_that_stalls_after_the_headers_says_so() {
    let scratch = Scratch::new("stall");
    let suite = one_operation_spec(&scratch, "{type: object}");
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n{\"a\":"
            .to_vec();
    let base = raw_server(head, Duration::from_secs(3), b" 1}".to_vec());
    let out = run(&suite, &base, &["--timeout", "300ms"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("the status and headers arrived, but the body did not complete within 300 ms (--timeout)"),
        "{text}"
    );
    assert!(!text.contains("no response within"), "{text}");
}

#[test]
fn compressed_bodies_are_decoded_within_the_size_limit() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let scratch = Scratch::new("gzip");
    let suite = one_operation_spec(&scratch, "{type: object, required: [ok]}");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(b"{\"ok\": true}").expect("gzip");
    let body = gz.finish().expect("gzip");
    let base = raw_server(
        json_response(&body, "content-encoding: gzip\r\n"),
        Duration::ZERO,
        Vec::new(),
    );
    let out = run(&suite, &base, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // A bomb: 64 KiB of zeros that decode past --max-body-size.
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![b' '; 64 * 1024]).expect("gzip");
    let bomb = gz.finish().expect("gzip");
    let base = raw_server(
        json_response(&bomb, "content-encoding: gzip\r\n"),
        Duration::ZERO,
        Vec::new(),
    );
    let out = run(&suite, &base, &["--max-body-size", "4096"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("the gzip-encoded body decodes to more than --max-body-size (4096 bytes)"),
        "{text}"
    );
    // Not gzip at all, though labelled so.
    let base = raw_server(
        json_response(b"{\"ok\": true}", "content-encoding: gzip\r\n"),
        Duration::ZERO,
        Vec::new(),
    );
    let text = stdout(&run(&suite, &base, &[]));
    assert!(
        text.contains(
            "the body is sent with Content-Encoding: gzip, but it does not decode as gzip"
        ),
        "{text}"
    );
}

#[test]
fn load_time_diagnostics_name_the_problem_and_suggest() {
    let scratch = Scratch::new("load");
    let spec = fixture("pets-api.yaml").display().to_string();
    let suite = scratch.write(
        "suite.yaml",
        &format!(
            "spec: {spec}\nname: s\nvariables: {{pet_name: rex}}\ncases:\n  - name: a\n    steps:\n      - operation: createPet\n        credential: admin\n        headers: {{X-Note: \"line one\\r\\nInjected: yes\"}}\n        body: {{name: \"{{{{ pet_nmae }}}}\"}}\n"
        ),
    );
    let out = apiconform(&["check", &suite]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("load_time_diagnostics", scratch.hide(&stderr(&out)));
}

#[test]
fn command_line_mistakes_get_plain_answers() {
    let suite = fixture("pets-suite.yaml").display().to_string();
    let out = apiconform(&["run", &suite, "--jobs", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the number of concurrent cases must be at least 1"),
        "{err}"
    );
    assert!(!err.contains("-- -1"), "{err}");
    let out = apiconform(&["run", &suite, "-q", "-v"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    let out = apiconform(&["list", &suite, "--color", "never"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("4 cases in 1 suite\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn yaml_parser_errors_read_as_sentences_about_the_file() {
    let scratch = Scratch::new("yaml");
    std::fs::copy(fixture("pets-api.yaml"), scratch.0.join("pets-api.yaml")).expect("copy");
    let head = "spec: pets-api.yaml\nname: s\ncases:\n";
    let step = "  - name: a\n    steps:\n      - operation: listPets\n";
    let deep = format!("{}x{}", "[".repeat(70), "]".repeat(70));
    // Checked with a node limit of 1,000 (APICONFORM_MAX_YAML_NODES), so the
    // file stays small.
    let many: Vec<String> = (0..2_000).map(|i| i.to_string()).collect();
    let long: Vec<String> = (0..20)
        .map(|i| format!("$.f{i}: {{equals: {i}}}"))
        .collect();
    let files = [
        (
            "nodes",
            format!(
                "{head}{step}        expect:\n          body:\n            $.x: {{one_of: [{}]}}\n",
                many.join(",")
            ),
        ),
        (
            "depth",
            format!(
                "{head}  - name: a\n    steps:\n      - operation: createPet\n        body: {{name: {deep}}}\n"
            ),
        ),
        (
            "recursive",
            format!("{head}  - &c\n    name: a\n    steps: [*c]\n"),
        ),
        (
            "duplicate",
            format!("{head}{step}        operation: listPets\n"),
        ),
        (
            "negative",
            format!(
                "{head}{step}        expect:\n          body:\n            $.items: {{length: -1}}\n"
            ),
        ),
        (
            "tab",
            format!("{head}{step}\t        expect: {{status: 200}}\n"),
        ),
        (
            "indent",
            format!("{head}{step}      expect:\n        status: 200\n"),
        ),
        (
            "long-line",
            format!(
                "{head}{step}        expect: {{status: 200, body: {{{}, $.bad: {{equals: [1, 2}}}}}}\n",
                long.join(", ")
            ),
        ),
    ];
    let mut shown = String::new();
    for (name, text) in files {
        let file = scratch.write(&format!("{name}.yaml"), &text);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
            .args(["check", &file])
            .env("APICONFORM_MAX_YAML_NODES", "1000")
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        for internal in [
            "budget breached",
            "weak recursion",
            "DuplicateKeyPolicy",
            "invalid u64",
        ] {
            assert!(!err.contains(internal), "{name}: {err}");
        }
        shown.push_str(&scratch.hide(&err));
        shown.push('\n');
    }
    insta::assert_snapshot!("yaml_parser_errors", shown);
    // The node limit is configurable.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args(["check", &scratch.0.join("nodes.yaml").display().to_string()])
        .env("APICONFORM_MAX_YAML_NODES", "5000")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_header_value_that_renders_a_line_break_fails_its_step_naming_the_header() {
    let scratch = Scratch::new("crlf");
    let spec = fixture("pets-api.yaml").display().to_string();
    let suite = scratch.write(
        "suite.yaml",
        &format!(
            "spec: {spec}\nname: s\nvariables: {{note: fine}}\ncases:\n  - name: a\n    steps:\n      - operation: listPets\n        headers: {{X-Note: \"{{{{ note }}}}\"}}\n"
        ),
    );
    // `check` cannot know the value; the step fails before anything is sent.
    let out = apiconform(&["check", &suite]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = apiconform(&[
        "run",
        &suite,
        "--base-url",
        "http://127.0.0.1:9",
        "--var",
        "note=line one\r\nInjected: yes",
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out) + &stderr(&out);
    let line = text
        .lines()
        .find(|l| l.contains("header `x-note`"))
        .unwrap_or_else(|| panic!("no line names the header:\n{text}"));
    insta::assert_snapshot!("rendered_header_line_break", line.trim());
}
