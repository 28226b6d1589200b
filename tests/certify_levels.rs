//! `certify` through the real binaries: a reference server started with
//! `serve --variant` (another reading the documents allow) is certified
//! CONFORMANT with the variant's `should` requirement reported as advisory;
//! with `--fault` it is NOT CONFORMANT through a `must` requirement.
//! Traffic stays on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_apiconform");

/// A server process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "mycloud", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn apiconform serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        let _ = child.kill();
        panic!("unexpected first line {line:?}");
    };
    Server { child, base }
}

fn certify(base: &str, out: &PathBuf) -> Output {
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["certify", "cases/mycloud", "--base-url", base, "--out"])
        .arg(out)
        .output()
        .expect("run certify")
}

fn out_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("apiconform-cert-{tag}-{}", uuid::Uuid::new_v4()))
}

fn row<'a>(cert: &'a Value, id: &str) -> &'a Value {
    cert["requirements"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no requirement {id}"))
}

#[test]
fn a_variant_is_conformant_with_an_advisory_should() {
    let server = serve(&["--variant", "owner-checked-before-list"]);
    let dir = out_dir("variant");
    let out = certify(&server.base, &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("advisory: should requirement MC-ERR-14 not met (M8)"),
        "{stdout}"
    );
    assert!(stdout.contains("CONFORMANT: "), "{stdout}");
    assert!(stdout.contains("[advisory: should, M8]"), "{stdout}");
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("certificate.json")).expect("certificate.json"),
    )
    .expect("certificate is JSON");
    assert_eq!(cert["verdict"], "conformant");
    let advisory = row(&cert, "MC-ERR-14");
    assert_eq!(advisory["level"], "should");
    assert_eq!(advisory["source"], "M8");
    assert_eq!(advisory["result"], "not_met");
    assert_eq!(row(&cert, "MC-ERR-12")["level"], "must");
    let md = std::fs::read_to_string(dir.join("certificate.md")).expect("certificate.md");
    assert!(md.contains("| should (advisory) | M8 | not met |"), "{md}");
    let html = std::fs::read_to_string(dir.join("certificate.html")).expect("certificate.html");
    assert!(html.contains("advisory (should) not met"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fault_is_not_conformant_through_a_must() {
    let server = serve(&["--fault", "owner-mismatch-accepted"]);
    let dir = out_dir("fault");
    let out = certify(&server.base, &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("NOT CONFORMANT: "), "{stdout}");
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("certificate.json")).expect("certificate.json"),
    )
    .expect("certificate is JSON");
    let broken = row(&cert, "MC-ERR-12");
    assert_eq!(broken["level"], "must");
    assert_eq!(broken["result"], "not_met");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_variants_names_each_decision() {
    let out = Command::new(BIN)
        .args(["serve", "--list-variants"])
        .output()
        .expect("run serve --list-variants");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("id-checked-before-body") && text.contains("E31"),
        "{text}"
    );
    let bad = Command::new(BIN)
        .args(["serve", "enablenow", "--variant", "usecache-defaults-true"])
        .output()
        .expect("run serve");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("belongs to the mycloud API"));
}

fn certify_generated(base: &str, out: &PathBuf, extra: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "certify",
            "cases/generated/mycloud.yaml",
            "--base-url",
            base,
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run certify")
}

/// `certify --generate`: the generated cases of a `generate:` section become
/// one requirement group, `must` where the spec states it (a 500 for an
/// unknown share is undocumented: GEN-STATUS), `should` for our readings
/// (GEN-NO-SERVER-ERROR); without --generate they are left out.
#[test]
fn generated_cases_certify_as_their_own_group_only_with_generate() {
    let good = serve(&[]);
    let dir = out_dir("generate-good");
    let out = certify_generated(&good.base, &dir, &["--generate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("certificate.json")).expect("certificate"),
    )
    .expect("JSON");
    assert_eq!(cert["verdict"], "conformant");
    for (id, level) in [
        ("GEN-STATUS", "must"),
        ("GEN-SCHEMA", "must"),
        ("GEN-AUTH", "must"),
        ("GEN-POSITIVE", "should"),
    ] {
        let r = row(&cert, id);
        assert_eq!(r["level"], level, "{r}");
        assert_eq!(r["result"], "met", "{r}");
        assert_eq!(r["group"], "generated", "{r}");
    }
    let _ = std::fs::remove_dir_all(&dir);

    let faulty = serve(&["--fault", "unknown-share-500"]);
    let dir = out_dir("generate-fault");
    let out = certify_generated(&faulty.base, &dir, &["--generate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("certificate.json")).expect("certificate"),
    )
    .expect("JSON");
    assert_eq!(cert["verdict"], "not_conformant", "{stdout}");
    let status = row(&cert, "GEN-STATUS");
    assert_eq!(status["result"], "not_met", "{status}");
    assert!(
        status["cases"][0]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("500")),
        "{status}"
    );
    assert_eq!(row(&cert, "GEN-NO-SERVER-ERROR")["result"], "not_met");
    let _ = std::fs::remove_dir_all(&dir);

    // Without --generate there is nothing left to certify in that file.
    let dir = out_dir("generate-off");
    let out = certify_generated(&good.base, &dir, &[]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("left out of the certificate (include them with --generate)"),
        "{text}"
    );
    assert!(text.contains("no cases to certify"), "{text}");
}
