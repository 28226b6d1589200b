//! Snapshots are found from the suite, not the current directory: the
//! bundled suites pass when run from an unrelated folder, and a suite with
//! no snapshot folder anywhere above it names one beside itself.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target/tmp/snapshot-location").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn apiconform(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .current_dir(cwd)
        .args(args)
        .env("CI", "true")
        .env_remove("APICONFORM_BASE_URL")
        .output()
        .expect("run apiconform")
}

#[test]
fn bundled_suites_find_their_snapshots_from_another_folder() {
    let elsewhere = scratch("elsewhere");
    let cases = root().join("cases");
    let o = apiconform(
        &elsewhere,
        &[
            "run",
            &cases.join("enablenow").display().to_string(),
            &cases.join("mycloud").display().to_string(),
            "--no-progress",
            "-q",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.contains("no snapshot at"), "{out}");
    assert!(
        !elsewhere.join("snapshots").exists(),
        "nothing is written in the current folder"
    );
}

#[test]
fn a_suite_without_snapshots_names_a_folder_beside_itself() {
    let project = scratch("project");
    std::fs::create_dir_all(project.join(".git")).expect("project root marker");
    let suite_dir = project.join("api");
    std::fs::create_dir_all(&suite_dir).expect("suite dir");
    let suite = suite_dir.join("suite.yaml");
    assert_eq!(
        apiconform::snapshot::suite_snapshot_dir(&suite),
        suite_dir.join("snapshots")
    );
    std::fs::create_dir_all(project.join("snapshots")).expect("project snapshots");
    assert_eq!(
        apiconform::snapshot::suite_snapshot_dir(&suite),
        project.join("snapshots"),
        "the nearest existing folder above the suite wins"
    );
}
