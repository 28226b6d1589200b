//! Scaffolding: a starting suite written from the spec, one case per
//! operation x documented status not yet covered (`apiconform scaffold`).
//!
//! Every case is built from the generator's pieces: [`plan::valid_request`]
//! for schema-valid requests, the negative phase's requests for 400/422,
//! and the stateful chains for the create an item operation needs and the
//! delete that removes it again. A status the spec gives no way to provoke
//! becomes a case with `skip: "TODO: <reason>"`, reported as skipped (never
//! as passed) until someone writes it. Plain data in, YAML text out: nothing
//! here reads files or sends requests.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use super::case::{ExpectOut, StepOut, json_path};
use super::plan::{
    self, CaptureSource, Chain, ChainRole, ChainStep, Filter, GeneratedRequest, Phase, Pin,
    PlanConfig,
};
use super::{Carrier, Generator, Mutation, Rule, mix};
use crate::spec::{Operation, OperationKind, ParamIn, Spec};

/// What to scaffold and how the suite names its target and credentials.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The spec path as the suite file names it (relative to the file).
    pub spec_ref: String,
    /// The suite's `name:`.
    pub name: String,
    /// Bundled reference server the suite names (`server:`).
    pub server: Option<String>,
    /// `(METHOD /path, response key)` pairs already covered: no case.
    pub covered: BTreeSet<(String, String)>,
    /// Where `covered` came from, for the file's header.
    pub coverage_source: Option<String>,
    pub seed: u64,
    /// Values business rules fix (`body.ownerId={{ user_id }}`).
    pub pins: Vec<Pin>,
    /// Prefix of the first credential's variables (`enablenow` ->
    /// `enablenow_token`); default: the security scheme's name.
    pub variable_prefix: Option<String>,
    /// Default of the first credential's token variable (a reference
    /// server's development token); default: `{{ env.NAME }}`.
    pub token_default: Option<String>,
    /// More variables the pins use, with their defaults.
    pub variables: Vec<(String, String)>,
}

/// A written scaffold.
#[derive(Debug, Clone)]
pub struct Scaffold {
    pub yaml: String,
    /// Cases that run.
    pub runnable: usize,
    /// Cases marked `skip: "TODO: ..."`.
    pub todo: usize,
    /// Pairs left out because they are covered already.
    pub covered: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaffoldError {
    #[error("the spec documents no operations under `paths`: nothing to scaffold")]
    NoOperations,
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

/// Writes the suite.
pub fn scaffold(spec: &Spec, options: &Options) -> Result<Scaffold, ScaffoldError> {
    if !spec
        .operations
        .iter()
        .any(|o| o.kind == OperationKind::Path)
    {
        return Err(ScaffoldError::NoOperations);
    }
    let credentials = credentials(spec, options);
    let b = Builder::new(spec, options, &credentials);
    let mut cases = Vec::new();
    let mut covered = 0;
    for (index, op) in spec.operations.iter().enumerate() {
        if op.kind != OperationKind::Path {
            continue;
        }
        for resp in &op.responses {
            if options
                .covered
                .contains(&(op.method_path(), resp.key.clone()))
            {
                covered += 1;
                continue;
            }
            cases.push(b.case(index, &resp.key));
        }
    }
    let yaml = render(spec, options, &credentials, &cases)?;
    let todo = cases.iter().filter(|c| c.skip.is_some()).count();
    Ok(Scaffold {
        yaml,
        runnable: cases.len() - todo,
        todo,
        covered,
    })
}

// ---------------------------------------------------------------- output

#[derive(Serialize)]
struct Head<'a> {
    spec: &'a str,
    name: &'a str,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    variables: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    credentials: IndexMap<String, CredOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_credential: Option<String>,
}

#[derive(Serialize, Clone)]
struct CredOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    bearer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic: Option<BasicOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<HeaderOut>,
}

#[derive(Serialize, Clone)]
struct BasicOut {
    username: String,
    password: String,
}

