//! Running suites: choose the cases ([`plan`]), then execute them
//! concurrently with one pooled client ([`exec`]), emitting events.

pub mod embedded;
pub mod exec;
mod fanout;
mod hooks;
pub mod http;
pub mod interrupt;
mod keep_going;
mod oauth;
pub mod proxy;
pub mod ratelimit;
pub mod session;
mod step;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use crate::check::CheckSet;
use crate::suite::Suite;

pub use exec::{Runner, Target};

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Case name must contain one of these (case-insensitive), if any.
    pub name: Vec<String>,
    /// Case name (or `suite › case`) must match this regex.
    pub name_regex: Option<Regex>,
    /// Case must have one of these tags, if any.
    pub tags: Vec<String>,
    /// Case must have none of these tags.
    pub exclude_tags: Vec<String>,
}

impl Filters {
    pub fn accepts(&self, suite: &Suite, case: &crate::suite::Case) -> bool {
        let full = format!("{} › {}", suite.name, case.name);
        if !self.name.is_empty() {
            let lower = full.to_lowercase();
            if !self.name.iter().any(|n| lower.contains(&n.to_lowercase())) {
                return false;
            }
        }
        if let Some(re) = &self.name_regex
            && !re.is_match(&full)
        {
            return false;
        }
        if !self.tags.is_empty() && !case.tags.iter().any(|t| self.tags.contains(t)) {
            return false;
        }
        !case.tags.iter().any(|t| self.exclude_tags.contains(t))
    }
}

/// `slice:I/N`: this machine runs every N-th case starting at the I-th.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

/// A `--partition` value that is not `slice:I/N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not slice:I/N with 1 <= I <= N")]
pub struct PartitionError(pub String);

impl std::str::FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Partition, PartitionError> {
        let bad = || PartitionError(s.to_string());
        let spec = s.strip_prefix("slice:").ok_or_else(bad)?;
        let (i, n) = spec.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "slice:{}/{}", self.index, self.count)
    }
}

/// One case to run. `index` is its position among all cases that pass
/// the filters (before partitioning), so shards' results merge in order.
#[derive(Clone)]
pub struct PlannedCase {
    pub index: usize,
    pub suite: Arc<Suite>,
    pub case: usize,
}

impl PlannedCase {
    pub fn case(&self) -> &crate::suite::Case {
        &self.suite.cases[self.case]
    }
}

/// Filters, then keeps this machine's partition. Deterministic: the same
/// files, filters and partition always give the same cases.
pub fn plan(
    suites: &[Arc<Suite>],
    filters: &Filters,
    partition: Option<Partition>,
) -> Vec<PlannedCase> {
    let mut out = Vec::new();
    let mut index = 0;
    for suite in suites {
        for (i, case) in suite.cases.iter().enumerate() {
            if !filters.accepts(suite, case) {
                continue;
            }
            let mine = partition.is_none_or(|p| index % p.count == p.index - 1);
            if mine {
                out.push(PlannedCase {
                    index,
                    suite: suite.clone(),
                    case: i,
                });
            }
            index += 1;
        }
    }
    out
}

/// Tells each spec which operations the planned cases use (their steps,
/// cleanup, and their suites' setup and teardown), so the first response
/// checked compiles the validators of those operations only, not the whole
/// spec (`Spec::focus`; any other schema still compiles on demand).
pub fn focus_validators(plan: &[PlannedCase]) {
    let mut by_spec: Vec<(&Arc<crate::spec::Spec>, Vec<crate::spec::OperationId>)> = Vec::new();
    let mut suites_done: Vec<&Arc<Suite>> = Vec::new();
    for pc in plan {
        let suite = &pc.suite;
        let index = match by_spec
            .iter()
            .position(|(s, _)| Arc::ptr_eq(s, &suite.spec))
        {
            Some(i) => i,
            None => {
                by_spec.push((&suite.spec, Vec::new()));
                by_spec.len() - 1
            }
        };
        let ops = &mut by_spec[index].1;
        let case = pc.case();
        ops.extend(
            case.steps
                .iter()
                .chain(&case.cleanup)
                .filter_map(|s| s.operation_id),
        );
        if !suites_done.iter().any(|s| Arc::ptr_eq(s, suite)) {
            suites_done.push(suite);
            ops.extend(
                suite
                    .setup
                    .iter()
                    .chain(&suite.teardown)
                    .filter_map(|s| s.operation_id),
            );
        }
    }
    for (spec, mut ops) in by_spec {
        ops.sort_unstable();
        ops.dedup();
        spec.focus(&ops);
    }
}

