//! The run report as plain data: what `--json` writes (its schema is
//! `schema/report.schema.json`), what `report merge` reads back, and what
//! the JUnit, HTML and Markdown renderers draw from. One model for every
//! file format keeps them in agreement.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{Event, Reporter, RunInfo, RunSummary, time_serde};
use crate::coverage::{Collector, Coverage};
use crate::event::RateWaits;
use crate::result::{CaseResult, CaseStatus, Totals};
use crate::suite::Suite;

/// `format` of every JSON report.
pub const REPORT_FORMAT: &str = "apiconform-report";
/// Bumped on any change a consumer could trip over (a field removed,
/// renamed or retyped, or a new status value). Version 2 is the one
/// planned bump for issue 10 and its siblings: `interrupted` and
/// `warnings` on the run, the case/step statuses `not_verified`,
/// `advisory`, `known` and `fixed`, and `generated` on a case (see
/// schema/report.schema.json). Existing statuses keep their values.
pub const SCHEMA_VERSION: u32 = 2;
/// Oldest version `report merge` reads (1 lacks only the version-2
/// additions, which default to "not interrupted, no warnings").
pub const MIN_READ_VERSION: u32 = 1;

/// Something a run noticed that is not a case result (e.g. a spec flaw
/// outside the selected cases, a skipped check the user should know of).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportWarning {
    /// Stable, machine-readable kind, e.g. `spec_flaw`.
    pub code: String,
    pub message: String,
    /// `file:line:column`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A whole run (or several merged shards of one run).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    pub tool: Tool,
    /// RFC 3339.
    pub started: String,
    /// RFC 3339.
    pub finished: String,
    pub duration_ms: f64,
    /// `slice:I/N` of each shard in the report; empty for an unsharded run.
    #[serde(default)]
    pub partitions: Vec<String>,
    /// The `apiconform.toml` profile the run used (additive, version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Whether `--fail-fast` stopped the run before every case ran.
    pub stopped_early: bool,
    /// Whether a signal (Ctrl-C, SIGTERM) stopped the run (version 2).
    #[serde(default)]
    pub interrupted: bool,
    /// Run-level warnings, in the order they arose (version 2).
    #[serde(default)]
    pub warnings: Vec<ReportWarning>,
    pub specs: Vec<SpecRecord>,
    pub suites: Vec<SuiteRecord>,
    /// Cases the plan held (this shard's, for a shard).
    pub planned_cases: usize,
    pub totals: TotalsRecord,
    /// Ordered by plan index.
    pub cases: Vec<CaseResult>,
    pub coverage: Coverage,
    /// `--insecure`: server certificates were not verified (in any shard).
    #[serde(default)]
    pub insecure: bool,
    /// The proxies requests went through, without user or password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// 429/503 `Retry-After` waits: how many, seconds waited (summed over shards).
    #[serde(default)]
    pub rate_limit_waits: RateWaits,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// An OpenAPI document and every file it pulls in through `$ref`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SpecRecord {
    pub file: String,
    pub title: String,
    pub version: String,
    /// SHA-256 of the root file.
    pub sha256: String,
    /// The root file first, then referenced files.
    pub documents: Vec<FileHash>,
    /// Local flaws of the spec that were worked around (not enforced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<SpecWarning>,
}

