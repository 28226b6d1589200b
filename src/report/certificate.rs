//! Conformance certificates: what was tested (spec and suite files with
//! their SHA-256, tool version), where, when, a result per requirement,
//! coverage and a verdict; rendered as JSON, HTML and Markdown. Verifying a
//! certificate recomputes the hashes of the local files it names, so a
//! customer can tell that the suites they hold are the ones that ran.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::RenderError;
use super::html::{self, esc};
use super::markdown::{self, cell};
use super::model::{RunReport, SpecRecord, SuiteRecord, Tool, TotalsRecord, human_time};
use crate::coverage::Coverage;
use crate::result::{CaseResult, CaseStatus, Origin, Phase, StepOutcome};
use crate::suite::Level;

pub const CERTIFICATE_FORMAT: &str = "apiconform-certificate";
pub const CERTIFICATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every `must` requirement met.
    Conformant,
    /// A `must` requirement not met.
    NotConformant,
    /// No `must` requirement unmet, but some not verified (a step skipped,
    /// the run interrupted): nothing can be certified either way.
    Incomplete,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Conformant => "CONFORMANT",
            Verdict::NotConformant => "NOT CONFORMANT",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementResult {
    /// Every case of the requirement passed, every step ran.
    Met,
    /// A case failed.
    NotMet,
    /// Nothing failed, but a case or step did not run (e.g. no webhook listener).
    NotVerified,
}