#[derive(Serialize, Clone)]
struct HeaderOut {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct CaseOut {
    name: String,
    description: String,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip: Option<String>,
    steps: Vec<StepOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cleanup: Vec<StepOut>,
    /// Comment lines above the case (what to assert).
    #[serde(skip)]
    todo: Vec<String>,
}

fn yaml_of<T: Serialize>(value: &T) -> Result<String, ScaffoldError> {
    serde_saphyr::to_string(value).map_err(|e| ScaffoldError::Yaml(e.to_string()))
}

fn render(
    spec: &Spec,
    options: &Options,
    credentials: &Credentials,
    cases: &[CaseOut],
) -> Result<String, ScaffoldError> {
    let mut variables = IndexMap::new();
    for c in &credentials.list {
        for (name, value) in &c.variables {
            variables.insert(name.clone(), value.clone());
        }
    }
    for (name, value) in &options.variables {
        variables.insert(name.clone(), value.clone());
    }
    // A pin naming a variable nothing declares reads it from the environment.
    for pin in &options.pins {
        for name in template_names(&plan::text_of(&pin.value)) {
            if !variables.contains_key(&name) {
                let env = format!("{{{{ env.{} }}}}", snake(&name).to_ascii_uppercase());
                variables.insert(name, env);
            }
        }
    }
    let head = Head {
        spec: &options.spec_ref,
        name: &options.name,
        description: format!(
            "Scaffolded from {} {}: one case per operation x documented status{}.",
            spec.title,
            spec.api_version,
            if options.coverage_source.is_some() {
                " not yet covered"
            } else {
                ""
            }
        ),
        server: options.server.as_deref(),
        variables,
        credentials: credentials
            .list
            .iter()
            .map(|c| (c.name.clone(), c.out.clone()))
            .collect(),
        default_credential: credentials.list.first().map(|c| c.name.clone()),
    };
    let mut out = header_comment(spec, options, credentials, cases);
    out.push_str(&yaml_of(&head)?);
    out.push_str("cases:\n");
    for case in cases {
        out.push('\n');
        for line in &case.todo {
            out.push_str(&format!("  # {line}\n"));
        }
        for line in yaml_of(&[case])?.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    Ok(out)
}

fn header_comment(
    spec: &Spec,
    options: &Options,
    credentials: &Credentials,
    cases: &[CaseOut],
) -> String {
    let todo = cases.iter().filter(|c| c.skip.is_some()).count();
    let mut lines = vec![
        format!(
            "Scaffolded by `apiconform scaffold` from {} ({}).",
            spec.title,
            spec.path.display()
        ),
        match &options.coverage_source {
            Some(src) => {
                format!("One case per operation x documented status not covered in {src}.")
            }
            None => "One case per operation x documented status.".to_string(),
        },
        format!(
            "{} cases run as written; {todo} are `skip: \"TODO: ...\"` (the spec gives no way",
            cases.len() - todo
        ),
        "to provoke their status): they are reported as skipped, never as passed.".into(),
        "Each case's `# TODO` names what to assert beyond the automatic checks".into(),
        "(status, content type, response schema and headers are checked already).".into(),
    ];
    lines.extend(credentials.notes.iter().cloned());
    for op in spec.operations.iter() {
        if let OperationKind::Webhook(name) = &op.kind {
            lines.push(format!(
                "Left out: webhook `{name}` (its responses are the receiver's reply; add a `webhook:` step after the request that triggers it)."
            ));
        }
    }
    match &options.server {
        Some(s) => lines.push(format!(
            "Runs against the embedded `{s}` reference server: `apiconform run FILE`; elsewhere add --base-url URL."
        )),
        None => lines.push("Run it with `apiconform run FILE --base-url URL`.".into()),
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(&format!("# {l}\n"));
    }
    out
}

// ----------------------------------------------------------- credentials

struct Credential {
    name: String,
    out: CredOut,
    variables: Vec<(String, String)>,
}

#[derive(Default)]
struct Credentials {
    /// The default (first) credential first.
    list: Vec<Credential>,
    /// Header comment lines: where each value comes from, what is not declared.
    notes: Vec<String>,
}

/// Security scheme names in the order the spec uses them (global
/// requirements first, then each operation's).
fn used_schemes(spec: &Spec) -> Vec<String> {
    let Some(root) = spec.documents.first().map(|d| d.value.clone()) else {
        return Vec::new();
    };
    let mut lists: Vec<&Value> = root.get("security").into_iter().collect();
    for op in &spec.operations {
        if op.kind == OperationKind::Path
            && let Some(s) = root.pointer(&op.pointer).and_then(|o| o.get("security"))
        {
            lists.push(s);
        }
    }
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for req in list.as_array().into_iter().flatten() {
            for name in req.as_object().into_iter().flat_map(|m| m.keys()) {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

fn credentials(spec: &Spec, options: &Options) -> Credentials {
    let mut c = Credentials::default();
    let schemes = spec
        .documents
        .first()
        .and_then(|d| d.value.pointer("/components/securitySchemes").cloned())
        .unwrap_or(Value::Null);
    for name in used_schemes(spec) {
        let Some(scheme) = schemes.get(&name) else {
            continue;
        };
        let first = c.list.is_empty();
        let prefix = match (&options.variable_prefix, first) {
            (Some(p), true) => p.clone(),
            _ => snake(&name),
        };
        let var = |suffix: &str| format!("{prefix}_{suffix}");
        let default = |v: &str| -> String {
            match (&options.token_default, first) {
                (Some(t), true) => t.clone(),
                _ => format!("{{{{ env.{} }}}}", v.to_ascii_uppercase()),
            }
        };
        let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
        let http = scheme
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let placement = scheme.get("in").and_then(Value::as_str).unwrap_or("");
        let (out, variables) = match (kind, http.as_str(), placement) {
            ("http", "basic", _) => {
                let (u, p) = (var("username"), var("password"));
                (
                    CredOut {
                        bearer: None,
                        basic: Some(BasicOut {
                            username: format!("{{{{ {u} }}}}"),
                            password: format!("{{{{ {p} }}}}"),
                        }),
                        header: None,
                    },
                    vec![
                        (
                            u.clone(),
                            format!("{{{{ env.{} }}}}", u.to_ascii_uppercase()),
                        ),
                        (
                            p.clone(),
                            format!("{{{{ env.{} }}}}", p.to_ascii_uppercase()),
                        ),
                    ],
                )
            }
            ("http", "bearer", _) | ("oauth2" | "openIdConnect", _, _) => {
                let t = var("token");
                (
                    CredOut {
                        bearer: Some(format!("{{{{ {t} }}}}")),
                        basic: None,
                        header: None,
                    },
                    vec![(t.clone(), default(&t))],
                )
            }
            ("apiKey", _, "header") => {
                let k = var("api_key");
                let header = scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("X-Api-Key");
                (
                    CredOut {
                        bearer: None,
                        basic: None,
                        header: Some(HeaderOut {
                            name: header.to_string(),
                            value: format!("{{{{ {k} }}}}"),
                        }),
                    },
                    vec![(k.clone(), default(&k))],
                )
            }
            _ => {
                c.notes.push(format!(
                    "Not declared: security scheme `{name}` ({kind}{}): credentials send a header; pass its value by hand.",
                    if placement.is_empty() {
                        String::new()
                    } else {
                        format!(" in {placement}")
                    }
                ));
                continue;
            }
        };
        let names: Vec<&str> = variables.iter().map(|(n, _)| n.as_str()).collect();
        let source = match (&options.token_default, first, kind) {
            (Some(_), true, _) => format!(
                "`{}` defaults to the reference server's development value (public, not a secret)",
                names.join("`, `")
            ),
            _ => format!("`{}` comes from the environment", names.join("`, `")),
        };
        c.notes.push(format!(
            "Credential `{name}`: {source}; give yours with --secret NAME=VALUE (redacted everywhere).",
        ));
        c.list.push(Credential {
            name,
            out,
            variables,
        });
    }
    c
}

/// The plain variable names a template text uses (`{{ user_id }}`; not
/// `env.` names or functions).
fn template_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        let plain = !name.is_empty()
            && !name.starts_with("env.")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if plain && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[close + 2..];
    }
    out
}

/// `shareId` -> `share_id`, `X-Api-Key` -> `x_api_key`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            prev_lower = false;
        } else if ch.is_ascii_alphanumeric() {
            out.push(ch);
            prev_lower = true;
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        None => "value".into(),
        Some(c) if c.is_ascii_digit() => format!("v_{out}"),
        Some(_) => out,
    }
}

// ----------------------------------------------------------------- cases

/// What a status asks the case to send.
enum Strategy {
    /// A schema-valid request.
    Valid,
    /// A request breaking one schema rule.
    Invalid,
    /// No credential.
    NoCredential,
    /// An id naming nothing.
    UnknownId,
    /// Cannot be provoked from the spec: why.
    Todo(String),
}

struct Builder<'s> {
    spec: &'s Spec,
    g: Generator<'s>,
    options: &'s Options,
    plan: plan::Plan,
    /// Operations whose security is optional (`{}` among the requirements).
    anonymous_allowed: BTreeSet<usize>,
    /// Operations with any security requirement.
    with_security: BTreeSet<usize>,
    /// Operations whose security names a declared credential other than the default.
    credential_by_op: BTreeMap<usize, String>,
}

