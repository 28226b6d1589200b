//! Loading suite files: parse with positions, resolve operations, compile
//! templates and matchers, and report every problem with file:line:column
//! before anything is sent.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::matcher::RegexExpr;
use super::model::{self, StatusPattern};
use super::node::{Node, Sp};
use super::query::BodyPath;
use super::rows::{self, Row};
use super::shared::{Included, SharedFiles};
use super::template::{Template, ValueTemplate};
use super::vars::{ExternalVars, resolve_globals};
use super::{
    Body, BodyAssertion, Capture, CaptureSource, Case, Credential, Expect, Matcher, PathExpr,
    PathPart, RequestStep, SnapshotSpec, StaticBody, Step, StepKind, Suite, WebhookStep,
};
use crate::check::{self, CheckSet, Outcome};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::spec::{self, OperationId, ParamIn, Spec};
use crate::yaml;

/// What loading needs from the command line.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Variables from `--var`, `--vars-file` and the environment.
    pub external: ExternalVars,
    /// Load each spec for the operations its suites name (`spec::load_for`:
    /// the others outlined), as a run does; the whole spec otherwise, and
    /// whenever the outline turns out not to be enough.
    pub outline_specs: bool,
}

/// Expands folders into suite files (`*.yaml`, `*.yml`, sorted; names
/// starting with `_` or `.` are skipped).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut files = Vec::new();
    let mut diagnostics = Diagnostics::default();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_dir(path, &mut found, &mut HashSet::new(), &mut diagnostics);
            if found.is_empty() {
                diagnostics.push(Diagnostic::new(
                    path,
                    Pos::UNKNOWN,
                    "no suite files (*.yaml, *.yml) in this folder",
                ));
            }
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            diagnostics.push(Diagnostic::new(
                path,
                Pos::UNKNOWN,
                "no such file or folder",
            ));
        }
    }
    let mut seen = HashSet::new();
    files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    diagnostics.into_result(files)
}

/// Walks `dir` for suite files. Symlinked folders are followed, but each
/// real folder is searched once: a link back to an ancestor (`loop -> .`)
/// would otherwise recurse until the OS refuses the path. A folder that
/// cannot be read is a diagnostic, not a silently smaller run.
fn collect_dir(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    searched: &mut HashSet<PathBuf>,
    diagnostics: &mut Diagnostics,
) {
    if !searched.insert(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                dir,
                Pos::UNKNOWN,
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            collect_dir(&path, out, searched, diagnostics);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

/// Loads suites from files and folders. Specs shared by several suites are
/// loaded once.
pub fn load_paths(
    paths: &[PathBuf],
    options: &LoadOptions,
) -> Result<Vec<Arc<Suite>>, Diagnostics> {
    let files = expand_paths(paths)?;
    let mut specs: HashMap<PathBuf, Arc<Spec>> = HashMap::new();
    let mut suites = Vec::new();
    let mut diagnostics = Diagnostics::default();
    for file in files {
        match load_file(&file, options, &mut specs) {
            Ok(s) => suites.push(Arc::new(s)),
            Err(d) => diagnostics.0.extend(d.0),
        }
    }
    diagnostics.into_result(suites)
}

/// Loads one suite file.
pub fn load_file(
    file: &Path,
    options: &LoadOptions,
    specs: &mut HashMap<PathBuf, Arc<Spec>>,
) -> Result<Suite, Diagnostics> {
    let bytes = crate::input::read(file).map_err(|e| {
        Diagnostics::from(Diagnostic::new(
            file,
            Pos::UNKNOWN,
            format!("cannot read file: {e}"),
        ))
    })?;
    let sha256 = spec::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostics::from(Diagnostic::new(
            file,
            Pos::UNKNOWN,
            "file is not UTF-8 text",
        ))
    })?;
    let model: model::SuiteFile = yaml::from_str(file, &text)?;

    let spec_path = match spec::source::is_url(&model.spec.value) {
        true => PathBuf::from(&model.spec.value),
        false => lexical_clean(
            &file
                .parent()
                .unwrap_or(Path::new("."))
                .join(&model.spec.value),
        ),
    };
    let key = spec_path
        .canonicalize()
        .unwrap_or_else(|_| spec_path.clone());
    let shared = SharedFiles::load(file, &model.shared)?;
    let spec_at = (model.spec.pos, spec_path.as_path());
    if options.outline_specs && model.generate.is_none() {
        let wanted = wanted_operations(&model, &shared);
        let spec = match specs.get(&key) {
            Some(s) => s.clone(),
            None => {
                let loaded = Arc::new(load_spec(file, spec_at, Some(&wanted))?);
                specs.insert(key.clone(), loaded.clone());
                loaded
            }
        };
        let compiled = compile(file, options, &shared, model, sha256.clone(), spec.clone());
        match compiled {
            Ok(suite) if !uses_outlines(&suite) => return Ok(suite),
            other if !spec.is_outline() => return other,
            // An outline is not enough (an outlined operation, or a
            // problem to report against the whole spec): load it whole.
            _ => {}
        }
        let whole = Arc::new(load_spec(file, spec_at, None)?);
        specs.insert(key, whole.clone());
        let model: model::SuiteFile = yaml::from_str(file, &text)?;
        return compile(file, options, &shared, model, sha256, whole);
    }
    let spec = match specs.get(&key) {
        Some(s) if !s.is_outline() => s.clone(),
        _ => {
            let loaded = Arc::new(load_spec(file, spec_at, None)?);
            specs.insert(key, loaded.clone());
            loaded
        }
    };
    compile(file, options, &shared, model, sha256, spec)
}

/// Loads a suite's spec (for the `wanted` operations, or whole); a failure
/// is also named at the suite's `spec:`.
fn load_spec(
    file: &Path,
    (pos, spec_path): (Pos, &Path),
    wanted: Option<&spec::Wanted>,
) -> Result<Spec, Diagnostics> {
    let loaded = match wanted {
        Some(wanted) => spec::load_for(spec_path, wanted),
        None => spec::load(spec_path),
    };
    loaded.map_err(|mut d| {
        d.0.insert(
            0,
            Diagnostic::new(
                file,
                pos,
                format!("cannot use spec {}", spec_path.display()),
            ),
        );
        d
    })
}

