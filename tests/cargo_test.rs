//! The `cargo test` entry point ([`apiconform::testing`]) driven in-process
//! with libtest's flags, against the in-test pets API.

mod common;

use apiconform::testing::{Options, run, trial_names};
use common::{Mode, TestServer, fixture};
use libtest_mimic::Arguments;

fn options(files: &[&str], base_url: Option<String>) -> Options {
    Options {
        suites: files.iter().map(|f| fixture(f)).collect(),
        suites_explicit: true,
        base_url,
        webhook_listen: None,
    }
}

/// libtest flags; output goes to a log file (not into this test's output).
fn args(flags: &[&str]) -> Arguments {
    let mut a = Arguments::from_iter(std::iter::once("conformance").chain(flags.iter().copied()));
    a.logfile = Some(log_path(flags).display().to_string());
    a
}

fn log_path(flags: &[&str]) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cargo-test-logs");
    let _ = std::fs::create_dir_all(&dir);
    let thread = std::thread::current();
    let name: String = thread
        .name()
        .unwrap_or("main")
        .chars()
        .chain("_".chars())
        .chain(flags.join("_").chars())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    dir.join(format!("{name}.log"))
}

#[test]
fn each_case_is_a_trial_named_suite_and_case() {
    let names = trial_names(&options(&["pets-suite.yaml", "pets-ignore.yaml"], None)).unwrap();
    assert_eq!(
        names,
        [
            "pets::create, read and delete a pet",
            "pets::unknown pet is 404 problem",
            "pets::no token is 401",
            "pets::bad body is 400",
            "pets-ignore::list pets",
            "pets-ignore::slow soak",
        ]
    );
}

#[test]
fn filters_threads_and_failures_behave_like_libtest() {
    let server = TestServer::start(Mode::BreakSchema);
    let opts = options(&["pets-suite.yaml"], Some(server.url()));
    let all = run(&opts, &args(&["--test-threads", "2"])).unwrap();
    assert_eq!((all.num_passed, all.num_failed), (3, 1));

    let one = run(&opts, &args(&["unknown pet"])).unwrap();
    assert_eq!(
        (one.num_passed, one.num_failed, one.num_filtered_out),
        (1, 0, 3)
    );

    let exact = run(&opts, &args(&["--exact", "pets::no token is 401"])).unwrap();
    assert_eq!((exact.num_passed, exact.num_filtered_out), (1, 3));

    let skip = run(&opts, &args(&["--skip", "create", "--test-threads", "1"])).unwrap();
    assert_eq!((skip.num_passed, skip.num_failed), (3, 0));
}

#[test]
fn cases_tagged_ignore_run_only_with_ignored() {
    let server = TestServer::start(Mode::Good);
    let opts = options(&["pets-ignore.yaml"], Some(server.url()));
    let default = run(&opts, &args(&[])).unwrap();
    assert_eq!((default.num_passed, default.num_ignored), (1, 1));
    let ignored = run(&opts, &args(&["--ignored"])).unwrap();
    assert_eq!((ignored.num_passed, ignored.num_filtered_out), (1, 1));
    let both = run(&opts, &args(&["--include-ignored"])).unwrap();
    assert_eq!(both.num_passed, 2);
}

#[test]
fn listing_needs_no_target_and_an_unreachable_one_fails_each_trial() {
    // No base URL and no embedded server for these suites: --list still works...
    let opts = options(&["pets-suite.yaml"], None);
    let listed = run(&opts, &args(&["--list"])).unwrap();
    assert_eq!(listed.num_failed, 0);
    let list = std::fs::read_to_string(log_path(&["--list"])).unwrap();
    assert!(
        list.contains("pets::unknown pet is 404 problem: test\n"),
        "{list}"
    );
    assert_eq!(
        list.lines().filter(|l| l.ends_with(": test")).count(),
        4,
        "{list}"
    );
    // ...and running says why, per trial.
    let ran = run(&opts, &args(&["--test-threads", "1"])).unwrap();
    assert_eq!(ran.num_failed, 4);
    let log = std::fs::read_to_string(log_path(&["--test-threads", "1"])).unwrap();
    assert!(log.contains("set APICONFORM_BASE_URL"), "{log}");
}

#[test]
fn missing_default_folder_means_no_trials_but_a_named_one_is_an_error() {
    let mut opts = options(&["no-such-folder"], None);
    opts.suites_explicit = false;
    let c = run(&opts, &args(&[])).unwrap();
    assert_eq!(c.num_passed + c.num_failed, 0);
    opts.suites_explicit = true;
    let e = run(&opts, &args(&[])).unwrap_err();
    assert!(e.contains("no such file or folder"), "{e}");
}