impl RequirementResult {
    pub fn label(&self) -> &'static str {
        match self {
            RequirementResult::Met => "met",
            RequirementResult::NotMet => "not met",
            RequirementResult::NotVerified => "not verified",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Certificate {
    /// Always [`CERTIFICATE_FORMAT`].
    pub format: String,
    pub schema_version: u32,
    pub verdict: Verdict,
    pub tool: Tool,
    /// RFC 3339.
    pub started: String,
    /// RFC 3339; the certificate's date.
    pub finished: String,
    /// Base URLs the suites ran against.
    pub targets: Vec<String>,
    pub specs: Vec<SpecRecord>,
    pub suites: Vec<SuiteRecord>,
    /// Automatic checks that were on (suites may still switch some off per case; their hashes pin that).
    pub checks: Vec<String>,
    pub totals: TotalsRecord,
    pub requirements: Vec<RequirementRow>,
    pub coverage: Coverage,
    /// Absolute folder `certify` ran in: `--verify` resolves the relative
    /// file paths above against it (or against `--root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_root: Option<String>,
    /// SHA-256 of the canonical content ([`super::signing`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<super::signing::Digest>,
    /// Ed25519 signature of the canonical content, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<super::signing::SignatureRecord>,
}

/// One requirement, or one case that states none (listed under its name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequirementRow {
    pub id: String,
    pub text: String,
    /// False for a case without a `requirement:`; `id` is then the case name.
    pub stated: bool,
    /// `must` rows decide the verdict; `should` rows are advisory. A case
    /// without a requirement counts as `must`.
    #[serde(default)]
    pub level: Level,
    /// Document passage or decision id the requirement rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub result: RequirementResult,
    pub cases: Vec<CaseRef>,
    /// `generated` for the rows of `certify --generate` (checks pooled over
    /// the generated cases, which are listed only when they fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl RequirementRow {
    /// Whether the row counts for the verdict.
    pub fn binding(&self) -> bool {
        self.level == Level::Must
    }

    /// `must` or `should (advisory)`, for the rendered certificate.
    pub fn level_label(&self) -> &'static str {
        match self.level {
            Level::Must => "must",
            Level::Should => "should (advisory)",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRef {
    pub suite: String,
    pub name: String,
    pub status: CaseStatus,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Why the case verified nothing (a skipped step, an interruption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
}

fn case_result(c: &CaseResult) -> RequirementResult {
    let skipped_step = c
        .steps
        .iter()
        .any(|s| s.phase == Phase::Main && s.outcome == StepOutcome::Skipped);
    match c.status {
        // A baseline accepts a failure for the run's exit code; it is still
        // a failure, so a known requirement is never met.
        CaseStatus::Failed | CaseStatus::Known => RequirementResult::NotMet,
        CaseStatus::Skipped | CaseStatus::NotVerified | CaseStatus::Interrupted => {
            RequirementResult::NotVerified
        }
        _ if skipped_step => RequirementResult::NotVerified,
        _ => RequirementResult::Met,
    }
}

/// Only `must` requirements decide; a failed `should` case is advisory.
/// One unmet: NOT CONFORMANT; none unmet but some not verified (or the run
/// interrupted): INCOMPLETE; all met: CONFORMANT. An empty run, or one
/// `--fail-fast` cut short, certifies nothing.
fn verdict(rows: &[RequirementRow], report: &RunReport) -> Verdict {
    let binding = || rows.iter().filter(|r| r.binding());
    // Generated cases are judged through their group's rows instead.
    let binding_failures = report.cases.iter().any(|c| {
        c.status == CaseStatus::Failed
            && c.origin != Origin::Generated
            && c.requirement.as_ref().is_none_or(|r| !r.is_advisory())
    });
    let unmet = binding().any(|r| r.result == RequirementResult::NotMet);
    if unmet || binding_failures || report.stopped_early || binding().next().is_none() {
        Verdict::NotConformant
    } else if report.interrupted || binding().any(|r| r.result != RequirementResult::Met) {
        Verdict::Incomplete
    } else {
        Verdict::Conformant
    }
}

/// The requirement rows of `certify --generate` (`generated_group.rs`).
fn generated_rows(cases: &[&CaseResult]) -> Vec<RequirementRow> {
    super::generated_group::rows(cases)
        .into_iter()
        .map(|g| RequirementRow {
            id: g.id.to_string(),
            text: g.text,
            stated: true,
            level: g.level,
            source: Some(g.source.to_string()),
            result: match g.met {
                Some(true) => RequirementResult::Met,
                Some(false) => RequirementResult::NotMet,
                None => RequirementResult::NotVerified,
            },
            cases: g
                .failed
                .into_iter()
                .filter_map(|(i, failure)| {
                    let c = cases.get(i)?;
                    Some(CaseRef {
                        suite: c.suite_name.to_string(),
                        name: c.name.to_string(),
                        status: CaseStatus::Failed,
                        location: c.location.to_string(),
                        failure: Some(failure),
                        skip_reason: None,
                    })
                })
                .collect(),
            group: Some("generated".to_string()),
        })
        .collect()
}

/// Why a case left its requirement unverified, for `certify`'s list.
pub fn unverified_reason(c: &CaseRef) -> String {
    c.skip_reason
        .clone()
        .unwrap_or_else(|| format!("case {}", c.status.name().replace('_', " ")))
}

impl Certificate {
    pub fn from_report(report: &RunReport) -> Certificate {
        let mut rows: Vec<RequirementRow> = Vec::new();
        let generated: Vec<&CaseResult> = report
            .cases
            .iter()
            .filter(|c| c.origin == Origin::Generated)
            .collect();
        for c in report
            .cases
            .iter()
            .filter(|c| c.origin != Origin::Generated)
        {
            let case = CaseRef {
                suite: c.suite_name.to_string(),
                name: c.name.to_string(),
                status: c.status,
                location: c.location.to_string(),
                failure: if c.status == CaseStatus::Failed {
                    c.failure_summary()
                } else {
                    None
                },
                skip_reason: c.skip_reason.clone(),
            };
            let result = case_result(c);
            let (id, text, stated) = match &c.requirement {
                Some(r) => (r.id.clone(), r.text.clone(), true),
                None => (
                    c.full_name(),
                    format!("no requirement stated ({})", c.location),
                    false,
                ),
            };
            let level = c.requirement.as_ref().map_or(Level::Must, |r| r.level());
            let source = c.requirement.as_ref().and_then(|r| r.source.clone());
            match rows.iter_mut().find(|r| r.stated && stated && r.id == id) {
                Some(row) => {
                    row.result = worse(row.result, result);
                    row.cases.push(case);
                }
                None => rows.push(RequirementRow {
                    id,
                    text,
                    stated,
                    level,
                    source,
                    result,
                    cases: vec![case],
                    group: None,
                }),
            }
        }
        if !generated.is_empty() {
            rows.extend(generated_rows(&generated));
        }
        let verdict = verdict(&rows, report);
        Certificate {
            format: CERTIFICATE_FORMAT.into(),
            schema_version: CERTIFICATE_VERSION,
            verdict,
            tool: report.tool.clone(),
            started: report.started.clone(),
            finished: report.finished.clone(),
            targets: report.targets(),
            specs: report.specs.clone(),
            suites: report.suites.clone(),
            checks: crate::check::REGISTRY
                .iter()
                .map(|c| c.name.to_string())
                .collect(),
            totals: report.totals,
            requirements: rows,
            coverage: report.coverage.clone(),
            project_root: None,
            digest: None,
            signature: None,
        }
    }

    /// Records the project root, then the digest and (with a key) the
    /// signature over everything else; call last, before writing.
    pub fn seal(
        &mut self,
        project_root: Option<&Path>,
        key: Option<&ed25519_dalek::SigningKey>,
    ) -> Result<(), RenderError> {
        self.project_root = project_root.map(|p| p.display().to_string());
        self.digest = None;
        self.signature = None;
        let content = serde_json::to_value(&*self)?;
        self.digest = Some(super::signing::digest(&content));
        self.signature = key.map(|k| super::signing::sign(&content, k));
        Ok(())
    }

    pub fn to_json(&self) -> Result<String, RenderError> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Conformance certificate: {}</title><style>{}</style></head><body><main>\n",
            esc(self.verdict.label()),
            html::STYLE
        );
        let _ = write!(
            h,
            "<header><h1>API conformance certificate</h1><span class=\"verdict {}\">{}</span></header>\n\
             <p class=\"meta\">Tested {} · from {} to {} · apiconform {}</p>\n",
            match self.verdict {
                Verdict::Conformant => "ok",
                Verdict::NotConformant => "bad",
                Verdict::Incomplete => "incomplete",
            },
            esc(self.verdict.label()),
            self.targets
                .iter()
                .map(|t| format!("<code>{}</code>", esc(t)))
                .collect::<Vec<_>>()
                .join(", "),
            esc(&human_time(&self.started)),
            esc(&human_time(&self.finished)),
            esc(&self.tool.version)
        );
        let count = |binding: bool, result: Option<RequirementResult>| {
            self.requirements
                .iter()
                .filter(|r| r.binding() == binding && result.is_none_or(|x| r.result == x))
                .count()
        };
        let _ = writeln!(
            h,
            "<section class=\"cards\" style=\"grid-template-columns:repeat(5,1fr)\">\
             <div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">must requirements</div></div>\
             <div class=\"card passed\"><div class=\"n\">{}</div><div class=\"l\">met</div></div>\
             <div class=\"card failed\"><div class=\"n\">{}</div><div class=\"l\">not met</div></div>\
             <div class=\"card skipped\"><div class=\"n\">{}</div><div class=\"l\">not verified</div></div>\
             <div class=\"card\"><div class=\"n\">{}/{}</div><div class=\"l\">advisory (should) not met</div></div></section>",
            count(true, None),
            count(true, Some(RequirementResult::Met)),
            count(true, Some(RequirementResult::NotMet)),
            count(true, Some(RequirementResult::NotVerified)),
            count(false, Some(RequirementResult::NotMet)),
            count(false, None),
        );
        h.push_str("<h2>What was tested</h2><table><thead><tr><th>File</th><th>What</th><th>SHA-256</th></tr></thead><tbody>\n");
        for s in &self.specs {
            for (i, d) in s.documents.iter().enumerate() {
                let what = if i == 0 {
                    format!("spec: {} {}", s.title, s.version)
                } else {
                    "spec ($ref)".into()
                };
                let _ = writeln!(
                    h,
                    "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                    esc(&d.file),
                    esc(&what),
                    esc(&d.sha256)
                );
            }
        }
        for s in &self.suites {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>suite: {}</td><td><code>{}</code></td></tr>",
                esc(&s.file),
                esc(&s.name),
                esc(&s.sha256)
            );
        }
        h.push_str("</tbody></table>\n");
        h.push_str("<h2>Requirements</h2><p class=\"meta\">The verdict counts <b>must</b> requirements only; <b>should</b> requirements rest on a reading the documents leave open and are advisory.</p><table><thead><tr><th>Requirement</th><th>Level</th><th>Result</th><th>Cases</th></tr></thead><tbody>\n");
        for r in &self.requirements {
            let class = match r.result {
                RequirementResult::Met => "passed",
                RequirementResult::NotMet if r.binding() => "failed",
                RequirementResult::NotMet | RequirementResult::NotVerified => "skipped",
            };
            let level = match &r.source {
                Some(src) => format!(
                    "{}<br><span class=\"suite\">{}</span>",
                    esc(r.level_label()),
                    esc(src)
                ),
                None => esc(r.level_label()),
            };
            let head = if r.stated {
                format!("<b>{}</b><br>{}", esc(&r.id), esc(&r.text))
            } else {
                format!(
                    "<i>{}</i><br><span class=\"suite\">{}</span>",
                    esc(&r.id),
                    esc(&r.text)
                )
            };
            let cases: Vec<String> = r
                .cases
                .iter()
                .map(|c| {
                    let why = c
                        .failure
                        .as_ref()
                        .map(|f| format!("<br><span class=\"err\">{}</span>", esc(f)))
                        .unwrap_or_default();
                    format!(
                        "{} › {} <span class=\"suite\">({})</span>{why}",
                        esc(&c.suite),
                        esc(&c.name),
                        c.status.label()
                    )
                })
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{head}</td><td>{level}</td><td><span class=\"pill {class}\">{}</span></td><td>{}</td></tr>",
                r.result.label(),
                cases.join("<br>")
            );
        }
        h.push_str("</tbody></table>\n");
        html::coverage(&mut h, &self.coverage);
        let _ = write!(
            h,
            "<h2>Checks</h2><p class=\"meta\">Automatic checks on for every response: {}.</p>\
             <footer>Verify with <code>apiconform certify --verify certificate.json --public-key ISSUER.pub.pem --root DIR</code> (DIR: your copy of the suites).</footer>\n</main></body></html>\n",
            self.checks
                .iter()
                .map(|c| format!("<code>{}</code>", esc(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        h
    }

    pub fn to_markdown(&self) -> String {
        let mut m = String::new();
        let icon = match self.verdict {
            Verdict::Conformant => "✅",
            Verdict::NotConformant => "❌",
            Verdict::Incomplete => "⚠️",
        };
        let _ = writeln!(
            m,
            "# {icon} API conformance certificate: {}\n",
            self.verdict.label()
        );
        let _ = writeln!(
            m,
            "Tested {} from {} to {} with apiconform {}.\n",
            cell(&self.targets.join(", ")),
            cell(&human_time(&self.started)),
            cell(&human_time(&self.finished)),
            cell(&self.tool.version)
        );
        let _ = writeln!(
            m,
            "## What was tested\n\n| File | What | SHA-256 |\n|---|---|---|"
        );
        for s in &self.specs {
            for (i, d) in s.documents.iter().enumerate() {
                let what = if i == 0 {
                    format!("spec: {} {}", s.title, s.version)
                } else {
                    "spec ($ref)".into()
                };
                let _ = writeln!(
                    m,
                    "| {} | {} | `{}` |",
                    cell(&d.file),
                    cell(&what),
                    d.sha256
                );
            }
        }
        for s in &self.suites {
            let _ = writeln!(
                m,
                "| {} | suite: {} | `{}` |",
                cell(&s.file),
                cell(&s.name),
                s.sha256
            );
        }
        let _ = writeln!(
            m,
            "\n## Requirements\n\nThe verdict counts **must** requirements only; **should** requirements rest on a reading the documents leave open and are advisory.\n\n| Requirement | Level | Source | Result | Cases |\n|---|---|---|---|---|"
        );
        for r in &self.requirements {
            let head = if r.stated {
                format!("**{}** {}", cell(&r.id), cell(&r.text))
            } else {
                format!("*{}*", cell(&r.id))
            };
            let cases: Vec<String> = r
                .cases
                .iter()
                .map(|c| format!("{} ({})", cell(&c.name), c.status.label()))
                .collect();
            let _ = writeln!(
                m,
                "| {head} | {} | {} | {} | {} |",
                r.level_label(),
                cell(r.source.as_deref().unwrap_or("")),
                r.result.label(),
                cases.join("<br>")
            );
        }
        m.push('\n');
        markdown::coverage(&mut m, &self.coverage, usize::MAX);
        let _ = writeln!(m, "Automatic checks on: {}.", self.checks.join(", "));
        m
    }
}

fn worse(a: RequirementResult, b: RequirementResult) -> RequirementResult {
    use RequirementResult::*;
    match (a, b) {
        (NotMet, _) | (_, NotMet) => NotMet,
        (NotVerified, _) | (_, NotVerified) => NotVerified,
        _ => Met,
    }
}

/// The state of one file a certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Matches,
    Changed { actual: String },
    Missing { error: String },
}

#[derive(Debug, Clone)]
pub struct FileCheck {
    pub file: String,
    pub expected: String,
    pub state: FileState,
}

/// Why a certificate cannot be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not an apiconform certificate: {reason}")]
    NotACertificate { path: String, reason: String },
}

/// Reads a certificate file.
pub fn read(path: &Path) -> Result<Certificate, VerifyError> {
    read_with_content(path).map(|(cert, _)| cert)
}

/// Reads a certificate and its content as written (what the digest and
/// signature cover, including fields this version does not know).
pub fn read_with_content(path: &Path) -> Result<(Certificate, serde_json::Value), VerifyError> {
    let text = crate::input::read_to_string(path).map_err(|source| VerifyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let not_cert = |e: serde_json::Error| VerifyError::NotACertificate {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let content: serde_json::Value = serde_json::from_str(&text).map_err(not_cert)?;
    let cert: Certificate = serde_json::from_value(content.clone()).map_err(not_cert)?;
    if cert.format != CERTIFICATE_FORMAT {
        return Err(VerifyError::NotACertificate {
            path: path.display().to_string(),
            reason: format!("format is `{}`", cert.format),
        });
    }
    Ok((cert, content))
}

/// What `--verify` found about a certificate's own content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seal {
    /// No digest (written before certificates had one): nothing to check.
    NoDigest,
    /// The content does not match its digest: edited after issue.
    DigestMismatch,
    /// Digest matches; no signature (integrity only, not authenticity).
    Unsigned,
    /// Digest matches; signed, but no public key given to check it.
    SignedUnchecked { key_id: String },
    /// Digest matches and the signature is valid for the given key.
    SignatureValid { key_id: String },
    /// The signature does not verify with the given key.
    SignatureInvalid { key_id: String },
    /// A public key was given, but the certificate is unsigned.
    UnsignedButKeyGiven,
}

impl Seal {
    /// Whether the certificate can be trusted as far as was asked.
    pub fn ok(&self) -> bool {
        matches!(
            self,
            Seal::Unsigned | Seal::SignedUnchecked { .. } | Seal::SignatureValid { .. }
        )
    }
}

/// Recomputes the digest and, with `key`, checks the signature.
pub fn check_seal(
    cert: &Certificate,
    content: &serde_json::Value,
    key: Option<&ed25519_dalek::VerifyingKey>,
) -> Seal {
    use super::signing;
    let Some(digest) = &cert.digest else {
        return match key {
            Some(_) => Seal::UnsignedButKeyGiven,
            None => Seal::NoDigest,
        };
    };
    if *digest != signing::digest(content) {
        return Seal::DigestMismatch;
    }
    match (&cert.signature, key) {
        (None, None) => Seal::Unsigned,
        (None, Some(_)) => Seal::UnsignedButKeyGiven,
        (Some(s), None) => Seal::SignedUnchecked {
            key_id: s.key_id.clone(),
        },
        (Some(s), Some(k)) if signing::verify(content, s, k) => Seal::SignatureValid {
            key_id: signing::key_id(k),
        },
        (Some(s), Some(_)) => Seal::SignatureInvalid {
            key_id: s.key_id.clone(),
        },
    }
}

/// Recomputes the SHA-256 of every spec document and suite file the
/// certificate names; relative paths resolve against `root`.
pub fn verify(cert: &Certificate, root: &Path) -> Vec<FileCheck> {
    let mut files: Vec<(&str, &str)> = Vec::new();
    for s in &cert.specs {
        for d in &s.documents {
            files.push((&d.file, &d.sha256));
        }
    }
    for s in &cert.suites {
        files.push((&s.file, &s.sha256));
    }
    files.dedup();
    files
        .into_iter()
        .map(|(file, expected)| {
            let state = match std::fs::read(root.join(file)) {
                Ok(bytes) => {
                    let actual = crate::spec::sha256_hex(&bytes);
                    if actual == expected {
                        FileState::Matches
                    } else {
                        FileState::Changed { actual }
                    }
                }
                Err(e) => FileState::Missing {
                    error: e.to_string(),
                },
            };
            FileCheck {
                file: file.to_string(),
                expected: expected.to_string(),
                state,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{REPORT_FORMAT, SCHEMA_VERSION};
    use crate::result::StepResult;
    use crate::suite::Requirement;

    fn case(index: usize, req: Option<&str>, status: CaseStatus) -> CaseResult {
        CaseResult {
            suite_file: "s.yaml".into(),
            suite_name: "s".into(),
            location: format!("s.yaml:{index}:3").into(),
            requirement: req.map(|id| Requirement {
                id: id.into(),
                text: format!("{id} holds."),
                level: Some(if id.starts_with("S-") {
                    Level::Should
                } else {
                    Level::Must
                }),
                source: Some("E1".into()),
            }),
            ..crate::report::model::tests::case(index, status)
        }
    }

    fn report(cases: Vec<CaseResult>) -> RunReport {
        RunReport {
            format: REPORT_FORMAT.into(),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "apiconform".into(),
                version: "0.1.0".into(),
            },
            started: "2026-03-01T12:00:00Z".into(),
            finished: "2026-03-01T12:00:01Z".into(),
            duration_ms: 1000.0,
            partitions: Vec::new(),
            profile: None,
            stopped_early: false,
            interrupted: false,
            warnings: Vec::new(),
            specs: Vec::new(),
            suites: Vec::new(),
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
    fn requirements_group_cases_and_decide_the_verdict() {
        let cert = Certificate::from_report(&report(vec![
            case(0, Some("R-1"), CaseStatus::Passed),
            case(1, Some("R-1"), CaseStatus::Flaky),
            case(2, None, CaseStatus::Passed),
        ]));
        assert_eq!(cert.requirements.len(), 2);
        assert_eq!(cert.requirements[0].cases.len(), 2);
        assert_eq!(cert.requirements[1].id, "s › case 2");
        assert!(!cert.requirements[1].stated);
        assert_eq!(cert.verdict, Verdict::Conformant);

        let failed = Certificate::from_report(&report(vec![
            case(0, Some("R-1"), CaseStatus::Passed),
            case(1, Some("R-1"), CaseStatus::Failed),
        ]));
        assert_eq!(failed.requirements[0].result, RequirementResult::NotMet);
        assert_eq!(failed.verdict, Verdict::NotConformant);
    }

    #[test]
    fn a_known_must_failure_is_never_met() {
        let cert = Certificate::from_report(&report(vec![case(0, Some("R-1"), CaseStatus::Known)]));
        assert_eq!(cert.requirements[0].result, RequirementResult::NotMet);
        assert_eq!(cert.verdict, Verdict::NotConformant);
    }

    #[test]
    fn a_skipped_step_leaves_a_requirement_unverified() {
        let mut c = case(0, Some("R-9"), CaseStatus::Passed);
        c.steps.push(StepResult {
            name: "wait for webhook".into(),
            phase: Phase::Main,
            location: "s.yaml:9:7".into(),
            operation: "webhook share.created".into(),
            method_path: "WEBHOOK share.created".into(),
            operation_id: None,
            outcome: StepOutcome::Skipped,
            error: Some("skipped: no webhook listener".into()),
            request: None,
            response: None,
            duration_ms: 0.0,
            checks: Vec::new(),
            captures: Vec::new(),
            notes: Vec::new(),
        });
        let cert = Certificate::from_report(&report(vec![c.clone()]));
        assert_eq!(cert.requirements[0].result, RequirementResult::NotVerified);
        assert_eq!(cert.verdict, Verdict::Incomplete);
        let failed = case(1, Some("R-1"), CaseStatus::Failed);
        let cert2 = Certificate::from_report(&report(vec![c, failed]));
        assert_eq!(cert2.verdict, Verdict::NotConformant);
        assert!(cert.to_markdown().contains("| not verified |"));
        assert!(cert.to_html().contains("not verified"));
    }

    #[test]
    fn only_must_requirements_decide_the_verdict() {
        let cert = Certificate::from_report(&report(vec![
            case(0, Some("R-1"), CaseStatus::Passed),
            case(1, Some("S-1"), CaseStatus::Failed),
        ]));
        assert_eq!(cert.verdict, Verdict::Conformant);
        assert_eq!(cert.requirements[1].level, Level::Should);
        assert_eq!(cert.requirements[1].result, RequirementResult::NotMet);
        assert!(
            cert.to_markdown()
                .contains("| should (advisory) | E1 | not met |")
        );
        assert!(cert.to_html().contains("advisory (should) not met"));

        let must_failed = Certificate::from_report(&report(vec![
            case(0, Some("R-1"), CaseStatus::Failed),
            case(1, Some("S-1"), CaseStatus::Passed),
        ]));
        assert_eq!(must_failed.verdict, Verdict::NotConformant);
        let only_should =
            Certificate::from_report(&report(vec![case(0, Some("S-1"), CaseStatus::Passed)]));
        assert_eq!(only_should.verdict, Verdict::NotConformant);
    }

    #[test]
    fn an_empty_run_certifies_nothing() {
        assert_eq!(
            Certificate::from_report(&report(Vec::new())).verdict,
            Verdict::NotConformant
        );
    }
}