fn compile(
    file: &Path,
    options: &LoadOptions,
    shared: &SharedFiles,
    model: model::SuiteFile,
    sha256: String,
    spec: Arc<Spec>,
) -> Result<Suite, Diagnostics> {
    let mut c = Compiler {
        file,
        spec: &spec,
        diagnostics: shared.check_names(),
        external: &options.external,
        shared,
        include: None,
    };
    let suite = c.suite(model, file, sha256, spec.clone());
    c.diagnostics.into_result(suite)
}

/// The operations a suite file and its shared files name.
fn wanted_operations(model: &model::SuiteFile, shared: &SharedFiles) -> spec::Wanted {
    let mut wanted = spec::Wanted::default();
    let cases = model
        .cases
        .iter()
        .flat_map(|c| c.steps.iter().chain(&c.cleanup));
    let steps = model.setup.iter().chain(&model.teardown).chain(cases);
    for step in steps.chain(shared.all_steps()) {
        if let Some(id) = &step.operation {
            wanted.ids.insert(id.value.clone());
        }
        if let Some((method, path)) = step
            .request
            .as_ref()
            .and_then(|r| r.value.trim().split_once(' '))
        {
            wanted
                .routes
                .push((method.to_string(), path.trim().to_string()));
        }
    }
    wanted
}

/// Whether a compiled suite uses an operation its spec has only outlined.
fn uses_outlines(suite: &Suite) -> bool {
    let cases = suite
        .cases
        .iter()
        .flat_map(|c| c.steps.iter().chain(&c.cleanup));
    let mut steps = suite.setup.iter().chain(&suite.teardown).chain(cases);
    steps.any(|s| s.operation_id.is_some_and(|op| suite.spec.is_outlined(op)))
}

struct Compiler<'a> {
    /// The file being compiled: the suite file, or a shared file while
    /// compiling a step it includes.
    file: &'a Path,
    spec: &'a Spec,
    diagnostics: Diagnostics,
    external: &'a ExternalVars,
    shared: &'a SharedFiles,
    /// `included by use: NAME at file:line:col`, while compiling an
    /// included step (added to every diagnostic).
    include: Option<String>,
}

/// Variables known at a point of a case, for "undefined variable" errors.
struct Known<'a> {
    globals: &'a HashSet<String>,
    local: HashSet<String>,
}

impl Known<'_> {
    fn has(&self, name: &str) -> bool {
        self.globals.contains(name) || self.local.contains(name)
    }

    /// ` (did you mean `x`?)` among the variables and captures in scope.
    fn suggest(&self, name: &str) -> String {
        let mut names: Vec<&str> = self
            .globals
            .iter()
            .chain(&self.local)
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        suggest(name, &names)
    }
}

fn expects_success(status: Option<&model::StatusSpec>) -> bool {
    status.is_none_or(|s| {
        s.0.iter().all(|p| match p {
            StatusPattern::Code(c) => *c < 400,
            StatusPattern::Class(d) => *d < 4,
        })
    })
}

impl<'a> Compiler<'a> {
    /// A position as `file:line:column`, formatted once here so results
    /// share it instead of formatting it per step.
    fn site(&self, pos: Pos) -> Arc<str> {
        crate::diag::location(self.file, pos).into()
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        let mut d = Diagnostic::new(self.file, pos, message);
        if let Some(via) = &self.include {
            d = d.with_detail(via.clone());
        }
        self.diagnostics.push(d);
    }

    fn template(&mut self, s: &str, pos: Pos) -> Template {
        match Template::parse(s) {
            Ok(t) => t,
            Err(e) => {
                self.error(pos, format!("bad template: {}", e.message));
                Template::empty()
            }
        }
    }

