//! Case files: the format ([`model`]), loading with positions and static
//! checks ([`load`]), and the compiled form the runner executes.

pub mod generated;
pub mod load;
#[cfg(test)]
mod load_tests;
pub mod matcher;
pub mod model;
pub mod node;
pub mod query;
pub mod rows;
pub mod shared;
pub mod template;
pub mod vars;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json_path::JsonPath;

use crate::check::CheckSet;
use crate::diag::Pos;
use crate::spec::{OperationId, Spec};
pub use load::{LoadOptions, load_paths};
pub use matcher::Matcher;
pub use model::{Level, Requirement, StatusSpec};
use template::{Template, ValueTemplate};

/// A loaded, checked suite file.
pub struct Suite {
    pub file: PathBuf,
    /// `file` as text, for results (computed once).
    pub file_display: Arc<str>,
    pub sha256: String,
    pub name: Arc<str>,
    pub description: Option<String>,
    pub spec: Arc<Spec>,
    /// Bundled reference server for the embedded default target.
    pub server: Option<String>,
    /// Default variables in definition order (later ones may use earlier ones).
    pub variables: Vec<(String, ValueTemplate)>,
    /// Names of secret variables.
    pub secrets: HashSet<String>,
    pub credentials: Vec<(String, Credential)>,
    /// (operation index, response key, reason) left out of coverage.
    pub coverage_exclusions: Vec<(usize, String, String)>,
    /// Steps run once before the suite's cases, and once after them.
    pub setup: Vec<Step>,
    pub teardown: Vec<Step>,
    pub cases: Vec<Case>,
    /// Client certificates of credentials with `tls:`, by credential name.
    pub client_certs: Vec<(String, crate::tls::ClientCert)>,
    /// Files the suite read besides itself, its spec and its client
    /// certificates: `shared:` step files and `rows:` files (a report must
    /// never be written over one).
    pub read_files: Vec<PathBuf>,
}

impl Suite {
    pub fn credential(&self, name: &str) -> Option<&Credential> {
        self.credentials
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Credential {
    Bearer(Template),
    Basic(Template, Template),
    Header(String, Template),
    /// A bearer token from an OAuth2 token endpoint (client credentials).
    OAuth2(Box<OAuth2Credential>),
}

/// The templates of an `oauth2:` credential, rendered once per run.
#[derive(Debug, Clone)]
pub struct OAuth2Credential {
    pub token_url: Template,
    pub client_id: Template,
    pub client_secret: Template,
    pub scopes: Vec<Template>,
    pub audience: Option<Template>,
    /// Client secret in the request body instead of a Basic header.
    pub secret_in_body: bool,
}

pub struct Case {
    /// Name and location are shared with every result of the case.
    pub name: Arc<str>,
    pub pos: Pos,
    /// `file:line:column` of the case, for results.
    pub location: Arc<str>,
    pub description: Option<String>,
    pub requirement: Option<Requirement>,
    pub tags: Vec<String>,
    /// Why this case must run alone, if it must.
    pub serial: Option<String>,
    pub variables: Vec<(String, ValueTemplate)>,
    pub steps: Vec<Step>,
    pub cleanup: Vec<Step>,
    /// A failed step skips every later main step (the strict behaviour);
    /// otherwise only steps that need a value it did not capture are skipped.
    pub stop_on_failure: bool,
    /// Not run: reported as skipped with this reason (`skip:` in the file).
    pub skip: Option<String>,
}

pub struct Step {
    pub name: Arc<str>,
    pub pos: Pos,
    /// `file:line:column`, computed once for every result of this step.
    pub location: Arc<str>,
    /// Operation label (operationId or `METHOD /template`) and the documented
    /// `METHOD /template` (`WEBHOOK name` for webhooks), for results.
    pub operation: Arc<str>,
    pub method_path: Arc<str>,
    /// The operation in the spec (`None` for an undocumented webhook).
    pub operation_id: Option<OperationId>,
    pub kind: StepKind,
    pub checks: CheckSet,
    pub captures: Vec<Capture>,
    pub snapshot: Option<SnapshotSpec>,
}

impl Step {
    /// A request step built in code rather than loaded from a case file:
    /// how the check generator feeds steps from the spec to the runner.
    /// `operation` indexes `spec.operations`; the path is the operation's
    /// template with `{param}` segments filled from `path_params` (literal
    /// values; a parameter without a value stays literal). Every automatic
    /// check is on, nothing is captured, no credential is sent, and the
    /// expectation is the default (any 2xx): set `kind`'s fields to change
    /// them. `None` when `operation` is not in the spec.
    pub fn request(
        spec: &Spec,
        operation: usize,
        name: &str,
        path_params: &[(&str, serde_json::Value)],
    ) -> Option<Step> {
        let op = spec.operations.get(operation)?;
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).ok()?;
        let mut path = Vec::new();
        for piece in split_path(&op.path) {
            match piece {
                Ok(lit) => path.push(PathPart::Literal(lit.to_string())),
                Err(param) => match path_params.iter().find(|(n, _)| *n == param) {
                    Some((_, v)) => path.push(PathPart::Param(
                        param.to_string(),
                        ValueTemplate::Static(v.clone()),
                    )),
                    None => path.push(PathPart::Literal(format!("{{{param}}}"))),
                },
            }
        }
        let request = RequestStep {
            operation,
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            credential: None,
            expect: Expect::default(),
            generated: None,
        };
        Some(Step {
            name: name.into(),
            pos: Pos::UNKNOWN,
            location: format!("{} (generated)", op.label()).into(),
            operation: op.label().into(),
            method_path: op.method_path().into(),
            operation_id: Some(OperationId(operation)),
            kind: StepKind::Request(Box::new(request)),
            checks: CheckSet::all(),
            captures: Vec::new(),
            snapshot: None,
        })
    }
}

impl Step {
    /// The generated context of a request step built from the spec.
    pub fn generated(&self) -> Option<&generated::GeneratedStep> {
        match &self.kind {
            StepKind::Request(r) => r.generated.as_deref(),
            StepKind::Webhook(_) => None,
        }
    }
}

/// `/a/{b}/c` -> `Ok("/a/")`, `Err("b")`, `Ok("/c")`.
fn split_path(template: &str) -> Vec<Result<&str, &str>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.push(Ok(&rest[..open]));
        }
        out.push(Err(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Ok(rest));
    }
    out
}