/// One spec warning: where (file, line and column when known) and what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SpecWarning {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl SpecWarning {
    pub fn from_diagnostic(d: &crate::diag::Diagnostic) -> Self {
        SpecWarning {
            file: d.file.display().to_string(),
            line: d.pos.is_known().then_some(d.pos.line),
            column: d.pos.is_known().then_some(d.pos.column),
            message: d.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileHash {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SuiteRecord {
    pub file: String,
    pub name: String,
    pub sha256: String,
    pub spec_file: String,
    /// Where the suite's requests went (user and password removed).
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_note: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct TotalsRecord {
    pub passed: usize,
    pub failed: usize,
    pub flaky: usize,
    pub skipped: usize,
    /// Version 2 counters (absent in a version 1 report: zero).
    #[serde(default)]
    pub not_verified: usize,
    #[serde(default)]
    pub interrupted: usize,
    #[serde(default)]
    pub known: usize,
    #[serde(default)]
    pub fixed: usize,
    #[serde(default)]
    pub advisory: usize,
    pub total: usize,
}

impl From<Totals> for TotalsRecord {
    fn from(t: Totals) -> Self {
        TotalsRecord {
            passed: t.passed,
            failed: t.failed,
            flaky: t.flaky,
            skipped: t.skipped,
            not_verified: t.not_verified,
            interrupted: t.interrupted,
            known: t.known,
            fixed: t.fixed,
            advisory: t.advisory,
            total: t.total(),
        }
    }
}

impl TotalsRecord {
    pub fn of(cases: &[CaseResult]) -> TotalsRecord {
        let mut t = Totals::default();
        for c in cases {
            t.add(c.status);
        }
        t.into()
    }

    fn totals(&self) -> Totals {
        Totals {
            passed: self.passed,
            failed: self.failed,
            flaky: self.flaky,
            skipped: self.skipped,
            not_verified: self.not_verified,
            interrupted: self.interrupted,
            known: self.known,
            fixed: self.fixed,
            advisory: self.advisory,
        }
    }

    /// Share of verified cases (not skipped, not verified or interrupted)
    /// that passed (flaky and fixed included), in percent.
    pub fn pass_rate(&self) -> f64 {
        let ran = self.total - self.totals().unverified();
        if ran == 0 {
            100.0
        } else {
            (self.passed + self.flaky + self.fixed) as f64 * 100.0 / ran as f64
        }
    }

    pub fn closing_line(&self) -> String {
        self.totals().closing_line()
    }
}

impl RunReport {
    /// Cases in reading order for people: failed, flaky, skipped, then
    /// passed, each in plan order.
    pub fn cases_failures_first(&self) -> Vec<&CaseResult> {
        let rank = |s: CaseStatus| match s {
            CaseStatus::Failed | CaseStatus::Interrupted => 0,
            CaseStatus::Flaky | CaseStatus::Advisory | CaseStatus::Known => 1,
            CaseStatus::Skipped | CaseStatus::NotVerified => 2,
            CaseStatus::Passed | CaseStatus::Fixed => 3,
        };
        let mut cases: Vec<&CaseResult> = self.cases.iter().collect();
        cases.sort_by_key(|c| (rank(c.status), c.index));
        cases
    }

    /// Distinct base URLs, in suite order.
    pub fn targets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.suites {
            let t = match &s.target_note {
                Some(n) => format!("{} ({n})", s.base_url),
                None => s.base_url.clone(),
            };
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }
}

/// Builds a [`RunReport`] from events; file reporters own one each.
pub struct ReportBuilder {
    specs: Vec<SpecRecord>,
    info: Option<RunInfo>,
    cases: Vec<CaseResult>,
    coverage: Collector,
    /// The loaded specs, for the schemas their validators refused during
    /// the run (compiled lazily, so known only at the end).
    loaded: Vec<Arc<crate::spec::Spec>>,
}

impl ReportBuilder {
    pub fn new(suites: &[Arc<Suite>]) -> ReportBuilder {
        let mut specs: Vec<SpecRecord> = Vec::new();
        for s in suites {
            let file = s.spec.path.display().to_string();
            if specs.iter().any(|x| x.file == file) {
                continue;
            }
            specs.push(SpecRecord {
                file,
                title: s.spec.title.clone(),
                version: s.spec.api_version.clone(),
                sha256: s.spec.sha256.clone(),
                documents: s
                    .spec
                    .documents
                    .iter()
                    .map(|d| FileHash {
                        file: d.file.display().to_string(),
                        sha256: d.sha256.clone(),
                    })
                    .collect(),
                warnings: s
                    .spec
                    .warnings
                    .0
                    .iter()
                    .map(SpecWarning::from_diagnostic)
                    .collect(),
            });
        }
        ReportBuilder {
            specs,
            info: None,
            cases: Vec::new(),
            coverage: Collector::new(suites),
            loaded: suites.iter().map(|s| s.spec.clone()).collect(),
        }
    }

    /// Feeds one event; returns the finished report on `RunFinished`.
    pub fn observe(&mut self, event: &Event) -> Option<RunReport> {
        // The collector never fails: it only counts.
        let _ = self.coverage.event(event);
        match event {
            Event::RunStarted(info) => self.info = Some(info.clone()),
            Event::CaseFinished(case) => self.cases.push((**case).clone()),
            Event::RunFinished(summary) => return Some(self.finish(summary)),
            Event::CaseStarted { .. } | Event::StepFinished { .. } => {}
        }
        None
    }

    /// Each schema a spec's validator refused when the run compiled it,
    /// with its file, line and column, after the load-time warnings.
    fn add_compile_warnings(&self, specs: &mut [SpecRecord]) {
        for record in specs.iter_mut() {
            let Some(spec) = self
                .loaded
                .iter()
                .find(|s| s.path.display().to_string() == record.file)
            else {
                continue;
            };
            for d in crate::spec::lint::compiled_warnings(spec).0 {
                let w = SpecWarning::from_diagnostic(&d);
                if !record.warnings.contains(&w) {
                    record.warnings.push(w);
                }
            }
        }
    }

    fn finish(&mut self, summary: &RunSummary) -> RunReport {
        let mut cases = std::mem::take(&mut self.cases);
        cases.sort_by_key(|c| c.index);
        let info = self.info.take();
        let suites: Vec<SuiteRecord> = info
            .as_ref()
            .map(|i| {
                i.suites
                    .iter()
                    .map(|s| SuiteRecord {
                        file: s.file.clone(),
                        name: s.name.clone(),
                        sha256: s.sha256.clone(),
                        spec_file: s.spec_file.clone(),
                        base_url: without_userinfo(&s.base_url),
                        target_note: s.target_note.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Only the specs of suites that ran.
        let used: BTreeSet<&str> = suites.iter().map(|s| s.spec_file.as_str()).collect();
        let mut specs: Vec<SpecRecord> = self
            .specs
            .iter()
            .filter(|s| used.contains(s.file.as_str()))
            .cloned()
            .collect();
        self.add_compile_warnings(&mut specs);
        let mut coverage = self.coverage.coverage();
        coverage
            .specs
            .retain(|s| used.contains(s.spec_file.as_str()));
        RunReport {
            format: REPORT_FORMAT.to_string(),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "apiconform".into(),
                version: info
                    .as_ref()
                    .map_or(env!("CARGO_PKG_VERSION"), |i| i.tool_version)
                    .to_string(),
            },
            started: time_serde::format(info.as_ref().map_or(summary.finished, |i| i.started)),
            finished: time_serde::format(summary.finished),
            duration_ms: summary.duration_ms,
            partitions: info
                .as_ref()
                .and_then(|i| i.partition.clone())
                .into_iter()
                .collect(),
            profile: info.as_ref().and_then(|i| i.profile.clone()),
            stopped_early: summary.stopped_early,
            interrupted: summary.interrupted.is_some(),
            warnings: Vec::new(),
            specs,
            suites,
            planned_cases: info.as_ref().map_or(cases.len(), |i| i.case_count),
            totals: TotalsRecord::of(&cases),
            cases,
            coverage,
            insecure: info.as_ref().is_some_and(|i| i.network.insecure),
            proxy: info.as_ref().and_then(|i| i.network.proxy.clone()),
            rate_limit_waits: summary.rate_limit_waits,
        }
    }
}

/// `https://user:pass@host/` → `https://host/`: a base URL may carry
/// credentials, and reports are shared.
pub fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
    }
}

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("{file}: not an apiconform report (format `{found}`)")]
    NotAReport { file: String, found: String },
    #[error(
        "{file}: report schema version {found} is newer than this apiconform understands ({SCHEMA_VERSION})"
    )]
    TooNew { file: String, found: u32 },
    #[error("{file}: report schema version {found} is older than any apiconform wrote")]
    TooOld { file: String, found: u32 },
    #[error(
        "{file}: suite `{suite}` has SHA-256 {found}, but an earlier report ran it at {expected}; shards must run the same files"
    )]
    SuiteChanged {
        file: String,
        suite: String,
        expected: String,
        found: String,
    },
    #[error(
        "{file}: case #{index} ({name}) is also in an earlier report; are two shards the same slice?"
    )]
    DuplicateCase {
        file: String,
        index: usize,
        name: String,
    },
}

