//! The bundled suites are strong and fair: against the reference servers
//! every case passes; every deliberate fault makes a `must` case fail, so
//! the certificate says NOT CONFORMANT; and every variant (another reading
//! the documents allow) leaves the certificate CONFORMANT, failing at most
//! `should` cases that cite the variant's decision.
//! Runs in-process against servers on 127.0.0.1:0.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use apiconform::report::certificate::{Certificate, Verdict};
use apiconform::report::model::ReportBuilder;
use apiconform::report::{Event, RunInfo};
use apiconform::result::CaseStatus;
use apiconform::run::{self, Filters, RunConfig, Runner, Target};
use apiconform::serve::{self, Api, ServeConfig};
use apiconform::suite::vars::ExternalVars;
use apiconform::suite::{LoadOptions, Suite, load_paths};

/// A failed case: its full name, whether its requirement is `should`, and
/// the requirement's source.
#[derive(Debug)]
struct Failed {
    name: String,
    advisory: bool,
    source: String,
}

/// What one run showed.
struct Outcome {
    failed: Vec<Failed>,
    total: usize,
    verdict: Verdict,
}

/// Which deviation a run switches on.
#[derive(Clone, Copy)]
enum Switch<'a> {
    None,
    Fault(&'a str),
    Variant(&'a str),
}

/// Runs one bundled suite folder against a fresh server with `switch` on;
/// returns the failed cases, the number of cases and the certificate verdict.
async fn run_suite(api: Api, folder: &str, switch: Switch<'_>) -> Outcome {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suites: Vec<Arc<Suite>> =
        load_paths(&[root.join("cases").join(folder)], &LoadOptions::default())
            .expect("bundled suites load");
    let listener = run::webhook::listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("webhook listener");
    let mut config = ServeConfig::new(api);
    match switch {
        Switch::None => {}
        Switch::Fault(name) => config.fault = Some(name.to_string()),
        Switch::Variant(name) => config.variant = Some(name.to_string()),
    }
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
        network: Default::default(),
        profile: None,
    };
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    runner.run(plan, info, tx).await;
    let _ = server.shutdown().await;
    let events: Vec<Event> = rx.try_iter().collect();
    let failed = events
        .iter()
        .filter_map(|e| match e {
            Event::CaseFinished(c) if c.status == CaseStatus::Failed => Some(Failed {
                name: c.full_name(),
                advisory: c.requirement.as_ref().is_some_and(|r| r.is_advisory()),
                source: c
                    .requirement
                    .as_ref()
                    .and_then(|r| r.source.clone())
                    .unwrap_or_default(),
            }),
            _ => None,
        })
        .collect();
    let mut builder = ReportBuilder::new(&suites);
    let report = events
        .iter()
        .filter_map(|e| builder.observe(e))
        .last()
        .expect("the run produces a report");
    Outcome {
        failed,
        total,
        verdict: Certificate::from_report(&report).verdict,
    }
}

/// Whether `source` cites `decision` (`M7` in "M7 (added part)", not in "M17").
fn cites(source: &str, decision: &str) -> bool {
    source
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == decision)
}

fn check_api(api: Api, folder: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let clean = rt.block_on(run_suite(api, folder, Switch::None));
    let total = clean.total;
    assert!(total > 20, "{folder}: only {total} cases");
    assert!(
        clean.failed.is_empty(),
        "{folder} fails against the correct server: {:#?}",
        clean.failed
    );
    assert_eq!(clean.verdict, Verdict::Conformant);

    let faults: Vec<&serve::Fault> = serve::faults().iter().filter(|f| f.api == api).collect();
    assert!(faults.len() >= 12, "{folder}: only {} faults", faults.len());
    let mut missed = Vec::new();
    println!("{folder}: {total} cases; fault -> failing must cases");
    for fault in faults {
        let run = rt.block_on(run_suite(api, folder, Switch::Fault(fault.name)));
        let binding: Vec<&Failed> = run.failed.iter().filter(|f| !f.advisory).collect();
        println!(
            "  {:<40} {:>3}  e.g. {}",
            fault.name,
            binding.len(),
            binding.first().map_or("-", |f| f.name.as_str())
        );
        if binding.is_empty() || run.verdict != Verdict::NotConformant {
            missed.push(fault.name);
        }
    }
    assert!(
        missed.is_empty(),
        "{folder}: faults no must case catches (the certificate would pass): {missed:?}"
    );
}

fn check_variants(api: Api, folder: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let variants: Vec<&serve::Variant> =
        serve::variants().iter().filter(|v| v.api == api).collect();
    assert!(
        variants.len() >= 6,
        "{folder}: only {} variants",
        variants.len()
    );
    let mut unfair = Vec::new();
    println!("{folder}: variant (decision) -> failing should cases");
    for v in variants {
        let run = rt.block_on(run_suite(api, folder, Switch::Variant(v.name)));
        println!(
            "  {:<36} {:<4} {:>3}  {}",
            v.name,
            v.decision,
            run.failed.len(),
            run.failed
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let wrong: Vec<&Failed> = run
            .failed
            .iter()
            .filter(|f| !f.advisory || !cites(&f.source, v.decision))
            .collect();
        if run.verdict != Verdict::Conformant || !wrong.is_empty() {
            unfair.push(format!("{} ({:?}): {wrong:?}", v.name, run.verdict));
        }
    }
    assert!(
        unfair.is_empty(),
        "{folder}: variants the suite wrongly refuses: {unfair:#?}"
    );
}

#[test]
fn cites_matches_whole_decision_ids() {
    assert!(cites("M7 (added part: null fileIds)", "M7"));
    assert!(cites("E13, E18", "E18"));
    assert!(!cites("M17", "M7"));
}

#[test]
fn enablenow_suite_accepts_every_variant() {
    check_variants(Api::EnableNow, "enablenow");
}

#[test]
fn mycloud_suite_accepts_every_variant() {
    check_variants(Api::MyCloud, "mycloud");
}

#[test]
fn enablenow_suite_catches_every_fault() {
    check_api(Api::EnableNow, "enablenow");
}

#[test]
fn mycloud_suite_catches_every_fault() {
    check_api(Api::MyCloud, "mycloud");
}
