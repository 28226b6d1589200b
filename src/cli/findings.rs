//! Findings of a fuzz run, as a person acts on them: failed checks of
//! generated steps, deduplicated by check x operation x status class, each
//! with a curl reproduction (credentials as `$NAME` placeholders) and, with
//! `--save-findings DIR`, a ready case file that reproduces it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::event::{Event, Reporter};
use crate::generate::case::{
    CaseError, CaseOptions, ChainStepIn, CurlAuth, chain_to_case_yaml, to_case_yaml, to_curl,
};
use crate::generate::plan::{CaptureSource, GeneratedRequest};
use crate::result::{CaseResult, CheckOutcome, Phase, StepOutcome};
use crate::suite::Suite;

/// Keeps the failed cases of a run.
#[derive(Default)]
pub(super) struct Failed(pub Vec<CaseResult>);

impl Reporter for Failed {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::CaseFinished(c) = event
            && c.steps.iter().any(|s| s.outcome == StepOutcome::Failed)
        {
            self.0.push((**c).clone());
        }
        Ok(())
    }
}

/// One step of a chain as a saved case replays it: the request, and the
/// variables it captures (name -> where in its response).
pub(super) type ChainStep = (GeneratedRequest, Vec<(String, Vec<CaptureSource>)>);

/// One deduplicated finding.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Finding {
    pub check: String,
    pub operation: String,
    /// `2xx`, `4xx`, `5xx`, or `no response`.
    pub status_class: String,
    pub message: String,
    pub request: GeneratedRequest,
    /// How many failing requests this finding stands for.
    pub count: usize,
    /// How shrinking went, when it was tried (`request` is then the
    /// smallest input that still fails the same way).
    pub shrunk: Option<Shrunk>,
    /// For a finding inside a stateful chain: the chain's steps up to and
    /// including the failing one, with what each captures, so the saved
    /// case replays the chain on the resource it creates.
    pub chain: Vec<ChainStep>,
    /// `json path -> matcher` a read must satisfy (stored_values): the
    /// saved case asserts them, so it fails while the finding stands.
    pub expected_values: Vec<(String, Value)>,
}

/// The outcome of shrinking one finding's failing input.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shrunk {
    /// Requests shrinking sent for this finding (candidates and the
    /// cleanup deletes of what they created).
    pub requests: usize,
    /// Size of the failing input before and after ([`input_size`]).
    pub before: usize,
    pub after: usize,
}

/// The size of a request's input, as shrinking reduces it: the bytes of
/// its JSON body plus those of its query, header and cookie values and names.
pub(super) fn input_size(r: &GeneratedRequest) -> usize {
    let text = |m: &std::collections::BTreeMap<String, Value>| -> usize {
        m.iter()
            .map(|(k, v)| k.len() + crate::generate::plan::text_of(v).len())
            .sum()
    };
    r.body.as_ref().map_or(0, |b| b.to_string().len())
        + text(&r.query)
        + text(&r.headers)
        + text(&r.cookies)
}

/// `2xx`, `4xx`, `5xx`, or `no response`: the status class of a finding.
pub(super) fn status_class(step: &crate::result::StepResult) -> String {
    step.status()
        .map_or_else(|| "no response".to_string(), |s| format!("{}xx", s / 100))
}

/// The failed checks of generated steps, one per check x operation x
/// status class (the first request found is kept; the count says how many
/// more there were).
pub(super) fn collect(failed: &[CaseResult], suite: &Suite) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for result in failed {
        let Some(case) = suite.cases.get(result.index) else {
            continue;
        };
        let mains = result.steps.iter().filter(|s| s.phase == Phase::Main);
        for (i, (step, compiled)) in mains.zip(case.steps.iter()).enumerate() {
            let Some(generated) = compiled.generated() else {
                continue;
            };
            if step.outcome != StepOutcome::Failed {
                continue;
            }
            let class = status_class(step);
            let failures: Vec<(String, String)> = step
                .checks
                .iter()
                .filter(|c| c.outcome == CheckOutcome::Failed)
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.message.as_deref().unwrap_or_default().to_string(),
                    )
                })
                .chain(
                    step.error
                        .iter()
                        .map(|e| ("request".to_string(), e.clone())),
                )
                .collect();
            let chain = match generated.role {
                Some(_) => chain_prefix(&case.steps[..=i]),
                None => Vec::new(),
            };
            for (check, message) in failures {
                match out.iter_mut().find(|f| {
                    f.check == check && *f.operation == *step.operation && f.status_class == class
                }) {
                    Some(f) => f.count += 1,
                    None => out.push(Finding {
                        expected_values: expected_values(step, &check, &chain),
                        check,
                        operation: step.operation.to_string(),
                        status_class: class.clone(),
                        message,
                        request: generated.request.clone(),
                        count: 1,
                        shrunk: None,
                        chain: chain.clone(),
                    }),
                }
            }
        }
    }
    out
}

