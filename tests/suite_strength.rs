//! The bundled suites are strong: against the reference servers every case
//! passes, and every deliberate fault makes at least one case fail.
//! Runs in-process against servers on 127.0.0.1:0.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use apiconform::report::{Event, RunInfo};
use apiconform::result::CaseStatus;
use apiconform::run::{self, Filters, RunConfig, Runner, Target};
use apiconform::serve::{self, Api, ServeConfig};
use apiconform::suite::vars::ExternalVars;
use apiconform::suite::{LoadOptions, Suite, load_paths};

/// Runs one bundled suite folder against a fresh server with `fault`;
/// returns the names of the failed cases and the number of cases.
async fn run_suite(api: Api, folder: &str, fault: Option<&str>) -> (Vec<String>, usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suites: Vec<Arc<Suite>> =
        load_paths(&[root.join("cases").join(folder)], &LoadOptions::default())
            .expect("bundled suites load");
    let listener = run::webhook::listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("webhook listener");
    let mut config = ServeConfig::new(api);
    config.fault = fault.map(str::to_string);
    if api == Api::EnableNow {
        config
            .webhooks
            .push(("en-app-ref-002".into(), listener.url("/enablenow")));
    }
    let server = serve::start(config).await.expect("reference server starts");
    let targets: HashMap<PathBuf, Target> = suites
        .iter()
        .map(|s| {
            (
                s.file.clone(),
                Target {
                    base_url: server.base_url(),
                    note: None,
                },
            )
        })
        .collect();
    let runner = Arc::new(
        Runner::new(
            &suites,
            &targets,
            &ExternalVars::default(),
            RunConfig::default(),
            Some(listener.inbox.clone()),
        )
        .expect("runner"),
    );
    let plan = run::plan(&suites, &Filters::default(), None);
    let total = plan.len();
    let info = RunInfo {
        tool_version: "test",
        started: std::time::SystemTime::now(),
        suites: Vec::new(),
        case_count: total,
        partition: None,
    };
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    runner.run(plan, info, tx).await;
    let _ = server.shutdown().await;
    let failed = rx
        .try_iter()
        .filter_map(|e| match e {
            Event::CaseFinished(c) if c.status == CaseStatus::Failed => Some(c.full_name()),
            _ => None,
        })
        .collect();
    (failed, total)
}

fn check_api(api: Api, folder: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (failed, total) = rt.block_on(run_suite(api, folder, None));
    assert!(total > 20, "{folder}: only {total} cases");
    assert!(
        failed.is_empty(),
        "{folder} fails against the correct server: {failed:#?}"
    );

    let faults: Vec<&serve::Fault> = serve::faults().iter().filter(|f| f.api == api).collect();
    assert!(faults.len() >= 12, "{folder}: only {} faults", faults.len());
    let mut missed = Vec::new();
    println!("{folder}: {total} cases; fault -> failing cases");
    for fault in faults {
        let (failed, _) = rt.block_on(run_suite(api, folder, Some(fault.name)));
        println!(
            "  {:<40} {:>3}  e.g. {}",
            fault.name,
            failed.len(),
            failed.first().map_or("-", String::as_str)
        );
        if failed.is_empty() {
            missed.push(fault.name);
        }
    }
    assert!(
        missed.is_empty(),
        "{folder}: faults no case catches: {missed:?}"
    );
}

#[test]
fn enablenow_suite_catches_every_fault() {
    check_api(Api::EnableNow, "enablenow");
}

#[test]
fn mycloud_suite_catches_every_fault() {
    check_api(Api::MyCloud, "mycloud");
}