/// A create step and the captures it feeds, for a case on an item.
struct Creation {
    create: StepOut,
    /// Path parameter -> variable holding the created resource's id.
    vars: BTreeMap<String, String>,
    cleanup: Option<StepOut>,
    /// The case's own request deletes what was created.
    self_removing: bool,
}

impl<'s> Builder<'s> {
    fn new(spec: &'s Spec, options: &'s Options, credentials: &Credentials) -> Builder<'s> {
        let config = PlanConfig {
            seed: options.seed,
            max_examples: 25,
            phases: vec![Phase::Negative, Phase::Stateful],
            filter: Filter {
                allow_destructive: true,
                ..Filter::default()
            },
            pins: options.pins.clone(),
            other_identity: false,
        };
        let (anonymous_allowed, with_security) = security_kinds(spec);
        let default_credential = credentials.list.first().map(|c| c.name.clone());
        let declared: Vec<&str> = credentials.list.iter().map(|c| c.name.as_str()).collect();
        let credential_by_op = spec
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, op)| {
                let name = first_scheme(spec, op)?;
                (declared.contains(&name.as_str()) && Some(&name) != default_credential.as_ref())
                    .then_some((i, name))
            })
            .collect();
        Builder {
            spec,
            g: Generator::new(spec),
            options,
            plan: plan::plan(spec, &config),
            anonymous_allowed,
            with_security,
            credential_by_op,
        }
    }

    fn op(&self, index: usize) -> &'s Operation {
        &self.spec.operations[index]
    }

    fn case(&self, index: usize, key: &str) -> CaseOut {
        let op = self.op(index);
        let built = match self.strategy(index, key) {
            Strategy::Valid => self.valid_case(index, key),
            Strategy::Invalid => self.invalid_case(index, key),
            Strategy::NoCredential => self.no_credential_case(index, key),
            Strategy::UnknownId => self.unknown_id_case(index, key),
            Strategy::Todo(reason) => Err(reason),
        };
        let mut case = match built {
            Ok(mut case) => {
                case.todo
                    .insert(0, format!("TODO: {}", assert_hint(self, op, key)));
                case
            }
            Err(reason) => self.todo_case(index, key, &reason),
        };
        let cookies: Vec<&str> = op
            .parameters
            .iter()
            .filter(|p| p.required && p.location == ParamIn::Cookie)
            .map(|p| p.name.as_str())
            .collect();
        if !cookies.is_empty() {
            case.todo.push(format!(
                "TODO: send the required cookie `{}` in a `Cookie` header.",
                cookies.join("`, `")
            ));
        }
        case
    }

    fn strategy(&self, index: usize, key: &str) -> Strategy {
        let op = self.op(index);
        let has_path = op.parameters.iter().any(|p| p.location == ParamIn::Path);
        let class = key.chars().next().unwrap_or('0');
        let todo = |s: &str| Strategy::Todo(s.to_string());
        match key {
            _ if key.len() == 3 && class == '2' => Strategy::Valid,
            "400" | "422" => Strategy::Invalid,
            "401" if op.secured => Strategy::NoCredential,
            "401" if self.anonymous_allowed.contains(&index) => todo(
                "the operation also accepts requests without a credential (`{}` in its security), and the spec does not say which ones it refuses with 401",
            ),
            "401" if !self.with_security.contains(&index) => todo(
                "the operation declares no security requirement, so the spec does not say what is refused with 401",
            ),
            "401" => todo("the operation's credential is not one this suite can declare"),
            "403" => todo(
                "needs a credential that is valid but lacks a permission; the spec does not say which",
            ),
            "404" if has_path => Strategy::UnknownId,
            "404" => todo("the operation has no path parameter to name a missing resource"),
            "405" => todo(
                "the operation's own method is documented, and the spec does not say when it answers 405 (undocumented methods: `apiconform fuzz --phases methods`)",
            ),
            "409" => todo("a conflict comes from a business rule the schemas do not state"),
            "default" => {
                todo("`default` documents unexpected errors, not a status a request can ask for")
            }
            _ if class == '5' => todo("server errors cannot be provoked by a conforming client"),
            _ => todo(&format!(
                "the spec does not say which request provokes {key}"
            )),
        }
    }

    /// The credential an operation's steps name: `None` for the suite's
    /// default, else the first declared scheme its security asks for.
    fn credential_of(&self, index: usize) -> Option<String> {
        self.credential_by_op.get(&index).cloned()
    }

    /// The operation's schema-valid request.
    fn valid(&self, index: usize) -> Result<GeneratedRequest, String> {
        let req = plan::valid_request(self.spec, index, self.options.seed, &self.options.pins)
            .map_err(|e| format!("no valid request could be generated ({})", e.reason))?;
        refuse_templates(&req)?;
        Ok(req)
    }

    fn step(&self, req: &GeneratedRequest, name: String, status: Value) -> StepOut {
        let op = self.op(req.operation);
        let (operation, request) = match &op.id {
            Some(id) => (Some(id.clone()), None),
            None => (None, Some(op.method_path())),
        };
        StepOut {
            name: Some(name),
            operation,
            request,
            credential: self.credential_of(req.operation),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            content_type: req.content_type.clone().filter(|c| c != "application/json"),
            expect: ExpectOut::status(status),
            capture: BTreeMap::new(),
        }
    }

    fn base_case(&self, index: usize, key: &str, description: String) -> CaseOut {
        let op = self.op(index);
        let mut tags = vec!["scaffold".to_string()];
        if let Some(first) = tags_of(self.spec, op).into_iter().next() {
            tags.push(first);
        }
        CaseOut {
            name: format!("{} {key}", op.label()),
            description,
            tags,
            skip: None,
            steps: Vec::new(),
            cleanup: Vec::new(),
            todo: Vec::new(),
        }
    }

    /// The chain step acting on `index`, and its chain.
    fn chain_for(&self, index: usize) -> Option<(&Chain, &ChainStep)> {
        self.plan.chains.iter().find_map(|c| {
            c.steps
                .iter()
                .skip(1)
                .find(|s| s.request.operation == index)
                .map(|s| (c, s))
        })
    }

    /// The create a case on item operation `index` needs, its captures and
    /// the delete that removes it (`None` when the spec documents none, or
    /// when `removes_itself`: the case's own request is that delete).
    fn creation(&self, index: usize, removes_itself: bool) -> Result<Creation, String> {
        let op = self.op(index);
        let params: Vec<&str> = op
            .parameters
            .iter()
            .filter(|p| p.location == ParamIn::Path)
            .map(|p| p.name.as_str())
            .collect();
        let Some((chain, target)) = self.chain_for(index) else {
            return Err(format!(
                "needs an existing resource for `{}`, and no create (a POST on the collection path, or an OpenAPI link) provides one",
                params.join("`, `")
            ));
        };
        let create_index = chain.steps[0].request.operation;
        let delete = chain.steps.iter().find(|s| s.role == ChainRole::Delete);
        let self_removing = removes_itself && delete.is_some_and(|d| d.request.operation == index);
        let delete = delete.filter(|_| !self_removing);
        let mut binds: Vec<&(String, Vec<CaptureSource>)> = target.bind.iter().collect();
        if let Some(d) = delete {
            for b in &d.bind {
                if !binds.iter().any(|x| x.0 == b.0) {
                    binds.push(b);
                }
            }
        }
        let req = self.valid(create_index).map_err(|e| {
            format!(
                "the create it needs ({}): {e}",
                self.op(create_index).label()
            )
        })?;
        let mut create = self.step(
            &req,
            format!(
                "create what the case needs ({})",
                self.op(create_index).label()
            ),
            first_success(self.op(create_index)),
        );
        let mut vars = BTreeMap::new();
        for (param, sources) in binds {
            let Some(pointer) = sources.iter().find_map(|s| match s {
                CaptureSource::Body(p) => Some(p.clone()),
                CaptureSource::Location => None,
            }) else {
                return Err(format!(
                    "the id for `{param}` comes only from the create's `Location` header, which a capture cannot cut down to the id"
                ));
            };
            let var = snake(param);
            create.capture.insert(
                var.clone(),
                serde_json::json!({ "body": json_path(&pointer) }),
            );
            vars.insert(param.clone(), var);
        }
        let cleanup = match delete {
            Some(d) => {
                let mut req = self.valid(d.request.operation)?;
                bind_path(&mut req, &vars);
                Some(self.step(
                    &req,
                    format!("remove it again ({})", self.op(d.request.operation).label()),
                    first_success(self.op(d.request.operation)),
                ))
            }
            None => None,
        };
        Ok(Creation {
            create,
            vars,
            cleanup,
            self_removing,
        })
    }

    /// Steps around `req` on item operation `index`: the create first, the
    /// request with the created id, the delete in cleanup.
    fn on_created(
        &self,
        case: &mut CaseOut,
        index: usize,
        mut req: GeneratedRequest,
        name: String,
        status: Value,
    ) -> Result<(), String> {
        let success = status_class(&status) == Some(2);
        let c = self.creation(index, success)?;
        bind_path(&mut req, &c.vars);
        case.steps.push(c.create);
        case.steps.push(self.step(&req, name, status));
        match c.cleanup {
            Some(step) => case.cleanup.push(step),
            None if c.self_removing => {}
            None => case.todo.push(
                "Nothing removes what this case creates: the spec documents no DELETE for it."
                    .into(),
            ),
        }
        Ok(())
    }

    fn has_path_params(&self, index: usize) -> bool {
        self.op(index)
            .parameters
            .iter()
            .any(|p| p.location == ParamIn::Path)
    }

    fn valid_case(&self, index: usize, key: &str) -> Result<CaseOut, String> {
        let op = self.op(index);
        let req = self.valid(index)?;
        let status = status_value(key);
        let mut case = self.base_case(
            index,
            key,
            format!("A schema-valid {} answers {key}.", op.label()),
        );
        if self.has_path_params(index) {
            self.on_created(&mut case, index, req, op.label(), status)?;
            return Ok(case);
        }
        let mut step = self.step(&req, op.label(), status);
        // A create removes what it made, when the spec documents a delete.
        if let Some(chain) = self
            .plan
            .chains
            .iter()
            .find(|c| c.steps[0].request.operation == index)
        {
            match chain.steps.iter().find(|s| s.role == ChainRole::Delete) {
                Some(d) => {
                    let mut vars = BTreeMap::new();
                    for (param, sources) in &d.bind {
                        let Some(pointer) = sources.iter().find_map(|s| match s {
                            CaptureSource::Body(p) => Some(p.clone()),
                            CaptureSource::Location => None,
                        }) else {
                            return Err(format!(
                                "the id for `{param}` comes only from `Location`, which a capture cannot cut down to the id, so what it creates cannot be removed"
                            ));
                        };
                        let var = snake(param);
                        step.capture.insert(
                            var.clone(),
                            serde_json::json!({ "body": json_path(&pointer) }),
                        );
                        vars.insert(param.clone(), var);
                    }
                    let mut del = self.valid(d.request.operation)?;
                    bind_path(&mut del, &vars);
                    case.cleanup.push(self.step(
                        &del,
                        format!("remove it again ({})", self.op(d.request.operation).label()),
                        first_success(self.op(d.request.operation)),
                    ));
                }
                None => case.todo.push(
                    "Nothing removes what this case creates: the spec documents no DELETE for it."
                        .into(),
                ),
            }
        }
        case.steps.push(step);
        Ok(case)
    }

    /// The negative request most likely to meet the server's validation:
    /// a missing required body property first; path parameters never (a
    /// broken id routes to 404 on most servers).
    fn negative(&self, index: usize) -> Option<&GeneratedRequest> {
        let op = self.plan.operations.iter().find(|o| o.operation == index)?;
        op.requests
            .iter()
            .filter(|r| r.phase == Phase::Negative)
            .filter_map(|r| r.mutation.as_ref().map(|m| (r, m)))
            .filter(|(_, m)| !m.pointer.starts_with("path."))
            .min_by_key(|(_, m)| rank(m))
            .map(|(r, _)| r)
    }

    fn invalid_case(&self, index: usize, key: &str) -> Result<CaseOut, String> {
        let op = self.op(index);
        let Some(neg) = self.negative(index) else {
            return Err(
                "no schema rule of the operation's body, query or headers can be broken in a request (path parameters are left alone: a broken id is answered 404 by most servers)"
                    .into(),
            );
        };
        let mut req = neg.clone();
        keep_required(op, &mut req);
        refuse_templates(&req)?;
        let what = req
            .mutation
            .as_ref()
            .map(|m| format!("breaks `{}`: {}", m.rule, m.description))
            .unwrap_or_default();
        let mut case = self.base_case(index, key, format!("A request that {what} answers {key}."));
        let name = format!("{} that {what}", op.label());
        if self.has_path_params(index) {
            // On a missing resource the answer could be 404 instead.
            self.on_created(&mut case, index, req, name, status_value(key))?;
        } else {
            case.steps.push(self.step(&req, name, status_value(key)));
        }
        Ok(case)
    }

    fn no_credential_case(&self, index: usize, key: &str) -> Result<CaseOut, String> {
        let op = self.op(index);
        let req = self.valid(index)?;
        let mut case = self.base_case(
            index,
            key,
            format!("{} without a credential answers {key}.", op.label()),
        );
        let name = format!("{} without a credential", op.label());
        if self.has_path_params(index) {
            let made_up = req.clone();
            if let Err(why) =
                self.on_created(&mut case, index, req, name.clone(), status_value(key))
            {
                case.todo.push(format!(
                    "The id is made up ({why}): a server that looks it up before the credential answers 404."
                ));
                let mut step = self.step(&made_up, name, status_value(key));
                step.credential = Some("none".into());
                case.steps.push(step);
                return Ok(case);
            }
            if let Some(step) = case.steps.last_mut() {
                step.credential = Some("none".into());
            }
        } else {
            let mut step = self.step(&req, name, status_value(key));
            step.credential = Some("none".into());
            case.steps.push(step);
            if let Some(chain) = self
                .plan
                .chains
                .iter()
                .find(|c| c.steps[0].request.operation == index)
                && chain.steps.len() > 1
            {
                case.todo.push(
                    "If the server wrongly accepts it, it creates a resource nothing removes."
                        .into(),
                );
            }
        }
        Ok(case)
    }

    fn unknown_id_case(&self, index: usize, key: &str) -> Result<CaseOut, String> {
        let op = self.op(index);
        let mut req = self.valid(index)?;
        let mut names = Vec::new();
        for p in op.parameters.iter().filter(|p| p.location == ParamIn::Path) {
            req.path
                .insert(p.name.clone(), self.unknown_value(p.schema));
            names.push(p.name.clone());
        }
        let mut case = self.base_case(
            index,
            key,
            format!(
                "{} with a `{}` that names nothing answers {key}.",
                op.label(),
                names.join("`, `")
            ),
        );
        case.steps.push(self.step(
            &req,
            format!("{} with an unknown {}", op.label(), names.join(", ")),
            status_value(key),
        ));
        Ok(case)
    }

    /// A schema-valid value that names no resource: a fresh UUID when the
    /// schema takes one, else a fresh marked string, else a large draw.
    fn unknown_value(&self, schema: Option<usize>) -> Value {
        let Some(schema) = schema else {
            return Value::from("apiconform-missing-{{ uuid() }}");
        };
        let fits = |s: &str| self.g.is_valid(schema, &Value::from(s), Carrier::Text);
        if fits("0b7e8a52-3f4c-4d1e-9a6b-2c5d8e9f0a1b") {
            return Value::from("{{ uuid() }}");
        }
        if fits("apiconform-missing-0b7e8a52-3f4c-4d1e-9a6b-2c5d8e9f0a1b") {
            return Value::from("apiconform-missing-{{ uuid() }}");
        }
        let drawn = self
            .g
            .positive(schema, mix(self.options.seed, 404), 2, Carrier::Text)
            .unwrap_or_default();
        drawn
            .get(1)
            .or(drawn.first())
            .cloned()
            .unwrap_or_else(|| Value::from("apiconform-missing"))
    }

    fn todo_case(&self, index: usize, key: &str, reason: &str) -> CaseOut {
        let op = self.op(index);
        let mut case = self.base_case(
            index,
            key,
            format!("Not written yet: how to make {} answer {key}.", op.label()),
        );
        case.skip = Some(format!("TODO: {reason}"));
        case.todo.push(format!(
            "TODO: send what makes {} answer {key}, then remove `skip:`; {}",
            op.label(),
            assert_hint(self, op, key)
        ));
        let req = self
            .valid(index)
            .unwrap_or_else(|_| plan_skeleton(self.spec, index));
        case.steps
            .push(self.step(&req, op.label(), status_value(key)));
        case
    }
}