/// A chain's generated steps (requests and what each captures).
fn chain_prefix(steps: &[crate::suite::Step]) -> Vec<ChainStep> {
    steps
        .iter()
        .filter_map(|s| s.generated())
        .map(|g| {
            let binds = g
                .binds
                .iter()
                .map(|b| (b.variable.clone(), b.sources.clone()))
                .collect();
            (g.request.clone(), binds)
        })
        .collect()
}

/// For a stored_values failure: each mismatched path of the read, with
/// the value the chain's last write sent for it (found by dropping the
/// read's envelope members from the front of the path until the write's
/// body has it).
fn expected_values(
    step: &crate::result::StepResult,
    check: &str,
    chain: &[ChainStep],
) -> Vec<(String, Value)> {
    let Some(result) = step
        .checks
        .iter()
        .find(|c| c.name == check && check == "stored_values")
    else {
        return Vec::new();
    };
    let Some(sent) = chain[..chain.len().saturating_sub(1)]
        .iter()
        .rev()
        .find_map(|(r, _)| r.body.as_ref().filter(|_| r.method != "GET"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in result
        .findings
        .iter()
        .filter_map(|f| f.json_path.as_deref())
    {
        let segments: Vec<&str> = path.trim_start_matches('$').split('.').skip(1).collect();
        let found = (0..segments.len()).find_map(|skip| {
            let pointer: String = segments[skip..].iter().map(|s| format!("/{s}")).collect();
            sent.pointer(&pointer).cloned()
        });
        if let Some(matcher) = found
            .as_ref()
            .and_then(crate::check::stored_values::read_back_matcher)
        {
            out.push((path.to_string(), matcher));
        }
    }
    out
}

/// How the run authenticated, for the reproductions: the credential header
/// name, if any (its value never appears).
pub(super) struct Auth<'a> {
    pub header: Option<&'a str>,
}

fn curl_auth(auth: &Auth<'_>) -> CurlAuth {
    match auth.header {
        Some(name) => CurlAuth::Header {
            name: name.to_string(),
            var: crate::redact::placeholder(name),
        },
        None => CurlAuth::None,
    }
}

/// The findings as text: one block each, with its curl line.
pub(super) fn render(findings: &[Finding], base_url: &str, auth: &Auth<'_>) -> String {
    let mut out = format!(
        "\nFindings: {} (deduplicated by check x operation x status class)\n",
        findings.len()
    );
    let tried: Vec<&Shrunk> = findings.iter().filter_map(|f| f.shrunk.as_ref()).collect();
    if !tried.is_empty() {
        out.push_str(&format!(
            "Shrinking re-sent {} requests for {} finding{}\n",
            tried.iter().map(|s| s.requests).sum::<usize>(),
            tried.len(),
            if tried.len() == 1 { "" } else { "s" }
        ));
    }
    for (i, f) in findings.iter().enumerate() {
        let more = if f.count > 1 {
            format!(" ({} failing requests)", f.count)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n{}. {} on {} ({}, {} phase){more}\n   {}\n",
            i + 1,
            f.check,
            f.operation,
            f.status_class,
            f.request.phase.name(),
            f.message,
        ));
        if let Some(s) = &f.shrunk {
            out.push_str(&format!("   {}\n", describe_shrunk(s)));
        }
        out.push_str(&format!(
            "   {}\n",
            to_curl(&f.request, base_url, &curl_auth(auth))
        ));
    }
    out
}