pub enum StepKind {
    Request(Box<RequestStep>),
    Webhook(Box<WebhookStep>),
}

pub struct RequestStep {
    /// Index into `spec.operations`.
    pub operation: usize,
    pub method: reqwest::Method,
    /// Path template with `{param}` segments, and values per parameter.
    pub path: Vec<PathPart>,
    pub query: Vec<(String, ValueTemplate)>,
    pub headers: Vec<(reqwest::header::HeaderName, ValueTemplate)>,
    pub body: Option<Body>,
    /// Credential name; `None` sends none.
    pub credential: Option<String>,
    pub expect: Expect,
    /// Set on steps built from the spec by a generated phase
    /// ([`generated::cases`]): the checks get its context, and the step's
    /// own expectations are not applied (the checks judge it).
    pub generated: Option<Box<generated::GeneratedStep>>,
}

pub enum PathPart {
    Literal(String),
    Param(String, ValueTemplate),
}

pub enum Body {
    /// A JSON body, its content type, and what is known of it at load when
    /// it has no templates.
    Json(ValueTemplate, String, Option<StaticBody>),
    Raw(Template, String),
}

impl Body {
    /// Whether the loader found this body (one without templates) valid
    /// against the request schema: see [`StaticBody::schema_valid`].
    pub fn schema_valid_at_load(&self) -> bool {
        matches!(self, Body::Json(_, _, Some(b)) if b.schema_valid)
    }
}

/// A JSON body without templates, prepared once at load, not per request.
pub struct StaticBody {
    /// The bytes on the wire.
    pub bytes: bytes::Bytes,
    /// The loader validated this very body against the operation's JSON
    /// request schema and it conformed: the request check trusts that
    /// verdict instead of validating the same value again on every send.
    pub schema_valid: bool,
}

impl StaticBody {
    /// A body's bytes; `None` when it has templates (rendered per request).
    pub fn of(vt: &ValueTemplate, schema_valid: bool) -> Option<StaticBody> {
        let ValueTemplate::Static(v) = vt else {
            return None;
        };
        // A `Value` always serializes (its map keys are strings).
        let bytes = serde_json::to_vec(v).ok()?;
        Some(StaticBody {
            bytes: bytes.into(),
            schema_valid,
        })
    }
}

