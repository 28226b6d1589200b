//! The run machinery shared by `run`, `certify` and the `cargo test`
//! entry point ([`crate::testing`]): resolve each suite's target (a base
//! URL or the embedded reference server), open the webhook listener, build
//! the [`Runner`], run the plan while a thread feeds the reporters, and
//! shut everything down.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::embedded::Embedded;
use super::webhook::Listener;
use super::{self as run, Partition, PlannedCase, RunConfig, Runner, Target};
use crate::diag::Diagnostics;
use crate::event::{Event, Fanout, Reporter, RunInfo, RunSummary, SuiteInfo};
use crate::suite::Suite;
use crate::suite::vars::ExternalVars;

/// Where requests go, from the command line or the environment.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// Without it, each suite runs against its bundled reference server.
    pub base_url: Option<String>,
    /// Address for the webhook listener (`127.0.0.1:9000`).
    pub webhook_listen: Option<String>,
    /// The `apiconform.toml` profile the run uses, named in its reports.
    pub profile: Option<String>,
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("--webhook-listen: `{0}` is not an address like 127.0.0.1:9000")]
    BadAddress(String),
    #[error("--webhook-listen {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    /// No base URL and no embedded server for a suite.
    #[error(transparent)]
    Target(#[from] super::embedded::EmbeddedError),
    /// Variables or credentials that cannot be rendered.
    #[error("{0}")]
    Input(Diagnostics),
    #[error("writing a report failed: {0}")]
    Report(std::io::Error),
}

/// Everything a run needs once targets are resolved.
pub struct Prepared {
    pub runner: Arc<Runner>,
    pub targets: HashMap<PathBuf, Target>,
    embedded: Embedded,
    listener: Option<Listener>,
}

/// Resolves targets, opens the webhook listener and builds the runner.
/// Must be called inside the tokio runtime that will run the cases: the
/// embedded servers and the listener live on it.
pub async fn prepare(
    suites: &[Arc<Suite>],
    external: &ExternalVars,
    opts: &TargetOptions,
    config: RunConfig,
) -> Result<Prepared, SessionError> {
    let mut listener = match &opts.webhook_listen {
        Some(addr) => {
            let a = addr
                .parse()
                .map_err(|_| SessionError::BadAddress(addr.clone()))?;
            Some(
                run::webhook::listen(a)
                    .await
                    .map_err(|source| SessionError::Listen {
                        addr: addr.clone(),
                        source,
                    })?,
            )
        }
        None => None,
    };
    let mut embedded = Embedded::default();
    let mut targets: HashMap<PathBuf, Target> = HashMap::new();
    for suite in suites {
        let target = match &opts.base_url {
            Some(url) => Target {
                base_url: url.trim_end_matches('/').to_string(),
                note: None,
            },
            None => match embedded.target_for(suite, external, &mut listener).await {
                Ok(t) => t,
                Err(message) => {
                    embedded.shutdown().await;
                    return Err(SessionError::Target(message));
                }
            },
        };
        targets.insert(suite.file.clone(), target);
    }
    let inbox = listener.as_ref().map(|l| l.inbox.clone());
    let runner = match Runner::new(suites, &targets, external, config, inbox) {
        Ok(r) => Arc::new(r),
        Err(d) => {
            embedded.shutdown().await;
            return Err(SessionError::Input(d));
        }
    };
    Ok(Prepared {
        runner,
        targets,
        embedded,
        listener,
    })
}

impl Prepared {
    /// The `RunStarted` payload for a plan.
    pub fn run_info(
        &self,
        suites: &[Arc<Suite>],
        plan: &[PlannedCase],
        partition: Option<Partition>,
    ) -> RunInfo {
        RunInfo {
            tool_version: env!("CARGO_PKG_VERSION"),
            started: SystemTime::now(),
            suites: suites
                .iter()
                .filter(|s| plan.iter().any(|p| Arc::ptr_eq(&p.suite, s)))
                .map(|s| suite_info(s, &self.targets))
                .collect(),
            case_count: plan.len(),
            partition: partition.map(|p| p.to_string()),
            network: crate::event::NetworkInfo {
                insecure: self.runner.network().insecure,
                // Embedded servers are never proxied: no proxy to show then.
                proxy: if self.targets.values().all(|t| t.note.is_some()) {
                    None
                } else {
                    self.runner.network().proxy.describe()
                },
            },
            profile: None,
        }
    }

    /// Stops the webhook listener and the embedded servers.
    pub async fn shutdown(self) {
        drop(self.listener);
        self.embedded.shutdown().await;
    }
}

/// Runs a plan, feeding every event to `reporters` on a separate thread
/// (reporters write files; they must not stall the requests).
pub async fn execute(
    suites: &[Arc<Suite>],
    plan: Vec<PlannedCase>,
    partition: Option<Partition>,
    external: &ExternalVars,
    opts: &TargetOptions,
    config: RunConfig,
    reporters: Fanout,
) -> Result<RunSummary, SessionError> {
    let config = RunConfig {
        step_events: reporters.wants_steps(),
        ..config
    };
    let prepared = prepare(suites, external, opts, config).await?;
    let mut info = prepared.run_info(suites, &plan, partition);
    info.profile = opts.profile.clone();
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    let consumer = std::thread::spawn(move || crate::event::consume(rx, reporters));
    let summary = prepared.runner.clone().run(plan, info, tx).await;
    let report_error = consumer.join().ok().flatten();
    prepared.shutdown().await;
    match report_error {
        Some(e) => Err(SessionError::Report(e)),
        None => Ok(summary),
    }
}

fn suite_info(s: &Suite, targets: &HashMap<PathBuf, Target>) -> SuiteInfo {
    let target = targets.get(&s.file);
    SuiteInfo {
        file: s.file.display().to_string(),
        name: s.name.to_string(),
        sha256: s.sha256.clone(),
        spec_file: s.spec.path.display().to_string(),
        spec_title: s.spec.title.clone(),
        spec_version: s.spec.api_version.clone(),
        spec_sha256: s.spec.sha256.clone(),
        base_url: target.map(|t| t.base_url.clone()).unwrap_or_default(),
        target_note: target.and_then(|t| t.note.clone()),
    }
}