/// Merges `--partition` shard reports (file name, report) into one: cases
/// ordered by plan index, totals recomputed, coverage hits summed.
pub fn merge(reports: &[(String, RunReport)]) -> Result<RunReport, MergeError> {
    let Some((_, first)) = reports.first() else {
        return Err(MergeError::Empty);
    };
    let mut suites: Vec<SuiteRecord> = Vec::new();
    let mut specs: Vec<SpecRecord> = Vec::new();
    let mut cases: Vec<CaseResult> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut partitions = Vec::new();
    let mut planned = 0;
    let mut stopped_early = false;
    let mut interrupted = false;
    let mut warnings: Vec<ReportWarning> = Vec::new();
    for (file, r) in reports {
        if r.format != REPORT_FORMAT {
            return Err(MergeError::NotAReport {
                file: file.clone(),
                found: r.format.clone(),
            });
        }
        if r.schema_version > SCHEMA_VERSION {
            return Err(MergeError::TooNew {
                file: file.clone(),
                found: r.schema_version,
            });
        }
        if r.schema_version < MIN_READ_VERSION {
            return Err(MergeError::TooOld {
                file: file.clone(),
                found: r.schema_version,
            });
        }
        for s in &r.suites {
            match suites.iter().find(|x| x.file == s.file) {
                Some(x) if x.sha256 != s.sha256 => {
                    return Err(MergeError::SuiteChanged {
                        file: file.clone(),
                        suite: s.file.clone(),
                        expected: x.sha256.clone(),
                        found: s.sha256.clone(),
                    });
                }
                Some(_) => {}
                None => suites.push(s.clone()),
            }
        }
        for s in &r.specs {
            if !specs.iter().any(|x| x.file == s.file) {
                specs.push(s.clone());
            }
        }
        for c in &r.cases {
            if seen.insert(c.index, ()).is_some() {
                return Err(MergeError::DuplicateCase {
                    file: file.clone(),
                    index: c.index,
                    name: c.full_name(),
                });
            }
            cases.push(c.clone());
        }
        partitions.extend(r.partitions.iter().cloned());
        planned += r.planned_cases;
        stopped_early |= r.stopped_early;
        interrupted |= r.interrupted;
        for w in &r.warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    }
    cases.sort_by_key(|c| c.index);
    partitions.sort_by_key(|p| partition_key(p));
    partitions.dedup();
    let by_time = |t: &String| (parse_time(t), t.clone());
    let started = reports
        .iter()
        .map(|(_, r)| &r.started)
        .min_by_key(|t| by_time(t))
        .cloned()
        .unwrap_or_default();
    let finished = reports
        .iter()
        .map(|(_, r)| &r.finished)
        .max_by_key(|t| by_time(t))
        .cloned()
        .unwrap_or_default();
    let span = span_ms(&started, &finished).unwrap_or_else(|| {
        reports
            .iter()
            .map(|(_, r)| r.duration_ms)
            .fold(0.0, f64::max)
    });
    Ok(RunReport {
        format: REPORT_FORMAT.to_string(),
        schema_version: SCHEMA_VERSION,
        tool: first.tool.clone(),
        started,
        finished,
        duration_ms: span,
        partitions,
        // Shards run with different profiles name none.
        profile: first
            .profile
            .clone()
            .filter(|p| reports.iter().all(|(_, r)| r.profile.as_ref() == Some(p))),
        stopped_early,
        interrupted,
        warnings,
        specs,
        suites,
        planned_cases: planned,
        totals: TotalsRecord::of(&cases),
        cases,
        coverage: Coverage::merge(reports.iter().map(|(_, r)| &r.coverage)),
        insecure: reports.iter().any(|(_, r)| r.insecure),
        proxy: reports.iter().find_map(|(_, r)| r.proxy.clone()),
        rate_limit_waits: RateWaits {
            count: reports.iter().map(|(_, r)| r.rate_limit_waits.count).sum(),
            seconds: reports
                .iter()
                .map(|(_, r)| r.rate_limit_waits.seconds)
                .sum(),
        },
    })
}