#[derive(Default)]
pub struct Expect {
    pub status: Option<StatusSpec>,
    pub status_pos: Pos,
    /// `status_pos` as `file:line:column` (formatted once, at load).
    pub status_at: Option<Arc<str>>,
    pub headers: Vec<(String, Matcher)>,
    pub body: Vec<BodyAssertion>,
    pub max_time_ms: Option<u64>,
}

pub struct BodyAssertion {
    pub source: String,
    pub path: PathExpr,
    pub matcher: Matcher,
}

/// A JSON path, parsed at load time unless it contains templates
/// (e.g. `$.data[?@.reference == '{{ ref }}']`).
pub enum PathExpr {
    Static(query::BodyPath),
    Templated(Template),
}

impl PathExpr {
    /// The nodes the path selects in `value`.
    pub fn select<'v>(
        &self,
        value: &'v serde_json::Value,
        scope: &dyn template::Scope,
    ) -> Result<Vec<&'v serde_json::Value>, String> {
        match self {
            PathExpr::Static(p) => Ok(p.select(value)),
            PathExpr::Templated(t) => {
                let text = t.render_string(scope).map_err(|e| e.to_string())?;
                let path =
                    JsonPath::parse(&text).map_err(|e| format!("JSON path `{text}`: {e}"))?;
                Ok(path.query(value).all())
            }
        }
    }
}

pub struct Capture {
    pub name: String,
    pub pos: Pos,
    /// `pos` as `file:line:column` (formatted once, at load).
    pub at: Option<Arc<str>>,
    pub source: CaptureSource,
    pub secret: bool,
    /// A missing value leaves the variable unset instead of failing the step.
    pub optional: bool,
}

pub enum CaptureSource {
    Body(String, query::BodyPath),
    Header(String),
}

pub struct SnapshotSpec {
    pub name: String,
    pub pos: Pos,
    /// JSON path -> placeholder template.
    pub redact: Vec<(String, JsonPath, Template)>,
}

pub struct WebhookStep {
    pub event: String,
    /// Index of the webhook operation in the spec, when documented.
    pub operation: Option<usize>,
    pub matchers: Vec<BodyAssertion>,
    pub expect: Vec<BodyAssertion>,
    pub timeout_ms: u64,
}

impl Step {
    /// Every variable the step's templates reference (request parts,
    /// expectations, webhook matchers), each once, in first-use order.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.kind {
            StepKind::Request(req) => {
                for part in &req.path {
                    if let PathPart::Param(_, vt) = part {
                        vt.variables(&mut out);
                    }
                }
                req.query.iter().for_each(|(_, vt)| vt.variables(&mut out));
                req.headers
                    .iter()
                    .for_each(|(_, vt)| vt.variables(&mut out));
                match &req.body {
                    Some(Body::Json(vt, _, _)) => vt.variables(&mut out),
                    Some(Body::Raw(t, _)) => out.extend(t.variables().map(str::to_string)),
                    None => {}
                }
                req.expect
                    .headers
                    .iter()
                    .for_each(|(_, m)| m.variables(&mut out));
                assertion_variables(&req.expect.body, &mut out);
            }
            StepKind::Webhook(hook) => {
                assertion_variables(&hook.matchers, &mut out);
                assertion_variables(&hook.expect, &mut out);
            }
        }
        let mut seen = HashSet::new();
        out.retain(|v| seen.insert(v.clone()));
        out
    }
}

fn assertion_variables(assertions: &[BodyAssertion], out: &mut Vec<String>) {
    for a in assertions {
        if let PathExpr::Templated(t) = &a.path {
            out.extend(t.variables().map(str::to_string));
        }
        a.matcher.variables(out);
    }
}

impl Case {
    /// Whether the case was generated from the spec (not from a case file).
    pub fn is_generated(&self) -> bool {
        self.all_steps().any(|s| s.generated().is_some())
    }

    /// Whether every main step stands alone (a generated operation x phase
    /// case: one failing request must not skip the others). Chains and
    /// hand-written cases depend on earlier steps.
    pub fn independent_steps(&self) -> bool {
        !self.steps.is_empty()
            && self
                .steps
                .iter()
                .all(|s| s.generated().is_some_and(|g| g.role.is_none()))
    }

    /// Every step, main then cleanup.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().chain(self.cleanup.iter())
    }
}

/// The JSON Schema of the case-file format, generated from [`model::SuiteFile`].
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(model::SuiteFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The JSON Schema of `shared:` step-list files ([`model::SharedFile`]).
pub fn shared_schema_json() -> String {
    let schema = schemars::schema_for!(model::SharedFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