/// The first security scheme an operation's requirements name.
fn first_scheme(spec: &Spec, op: &Operation) -> Option<String> {
    let root = &spec.documents.first()?.value;
    let list = root
        .pointer(&op.pointer)
        .and_then(|o| o.get("security"))
        .or(root.get("security"))?;
    list.as_array()?
        .iter()
        .find_map(|r| r.as_object()?.keys().next().cloned())
}

/// Operations with optional security, and operations with any.
fn security_kinds(spec: &Spec) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut optional = BTreeSet::new();
    let mut any = BTreeSet::new();
    let Some(root) = spec.documents.first().map(|d| d.value.clone()) else {
        return (optional, any);
    };
    for (i, op) in spec.operations.iter().enumerate() {
        let list = root
            .pointer(&op.pointer)
            .and_then(|o| o.get("security"))
            .or(root.get("security"))
            .and_then(Value::as_array);
        let Some(list) = list else { continue };
        if list.is_empty() {
            continue;
        }
        any.insert(i);
        if list
            .iter()
            .any(|r| r.as_object().is_some_and(|m| m.is_empty()))
        {
            optional.insert(i);
        }
    }
    (optional, any)
}

fn tags_of(spec: &Spec, op: &Operation) -> Vec<String> {
    spec.documents
        .first()
        .and_then(|d| d.value.pointer(&op.pointer).cloned())
        .and_then(|o| o.get("tags").cloned())
        .and_then(|t| t.as_array().cloned())
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(|s| s.to_ascii_lowercase().replace(' ', "-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A request with nothing filled in (TODO cases whose values cannot be
/// generated).
fn plan_skeleton(spec: &Spec, index: usize) -> GeneratedRequest {
    let op = &spec.operations[index];
    let mut path = BTreeMap::new();
    for p in op.parameters.iter().filter(|p| p.location == ParamIn::Path) {
        path.insert(p.name.clone(), Value::from("TODO"));
    }
    GeneratedRequest {
        phase: Phase::Positive,
        operation: index,
        label: op.label(),
        method: op.method.clone(),
        path_template: op.path.clone(),
        path,
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        cookies: BTreeMap::new(),
        body: None,
        content_type: None,
        auth: plan::AuthMode::Default,
        expect: plan::Expectation::Accepted,
        mutation: None,
        destructive: plan::is_destructive(op),
    }
}

fn rank(m: &Mutation) -> u8 {
    let body = m.pointer.starts_with('/');
    let query = m.pointer.starts_with("query.");
    match m.rule {
        Rule::Required if body => 0,
        Rule::RequiredParameter if query => 1,
        Rule::Type if body => 2,
        Rule::Type | Rule::Minimum | Rule::Maximum if query => 3,
        _ if body => 4,
        _ if query => 5,
        _ if m.pointer == "body" => 7,
        _ => 6,
    }
}

/// Drops optional parameters, except the one a mutation broke.
fn keep_required(op: &Operation, req: &mut GeneratedRequest) {
    let broken = req.mutation.as_ref().map(|m| m.pointer.clone());
    for (place, map) in [
        (ParamIn::Query, &mut req.query),
        (ParamIn::Header, &mut req.headers),
    ] {
        map.retain(|name, _| {
            let required = op.parameter(place, name).is_some_and(|p| p.required);
            required || broken.as_deref() == Some(&format!("{}.{name}", place.as_str()))
        });
    }
}

fn bind_path(req: &mut GeneratedRequest, vars: &BTreeMap<String, String>) {
    for (param, var) in vars {
        if req.path.contains_key(param) {
            req.path
                .insert(param.clone(), Value::from(format!("{{{{ {var} }}}}")));
        }
    }
}

/// A generated value holding `{{` would be read as a template.
fn refuse_templates(req: &GeneratedRequest) -> Result<(), String> {
    fn has(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains("{{") && !s.trim_start().starts_with("{{ "),
            Value::Array(a) => a.iter().any(has),
            Value::Object(m) => m.iter().any(|(k, v)| k.contains("{{") || has(v)),
            _ => false,
        }
    }
    let maps = [&req.path, &req.query, &req.headers];
    if maps.iter().any(|m| m.values().any(has)) || req.body.as_ref().is_some_and(has) {
        return Err("a generated value holds `{{`, which case files read as a template".into());
    }
    Ok(())
}

/// `200` -> 200, `2XX` -> `"2xx"`, `default` -> `["4xx", "5xx"]`.
fn status_value(key: &str) -> Value {
    if let Ok(code) = key.parse::<u16>() {
        return Value::from(code);
    }
    if key.len() == 3 && key[1..].eq_ignore_ascii_case("xx") {
        return Value::from(key.to_ascii_lowercase());
    }
    serde_json::json!(["4xx", "5xx"])
}

/// The hundreds digit of a status value (`204` -> 2, `"2xx"` -> 2).
fn status_class(status: &Value) -> Option<u64> {
    match status {
        Value::Number(n) => n.as_u64().map(|c| c / 100),
        Value::String(s) => s.chars().next()?.to_digit(10).map(u64::from),
        _ => None,
    }
}

/// The first documented 2xx of an operation (`2xx` when none is a code).
fn first_success(op: &Operation) -> Value {
    op.responses
        .iter()
        .find(|r| r.key.starts_with('2'))
        .map_or_else(|| Value::from("2xx"), |r| status_value(&r.key))
}

/// What a case should assert beyond the automatic checks: the documented
/// body's members, or the effect when there is no body.
fn assert_hint(b: &Builder<'_>, op: &Operation, key: &str) -> String {
    let success = key.starts_with('2');
    let Some(resp) = op.responses.iter().find(|r| r.key == key) else {
        return "assert the response.".into();
    };
    let paths = resp
        .content
        .iter()
        .find(|m| m.json)
        .and_then(|m| m.schema)
        .map(|s| member_paths(b, s))
        .unwrap_or_default();
    let headers: Vec<&str> = resp.headers.iter().map(|h| h.name.as_str()).collect();
    let mut hint = match (success, paths.is_empty()) {
        (true, false) => format!(
            "assert the values this request decides, in {}",
            paths.join(", ")
        ),
        (false, false) => format!(
            "assert what tells this error apart, e.g. {}",
            paths.join(", ")
        ),
        (true, true) if op.method == "DELETE" => {
            "assert the effect (no body documented): reading it back now answers 404".into()
        }
        (true, true) => {
            "assert the effect (no body documented): read the resource back and compare".into()
        }
        (false, true) => "assert the effect: nothing changed (no body documented)".into(),
    };
    if !headers.is_empty() {
        hint.push_str(&format!("; headers {}", headers.join(", ")));
    }
    hint.push_str(" (status and schema are checked automatically)");
    hint
}

/// `$.a`, `$.a.b` member paths of a response schema (an envelope's members
/// one level down), at most eight.
fn member_paths(b: &Builder<'_>, schema: usize) -> Vec<String> {
    let r = b.g.resolver();
    let Some((doc, raw)) = b.spec.schema_source(schema) else {
        return Vec::new();
    };
    let Ok((doc, top)) = r.flatten(doc, raw, 0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Some(props) = top.get("properties").and_then(Value::as_object) else {
        return out;
    };
    let envelope = props.len() <= 3;
    for (name, sub) in props {
        let here = json_path(&format!("/{}", crate::spec::escape_token(name)));
        let nested = if envelope {
            r.flatten(doc, sub, 1)
                .ok()
                .and_then(|(_, s)| s.get("properties").and_then(Value::as_object).cloned())
        } else {
            None
        };
        match nested {
            Some(inner) if !inner.is_empty() => {
                for k in inner.keys() {
                    out.push(format!(
                        "{here}{}",
                        &json_path(&format!("/{}", crate::spec::escape_token(k)))[1..]
                    ));
                }
            }
            _ => out.push(here),
        }
    }
    out.truncate(8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn bundled(name: &str) -> Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("specs")
            .join(name);
        crate::spec::load(&path).expect("bundled spec loads")
    }

    fn options() -> Options {
        Options {
            spec_ref: "spec.yaml".into(),
            name: "s".into(),
            ..Options::default()
        }
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(snake("shareId"), "share_id");
        assert_eq!(snake("X-Api-Key"), "x_api_key");
        assert_eq!(snake("bearerAuth"), "bearer_auth");
        assert_eq!(snake("1st"), "v_1st");
        assert_eq!(json_path("/data/shareId"), "$.data.shareId");
        assert_eq!(json_path("/a b/c'd"), r"$['a b']['c\'d']");
        assert_eq!(status_value("204"), Value::from(204));
        assert_eq!(status_value("4XX"), Value::from("4xx"));
        assert_eq!(status_value("default"), serde_json::json!(["4xx", "5xx"]));
        assert_eq!(
            template_names("{{ a }}-{{ env.B }}-{{ uuid() }}-{{ a }}{{ c.d }}"),
            vec!["a".to_string(), "c.d".to_string()]
        );
    }

    #[test]
    fn every_pair_gets_a_case_and_unprovokable_ones_are_todo() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let s = scaffold(&spec, &options()).expect("scaffold");
        let pairs: usize = spec
            .operations
            .iter()
            .filter(|o| o.kind == OperationKind::Path)
            .map(|o| o.responses.len())
            .sum();
        assert_eq!(s.runnable + s.todo, pairs);
        assert_eq!(s.todo, 0, "{}", s.yaml);
        assert!(s.yaml.contains("name: getShare 404"), "{}", s.yaml);
        assert!(
            s.yaml
                .contains("bearer_auth_token: '{{ env.BEARER_AUTH_TOKEN }}'")
                || s.yaml
                    .contains("bearer_auth_token: \"{{ env.BEARER_AUTH_TOKEN }}\""),
            "{}",
            s.yaml
        );
        let my = bundled("mycloud-shares-v1.yaml");
        let s = scaffold(&my, &options()).expect("scaffold");
        // 500 of createShare, 400 and 401 of getShare.
        assert_eq!(s.todo, 3, "{}", s.yaml);
        assert!(
            s.yaml.contains("skip: 'TODO: server errors")
                || s.yaml.contains("skip: \"TODO: server errors"),
            "{}",
            s.yaml
        );
    }

    #[test]
    fn covered_pairs_are_left_out() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let mut o = options();
        o.covered
            .insert(("GET /shares/{shareId}".into(), "404".into()));
        let s = scaffold(&spec, &o).expect("scaffold");
        assert_eq!(s.covered, 1);
        assert!(!s.yaml.contains("name: getShare 404"), "{}", s.yaml);
        assert!(s.yaml.contains("name: getShare 200"));
    }

    #[test]
    fn item_cases_chain_the_create_and_clean_up() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let s = scaffold(&spec, &options()).expect("scaffold");
        let at = s.yaml.find("name: updateShare 204").expect("case");
        let case = &s.yaml[at..s.yaml[at..].find("\n\n").map_or(s.yaml.len(), |e| at + e)];
        assert!(case.contains("operation: createShare"), "{case}");
        assert!(case.contains("share_id:"), "{case}");
        assert!(case.contains("body: $.data"), "{case}");
        assert!(case.contains("cleanup:"), "{case}");
        assert!(case.contains("operation: deleteShare"), "{case}");
        assert!(
            case.contains("shareId: '{{ share_id }}'")
                || case.contains("shareId: \"{{ share_id }}\""),
            "{case}"
        );
    }
}