/// Sorts `slice:2/4` before `slice:10/12` by number, not text.
fn partition_key(p: &str) -> (usize, usize, String) {
    let nums = p.strip_prefix("slice:").and_then(|s| s.split_once('/'));
    match nums.and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?))) {
        Some((i, n)) => (n, i, String::new()),
        None => (usize::MAX, usize::MAX, p.to_string()),
    }
}

/// The slices of `slice:I/N` a merged report lacks (empty when complete
/// or unsharded).
pub fn missing_partitions(partitions: &[String]) -> Vec<String> {
    let mut counts: Vec<usize> = partitions.iter().map(|p| partition_key(p).0).collect();
    counts.sort();
    counts.dedup();
    let mut missing = Vec::new();
    for n in counts.into_iter().filter(|n| *n != usize::MAX) {
        for i in 1..=n {
            let name = format!("slice:{i}/{n}");
            if !partitions.contains(&name) {
                missing.push(name);
            }
        }
    }
    missing
}

fn parse_time(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

fn span_ms(started: &str, finished: &str) -> Option<f64> {
    let (a, b) = (parse_time(started)?, parse_time(finished)?);
    Some((b - a).as_seconds_f64().max(0.0) * 1000.0)
}

/// `2026-03-01 12:00:00 UTC` for people; the input unchanged if it is not
/// RFC 3339.
pub fn human_time(rfc3339: &str) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    parse_time(rfc3339)
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(fmt).ok())
        .unwrap_or_else(|| rfc3339.to_string())
}

