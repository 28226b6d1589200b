//! Issue 10, runner side, through the real binary: honest skip accounting
//! and certify's three verdicts, interruption by signals, snapshots found
//! from the suite, `-v` output held per case, and stale keep-alive
//! connections.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_apiconform");

/// The binary with colours off and a controlled environment.
fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    cmd(args).output().expect("run apiconform")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh folder under target/ (kept after the run for inspection).
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_trust")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create out dir");
    dir
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `apiconform serve NAME` as a child process, killed when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(name: &str) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", name, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line {line:?}")
        });
    Serve { child, base }
}

// ---- point 4: honest accounting ------------------------------------------

#[test]
fn webhook_cases_without_a_listener_are_skipped_everywhere() {
    let target = serve("enablenow");
    let dir = out_dir("skipped-webhooks");
    let out = run(&[
        "run",
        "cases/enablenow/webhook.yaml",
        "--base-url",
        &target.base,
        "--json",
        &p(&dir, "r.json"),
        "--junit",
        &p(&dir, "r.xml"),
        "--html",
        &p(&dir, "r.html"),
        "--markdown",
        &p(&dir, "r.md"),
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{console}{}", text(&out.stderr));
    assert!(!console.contains("PASS "), "{console}");
    let skip_lines = console.lines().filter(|l| l.starts_with("SKIP ")).count();
    assert!(skip_lines >= 2, "{console}");
    assert!(console.contains("no webhook listener"), "{console}");
    assert!(
        console.contains(&format!("0 passed, 0 failed, {skip_lines} skipped")),
        "{console}"
    );

    let json: serde_json::Value = serde_json::from_str(&read(&dir, "r.json")).expect("json");
    assert_eq!(json["totals"]["skipped"], skip_lines);
    assert_eq!(json["totals"]["passed"], 0);
    assert_eq!(json["totals"]["not_verified"], 0);
    for c in json["cases"].as_array().expect("cases") {
        assert_eq!(c["status"], "skipped", "{c}");
        let reason = c["skip_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no webhook listener"), "{reason}");
    }
    let junit = read(&dir, "r.xml");
    assert_eq!(
        junit.matches("<skipped message=\"step `").count(),
        skip_lines,
        "{junit}"
    );
    let html = read(&dir, "r.html");
    assert!(html.contains("skipped: step `the event arrives` skipped: no webhook listener"));
    assert!(html.matches("pill skipped").count() >= skip_lines, "html");
    let md = read(&dir, "r.md");
    assert!(
        md.contains(&format!("| 0 | 0 | 0 | {skip_lines} |")),
        "{md}"
    );
    assert!(md.contains("no webhook listener"), "{md}");

    // merge reads the new counters back.
    let merged = p(&dir, "merged.json");
    let m = run(&["report", "merge", &p(&dir, "r.json"), "--json", &merged]);
    assert_eq!(m.status.code(), Some(0), "{}", text(&m.stderr));
    let mj: serde_json::Value = serde_json::from_str(&read(&dir, "merged.json")).expect("json");
    assert_eq!(mj["totals"], json["totals"]);
}

#[test]
fn certify_names_unverified_requirements_and_says_incomplete() {
    let target = serve("enablenow");
    let dir = out_dir("certify-incomplete");
    let out = run(&[
        "certify",
        "cases/enablenow/webhook.yaml",
        "--base-url",
        &target.base,
        "--out",
        &p(&dir, "cert"),
    ]);
    let console = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{console}{}", text(&out.stderr));
    let named: Vec<&str> = console
        .lines()
        .filter(|l| l.starts_with("not verified: must requirement EN-HOOK-"))
        .collect();
    assert!(named.len() >= 2, "{console}");
    assert!(
        named.iter().all(|l| l.contains("no webhook listener")),
        "{console}"
    );
    assert!(console.contains("INCOMPLETE: 0/"), "{console}");
    let cert: serde_json::Value =
        serde_json::from_str(&read(&dir.join("cert"), "certificate.json")).expect("json");
    assert_eq!(cert["verdict"], "incomplete");
    assert!(read(&dir.join("cert"), "certificate.md").contains("INCOMPLETE"));

    // The same suite against the embedded server (a receiver wired in)
    // verifies everything.
    let full = run(&[
        "certify",
        "cases/enablenow/webhook.yaml",
        "--out",
        &p(&dir, "full"),
    ]);
    let console = text(&full.stdout);
    assert_eq!(full.status.code(), Some(0), "{console}");
    assert!(console.contains("CONFORMANT: "), "{console}");
    assert!(!console.contains("not verified:"), "{console}");
}