/// The plan run `times` times over (soak runs, hunting flaky cases). Each
/// repetition gets its own plan indexes.
pub fn repeat(plan: Vec<PlannedCase>, times: usize) -> Vec<PlannedCase> {
    if times <= 1 {
        return plan;
    }
    // Indexes are global (before partitioning): offset rounds past the largest.
    let n = plan.iter().map(|pc| pc.index + 1).max().unwrap_or(0);
    let mut out = Vec::with_capacity(plan.len() * times);
    for round in 0..times {
        out.extend(plan.iter().map(|pc| PlannedCase {
            index: round * n + pc.index,
            ..pc.clone()
        }));
    }
    out
}

/// How much of each exchange the results keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Method, URL and status for passing steps; everything for failing ones.
    Failures,
    /// Headers and bodies of every step (JSON/HTML reports, `-v`).
    Everything,
}

/// Run settings from the command line.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub jobs: usize,
    pub timeout: Duration,
    pub retries: u32,
    pub fail_fast: bool,
    pub max_body_size: usize,
    /// Checks forced off (`--exclude-checks`) or the only ones on (`--checks`).
    pub check_mask: CheckSet,
    pub record: Record,
    pub snapshots: crate::snapshot::SnapshotConfig,
    /// Send `CaseStarted`/`StepFinished` events (see `Reporter::wants_steps`).
    pub step_events: bool,
    /// Longest `Retry-After` a 429/503 is waited for (`--max-retry-wait`).
    pub max_retry_wait: Duration,
    /// `--rate-limit`: shared by every request of the run.
    pub rate_limit: Option<Arc<ratelimit::RateLimiter>>,
    /// `--time-budget`: no case starts after this instant.
    pub deadline: Option<std::time::Instant>,
    /// TLS and proxy settings (`--cacert`, `--cert`, `--insecure`, `--proxy`).
    pub network: http::Network,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            jobs: default_jobs(),
            timeout: Duration::from_secs(10),
            retries: 0,
            fail_fast: false,
            max_body_size: 10 * 1024 * 1024,
            check_mask: CheckSet::all(),
            record: Record::Failures,
            snapshots: crate::snapshot::SnapshotConfig::default(),
            step_events: true,
            max_retry_wait: Duration::from_secs(30),
            rate_limit: None,
            deadline: None,
            network: http::Network::default(),
        }
    }
}

/// The one async runtime builder (CLI commands, `certify`, the `cargo test`
/// entry point): multi-threaded, with I/O and timers, so embedded servers,
/// the webhook listener and the worker pool share it.
pub fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError)
}

/// The runtime for a run of `jobs` jobs. One job sends one request at a
/// time, so a single thread does all the work and no request pays for a
/// wake-up of another thread (on loopback, about a fifth of a request's
/// cost); more jobs get [`runtime`]'s thread per core.
pub fn runtime_for(jobs: usize) -> Result<tokio::runtime::Runtime, RuntimeError> {
    if jobs > 1 {
        return runtime();
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError)
}

/// The async runtime could not start (out of threads or file descriptors).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[source] pub std::io::Error);

/// Requests mostly wait on the network, so run several per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 4)
        .clamp(4, 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse() {
        assert_eq!("slice:2/3".parse(), Ok(Partition { index: 2, count: 3 }));
        assert!("slice:0/3".parse::<Partition>().is_err());
        assert!("slice:4/3".parse::<Partition>().is_err());
        assert!("2/3".parse::<Partition>().is_err());
        assert_eq!(Partition { index: 1, count: 4 }.to_string(), "slice:1/4");
    }
}