/// Now, as an RFC 3339 timestamp (for documents made outside a run).
pub fn now_rfc3339() -> String {
    time_serde::format(SystemTime::now())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::result::CaseStatus;

    pub(crate) fn case(index: usize, status: CaseStatus) -> CaseResult {
        CaseResult {
            index,
            suite_file: "pets.yaml".into(),
            suite_name: "pets".into(),
            name: format!("case {index}").into(),
            location: format!("pets.yaml:{}:5", index + 1).into(),
            tags: Vec::new(),
            requirement: None,
            status,
            skip_reason: None,
            attempts: 1,
            duration_ms: 1.0,
            steps: Vec::new(),
            earlier_attempts: Vec::new(),
            origin: Default::default(),
        }
    }

    fn shard(partition: &str, cases: Vec<CaseResult>, started: &str, finished: &str) -> RunReport {
        RunReport {
            format: REPORT_FORMAT.into(),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "apiconform".into(),
                version: "0.1.0".into(),
            },
            started: started.into(),
            finished: finished.into(),
            duration_ms: 5.0,
            partitions: vec![partition.into()],
            profile: None,
            stopped_early: false,
            interrupted: false,
            warnings: Vec::new(),
            specs: Vec::new(),
            suites: vec![SuiteRecord {
                file: "pets.yaml".into(),
                name: "pets".into(),
                sha256: "aa".into(),
                spec_file: "api.yaml".into(),
                base_url: "http://x".into(),
                target_note: None,
            }],
            planned_cases: cases.len(),
            totals: TotalsRecord::of(&cases),
            cases,
            coverage: Coverage::default(),
            insecure: false,
            proxy: None,
            rate_limit_waits: Default::default(),
        }
    }

    #[test]
    fn merge_orders_cases_and_recounts() {
        let a = shard(
            "slice:1/2",
            vec![case(0, CaseStatus::Passed), case(2, CaseStatus::Failed)],
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:02Z",
        );
        let b = shard(
            "slice:2/2",
            vec![case(1, CaseStatus::Flaky)],
            "2026-01-01T10:00:01Z",
            "2026-01-01T10:00:04Z",
        );
        let m = merge(&[("b.json".into(), b), ("a.json".into(), a)]).unwrap();
        assert_eq!(
            m.cases.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(
            m.totals,
            TotalsRecord {
                passed: 1,
                failed: 1,
                flaky: 1,
                skipped: 0,
                total: 3,
                ..TotalsRecord::default()
            }
        );
        assert_eq!(m.partitions, ["slice:1/2", "slice:2/2"]);
        assert_eq!(m.planned_cases, 3);
        assert_eq!(m.started, "2026-01-01T10:00:00Z");
        assert_eq!(m.duration_ms, 4000.0);
        assert!(missing_partitions(&m.partitions).is_empty());
    }

    #[test]
    fn merge_reads_version_1_reports() {
        let a = shard("slice:1/2", vec![case(0, CaseStatus::Passed)], "t", "t");
        let mut v1 = serde_json::to_value(&a).unwrap();
        v1["schema_version"] = 1.into();
        let obj = v1.as_object_mut().unwrap();
        obj.remove("interrupted");
        obj.remove("warnings");
        let old: RunReport = serde_json::from_value(v1).unwrap();
        let mut b = shard("slice:2/2", vec![case(1, CaseStatus::Passed)], "t", "t");
        b.interrupted = true;
        b.warnings.push(ReportWarning {
            code: "spec_flaw".into(),
            message: "m".into(),
            location: None,
        });
        let m = merge(&[("a".into(), old), ("b".into(), b)]).unwrap();
        assert_eq!(m.schema_version, SCHEMA_VERSION);
        assert!(m.interrupted);
        assert_eq!(m.warnings.len(), 1);
        let mut zero = shard("slice:1/1", vec![], "t", "t");
        zero.schema_version = 0;
        assert!(matches!(
            merge(&[("z".into(), zero)]),
            Err(MergeError::TooOld { .. })
        ));
    }

    #[test]
    fn merge_rejects_changed_suites_and_duplicate_shards() {
        let a = shard("slice:1/2", vec![case(0, CaseStatus::Passed)], "t", "t");
        let mut b = shard("slice:2/2", vec![case(1, CaseStatus::Passed)], "t", "t");
        b.suites[0].sha256 = "bb".into();
        assert!(matches!(
            merge(&[("a".into(), a.clone()), ("b".into(), b)]),
            Err(MergeError::SuiteChanged { .. })
        ));
        assert!(matches!(
            merge(&[("a".into(), a.clone()), ("a2".into(), a)]),
            Err(MergeError::DuplicateCase { index: 0, .. })
        ));
        assert!(matches!(merge(&[]), Err(MergeError::Empty)));
    }

    #[test]
    fn missing_slices_are_named() {
        assert_eq!(
            missing_partitions(&["slice:1/3".into(), "slice:3/3".into()]),
            ["slice:2/3"]
        );
        assert!(missing_partitions(&[]).is_empty());
    }

    #[test]
    fn times_read_well() {
        assert_eq!(
            human_time("2026-03-01T13:00:00.123456+01:00"),
            "2026-03-01 12:00:00 UTC"
        );
        assert_eq!(human_time("soon"), "soon");
    }

    #[test]
    fn base_url_credentials_are_dropped() {
        assert_eq!(
            without_userinfo("https://bob:hunter22@api.example.com/v1"),
            "https://api.example.com/v1"
        );
        assert_eq!(
            without_userinfo("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn failures_come_first() {
        let mut r = shard(
            "slice:1/1",
            vec![
                case(0, CaseStatus::Passed),
                case(1, CaseStatus::Skipped),
                case(2, CaseStatus::Failed),
                case(3, CaseStatus::Flaky),
            ],
            "t",
            "t",
        );
        r.partitions.clear();
        let order: Vec<usize> = r.cases_failures_first().iter().map(|c| c.index).collect();
        assert_eq!(order, [2, 3, 1, 0]);
        assert_eq!(r.totals.pass_rate(), 100.0 * 2.0 / 3.0);
    }
}