/// `shrunk from 412 to 37 bytes of input (23 requests)`.
fn describe_shrunk(s: &Shrunk) -> String {
    let sent = format!(
        "{} request{}",
        s.requests,
        if s.requests == 1 { "" } else { "s" }
    );
    if s.after < s.before {
        format!(
            "shrunk from {} to {} bytes of input ({sent})",
            s.before, s.after
        )
    } else {
        format!("not shrunk: no smaller input fails the same way ({sent})")
    }
}

/// Where a saved case's requests go and how they authenticate.
pub(super) struct SaveTarget<'a> {
    /// The bundled server the saved suite names (`server:`), if any.
    pub server: Option<&'a str>,
    pub spec: &'a Path,
    /// The credential header, and its value when it is no secret (an
    /// embedded server's development token); otherwise the suite reads it
    /// from the variable `fuzz_credential` (`--secret fuzz_credential=...`).
    pub credential: Option<(&'a str, Option<&'a str>)>,
}

/// The variable a saved suite reads its credential from.
pub(super) const CREDENTIAL_VARIABLE: &str = "fuzz_credential";

/// Writes one suite file per finding into `dir`; returns the files.
pub(super) fn save(
    findings: &[Finding],
    dir: &Path,
    target: &SaveTarget<'_>,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let spec = std::path::absolute(target.spec)
        .map_err(|e| format!("{}: {e}", target.spec.display()))?
        .display()
        .to_string();
    let mut files = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let name = format!("{} on {} ({})", f.check, f.operation, f.status_class);
        let options = CaseOptions {
            spec: &spec,
            case_name: &name,
            credential: target.credential.map(|_| "fuzz"),
        };
        let case = case_yaml(f, &options).map_err(|e| format!("{name}: {e}"))?;
        let head = head_yaml(target)?;
        let file = dir.join(format!(
            "finding-{:02}-{}-{}.yaml",
            i + 1,
            f.check,
            slug(&f.operation)
        ));
        let shrunk = f
            .shrunk
            .as_ref()
            .map(|s| format!("# {}\n", describe_shrunk(s)))
            .unwrap_or_default();
        let text = format!(
            "# {name}\n# {}\n{shrunk}{case}{head}",
            f.message.lines().next().unwrap_or_default()
        );
        crate::report::write_file(&file, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        files.push(file);
    }
    Ok(files)
}

/// The saved case: a chain's finding replays its chain, any other sends
/// its one request.
fn case_yaml(f: &Finding, options: &CaseOptions<'_>) -> Result<String, CaseError> {
    if !f.chain.is_empty() {
        let steps: Vec<ChainStepIn<'_>> = f
            .chain
            .iter()
            .map(|(request, binds)| ChainStepIn { request, binds })
            .collect();
        if let Some(yaml) = chain_to_case_yaml(&steps, &f.expected_values, options) {
            return yaml;
        }
    }
    to_case_yaml(&f.request, options)
}

/// The saved suite's `server:`, `variables:` and `credentials:`.
fn head_yaml(target: &SaveTarget<'_>) -> Result<String, String> {
    let mut head = serde_json::Map::new();
    if let Some(s) = target.server {
        head.insert("server".into(), json!(s));
    }
    if let Some((header, value)) = target.credential {
        if let Some(v) = value {
            head.insert("variables".into(), json!({ CREDENTIAL_VARIABLE: v }));
        }
        head.insert(
            "credentials".into(),
            json!({"fuzz": {"header": {"name": header, "value": format!("{{{{ {CREDENTIAL_VARIABLE} }}}}")}}}),
        );
    }
    if head.is_empty() {
        return Ok(String::new());
    }
    serde_saphyr::to_string(&Value::Object(head)).map_err(|e| e.to_string())
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(40);
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_slugs() {
        assert_eq!(crate::redact::placeholder("X-Api-Key"), "X_API_KEY");
        assert_eq!(slug("GET /v1/shares/{id}"), "GET--v1-shares--id");
        let head = head_yaml(&SaveTarget {
            server: Some("mycloud"),
            spec: Path::new("s.yaml"),
            credential: Some(("Authorization", None)),
        })
        .expect("yaml");
        assert!(head.contains("server: mycloud"), "{head}");
        assert!(head.contains("{{ fuzz_credential }}"), "{head}");
        assert!(
            !head.contains("variables"),
            "a secret is never written: {head}"
        );
    }
}