    fn value_template(&mut self, node: &Sp<Node>) -> ValueTemplate {
        let vt = match &node.value {
            Node::String(s) => {
                let t = self.template(s, node.pos);
                if t.is_static() {
                    ValueTemplate::Static(Value::String(s.clone()))
                } else {
                    ValueTemplate::Text(t)
                }
            }
            Node::Seq(items) => {
                ValueTemplate::Array(items.iter().map(|i| self.value_template(i)).collect())
            }
            Node::Map(entries) => ValueTemplate::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.value_template(v)))
                    .collect(),
            ),
            other => ValueTemplate::Static(other.to_value()),
        };
        collapse(vt)
    }

    fn require_vars(&mut self, vt: &ValueTemplate, known: &Known<'_>, pos: Pos) {
        let mut names = Vec::new();
        vt.variables(&mut names);
        for name in names {
            if !known.has(&name) {
                self.error(
                    pos,
                    format!("undefined variable `{name}`{}", known.suggest(&name)),
                );
            }
        }
    }

    fn require_template_vars(&mut self, t: &Template, known: &Known<'_>, pos: Pos) {
        let names: Vec<String> = t.variables().map(str::to_string).collect();
        for name in names {
            if !known.has(&name) {
                self.error(
                    pos,
                    format!("undefined variable `{name}`{}", known.suggest(&name)),
                );
            }
        }
    }

    fn checks(&mut self, base: CheckSet, checks: &model::Checks) -> CheckSet {
        let mut set = base;
        for (names, on) in [(&checks.disable, false), (&checks.enable, true)] {
            for name in names {
                match check::index_of(&name.value) {
                    Some(i) => set = set.with(i, on),
                    None => {
                        let known: Vec<&str> = check::REGISTRY.iter().map(|c| c.name).collect();
                        self.error(
                            name.pos,
                            format!(
                                "unknown check `{}` (known: {})",
                                name.value,
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        set
    }

    fn suite(
        &mut self,
        model: model::SuiteFile,
        file: &Path,
        sha256: String,
        spec: Arc<Spec>,
    ) -> Suite {
        let mut global_names: HashSet<String> = self.external.names();
        let mut variables = Vec::new();
        for (name, node) in &model.variables {
            let vt = self.value_template(node);
            let known = Known {
                globals: &global_names,
                local: HashSet::new(),
            };
            self.require_vars(&vt, &known, node.pos);
            global_names.insert(name.clone());
            variables.push((name.clone(), vt));
        }
        let known = Known {
            globals: &global_names,
            local: HashSet::new(),
        };
        let mut credentials = Vec::new();
        let mut client_certs = Vec::new();
        for (name, cred) in &model.credentials {
            if let Some(c) = self.credential(&cred.value, cred.pos, &known) {
                credentials.push((name.clone(), c));
            }
            if let Some(tls) = &cred.value.tls
                && let Some(c) = self.client_cert(tls)
            {
                client_certs.push((name.clone(), c));
            }
        }
        let default_credential = model.default_credential.as_ref().map(|d| d.value.clone());
        if let Some(d) = &model.default_credential
            && !model.credentials.contains_key(&d.value)
        {
            self.error(
                d.pos,
                format!(
                    "default_credential `{}` is not defined under `credentials`",
                    d.value
                ),
            );
        }
        let suite_checks = self.checks(CheckSet::all(), &model.checks);

        // Values usable at load time, to check static request bodies.
        let probe = Suite {
            file: file.to_path_buf(),
            file_display: "".into(),
            sha256: String::new(),
            name: "".into(),
            description: None,
            spec: spec.clone(),
            server: None,
            variables: variables.clone(),
            secrets: HashSet::new(),
            credentials: Vec::new(),
            coverage_exclusions: Vec::new(),
            setup: Vec::new(),
            teardown: Vec::new(),
            cases: Vec::new(),
            client_certs: Vec::new(),
            read_files: Vec::new(),
        };
        // Variables that cannot resolve yet (an unset `env.` value) are not
        // an error here: `list` and `check` work without them, and a run
        // reports them as an input error before sending anything. Bodies
        // that need them are checked then, against the schema, per request.
        let static_scope = match resolve_globals(&probe, self.external) {
            Ok(scope) => scope,
            Err(_) => self.external.values.clone(),
        };

        let no_setup = HashSet::new();
        let hook_ctx = CaseCtx {
            globals: &global_names,
            credentials: &model.credentials,
            default_credential: default_credential.as_deref(),
            checks: suite_checks,
            static_scope: &static_scope,
            setup_captures: &no_setup,
        };
        let (setup, teardown, setup_captures) =
            self.suite_hooks(&model.setup, &model.teardown, &hook_ctx);
        let case_globals: HashSet<String> = global_names.union(&setup_captures).cloned().collect();

        let mut cases = Vec::new();
        let mut names: HashMap<String, Pos> = HashMap::new();
        let expanded: Vec<(&model::Case, Option<Row>)> = model
            .cases
            .iter()
            .flat_map(|c| self.case_rows(c).into_iter().map(move |r| (c, r)))
            .collect();
        for (case, row) in expanded {
            let case_name = row.as_ref().map_or(&case.name.value, |r| &r.name);
            if let Some(first) = names.get(case_name) {
                let first = *first;
                self.error(
                    case.name.pos,
                    format!(
                        "duplicate case name `{}` (first at line {}:{})",
                        case_name, first.line, first.column
                    ),
                );
                continue;
            }
            names.insert(case_name.clone(), case.name.pos);
            let ctx = CaseCtx {
                globals: &case_globals,
                credentials: &model.credentials,
                default_credential: default_credential.as_deref(),
                checks: suite_checks,
                static_scope: &static_scope,
                setup_captures: &setup_captures,
            };
            cases.push(self.case(case, &ctx, row.as_ref()));
        }
        if let Some(server) = &model.server
            && !crate::serve_names().contains(&server.value.as_str())
        {
            self.error(
                server.pos,
                format!(
                    "unknown reference server `{}` (known: {})",
                    server.value,
                    crate::serve_names().join(", ")
                ),
            );
        }
        if let Some(g) = &model.generate {
            let credential = g
                .value
                .credential
                .as_deref()
                .or(default_credential.as_deref());
            match super::generated::from_config(&spec, &g.value, credential, &credentials) {
                Ok(generated) => cases.extend(generated),
                Err(e) => self.error(g.pos, format!("generate: {e}")),
            }
        }
        let coverage_exclusions = self.coverage_exclusions(&model.coverage);
        Suite {
            file: file.to_path_buf(),
            file_display: file.display().to_string().into(),
            sha256,
            name: model
                .name
                .clone()
                .unwrap_or_else(|| suite_name_from_file(file))
                .into(),
            description: model.description.clone(),
            spec,
            server: model.server.as_ref().map(|s| s.value.clone()),
            variables,
            secrets: model.secrets.iter().cloned().collect(),
            credentials,
            coverage_exclusions,
            setup,
            teardown,
            cases,
            client_certs,
            read_files: self.read_files(&model),
        }
    }

    /// The shared and rows files the suite file names.
    fn read_files(&self, model: &model::SuiteFile) -> Vec<PathBuf> {
        let rows = model
            .cases
            .iter()
            .filter_map(|c| rows::file_of(self.file, c));
        self.shared
            .paths()
            .map(Path::to_path_buf)
            .chain(rows)
            .collect()
    }

    /// A credential's `tls:` files, relative to the declaring file, read
    /// and checked now so a bad file points at its line.
    fn client_cert(&mut self, tls: &model::ClientTls) -> Option<crate::tls::ClientCert> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        let (cert, key) = (dir.join(&tls.cert.value), dir.join(&tls.key.value));
        match crate::tls::load_client_cert(&cert, &key) {
            Ok(c) => Some(c),
            Err(e) => {
                let pos = match &e {
                    crate::tls::TlsError::NoKey { .. } => tls.key.pos,
                    crate::tls::TlsError::Read { file, .. } if *file == key => tls.key.pos,
                    _ => tls.cert.pos,
                };
                self.error(pos, format!("tls: {e}"));
                None
            }
        }
    }

    fn coverage_exclusions(
        &mut self,
        config: &model::CoverageConfig,
    ) -> Vec<(usize, String, String)> {
        let mut out = Vec::new();
        for ex in &config.exclude {
            let e = &ex.value;
            let status = match &e.status.value {
                Node::String(s) => s.to_uppercase().replace("DEFAULT", "default"),
                Node::Number(n) => n.to_string(),
                _ => {
                    self.error(
                        e.status.pos,
                        "status must be a code, a range like 5XX, or default",
                    );
                    continue;
                }
            };
            let op = self.spec.operations.iter().position(|o| {
                o.id.as_deref() == Some(e.operation.as_str()) || o.method_path() == e.operation
            });
            let Some(op) = op else {
                self.error(
                    ex.pos,
                    format!("coverage exclusion: unknown operation `{}`", e.operation),
                );
                continue;
            };
            if !self.spec.operations[op]
                .responses
                .iter()
                .any(|r| r.key == status)
            {
                self.error(
                    e.status.pos,
                    format!(
                        "coverage exclusion: {} documents no `{status}` response",
                        e.operation
                    ),
                );
                continue;
            }
            out.push((op, status, e.reason.clone()));
        }
        out
    }

    fn credential(
        &mut self,
        c: &model::Credential,
        pos: Pos,
        known: &Known<'_>,
    ) -> Option<Credential> {
        let given = usize::from(c.bearer.is_some())
            + usize::from(c.basic.is_some())
            + usize::from(c.header.is_some())
            + usize::from(c.oauth2.is_some());
        if given > 1 || (given == 0 && c.tls.is_none()) {
            self.error(
                pos,
                "a credential needs exactly one of `bearer`, `basic`, `header`, `oauth2` (or only `tls`)",
            );
            return None;
        }
        if given == 0 {
            // Only a client certificate: no header to send.
            return None;
        }
        if let Some(o) = &c.oauth2 {
            return self.oauth2_credential(o, known);
        }
        let mut t = |s: &Sp<String>| {
            let t = self.template(&s.value, s.pos);
            self.require_template_vars(&t, known, s.pos);
            t
        };
        if let Some(b) = &c.bearer {
            return Some(Credential::Bearer(t(b)));
        }
        if let Some(b) = &c.basic {
            return Some(Credential::Basic(t(&b.username), t(&b.password)));
        }
        let h = c.header.as_ref()?;
        let value = t(&h.value);
        if reqwest::header::HeaderName::from_bytes(h.name.as_bytes()).is_err() {
            self.error(pos, format!("`{}` is not a valid header name", h.name));
        }
        Some(Credential::Header(h.name.clone(), value))
    }

    /// An `oauth2:` credential: every value a template whose variables
    /// must be defined, and a known `client_auth`.
    fn oauth2_credential(
        &mut self,
        o: &Sp<model::OAuth2Auth>,
        known: &Known<'_>,
    ) -> Option<Credential> {
        let mut t = |s: &Sp<String>| {
            let t = self.template(&s.value, s.pos);
            self.require_template_vars(&t, known, s.pos);
            t
        };
        let m = &o.value;
        let compiled = crate::suite::OAuth2Credential {
            token_url: t(&m.token_url),
            client_id: t(&m.client_id),
            client_secret: t(&m.client_secret),
            scopes: m.scopes.iter().map(&mut t).collect(),
            audience: m.audience.as_ref().map(&mut t),
            secret_in_body: false,
        };
        let secret_in_body = match m.client_auth.as_ref().map(|a| (a.value.as_str(), a.pos)) {
            None | Some(("basic", _)) => false,
            Some(("body", _)) => true,
            Some((other, pos)) => {
                self.error(
                    pos,
                    format!("unknown client_auth `{other}` (known: basic, body)"),
                );
                false
            }
        };
        let url = &m.token_url.value;
        if !url.contains("{{")
            && url::Url::parse(url).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        {
            self.error(
                m.token_url.pos,
                format!("token_url `{url}` is not an http(s) URL"),
            );
        }
        Some(Credential::OAuth2(Box::new(
            crate::suite::OAuth2Credential {
                secret_in_body,
                ..compiled
            },
        )))
    }

    /// A case's rows (`[None]` for a case without `rows:`).
    fn case_rows(&mut self, case: &model::Case) -> Vec<Option<Row>> {
        match rows::expand(self.file, case, &mut self.diagnostics) {
            Some(rows) => rows.into_iter().map(Some).collect(),
            None => vec![None],
        }
    }

    fn case(&mut self, case: &model::Case, ctx: &CaseCtx<'_>, row: Option<&Row>) -> Case {
        let checks = self.checks(ctx.checks, &case.checks);
        let mut known = Known {
            globals: ctx.globals,
            local: HashSet::new(),
        };
        let mut variables = Vec::new();
        for (name, node) in row.map(|r| r.values.as_slice()).unwrap_or_default() {
            let vt = self.value_template(node);
            self.require_vars(&vt, &known, node.pos);
            known.local.insert(name.clone());
            variables.push((name.clone(), vt));
        }
        for (name, node) in &case.variables {
            let vt = self.value_template(node);
            self.require_vars(&vt, &known, node.pos);
            known.local.insert(name.clone());
            variables.push((name.clone(), vt));
        }
        if case.steps.is_empty() {
            self.error(
                case.name.pos,
                format!("case `{}` has no steps", case.name.value),
            );
        }
        if case.skip.as_deref().is_some_and(|s| s.trim().is_empty()) {
            self.error(
                case.name.pos,
                format!("case `{}`: `skip:` needs a reason", case.name.value),
            );
        }
        if let Some(r) = &case.requirement {
            self.requirement(r, &case.name);
        }
        let steps = self.steps_of(&case.steps, ctx, checks, &mut known);
        let cleanup = self.steps_of(&case.cleanup, ctx, checks, &mut known);
        self.read_only_setup(&steps, &cleanup, ctx.setup_captures);
        let mut requirement = case.requirement.clone();
        if let (Some(r), Some(row)) = (&mut requirement, row) {
            r.id = row.requirement_id(&r.id);
            r.text = row.render(&r.text);
            r.source = r.source.as_deref().map(|s| row.render(s));
        }
        let description = match row {
            Some(row) => case.description.as_deref().map(|d| row.render(d)),
            None => case.description.clone(),
        };
        Case {
            name: row
                .map_or_else(|| case.name.value.clone(), |r| r.name.clone())
                .into(),
            pos: case.name.pos,
            location: crate::diag::location(self.file, case.name.pos).into(),
            description,
            requirement,
            tags: case.tags.clone(),
            serial: case.serial.clone(),
            stop_on_failure: case.stop_on_failure,
            variables,
            steps,
            cleanup,
            skip: case.skip.clone(),
        }
    }

    /// Compiles a step list, `use:` includes expanded in place. An included
    /// step's diagnostics point into its shared file and name the include.
    fn steps_of(
        &mut self,
        steps: &[model::Step],
        ctx: &CaseCtx<'_>,
        checks: CheckSet,
        known: &mut Known<'_>,
    ) -> Vec<Step> {
        let shared = self.shared;
        let here = self.file;
        let included: Vec<Included<'_, '_>> = shared.expand(here, steps, &mut self.diagnostics);
        let mut out = Vec::new();
        for (i, inc) in included.iter().enumerate() {
            let via = inc.via.map(|(name, pos)| {
                format!(
                    "included by `use: {name}` at {}",
                    crate::diag::location(here, pos)
                )
            });
            let saved = (self.file, self.include.take());
            self.file = inc.file;
            self.include = via.or_else(|| saved.1.clone());
            if let Some(step) = self.step(inc.step, i, ctx, checks, known) {
                out.push(step);
            }
            self.file = saved.0;
            self.include = saved.1;
        }
        out
    }

    /// The suite's setup and teardown steps, and the names setup captures
    /// (which cases and teardown may use).
    fn suite_hooks(
        &mut self,
        setup: &[model::Step],
        teardown: &[model::Step],
        ctx: &CaseCtx<'_>,
    ) -> (Vec<Step>, Vec<Step>, HashSet<String>) {
        let mut known = Known {
            globals: ctx.globals,
            local: HashSet::new(),
        };
        let setup = self.steps_of(setup, ctx, ctx.checks, &mut known);
        let captured = known.local.clone();
        let teardown = self.steps_of(teardown, ctx, ctx.checks, &mut known);
        (setup, teardown, captured)
    }

    /// Setup captures are shared by every case, so no case may capture
    /// into the same name.
    fn read_only_setup(&mut self, steps: &[Step], cleanup: &[Step], setup: &HashSet<String>) {
        for cap in steps.iter().chain(cleanup).flat_map(|s| &s.captures) {
            if setup.contains(&cap.name) {
                self.error(
                    cap.pos,
                    format!(
                        "capture `{}` would overwrite the suite setup's capture of that name (read-only in cases)",
                        cap.name
                    ),
                );
            }
        }
    }

    /// A requirement states its level and its source, so a certificate can
    /// tell binding results from advisory ones and say where each comes from.
    fn requirement(&mut self, r: &model::Requirement, case: &Sp<String>) {
        if r.level.is_none() {
            self.error(
                case.pos,
                format!(
                    "requirement `{}` of case `{}` has no `level` (must or should)",
                    r.id, case.value
                ),
            );
        }
        if r.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
            self.error(
                case.pos,
                format!(
                    "requirement `{}` of case `{}` has no `source` (a document passage or decision id)",
                    r.id, case.value
                ),
            );
        }
    }

    fn step(
        &mut self,
        step: &model::Step,
        index: usize,
        ctx: &CaseCtx<'_>,
        case_checks: CheckSet,
        known: &mut Known<'_>,
    ) -> Option<Step> {
        let checks = self.checks(case_checks, &step.checks);
        let kinds = usize::from(step.operation.is_some())
            + usize::from(step.request.is_some())
            + usize::from(step.webhook.is_some());
        let step_pos = step
            .operation
            .as_ref()
            .or(step.request.as_ref())
            .map(|s| s.pos)
            .or(step.webhook.as_ref().map(|w| w.pos))
            .unwrap_or(Pos::UNKNOWN);
        if kinds != 1 {
            let pos = if step_pos.is_known() {
                step_pos
            } else {
                step.expect.status.as_ref().map_or(Pos::UNKNOWN, |s| s.pos)
            };
            self.error(
                pos,
                format!(
                    "step {} needs exactly one of `operation`, `request`, `webhook`",
                    index + 1
                ),
            );
            return None;
        }
        let (kind, name) = if let Some(hook) = &step.webhook {
            let kind = self.webhook_step(&hook.value, hook.pos, known)?;
            (kind, format!("webhook {}", hook.value.event.value))
        } else {
            let Some((req, label)) = self.request_step(step, ctx, checks, known) else {
                self.unresolved_step(step, ctx, known);
                return None;
            };
            (StepKind::Request(Box::new(req)), label)
        };
        let captures = self.captures(step, known);
        let snapshot = self.snapshot(step);
        let (operation, method_path, operation_id) = step_labels(self.spec, &kind);
        Some(Step {
            name: step.name.clone().unwrap_or(name).into(),
            pos: step_pos,
            location: self.site(step_pos),
            operation: operation.into(),
            method_path: method_path.into(),
            operation_id,
            kind,
            checks,
            captures,
            snapshot,
        })
    }

    /// A step's captures; each name becomes known to later steps.
    fn captures(&mut self, step: &model::Step, known: &mut Known<'_>) -> Vec<Capture> {
        let mut captures = Vec::new();
        for (cap_name, cap) in &step.capture {
            let source = match (&cap.value.body, &cap.value.header) {
                (Some(path), None) => match BodyPath::parse(&path.value) {
                    Ok(p) => CaptureSource::Body(path.value.clone(), p),
                    Err(e) => {
                        self.error(path.pos, format!("bad JSON path `{}`: {e}", path.value));
                        continue;
                    }
                },
                (None, Some(h)) => CaptureSource::Header(h.clone()),
                _ => {
                    self.error(
                        cap.pos,
                        format!("capture `{cap_name}` needs exactly one of `body`, `header`"),
                    );
                    continue;
                }
            };
            captures.push(Capture {
                name: cap_name.clone(),
                pos: cap.pos,
                at: Some(self.site(cap.pos)),
                source,
                secret: cap.value.secret,
                optional: cap.value.optional,
            });
            known.local.insert(cap_name.clone());
        }
        captures
    }

    /// A step's snapshot, with its redaction paths compiled.
    fn snapshot(&mut self, step: &model::Step) -> Option<SnapshotSpec> {
        step.snapshot.as_ref().map(|s| {
            let mut redact = Vec::new();
            for (path, placeholder) in &s.value.redact {
                let t = self.template(&placeholder.value, placeholder.pos);
                match JsonPath::parse(path) {
                    Ok(p) => redact.push((path.clone(), p, t)),
                    Err(e) => self.error(placeholder.pos, format!("bad JSON path `{path}`: {e}")),
                }
            }
            SnapshotSpec {
                name: s.value.name.clone(),
                pos: s.pos,
                redact,
            }
        })
    }

    /// A step whose operation is unknown: its other problems are still
    /// reported (one `check` shows them all), and its captures count as
    /// defined so later steps do not report them as well.
    fn unresolved_step(&mut self, step: &model::Step, ctx: &CaseCtx<'_>, known: &mut Known<'_>) {
        let values = step.path.iter().chain(&step.query).chain(&step.headers);
        for node in values.map(|(_, v)| v).chain(step.body.iter()) {
            let vt = self.value_template(node);
            self.require_vars(&vt, known, node.pos);
        }
        if let Some(raw) = &step.raw_body {
            let t = self.template(&raw.value, raw.pos);
            self.require_template_vars(&t, known, raw.pos);
        }
        if let Some(c) = &step.credential
            && c.value != "none"
            && !ctx.credentials.contains_key(&c.value)
        {
            let names: Vec<&str> = ctx.credentials.keys().map(String::as_str).collect();
            self.error(c.pos, crate::diag::unknown_credential(&c.value, &names));
        }
        for name in step.capture.keys() {
            known.local.insert(name.clone());
        }
    }

    /// Compiles a request step (`operation:` or `request:`): resolve the
    /// operation, then each part of the request against it.
    fn request_step(
        &mut self,
        step: &model::Step,
        ctx: &CaseCtx<'_>,
        checks: CheckSet,
        known: &Known<'_>,
    ) -> Option<(RequestStep, String)> {
        let (op_index, pos, concrete_params) = self.resolve_operation(step)?;
        let spec = self.spec;
        let op = spec.operations.get(op_index)?;
        let label = op.label();
        let Ok(method) = reqwest::Method::from_bytes(op.method.as_bytes()) else {
            self.error(pos, format!("`{}` is not an HTTP method", op.method));
            return None;
        };
        let path = self.path_parts(step, op, pos, &concrete_params, known);
        let query = self.query_params(step, op, known);
        let headers = self.header_templates(step, known);
        let body = self.request_body(step, ctx, checks, op_index, known);
        let credential = self.step_credential(step, ctx);
        let expect = self.expect(&step.expect, known);
        Some((
            RequestStep {
                operation: op_index,
                method,
                path,
                query,
                headers,
                body,
                credential,
                expect,
                generated: None,
            },
            label,
        ))
    }

    /// The operation a step names, where it names it, and the parameter
    /// values a concrete `request:` path gives (`/shares/abc`).
    fn resolve_operation(&mut self, step: &model::Step) -> Option<(usize, Pos, ConcreteParams)> {
        let mut concrete_params: Vec<(String, String)> = Vec::new();
        let (op_index, pos) = if let Some(id) = &step.operation {
            match self.spec.operation_index_by_id(&id.value) {
                Some(i) => (i, id.pos),
                None => {
                    let ids: Vec<&str> = self
                        .spec
                        .operations
                        .iter()
                        .filter_map(|o| o.id.as_deref())
                        .collect();
                    let hint = suggest(&id.value, &ids);
                    self.error(id.pos, format!("unknown operationId `{}`{hint}", id.value));
                    return None;
                }
            }
        } else {
            let req = step.request.as_ref()?;
            let Some((method, path)) = req.value.trim().split_once(' ') else {
                self.error(req.pos, format!("`{}` is not `METHOD /path`", req.value));
                return None;
            };
            match self.spec.find_operation(method, path.trim()) {
                Some((i, m)) => {
                    // Concrete segments (`/shares/abc`) become parameter values.
                    concrete_params = m
                        .params
                        .into_iter()
                        .filter(|(n, v)| &format!("{{{n}}}") != v)
                        .collect();
                    (i, req.pos)
                }
                None => {
                    self.error(
                        req.pos,
                        format!(
                            "`{}` is not an operation of {}",
                            req.value,
                            self.spec.path.display()
                        ),
                    );
                    return None;
                }
            }
        };
        Some((op_index, pos, concrete_params))
    }

    /// Path segments, each parameter from `path:` or the concrete request path.
    fn path_parts(
        &mut self,
        step: &model::Step,
        op: &spec::Operation,
        pos: Pos,
        concrete_params: &[(String, String)],
        known: &Known<'_>,
    ) -> Vec<PathPart> {
        let label = op.label();
        let mut path = Vec::new();
        let mut used: HashSet<&str> = HashSet::new();
        for segment in split_template(&op.path) {
            match segment {
                TemplateSeg::Lit(s) => path.push(PathPart::Literal(s.to_string())),
                TemplateSeg::Param(name) => {
                    used.insert(name);
                    if let Some((_, node)) = step.path.iter().find(|(k, _)| k.as_str() == name) {
                        let vt = self.value_template(node);
                        self.require_vars(&vt, known, node.pos);
                        path.push(PathPart::Param(name.to_string(), vt));
                    } else if let Some((_, v)) = concrete_params.iter().find(|(n, _)| n == name) {
                        path.push(PathPart::Param(
                            name.to_string(),
                            ValueTemplate::Static(Value::String(v.clone())),
                        ));
                    } else {
                        self.error(pos, format!("path parameter `{name}` of {label} has no value (add `path: {{{name}: ...}}`)"));
                    }
                }
            }
        }
        for (name, node) in &step.path {
            if !used.contains(name.as_str()) {
                self.error(
                    node.pos,
                    format!("unknown path parameter `{name}` for {label} ({})", op.path),
                );
            }
        }

        path
    }

    /// Query parameters; each must be documented for the operation.
    fn query_params(
        &mut self,
        step: &model::Step,
        op: &spec::Operation,
        known: &Known<'_>,
    ) -> Vec<(String, ValueTemplate)> {
        let label = op.label();
        let mut query = Vec::new();
        for (name, node) in &step.query {
            if op.parameter(ParamIn::Query, name).is_none() {
                let documented: Vec<&str> = op
                    .parameters
                    .iter()
                    .filter(|p| p.location == ParamIn::Query)
                    .map(|p| p.name.as_str())
                    .collect();
                self.error(
                    node.pos,
                    format!(
                        "unknown query parameter `{name}` for {label} (documented: {})",
                        if documented.is_empty() {
                            "none".into()
                        } else {
                            documented.join(", ")
                        }
                    ),
                );
                continue;
            }
            let vt = self.value_template(node);
            self.require_vars(&vt, known, node.pos);
            query.push((name.clone(), vt));
        }

        query
    }

    /// Extra request headers; names must be valid header names.
    fn header_templates(
        &mut self,
        step: &model::Step,
        known: &Known<'_>,
    ) -> Vec<(reqwest::header::HeaderName, ValueTemplate)> {
        let mut headers = Vec::new();
        for (name, node) in &step.headers {
            match reqwest::header::HeaderName::from_bytes(name.as_bytes()) {
                Ok(h) => {
                    let vt = self.value_template(node);
                    self.require_vars(&vt, known, node.pos);
                    if let Some(m) = crate::diag::header_value_flaw(name, &vt.literal_text()) {
                        self.error(node.pos, m);
                    }
                    headers.push((h, vt));
                }
                Err(_) => self.error(node.pos, format!("`{name}` is not a valid header name")),
            }
        }

        headers
    }

    /// `body` (JSON, checked against the request schema when static) or
    /// `raw_body`, not both.
    fn request_body(
        &mut self,
        step: &model::Step,
        ctx: &CaseCtx<'_>,
        checks: CheckSet,
        op_index: usize,
        known: &Known<'_>,
    ) -> Option<Body> {
        let content_type = step
            .content_type
            .clone()
            .unwrap_or_else(|| "application/json".to_string());
        match (&step.body, &step.raw_body) {
            (Some(_), Some(raw)) => {
                self.error(raw.pos, "give `body` or `raw_body`, not both");
                None
            }
            (Some(node), None) => {
                let vt = self.value_template(node);
                self.require_vars(&vt, known, node.pos);
                let valid = self.check_static_body(&vt, node.pos, op_index, step, ctx, checks);
                let prepared = StaticBody::of(&vt, valid);
                Some(Body::Json(vt, content_type, prepared))
            }
            (None, Some(raw)) => {
                let t = self.template(&raw.value, raw.pos);
                self.require_template_vars(&t, known, raw.pos);
                Some(Body::Raw(t, content_type))
            }
            (None, None) => None,
        }
    }

    /// The credential a step sends: its own, `none`, or the suite default.
    fn step_credential(&mut self, step: &model::Step, ctx: &CaseCtx<'_>) -> Option<String> {
        match &step.credential {
            Some(c) if c.value == "none" => None,
            Some(c) => {
                if !ctx.credentials.contains_key(&c.value) {
                    let known: Vec<&str> = ctx.credentials.keys().map(String::as_str).collect();
                    self.error(c.pos, crate::diag::unknown_credential(&c.value, &known));
                }
                Some(c.value.clone())
            }
            None => ctx.default_credential.map(str::to_string),
        }
    }

    /// Validates a body that can be rendered now against the request schema.
    /// Returns whether it conformed (for a body without templates, the
    /// run then trusts this verdict: [`StaticBody::schema_valid`]).
    fn check_static_body(
        &mut self,
        vt: &ValueTemplate,
        pos: Pos,
        op_index: usize,
        step: &model::Step,
        ctx: &CaseCtx<'_>,
        checks: CheckSet,
    ) -> bool {
        if !checks.is_enabled("request_schema_conformance")
            || !expects_success(step.expect.status.as_ref().map(|s| &s.value))
        {
            return false;
        }
        let mut names = Vec::new();
        vt.variables(&mut names);
        if names.iter().any(|n| !ctx.static_scope.contains_key(n)) {
            return false; // depends on captures: checked at run time
        }
        let Ok(body) = vt.render(ctx.static_scope) else {
            return false;
        };
        let Some(op) = self.spec.operations.get(op_index) else {
            return false;
        };
        let Some(schema) = op
            .request_body
            .as_ref()
            .and_then(|b| b.content.iter().find(|m| m.json))
            .and_then(|m| m.schema)
        else {
            return false;
        };
        let outcome = check::validate_schema(self.spec, schema, &body, "request body");
        if let Outcome::Fail(findings) = outcome {
            let detail: Vec<String> = findings.iter().map(|f| f.message.clone()).collect();
            self.diagnostics.push(
                Diagnostic::new(
                    self.file,
                    pos,
                    format!(
                        "request body breaks the request schema of {} (expect a 4xx status, or disable request_schema_conformance, to send it on purpose)",
                        op.label()
                    ),
                )
                .with_detail(detail.join("\n")),
            );
            return false;
        }
        matches!(outcome, Outcome::Pass)
    }

    fn expect(&mut self, e: &model::Expect, known: &Known<'_>) -> Expect {
        let headers = e
            .headers
            .iter()
            .map(|(name, m)| (name.clone(), self.matcher(&m.value, m.pos, known)))
            .collect();
        let body = self.assertions(&e.body, known);
        Expect {
            status: e.status.as_ref().map(|s| s.value.clone()),
            status_pos: e.status.as_ref().map_or(Pos::UNKNOWN, |s| s.pos),
            status_at: e.status.as_ref().map(|s| self.site(s.pos)),
            headers,
            body,
            max_time_ms: e.max_time_ms,
        }
    }

    fn assertions(
        &mut self,
        map: &indexmap::IndexMap<String, Sp<model::Matcher>>,
        known: &Known<'_>,
    ) -> Vec<BodyAssertion> {
        let mut out = Vec::new();
        for (path, m) in map {
            let matcher = self.matcher(&m.value, m.pos, known);
            let expr = if path.contains("{{") {
                let t = self.template(path, m.pos);
                self.require_template_vars(&t, known, m.pos);
                PathExpr::Templated(t)
            } else {
                match BodyPath::parse(path) {
                    Ok(p) => PathExpr::Static(p),
                    Err(e) => {
                        self.error(m.pos, format!("bad JSON path `{path}`: {e}"));
                        continue;
                    }
                }
            };
            out.push(BodyAssertion {
                source: path.clone(),
                path: expr,
                matcher,
            });
        }
        out
    }

    fn matcher(&mut self, m: &model::Matcher, pos: Pos, known: &Known<'_>) -> Matcher {
        let vt = |n: &Option<Sp<Node>>, this: &mut Self| {
            n.as_ref().map(|n| {
                let t = this.value_template(n);
                this.require_vars(&t, known, n.pos);
                t
            })
        };
        let equals = vt(&m.equals, self);
        let not_equals = vt(&m.not_equals, self);
        let contains = vt(&m.contains, self);
        let not_contains = vt(&m.not_contains, self);
        let gt = vt(&m.gt, self);
        let gte = vt(&m.gte, self);
        let lt = vt(&m.lt, self);
        let lte = vt(&m.lte, self);
        let one_of = m.one_of.as_ref().map(|items| {
            items
                .iter()
                .map(|n| {
                    let t = self.value_template(n);
                    self.require_vars(&t, known, n.pos);
                    t
                })
                .collect()
        });
        let regex = m.regex.as_ref().and_then(|r| {
            if r.value.contains("{{") {
                let t = self.template(&r.value, r.pos);
                self.require_template_vars(&t, known, r.pos);
                return Some(RegexExpr::Templated(t));
            }
            match Regex::new(&r.value) {
                Ok(re) => Some(RegexExpr::Static(re)),
                Err(e) => {
                    self.error(r.pos, format!("bad regex: {e}"));
                    None
                }
            }
        });
        let key_regex = m
            .key_regex
            .as_ref()
            .and_then(|r| match Regex::new(&r.value) {
                Ok(re) => Some(re),
                Err(e) => {
                    self.error(r.pos, format!("bad key_regex: {e}"));
                    None
                }
            });
        let present = match (m.present, m.absent) {
            (Some(p), Some(a)) if p == a => {
                self.error(pos, "`present` and `absent` contradict each other");
                None
            }
            (Some(p), _) => Some(p),
            (None, Some(a)) => Some(!a),
            (None, None) => None,
        };
        Matcher {
            pos,
            at: Some(self.site(pos)),
            equals,
            not_equals,
            one_of,
            type_: m.type_,
            regex,
            key_regex,
            uuid: m.uuid,
            date_time: m.date_time,
            length: m.length,
            min_length: m.min_length,
            max_length: m.max_length,
            contains,
            not_contains,
            present,
            gt,
            gte,
            lt,
            lte,
            each: m.each.unwrap_or(false),
        }
    }

    fn webhook_step(
        &mut self,
        hook: &model::WebhookExpect,
        pos: Pos,
        known: &Known<'_>,
    ) -> Option<StepKind> {
        let operation = self
            .spec
            .operations
            .iter()
            .position(|o| o.kind == spec::OperationKind::Webhook(hook.event.value.clone()));
        if operation.is_none() {
            let names: Vec<String> = self
                .spec
                .operations
                .iter()
                .filter_map(|o| match &o.kind {
                    spec::OperationKind::Webhook(n) => Some(n.clone()),
                    spec::OperationKind::Path => None,
                })
                .collect();
            self.error(
                hook.event.pos,
                format!(
                    "webhook `{}` is not in the spec's `webhooks` (documented: {})",
                    hook.event.value,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            );
        }
        if hook.match_.is_empty() {
            self.error(
                pos,
                "a webhook step needs `match` to tell this case's delivery from others",
            );
        }
        let matchers = self.assertions(&hook.match_, known);
        let expect = self.assertions(&hook.expect, known);
        Some(StepKind::Webhook(Box::new(WebhookStep {
            event: hook.event.value.clone(),
            operation,
            matchers,
            expect,
            timeout_ms: hook.timeout_ms.unwrap_or(5000),
        })))
    }
}

struct CaseCtx<'a> {
    globals: &'a HashSet<String>,
    credentials: &'a indexmap::IndexMap<String, Sp<model::Credential>>,
    default_credential: Option<&'a str>,
    checks: CheckSet,
    static_scope: &'a HashMap<String, Value>,
    /// Names the suite's setup captures (read-only in cases).
    setup_captures: &'a HashSet<String>,
}

/// Collapses subtrees without templates into static values.
/// Path parameter values taken from a concrete `request:` path.
type ConcreteParams = Vec<(String, String)>;

/// A step's operation label, documented `METHOD /template` (`WEBHOOK
/// name`) and operation id, for results and coverage.
fn step_labels(spec: &Spec, kind: &StepKind) -> (String, String, Option<OperationId>) {
    match kind {
        StepKind::Request(r) => match spec.operations.get(r.operation) {
            Some(op) => (op.label(), op.method_path(), Some(OperationId(r.operation))),
            None => (String::new(), String::new(), None),
        },
        StepKind::Webhook(h) => {
            let op = h.operation.and_then(|i| spec.operations.get(i));
            (
                op.and_then(|o| o.id.clone())
                    .unwrap_or_else(|| format!("webhook {}", h.event)),
                format!("WEBHOOK {}", h.event),
                op.and(h.operation.map(OperationId)),
            )
        }
    }
}

fn collapse(vt: ValueTemplate) -> ValueTemplate {
    match vt {
        ValueTemplate::Array(items) if items.iter().all(ValueTemplate::is_static) => {
            ValueTemplate::Static(Value::Array(
                items
                    .into_iter()
                    .map(|i| match i {
                        ValueTemplate::Static(v) => v,
                        _ => Value::Null,
                    })
                    .collect(),
            ))
        }
        ValueTemplate::Object(entries) if entries.iter().all(|(_, v)| v.is_static()) => {
            ValueTemplate::Static(Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| match v {
                        ValueTemplate::Static(v) => (k, v),
                        _ => (k, Value::Null),
                    })
                    .collect(),
            ))
        }
        other => other,
    }
}

enum TemplateSeg<'a> {
    Lit(&'a str),
    Param(&'a str),
}

/// `/shares/{id}/x` -> literal and parameter pieces.
fn split_template(template: &str) -> Vec<TemplateSeg<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(TemplateSeg::Lit(&rest[..open]));
        }
        match rest[open..].find('}') {
            Some(close) => {
                out.push(TemplateSeg::Param(&rest[open + 1..open + close]));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push(TemplateSeg::Lit(&rest[open..]));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push(TemplateSeg::Lit(rest));
    }
    out
}

/// ` (did you mean `x`?)` for a close name, or the list of known names.
pub(crate) fn suggest(name: &str, known: &[&str]) -> String {
    let lower = name.to_ascii_lowercase();
    let close: Vec<&&str> = known
        .iter()
        .filter(|k| {
            let k = k.to_ascii_lowercase();
            k.contains(&lower) || lower.contains(&k) || edit_distance(&k, &lower) <= 2
        })
        .collect();
    if let Some(best) = close.first() {
        return format!(" (did you mean `{best}`?)");
    }
    if known.len() <= 15 {
        return format!(" (known: {})", known.join(", "));
    }
    String::new()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `cases/x/../../specs/a.yaml` -> `specs/a.yaml`, without touching the
/// file system (so messages show the path a person would write).
fn lexical_clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `cases/enablenow/shares.yaml` -> `shares`.
pub fn suite_name_from_file(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}
