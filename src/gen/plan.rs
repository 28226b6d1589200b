//! Request plans: for each operation and phase, the requests to send, as
//! plain data. Nothing here touches the network.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{CannotGenerate, Carrier, Generator, Mutation, Rule, mix};
use crate::spec::{Operation, OperationKind, ParamIn, SchemaId, Spec};

/// A generated phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Examples,
    Positive,
    Negative,
    Auth,
    Methods,
    Stateful,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Examples,
        Phase::Positive,
        Phase::Negative,
        Phase::Auth,
        Phase::Methods,
        Phase::Stateful,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Phase::Examples => "examples",
            Phase::Positive => "positive",
            Phase::Negative => "negative",
            Phase::Auth => "auth",
            Phase::Methods => "methods",
            Phase::Stateful => "stateful",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Which credential a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// The run's credential, if any.
    Default,
    /// No credential at all.
    Missing,
    /// A credential of the right shape that no server accepts.
    Invalid,
    /// The run's second identity (`other_credential`), which must not see
    /// what the first one created.
    Other,
}

/// What the phase expects of the response (the checks decide; this is the
/// expectation a saved regression case asserts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Expectation {
    /// Schema-valid input: no 4xx other than 401/403/404/409.
    Accepted,
    /// Schema-invalid input: a 4xx.
    Rejected,
    /// No or an invalid credential: 401 or 403.
    Unauthorized,
    /// An undocumented method: 405 with `Allow` listing these methods.
    MethodNotAllowed { allow: Vec<String> },
    /// A read after a successful delete: 404 (or 410).
    Gone,
    /// A read of what this chain created: 2xx.
    Available,
    /// What the chain created, read by the second identity: 401, 403 or 404.
    Hidden,
}

/// The role of a request in a stateful chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainRole {
    Create,
    Read,
    Update,
    Delete,
    ReadAfterDelete,
    /// A read after a successful update (its stored values are compared).
    ReadAfterUpdate,
    /// An undocumented method on the resource the chain created (safe:
    /// nothing else can be touched), expecting 405.
    UndocumentedMethod,
    /// The created resource read by the second identity.
    OtherRead,
    /// The collection listed by the second identity.
    OtherList,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedRequest {
    pub phase: Phase,
    /// Index into `spec.operations` (for the methods phase: an operation on
    /// the same path, whose path parameters were used).
    pub operation: usize,
    /// The operation's label (operationId or `METHOD /path`).
    pub label: String,
    /// The method sent (differs from the operation's in the methods phase).
    pub method: String,
    pub path_template: String,
    pub path: BTreeMap<String, Value>,
    pub query: BTreeMap<String, Value>,
    pub headers: BTreeMap<String, Value>,
    pub cookies: BTreeMap<String, Value>,
    pub body: Option<Value>,
    pub content_type: Option<String>,
    pub auth: AuthMode,
    pub expect: Expectation,
    /// For the negative phase: what was broken, and where.
    pub mutation: Option<Mutation>,
    /// Whether it may remove or change data the run did not create.
    pub destructive: bool,
}

impl GeneratedRequest {
    /// The concrete path with parameters percent-encoded, plus the query
    /// string (arrays repeat the parameter).
    pub fn path_and_query(&self) -> String {
        let mut path = self.path_template.clone();
        for (name, value) in &self.path {
            let text = text_of(value);
            let encoded = percent_encoding::utf8_percent_encode(&text, PATH_SEGMENT).to_string();
            path = path.replace(&format!("{{{name}}}"), &encoded);
        }
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.query {
            match value {
                Value::Array(items) => {
                    for item in items {
                        pairs.append_pair(name, &text_of(item));
                    }
                }
                other => {
                    pairs.append_pair(name, &text_of(other));
                }
            }
        }
        let query = pairs.finish();
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}

/// Characters escaped inside a path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'|');

/// A parameter value as text on the wire (`5`, `true`, `a,b` for arrays).
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Where a stateful step takes a value from the previous response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "at")]
pub enum CaptureSource {
    /// A JSON pointer into the response body.
    Body(String),
    /// The last path segment of the `Location` header.
    Location,
}

/// The variable a chain binds a path parameter to (in the compiled chain
/// case and in a saved case that replays it).
pub fn bound_variable(param: &str) -> String {
    format!("created_{param}")
}

/// One step of a chain: the request, then the captures it feeds on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainStep {
    pub role: ChainRole,
    pub request: GeneratedRequest,
    /// Path parameter -> where in the create's response its value comes from
    /// (tried in order: the first present wins).
    pub bind: Vec<(String, Vec<CaptureSource>)>,
}

/// A create, read, update, read-after-update, delete, read-after-delete
/// sequence on one resource (plus, where configured, reads by a second
/// identity and the item path's undocumented methods).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// `link` when from OpenAPI links, `inferred` when from paths and schemas.
    pub origin: &'static str,
    pub steps: Vec<ChainStep>,
}

/// An operation's plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationPlan {
    pub operation: usize,
    pub label: String,
    pub destructive: bool,
    pub requests: Vec<GeneratedRequest>,
    /// Phases that produced nothing for this operation, and why.
    pub cannot_generate: Vec<(Phase, CannotGenerate)>,
    /// For a create (a POST) whose created resource the spec documents a
    /// DELETE for: that delete, with where its path parameters come from in
    /// the create's response. The phases' creates are undone with it.
    pub cleanup: Option<ChainStep>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub operations: Vec<OperationPlan>,
    pub chains: Vec<Chain>,
    /// Operations left out by filters or safety options, with the reason.
    pub skipped: Vec<(String, String)>,
}

impl Plan {
    pub fn request_count(&self) -> usize {
        self.operations
            .iter()
            .map(|o| o.requests.len())
            .sum::<usize>()
            + self.chains.iter().map(|c| c.steps.len()).sum::<usize>()
    }
}

/// A bad `--set`, `--include` or `--exclude` argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "bad pin `{0}`: expected body.NAME=VALUE, path.NAME=VALUE, query.NAME=VALUE or header.NAME=VALUE"
    )]
    BadPin(String),
    #[error("bad selector `{0}`: expected operationId, tag:NAME, method:GET, path:/glob*")]
    BadSelector(String),
}

/// Where a pinned value goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "in", content = "name")]
pub enum PinTarget {
    /// A JSON pointer into the body (`body.owner.id` -> `/owner/id`).
    Body(String),
    Path(String),
    Query(String),
    Header(String),
}

/// A value fixed by name, overriding generated ones (business rules no
/// schema states, such as "ownerId must be the caller").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pin {
    pub target: PinTarget,
    /// Kept as text; templates (`{{ user_id }}`) are rendered by the runner.
    pub value: Value,
}

impl Pin {
    /// Parses `body.ownerId=abc`, `path.shareId={{ id }}`, `query.limit=5`.
    pub fn parse(s: &str) -> Result<Pin, PlanError> {
        let bad = || PlanError::BadPin(s.to_string());
        let (key, value) = s.split_once('=').ok_or_else(bad)?;
        let (place, name) = key.split_once('.').ok_or_else(bad)?;
        if name.is_empty() {
            return Err(bad());
        }
        let target = match place {
            "body" => PinTarget::Body(
                name.split('.')
                    .map(|t| format!("/{}", crate::spec::escape_token(t)))
                    .collect(),
            ),
            "path" => PinTarget::Path(name.into()),
            "query" => PinTarget::Query(name.into()),
            "header" => PinTarget::Header(name.into()),
            _ => return Err(bad()),
        };
        let value = match serde_json::from_str::<Value>(value) {
            Ok(v) if v.is_number() || v.is_boolean() || v.is_null() => v,
            _ => Value::String(value.to_string()),
        };
        Ok(Pin { target, value })
    }

    fn apply(&self, op: &Operation, req: &mut GeneratedRequest) {
        let protected = req.mutation.as_ref().map(|m| m.pointer.as_str());
        match &self.target {
            PinTarget::Body(pointer) => {
                if protected.is_some_and(|p| p == pointer) {
                    return;
                }
                // An anyOf negative left members out below its pointer: a
                // pin must not put one back (a 4xx is expected either way).
                if let Some(m) = &req.mutation
                    && m.rule == Rule::AnyOf
                    && pointer.starts_with(&format!("{}/", m.pointer))
                {
                    return;
                }
                if let Some(Value::Object(_)) = &req.body {
                    set_pointer(req.body.as_mut(), pointer, self.value.clone());
                }
            }
            PinTarget::Path(n) if op.parameter(ParamIn::Path, n).is_some() => {
                req.path.insert(n.clone(), self.value.clone());
            }
            PinTarget::Query(n)
                if op.parameter(ParamIn::Query, n).is_some()
                    && !is_param_mutation(req, "query", n) =>
            {
                req.query.insert(n.clone(), self.value.clone());
            }
            PinTarget::Header(n) if !is_param_mutation(req, "header", n) => {
                req.headers.insert(n.clone(), self.value.clone());
            }
            _ => {}
        }
    }
}

fn is_param_mutation(req: &GeneratedRequest, place: &str, name: &str) -> bool {
    req.mutation
        .as_ref()
        .is_some_and(|m| m.pointer == format!("{place}.{name}"))
}

/// Creates objects along a pointer, then sets the value.
fn set_pointer(root: Option<&mut Value>, pointer: &str, value: Value) {
    let Some(mut node) = root else { return };
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(crate::spec::unescape_token)
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        let Value::Object(map) = node else { return };
        if i + 1 == tokens.len() {
            map.insert(t.clone(), value);
            return;
        }
        node = map
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// One include/exclude selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum Selector {
    OperationId(String),
    Tag(String),
    Method(String),
    /// A path template, `*` matching any run of characters.
    Path(String),
}

impl Selector {
    /// `tag:Shares`, `method:get`, `path:/v1/shares*`, `operationId:getShare`;
    /// a bare `/...` is a path, any other bare word an operationId.
    pub fn parse(s: &str) -> Result<Selector, PlanError> {
        let bad = || PlanError::BadSelector(s.to_string());
        let sel = match s.split_once(':') {
            Some(("tag", v)) => Selector::Tag(v.into()),
            Some(("method", v)) => Selector::Method(v.to_ascii_uppercase()),
            Some(("path", v)) => Selector::Path(v.into()),
            Some(("operationId" | "operation", v)) => Selector::OperationId(v.into()),
            Some(_) => return Err(bad()),
            None if s.starts_with('/') => Selector::Path(s.into()),
            None => Selector::OperationId(s.into()),
        };
        let empty = match &sel {
            Selector::OperationId(v)
            | Selector::Tag(v)
            | Selector::Method(v)
            | Selector::Path(v) => v.is_empty(),
        };
        if empty { Err(bad()) } else { Ok(sel) }
    }

    fn matches(&self, op: &Operation, tags: &[String]) -> bool {
        match self {
            Selector::OperationId(id) => op.id.as_deref() == Some(id.as_str()),
            Selector::Tag(t) => tags.iter().any(|x| x == t),
            Selector::Method(m) => op.method == *m,
            Selector::Path(p) => glob(p, &op.path),
        }
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i + 1 == parts.len() {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// Which operations take part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// When non-empty, only operations matching one of these.
    pub include: Vec<Selector>,
    pub exclude: Vec<Selector>,
    /// GET, HEAD and OPTIONS only.
    pub read_only: bool,
    /// Let operations that may remove or change existing data run.
    pub allow_destructive: bool,
}

impl Filter {
    /// `Err(reason)` when the operation is left out.
    fn admits(&self, op: &Operation, tags: &[String]) -> Result<(), String> {
        if !self.include.is_empty() && !self.include.iter().any(|s| s.matches(op, tags)) {
            return Err("not selected by --include".into());
        }
        if let Some(s) = self.exclude.iter().find(|s| s.matches(op, tags)) {
            return Err(format!("excluded ({s:?})"));
        }
        if self.read_only && !is_safe_method(&op.method) {
            return Err("read-only: only GET, HEAD and OPTIONS run".into());
        }
        Ok(())
    }
}

pub fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Whether an operation may remove or change a resource that exists
/// independently of the run: DELETE, PUT and PATCH.
pub fn is_destructive(op: &Operation) -> bool {
    matches!(op.method.as_str(), "DELETE" | "PUT" | "PATCH")
}

/// What to plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanConfig {
    pub seed: u64,
    /// Most requests per operation and phase.
    pub max_examples: usize,
    pub phases: Vec<Phase>,
    pub filter: Filter,
    pub pins: Vec<Pin>,
    /// Chains also read and list as a second identity (resource isolation).
    pub other_identity: bool,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            seed: 0,
            max_examples: 25,
            phases: Phase::ALL.to_vec(),
            filter: Filter::default(),
            pins: Vec::new(),
            other_identity: false,
        }
    }
}

/// Builds the plan for every admitted operation.
pub fn plan(spec: &Spec, config: &PlanConfig) -> Plan {
    let g = Generator::new(spec);
    let mut operations = Vec::new();
    let mut skipped = Vec::new();
    let wants = |p: Phase| config.phases.contains(&p);
    let mut admitted = Vec::new();
    for (index, op) in spec.operations.iter().enumerate() {
        if op.kind != OperationKind::Path {
            continue;
        }
        let tags = tags_of(spec, op);
        if let Err(reason) = config.filter.admits(op, &tags) {
            skipped.push((op.label(), reason));
            continue;
        }
        admitted.push(index);
        let destructive = is_destructive(op);
        let mut plan = OperationPlan {
            operation: index,
            label: op.label(),
            destructive,
            requests: Vec::new(),
            cannot_generate: Vec::new(),
            cleanup: None,
        };
        if destructive && !config.filter.allow_destructive {
            skipped.push((
                op.label(),
                "may change data this run did not create: only in stateful chains unless --allow-destructive".into(),
            ));
            operations.push(plan);
            continue;
        }
        let seed = mix(config.seed, index as u64);
        let n = config.max_examples;
        let mut phase =
            |phase: Phase, result: Result<Vec<GeneratedRequest>, CannotGenerate>| match result {
                Ok(list) => plan.requests.extend(list.into_iter().take(n)),
                Err(e) => plan.cannot_generate.push((phase, e)),
            };
        if wants(Phase::Examples) {
            phase(Phase::Examples, Ok(examples(&g, spec, index, seed, n)));
        }
        if wants(Phase::Positive) {
            phase(Phase::Positive, positive(&g, spec, index, seed, n));
        }
        if wants(Phase::Negative) {
            phase(Phase::Negative, negative(&g, spec, index, seed, n));
        }
        if wants(Phase::Auth) && op.secured {
            phase(Phase::Auth, auth(&g, spec, index, seed));
        }
        for r in &mut plan.requests {
            for pin in &config.pins {
                pin.apply(op, r);
            }
        }
        if !config.filter.read_only {
            plan.cleanup = cleanup_for(&g, spec, index, config);
        }
        operations.push(plan);
    }
    if wants(Phase::Methods) {
        for r in methods(&g, spec, &admitted, config) {
            if let Some(p) = operations.iter_mut().find(|p| p.operation == r.operation) {
                p.requests.push(r);
            }
        }
    }
    let chains = if wants(Phase::Stateful) && !config.filter.read_only {
        chains(&g, spec, &admitted, config)
    } else {
        Vec::new()
    };
    Plan {
        operations,
        chains,
        skipped,
    }
}

/// The delete that undoes a create: for a POST, the DELETE its 2xx links
/// name, else the DELETE on `{path}/{id}`; its path parameters come from
/// the create's response (a link's expression, else the capture sources a
/// chain uses), except those the create's own path shares, which keep the
/// create's value. `None` when the operation creates nothing deletable.
fn cleanup_for(
    g: &Generator<'_>,
    spec: &Spec,
    create: usize,
    config: &PlanConfig,
) -> Option<ChainStep> {
    let op = spec.operations.get(create)?;
    if op.method != "POST" {
        return None;
    }
    let links = links_of(spec, op);
    let prefix = format!("{}/{{", op.path.trim_end_matches('/'));
    let is_item = |p: &str| {
        p.starts_with(&prefix)
            && p[prefix.len()..]
                .find('}')
                .is_some_and(|e| e + 1 == p.len() - prefix.len())
    };
    let delete = spec.operations.iter().enumerate().position(|(k, d)| {
        d.method == "DELETE"
            && d.kind == OperationKind::Path
            && if links.is_empty() {
                is_item(&d.path)
            } else {
                links.iter().any(|(i, _)| *i == k)
            }
    })?;
    let target = &spec.operations[delete];
    let mut req = skeleton(spec, delete, Phase::Stateful, Expectation::Accepted);
    fill_valid(
        g,
        target,
        &mut req,
        mix(config.seed, 70_000 + create as u64),
        0,
    )
    .ok()?;
    req.destructive = false; // It removes only what the run created.
    for pin in &config.pins {
        pin.apply(target, &mut req);
    }
    let create_params: Vec<&str> = op
        .parameters
        .iter()
        .filter(|p| p.location == ParamIn::Path)
        .map(|p| p.name.as_str())
        .collect();
    let mut bind = Vec::new();
    for p in target
        .parameters
        .iter()
        .filter(|p| p.location == ParamIn::Path && !create_params.contains(&p.name.as_str()))
    {
        let sources = bind_sources(g, spec, op, &links, delete, &p.name);
        if sources.is_empty() {
            return None;
        }
        bind.push((p.name.clone(), sources));
    }
    if bind.is_empty() {
        return None;
    }
    Some(ChainStep {
        role: ChainRole::Delete,
        request: req,
        bind,
    })
}

/// The raw operation object in the root document.
fn raw_operation<'s>(spec: &'s Spec, op: &Operation) -> Option<&'s Value> {
    spec.documents.first()?.value.pointer(&op.pointer)
}

fn tags_of(spec: &Spec, op: &Operation) -> Vec<String> {
    raw_operation(spec, op)
        .and_then(|o| o.get("tags"))
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn skeleton(spec: &Spec, index: usize, phase: Phase, expect: Expectation) -> GeneratedRequest {
    let op = &spec.operations[index];
    GeneratedRequest {
        phase,
        operation: index,
        label: op.label(),
        method: op.method.clone(),
        path_template: op.path.clone(),
        path: BTreeMap::new(),
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        cookies: BTreeMap::new(),
        body: None,
        content_type: None,
        auth: AuthMode::Default,
        expect,
        mutation: None,
        destructive: is_destructive(op),
    }
}

fn slot(req: &mut GeneratedRequest, location: ParamIn) -> &mut BTreeMap<String, Value> {
    match location {
        ParamIn::Path => &mut req.path,
        ParamIn::Query => &mut req.query,
        ParamIn::Header => &mut req.headers,
        ParamIn::Cookie => &mut req.cookies,
    }
}

/// The JSON request body schema, if the operation documents one.
fn body_schema(op: &Operation) -> Option<(String, usize)> {
    let body = op.request_body.as_ref()?;
    body.content
        .iter()
        .find(|m| m.json)
        .and_then(|m| m.schema.map(|s| (media_name(&m.name), s)))
}

fn media_name(name: &str) -> String {
    if name == "*/*" || name.ends_with("/*") {
        "application/json".into()
    } else {
        name.to_string()
    }
}

/// Fills parameters (required always; optional ones on odd draws) and the
/// body with positive draw `i`.
fn fill_valid(
    g: &Generator<'_>,
    op: &Operation,
    req: &mut GeneratedRequest,
    seed: u64,
    i: usize,
) -> Result<(), CannotGenerate> {
    fill_valid_from(g, op, req, seed, i, None)
}

/// [`fill_valid`], taking the body from `bodies[i]` when the caller drew
/// the operation's body series once (the positive phase: drawing `i + 1`
/// bodies for request `i` made that phase quadratic in `--max-examples`).
fn fill_valid_from(
    g: &Generator<'_>,
    op: &Operation,
    req: &mut GeneratedRequest,
    seed: u64,
    i: usize,
    bodies: Option<&[Value]>,
) -> Result<(), CannotGenerate> {
    for (k, p) in op.parameters.iter().enumerate() {
        if !p.required && i.is_multiple_of(2) {
            continue;
        }
        if p.location == ParamIn::Header && is_reserved_header(&p.name) {
            continue;
        }
        let Some(schema) = p.schema else {
            if p.required {
                slot(req, p.location).insert(p.name.clone(), Value::String("x".into()));
            }
            continue;
        };
        let values = g
            .positive(
                schema,
                mix(seed, 7919 * k as u64 + i as u64 / 2),
                1 + i % 3,
                Carrier::Text,
            )
            .map_err(|e| {
                CannotGenerate::new(format!(
                    "{} parameter `{}`: {}",
                    p.location.as_str(),
                    p.name,
                    e.reason
                ))
            })?;
        let mut value = values.into_iter().last();
        if p.location == ParamIn::Path && value.as_ref().is_some_and(|v| text_of(v).is_empty()) {
            value = non_empty_path_value(g, schema, mix(seed, 7919 * k as u64 + 1));
            if value.is_none() {
                return Err(CannotGenerate::new(format!(
                    "path parameter `{}`: its schema allows only the empty string, which would change the path",
                    p.name
                )));
            }
        }
        if let Some(v) = value {
            slot(req, p.location).insert(p.name.clone(), v);
        }
    }
    if let Some((media, schema)) = body_schema(op) {
        let required = op.request_body.as_ref().is_some_and(|b| b.required);
        if required || i % 4 != 3 {
            req.body = match bodies {
                Some(series) => series.get(i).or(series.first()).cloned(),
                None => g
                    .positive(schema, mix(seed, 31 + i as u64), i + 1, Carrier::Json)
                    .map_err(|e| CannotGenerate::new(format!("request body: {}", e.reason)))?
                    .into_iter()
                    .nth(i),
            }
            .or(req.body.take());
            if req.body.is_none() {
                let again = g.positive(schema, mix(seed, 31), 1, Carrier::Json)?;
                req.body = again.into_iter().next();
            }
            req.content_type = Some(media);
        }
    }
    Ok(())
}

/// A schema-valid path parameter that is not empty: an empty segment
/// (`/volumes/`) would address another route, so the request would test
/// something else than the operation it names.
fn non_empty_path_value(g: &Generator<'_>, schema: SchemaId, seed: u64) -> Option<Value> {
    g.positive(schema, seed, 6, Carrier::Text)
        .ok()?
        .into_iter()
        .find(|v| !text_of(v).is_empty())
}

/// Headers the HTTP client owns; generating them would break the request.
fn is_reserved_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "content-type" | "accept" | "authorization" | "content-length" | "host"
    )
}

fn positive(
    g: &Generator<'_>,
    spec: &Spec,
    index: usize,
    seed: u64,
    n: usize,
) -> Result<Vec<GeneratedRequest>, CannotGenerate> {
    let op = &spec.operations[index];
    let mut out: Vec<GeneratedRequest> = Vec::new();
    // One body series for the phase (smallest, largest, then random ones).
    let bodies = match body_schema(op) {
        Some((_, schema)) => Some(
            g.positive(schema, mix(seed, 31), n * 2, Carrier::Json)
                .map_err(|e| CannotGenerate::new(format!("request body: {}", e.reason)))?,
        ),
        None => None,
    };
    for i in 0..n * 2 {
        if out.len() >= n {
            break;
        }
        let mut req = skeleton(spec, index, Phase::Positive, Expectation::Accepted);
        fill_valid_from(g, op, &mut req, seed, i, bodies.as_deref())?;
        if !out.contains(&req) {
            out.push(req);
        }
    }
    Ok(out)
}

fn negative(
    g: &Generator<'_>,
    spec: &Spec,
    index: usize,
    seed: u64,
    n: usize,
) -> Result<Vec<GeneratedRequest>, CannotGenerate> {
    let op = &spec.operations[index];
    let mut base = skeleton(spec, index, Phase::Negative, Expectation::Rejected);
    fill_valid(g, op, &mut base, seed, 1)?;
    let mut out = Vec::new();
    // A required parameter left out (not path ones: the route would change).
    for p in op
        .parameters
        .iter()
        .filter(|p| p.required && p.location != ParamIn::Path)
    {
        if p.location == ParamIn::Header && is_reserved_header(&p.name) {
            continue;
        }
        let mut req = base.clone();
        slot(&mut req, p.location).remove(&p.name);
        req.mutation = Some(Mutation {
            rule: Rule::RequiredParameter,
            pointer: format!("{}.{}", p.location.as_str(), p.name),
            description: format!(
                "required {} parameter `{}` left out",
                p.location.as_str(),
                p.name
            ),
        });
        out.push(req);
    }
    for (k, p) in op.parameters.iter().enumerate() {
        let Some(schema) = p.schema else { continue };
        if p.location == ParamIn::Header && is_reserved_header(&p.name) {
            continue;
        }
        let Ok(list) = g.negative(schema, mix(seed, 104_729 + k as u64), n, Carrier::Text) else {
            continue;
        };
        for neg in list {
            if p.location == ParamIn::Path && text_of(&neg.value).is_empty() {
                continue; // An empty segment routes elsewhere.
            }
            if p.location == ParamIn::Header
                && !text_of(&neg.value)
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b))
            {
                continue;
            }
            let mut req = base.clone();
            slot(&mut req, p.location).insert(p.name.clone(), neg.value);
            let mut m = neg.mutation;
            m.description = format!(
                "{} parameter `{}`: {}",
                p.location.as_str(),
                p.name,
                m.description
            );
            m.pointer = format!("{}.{}", p.location.as_str(), p.name);
            req.mutation = Some(m);
            out.push(req);
        }
    }
    if let Some((media, schema)) = body_schema(op) {
        if op.request_body.as_ref().is_some_and(|b| b.required) {
            let mut req = base.clone();
            req.body = None;
            req.content_type = None;
            req.mutation = Some(Mutation {
                rule: Rule::Required,
                pointer: "body".into(),
                description: "required request body left out".into(),
            });
            out.push(req);
        }
        match g.negative(schema, mix(seed, 65_537), n, Carrier::Json) {
            Ok(list) => {
                for neg in list {
                    let mut req = base.clone();
                    req.body = Some(neg.value);
                    req.content_type = Some(media.clone());
                    req.mutation = Some(neg.mutation);
                    out.push(req);
                }
            }
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    // Spread across rules and places before truncating.
    let mut seen = BTreeSet::new();
    let (first, rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|r| {
        let key = r.mutation.as_ref().map(|m| {
            (
                m.rule,
                m.pointer.split('/').next().unwrap_or("").to_string(),
            )
        });
        seen.insert(key)
    });
    let mut all = first;
    all.extend(rest);
    all.truncate(n);
    Ok(all)
}

fn auth(
    g: &Generator<'_>,
    spec: &Spec,
    index: usize,
    seed: u64,
) -> Result<Vec<GeneratedRequest>, CannotGenerate> {
    let op = &spec.operations[index];
    let mut base = skeleton(spec, index, Phase::Auth, Expectation::Unauthorized);
    fill_valid(g, op, &mut base, seed, 0)?;
    let mut missing = base.clone();
    missing.auth = AuthMode::Missing;
    let mut invalid = base;
    invalid.auth = AuthMode::Invalid;
    Ok(vec![missing, invalid])
}

/// Every documented example: media-type and schema examples of the body,
/// and parameter examples, each sent once (other values drawn valid).
fn examples(
    g: &Generator<'_>,
    spec: &Spec,
    index: usize,
    seed: u64,
    n: usize,
) -> Vec<GeneratedRequest> {
    let op = &spec.operations[index];
    let mut base = skeleton(spec, index, Phase::Examples, Expectation::Accepted);
    if fill_valid(g, op, &mut base, seed, 0).is_err() {
        base.path.clear();
    }
    let raw = raw_operation(spec, op);
    let r = g.resolver();
    let mut out = Vec::new();
    // Parameter examples.
    let mut raw_params: Vec<&Value> = Vec::new();
    if let Some(item) = op
        .pointer
        .rsplit_once('/')
        .and_then(|(item, _)| spec.documents.first()?.value.pointer(item))
        && let Some(Value::Array(list)) = item.get("parameters")
    {
        raw_params.extend(list);
    }
    if let Some(Value::Array(list)) = raw.and_then(|o| o.get("parameters")) {
        raw_params.extend(list);
    }
    for p in raw_params {
        let Ok((_, p)) = r.follow(0, p) else { continue };
        let (Some(name), Some(loc)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(param) = op
            .parameters
            .iter()
            .find(|q| q.name == name && q.location.as_str() == loc)
        else {
            continue;
        };
        for v in example_values(g, &p) {
            let mut req = base.clone();
            slot(&mut req, param.location).insert(name.to_string(), v);
            out.push(req);
        }
    }
    // Body examples.
    if let Some(Value::Object(content)) = raw
        .and_then(|o| o.get("requestBody"))
        .and_then(|b| r.follow(0, b).ok())
        .and_then(|(_, b)| b.get("content").cloned())
    {
        for (media, entry) in &content {
            if !crate::spec::is_json(media) {
                continue;
            }
            let mut values = example_values(g, entry);
            if values.is_empty()
                && let Some(schema) = entry.get("schema")
                && let Ok((_, s)) = r.follow(0, schema)
            {
                values = example_values(g, &s);
            }
            for v in values {
                let mut req = base.clone();
                req.body = Some(v);
                req.content_type = Some(media_name(media));
                out.push(req);
            }
        }
    }
    out.truncate(n);
    out
}

/// A schema-valid request for one operation, the way a hand-written case
/// starts from it (what `apiconform scaffold` writes): required parameters
/// only, the first documented JSON body example that validates (else the
/// smallest generated body), then the pins.
pub fn valid_request(
    spec: &Spec,
    index: usize,
    seed: u64,
    pins: &[Pin],
) -> Result<GeneratedRequest, CannotGenerate> {
    let g = Generator::new(spec);
    let op = spec
        .operations
        .get(index)
        .ok_or_else(|| CannotGenerate::new("no such operation"))?;
    let mut req = skeleton(spec, index, Phase::Positive, Expectation::Accepted);
    fill_valid(&g, op, &mut req, mix(seed, index as u64), 0)?;
    if let Some((media, schema)) = body_schema(op)
        && let Some(example) = first_valid_body_example(&g, spec, op, schema)
    {
        req.body = Some(example);
        req.content_type = Some(media);
    }
    for pin in pins {
        pin.apply(op, &mut req);
    }
    Ok(req)
}

/// The first documented example of the JSON request body (media type
/// examples, then the schema's) that the body schema accepts.
fn first_valid_body_example(
    g: &Generator<'_>,
    spec: &Spec,
    op: &Operation,
    schema: usize,
) -> Option<Value> {
    let r = g.resolver();
    let content = raw_operation(spec, op)
        .and_then(|o| o.get("requestBody"))
        .and_then(|b| r.follow(0, b).ok())
        .and_then(|(_, b)| b.get("content").cloned())?;
    let Value::Object(content) = content else {
        return None;
    };
    for (media, entry) in &content {
        if !crate::spec::is_json(media) {
            continue;
        }
        let mut values = example_values(g, entry);
        if let Some(s) = entry.get("schema")
            && let Ok((_, s)) = r.follow(0, s)
        {
            values.extend(example_values(g, &s));
        }
        if let Some(v) = values
            .into_iter()
            .find(|v| g.is_valid(schema, v, Carrier::Json))
        {
            return Some(v);
        }
    }
    None
}

/// `example`, `examples` (a map of Example objects, or a 3.1 schema array).
fn example_values(g: &Generator<'_>, owner: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(v) = owner.get("example") {
        out.push(v.clone());
    }
    match owner.get("examples") {
        Some(Value::Object(map)) => {
            for ex in map.values() {
                if let Ok((_, ex)) = g.resolver().follow(0, ex)
                    && let Some(v) = ex.get("value")
                {
                    out.push(v.clone());
                }
            }
        }
        Some(Value::Array(list)) => out.extend(list.iter().cloned()),
        _ => {}
    }
    out
}

/// One undocumented method per documented path (GET first, then the
/// others; non-safe methods only with `allow_destructive`).
fn methods(
    g: &Generator<'_>,
    spec: &Spec,
    admitted: &[usize],
    config: &PlanConfig,
) -> Vec<GeneratedRequest> {
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in admitted {
        by_path
            .entry(spec.operations[i].path.as_str())
            .or_default()
            .push(i);
    }
    let mut out = Vec::new();
    for (path, ops) in by_path {
        let documented: Vec<String> = spec
            .operations
            .iter()
            .filter(|o| o.kind == OperationKind::Path && o.path == path)
            .map(|o| o.method.clone())
            .collect();
        let candidates = ["GET", "POST", "PUT", "PATCH", "DELETE"];
        let Some(method) = candidates.iter().find(|m| {
            let undocumented = !documented.iter().any(|d| d == *m);
            let allowed_here = is_safe_method(m) || !config.filter.read_only;
            let harmless = is_safe_method(m) || **m == "POST" || config.filter.allow_destructive;
            undocumented && allowed_here && harmless
        }) else {
            continue;
        };
        let index = ops[0];
        let mut req = skeleton(
            spec,
            index,
            Phase::Methods,
            Expectation::MethodNotAllowed {
                allow: documented.clone(),
            },
        );
        let op = &spec.operations[index];
        for p in op.parameters.iter().filter(|p| p.location == ParamIn::Path) {
            if let Some(v) = p
                .schema
                .and_then(|s| g.positive(s, mix(config.seed, 5), 1, Carrier::Text).ok())
                .and_then(|v| v.into_iter().next())
            {
                req.path.insert(p.name.clone(), v);
            }
        }
        req.method = method.to_string();
        req.destructive = !is_safe_method(method) && *method != "POST";
        out.push(req);
    }
    out
}

/// Chains from OpenAPI links, else inferred: a POST on `/x` whose 2xx body
/// or `Location` gives the `{id}` of operations on `/x/{id}`.
fn chains(g: &Generator<'_>, spec: &Spec, admitted: &[usize], config: &PlanConfig) -> Vec<Chain> {
    let mut out = Vec::new();
    for &create in admitted {
        let op = &spec.operations[create];
        if op.method != "POST" {
            continue;
        }
        let prefix = format!("{}/{{", op.path.trim_end_matches('/'));
        let item_ops: Vec<usize> = admitted
            .iter()
            .copied()
            .filter(|&i| {
                let p = &spec.operations[i].path;
                p.starts_with(&prefix)
                    && p[prefix.len()..]
                        .find('}')
                        .is_some_and(|e| e + 1 == p.len() - prefix.len())
            })
            .collect();
        let links = links_of(spec, op);
        let origin = if links.is_empty() { "inferred" } else { "link" };
        let targets: Vec<usize> = if links.is_empty() {
            item_ops
        } else {
            links
                .iter()
                .map(|(i, _)| *i)
                .filter(|i| admitted.contains(i))
                .collect()
        };
        if targets.is_empty() {
            continue;
        }
        // Two chains: the create's smallest body (required members only)
        // and its largest (every optional member), so what a read gives
        // back is compared for every property the create can send.
        for draw in 0..config.max_examples.min(2) {
            let list = admitted.iter().copied().find(|&i| {
                let o = &spec.operations[i];
                o.method == "GET" && o.path == op.path
            });
            let ops = ChainOps {
                create,
                targets: &targets,
                links: &links,
                list,
            };
            let Some(chain) = chain(g, spec, config, &ops, draw) else {
                continue;
            };
            let duplicate = out
                .iter()
                .any(|c: &Chain| c.steps[0].request == chain.steps[0].request);
            if !duplicate {
                out.push(Chain { origin, ..chain });
            }
        }
    }
    out
}

/// The operations a chain uses: the create, the item operations its id
/// feeds, the links that say how, and the list on the create's path.
struct ChainOps<'a> {
    create: usize,
    targets: &'a [usize],
    links: &'a [(usize, Vec<(String, CaptureSource)>)],
    list: Option<usize>,
}

/// The chain on `create`'s resource with positive draw `draw` for the
/// create (`draw + 1` for the steps after it).
fn chain(
    g: &Generator<'_>,
    spec: &Spec,
    config: &PlanConfig,
    ops: &ChainOps<'_>,
    draw: usize,
) -> Option<Chain> {
    let (create, targets, links) = (ops.create, ops.targets, ops.links);
    let op = &spec.operations[create];
    let seed = mix(config.seed, 50_000 + create as u64);
    let mut create_req = skeleton(spec, create, Phase::Stateful, Expectation::Accepted);
    if fill_valid(g, op, &mut create_req, seed, draw).is_err() {
        return None;
    }
    create_req.destructive = false;
    for pin in &config.pins {
        pin.apply(op, &mut create_req);
    }
    let mut steps = vec![ChainStep {
        role: ChainRole::Create,
        request: create_req,
        bind: Vec::new(),
    }];
    let find = |m: &str| {
        targets
            .iter()
            .copied()
            .find(|&i| spec.operations[i].method == m)
    };
    // `method`: an undocumented method sent to the item path instead
    // of the operation's own (the methods phase, on what was created).
    let mut push = |role: ChainRole, index: usize, expect: Expectation, method: Option<&str>| {
        let target = &spec.operations[index];
        let phase = if method.is_some() {
            Phase::Methods
        } else {
            Phase::Stateful
        };
        let mut req = skeleton(spec, index, phase, expect);
        if fill_valid(g, target, &mut req, seed, draw + 1).is_err() {
            return;
        }
        req.destructive = false; // It acts on what the chain created.
        for pin in &config.pins {
            pin.apply(target, &mut req);
        }
        if matches!(role, ChainRole::OtherRead | ChainRole::OtherList) {
            req.auth = AuthMode::Other;
        }
        if let Some(m) = method {
            // Only the path is kept: the method is not an operation.
            req.method = m.to_string();
            req.query.clear();
            req.headers.clear();
            req.cookies.clear();
            req.body = None;
            req.content_type = None;
        }
        let mut bind = Vec::new();
        for p in target
            .parameters
            .iter()
            .filter(|p| p.location == ParamIn::Path)
        {
            let sources = bind_sources(g, spec, op, links, index, &p.name);
            bind.push((p.name.clone(), sources));
        }
        steps.push(ChainStep {
            role,
            request: req,
            bind,
        });
    };
    if let Some(i) = find("GET") {
        push(ChainRole::Read, i, Expectation::Available, None);
        if config.other_identity {
            push(ChainRole::OtherRead, i, Expectation::Hidden, None);
        }
    }
    if let Some(l) = ops.list.filter(|_| config.other_identity) {
        push(ChainRole::OtherList, l, Expectation::Accepted, None);
    }
    if let Some(i) = ["PUT", "PATCH"].iter().find_map(|m| find(m)) {
        push(ChainRole::Update, i, Expectation::Accepted, None);
        if let Some(r) = find("GET") {
            push(ChainRole::ReadAfterUpdate, r, Expectation::Available, None);
        }
    }
    if config.phases.contains(&Phase::Methods) {
        for (method, index, allow) in undocumented_on_created(spec, targets) {
            let expect = Expectation::MethodNotAllowed { allow };
            push(ChainRole::UndocumentedMethod, index, expect, Some(method));
        }
    }
    if let Some(i) = find("DELETE") {
        push(ChainRole::Delete, i, Expectation::Accepted, None);
        if let Some(r) = find("GET") {
            push(ChainRole::ReadAfterDelete, r, Expectation::Gone, None);
        }
    }
    (steps.len() > 1).then_some(Chain {
        origin: "inferred",
        steps,
    })
}

/// The methods the methods phase leaves out by default (PUT, PATCH, DELETE:
/// destructive on a resource the run did not make) that the item path of a
/// chain does not document, each with the operation whose path parameters
/// it takes and the documented methods. On the resource the chain created
/// they are safe; DELETE goes last, as it may remove it.
fn undocumented_on_created(
    spec: &Spec,
    targets: &[usize],
) -> Vec<(&'static str, usize, Vec<String>)> {
    let Some(&index) = targets
        .iter()
        .find(|&&i| spec.operations[i].method == "GET")
        .or_else(|| targets.first())
    else {
        return Vec::new();
    };
    let path = &spec.operations[index].path;
    let documented: Vec<String> = spec
        .operations
        .iter()
        .filter(|o| o.kind == OperationKind::Path && &o.path == path)
        .map(|o| o.method.clone())
        .collect();
    ["PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| !documented.iter().any(|d| d == m))
        .map(|m| (m, index, documented.clone()))
        .collect()
}

/// `(target operation, [(parameter, source)])` from the 2xx responses' links.
fn links_of(spec: &Spec, op: &Operation) -> Vec<(usize, Vec<(String, CaptureSource)>)> {
    let mut out = Vec::new();
    let Some(Value::Object(responses)) = raw_operation(spec, op).and_then(|o| o.get("responses"))
    else {
        return out;
    };
    let r = super::resolve::Resolver::new(spec);
    for (status, resp) in responses {
        if !status.starts_with('2') {
            continue;
        }
        let Ok((_, resp)) = r.follow(0, resp) else {
            continue;
        };
        let Some(Value::Object(links)) = resp.get("links") else {
            continue;
        };
        for link in links.values() {
            let Ok((_, link)) = r.follow(0, link) else {
                continue;
            };
            let Some(target) = link
                .get("operationId")
                .and_then(Value::as_str)
                .and_then(|id| spec.operation_index_by_id(id))
            else {
                continue;
            };
            let mut params = Vec::new();
            if let Some(Value::Object(map)) = link.get("parameters") {
                for (name, expr) in map {
                    let name = name.rsplit('.').next().unwrap_or(name).to_string();
                    match expr.as_str() {
                        Some(e) if e.starts_with("$response.body#") => {
                            params.push((
                                name,
                                CaptureSource::Body(e["$response.body#".len()..].to_string()),
                            ));
                        }
                        Some(e) if e.eq_ignore_ascii_case("$response.header.Location") => {
                            params.push((name, CaptureSource::Location));
                        }
                        _ => {}
                    }
                }
            }
            out.push((target, params));
        }
    }
    out
}

/// Where path parameter `name` of operation `target` comes from after the
/// create: what the create's links say for that target, else where an id
/// may sit in its response ([`capture_sources`]).
fn bind_sources(
    g: &Generator<'_>,
    spec: &Spec,
    create: &Operation,
    links: &[(usize, Vec<(String, CaptureSource)>)],
    target: usize,
    name: &str,
) -> Vec<CaptureSource> {
    match links.iter().find(|(i, _)| *i == target) {
        Some((_, params)) => params
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .collect(),
        None => capture_sources(g, spec, create, name),
    }
}

/// Where an id for path parameter `name` may sit in a create's response:
/// a property of that name (or `id`) at the top or one envelope level down,
/// then the `Location` header.
fn capture_sources(
    g: &Generator<'_>,
    spec: &Spec,
    create: &Operation,
    name: &str,
) -> Vec<CaptureSource> {
    let mut out = Vec::new();
    let r = g.resolver();
    for resp in create.responses.iter().filter(|r| r.key.starts_with('2')) {
        for media in resp.content.iter().filter(|m| m.json) {
            let Some((doc, schema)) = media.schema.and_then(|s| spec.schema_source(s)) else {
                continue;
            };
            let Ok((doc, top)) = r.flatten(doc, schema, 0) else {
                continue;
            };
            let mut look = |pointer: &str, s: &Value| {
                let Some(Value::Object(props)) = s.get("properties") else {
                    return;
                };
                for key in [name, "id"] {
                    if props.contains_key(key) {
                        let src = CaptureSource::Body(format!(
                            "{pointer}/{}",
                            crate::spec::escape_token(key)
                        ));
                        if !out.contains(&src) {
                            out.push(src);
                        }
                    }
                }
            };
            look("", &top);
            let mut id_strings = Vec::new();
            if let Some(Value::Object(props)) = top.get("properties") {
                for (k, sub) in props {
                    if let Ok((_, sub)) = r.flatten(doc, sub, 1) {
                        let at = format!("/{}", crate::spec::escape_token(k));
                        look(&at, &sub);
                        // An envelope whose member *is* the id: `{"data": "<uuid>"}`.
                        if matches!(
                            sub.get("format").and_then(Value::as_str),
                            Some("uuid" | "guid")
                        ) {
                            id_strings.push(CaptureSource::Body(at));
                        }
                    }
                }
            }
            for src in id_strings {
                if !out.contains(&src) {
                    out.push(src);
                }
            }
        }
    }
    out.push(CaptureSource::Location);
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

    fn requests<'p>(plan: &'p Plan, label: &str, phase: Phase) -> Vec<&'p GeneratedRequest> {
        plan.operations
            .iter()
            .filter(|o| o.label == label)
            .flat_map(|o| &o.requests)
            .filter(|r| r.phase == phase)
            .collect()
    }

    fn config(seed: u64) -> PlanConfig {
        PlanConfig {
            seed,
            max_examples: 8,
            filter: Filter {
                allow_destructive: true,
                ..Filter::default()
            },
            ..PlanConfig::default()
        }
    }

    #[test]
    fn positive_path_parameters_are_never_empty() {
        // Docker's `/volumes/{name}`: `name` is a plain string, whose
        // smallest value "" would send GET /volumes/ (another route).
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real/docker-engine-1.41.yaml");
        let spec = crate::spec::load(&path).expect("Docker's description loads");
        let p = plan(&spec, &config(0));
        let mut seen = 0;
        for op in &p.operations {
            for r in op.requests.iter().filter(|r| r.phase == Phase::Positive) {
                for (name, value) in &r.path {
                    seen += 1;
                    assert!(!text_of(value).is_empty(), "{} `{name}` is empty", r.label);
                }
            }
        }
        assert!(seen > 100, "{seen} path values checked");
        assert!(!requests(&p, "VolumeInspect", Phase::Positive).is_empty());
    }

    #[test]
    fn plans_are_deterministic_for_a_seed() {
        let spec = bundled("mycloud-shares-v1.yaml");
        assert_eq!(plan(&spec, &config(7)), plan(&spec, &config(7)));
        assert_ne!(plan(&spec, &config(7)), plan(&spec, &config(8)));
    }

    #[test]
    fn positive_bodies_validate_and_negatives_name_their_rule() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let p = plan(&spec, &config(1));
        let g = Generator::new(&spec);
        let op = spec.operation_by_id("createShare").expect("createShare");
        let (_, schema) = body_schema(op).expect("a JSON body");
        let positive = requests(&p, "createShare", Phase::Positive);
        assert!(positive.len() >= 3, "{}", positive.len());
        assert!(positive.len() <= 8);
        for r in &positive {
            let body = r.body.as_ref().expect("required body");
            assert!(g.is_valid(schema, body, Carrier::Json), "{body}");
            assert_eq!(r.expect, Expectation::Accepted);
        }
        let negative = requests(&p, "createShare", Phase::Negative);
        assert!(!negative.is_empty());
        for r in &negative {
            let m = r
                .mutation
                .as_ref()
                .expect("every negative names its mutation");
            if m.pointer.starts_with('/') {
                let body = r.body.as_ref().expect("mutated body");
                assert!(
                    g.breaks_rule(schema, body, m.rule, Carrier::Json),
                    "{m:?} {body}"
                );
            }
        }
        let rules: BTreeSet<Rule> = negative
            .iter()
            .filter_map(|r| r.mutation.as_ref().map(|m| m.rule))
            .collect();
        assert!(rules.len() >= 3, "{rules:?}");
    }

    #[test]
    fn examples_auth_and_methods_phases() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let p = plan(&spec, &config(1));
        let examples = requests(&p, "createShare", Phase::Examples);
        let documented = Value::from("auth0|582641749a46021f65565df0");
        let owners = examples
            .iter()
            .filter(|r| r.body.as_ref().and_then(|b| b.get("ownerId")) == Some(&documented))
            .count();
        assert_eq!(owners, 2, "both documented body examples");
        let auth = requests(&p, "createShare", Phase::Auth);
        let modes: Vec<AuthMode> = auth.iter().map(|r| r.auth).collect();
        assert_eq!(modes, vec![AuthMode::Missing, AuthMode::Invalid]);
        assert!(auth.iter().all(|r| r.expect == Expectation::Unauthorized));
        // getShare allows anonymous reads (`- {}`): no auth phase.
        assert!(requests(&p, "getShare", Phase::Auth).is_empty());
        let methods: Vec<&GeneratedRequest> = p
            .operations
            .iter()
            .flat_map(|o| &o.requests)
            .filter(|r| r.phase == Phase::Methods)
            .collect();
        let on_list = methods
            .iter()
            .find(|r| r.path_template == "/v1/shares")
            .expect("methods on /v1/shares");
        assert_eq!(on_list.method, "GET");
        assert_eq!(
            on_list.expect,
            Expectation::MethodNotAllowed {
                allow: vec!["POST".into()]
            }
        );
        let on_item = methods
            .iter()
            .find(|r| r.path_template == "/v1/shares/{shareId}")
            .expect("item path");
        assert!(on_item.path.contains_key("shareId"));
    }

    #[test]
    fn chains_feed_the_created_id_into_item_operations() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let p = plan(&spec, &config(3));
        let chain = p.chains.first().expect("a create chain");
        let roles: Vec<ChainRole> = chain.steps.iter().map(|s| s.role).collect();
        assert_eq!(
            roles,
            vec![
                ChainRole::Create,
                ChainRole::Read,
                ChainRole::Update,
                ChainRole::ReadAfterUpdate,
                ChainRole::UndocumentedMethod,
                ChainRole::Delete,
                ChainRole::ReadAfterDelete
            ]
        );
        let read = &chain.steps[1];
        let (param, sources) = &read.bind[0];
        assert_eq!(param, "shareId");
        assert!(
            sources.contains(&CaptureSource::Body("/data".into())),
            "{sources:?}"
        );
        assert_eq!(sources.last(), Some(&CaptureSource::Location));
        assert_eq!(chain.steps[6].request.expect, Expectation::Gone);
        let mycloud = bundled("mycloud-shares-v1.yaml");
        let p = plan(&mycloud, &config(3));
        let sources = &p.chains[0].steps[1].bind[0].1;
        assert!(
            sources.contains(&CaptureSource::Body("/data/shareId".into())),
            "{sources:?}"
        );
    }

    #[test]
    fn pins_override_generated_values_but_not_mutations() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let mut c = config(2);
        c.pins = vec![
            Pin::parse("body.ownerId={{ mycloud_user_id }}").expect("pin"),
            Pin::parse("query.none=1").expect("pin"),
        ];
        let p = plan(&spec, &c);
        for r in requests(&p, "createShare", Phase::Positive) {
            assert_eq!(
                r.body.as_ref().and_then(|b| b.get("ownerId")),
                Some(&Value::from("{{ mycloud_user_id }}"))
            );
            assert!(
                r.query.is_empty(),
                "pins for parameters the operation lacks are ignored"
            );
        }
        let create = &p.chains[0].steps[0].request;
        assert_eq!(
            create.body.as_ref().and_then(|b| b.get("ownerId")),
            Some(&Value::from("{{ mycloud_user_id }}"))
        );
        for r in requests(&p, "createShare", Phase::Negative) {
            if let Some(m) = &r.mutation
                && m.pointer == "/ownerId"
            {
                assert_ne!(
                    r.body.as_ref().and_then(|b| b.get("ownerId")),
                    Some(&Value::from("{{ mycloud_user_id }}"))
                );
            }
        }
        assert_eq!(
            Pin::parse("query.limit=5").map(|p| p.value),
            Ok(Value::from(5))
        );
        assert!(Pin::parse("ownerId=5").is_err());
        assert!(Pin::parse("cookie.x=5").is_err());
    }

    #[test]
    fn filters_read_only_and_destructive() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let mut c = config(1);
        c.filter = Filter {
            read_only: true,
            ..Filter::default()
        };
        let p = plan(&spec, &c);
        assert!(
            p.operations
                .iter()
                .flat_map(|o| &o.requests)
                .all(|r| is_safe_method(&r.method))
        );
        assert!(p.chains.is_empty(), "no chains in read-only mode");
        assert!(p.skipped.iter().any(|(l, _)| l == "createShare"));

        c.filter = Filter::default();
        let p = plan(&spec, &c);
        let delete = p
            .operations
            .iter()
            .find(|o| o.label == "deleteShare")
            .expect("listed");
        assert!(delete.destructive && delete.requests.is_empty());
        assert!(
            p.skipped
                .iter()
                .any(|(l, r)| l == "deleteShare" && r.contains("--allow-destructive"))
        );
        assert!(
            p.chains[0].steps.iter().all(|s| !s.request.destructive),
            "chains act on what they created"
        );

        c.filter = Filter {
            include: vec![Selector::parse("tag:Shares").expect("selector")],
            exclude: vec![
                Selector::parse("listShares").expect("selector"),
                Selector::parse("method:put").expect("selector"),
            ],
            allow_destructive: true,
            ..Filter::default()
        };
        let p = plan(&spec, &c);
        let labels: Vec<&str> = p.operations.iter().map(|o| o.label.as_str()).collect();
        assert!(
            !labels.contains(&"listShares") && !labels.contains(&"updateShare"),
            "{labels:?}"
        );
        assert!(labels.contains(&"createShare"), "{labels:?}");
        assert!(Selector::parse("path:/shares/*").is_ok_and(|s| matches!(s, Selector::Path(_))));
        assert!(glob("/shares/*", "/shares/{shareId}") && !glob("/shares/*", "/other"));
        assert!(Selector::parse("colour:red").is_err());
    }

    #[test]
    fn openapi_links_drive_chains() {
        let text = r#"
openapi: 3.1.0
info: {title: links, version: "1"}
paths:
  /users:
    post:
      operationId: createUser
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string, maxLength: 5}}}
      responses:
        "201":
          description: created
          links:
            read:
              operationId: readUser
              parameters: {uid: "$response.body#/user/uid"}
            remove:
              operationId: removeUser
              parameters: {path.uid: "$response.header.Location"}
  /people/{uid}:
    get:
      operationId: readUser
      parameters: [{name: uid, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
    delete:
      operationId: removeUser
      parameters: [{name: uid, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
"#;
        let dir = std::env::temp_dir().join(format!("apiconform-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("links.yaml");
        std::fs::write(&file, text).expect("write spec");
        let spec = crate::spec::load(&file).expect("spec loads");
        let p = plan(&spec, &config(1));
        let chain = p.chains.first().expect("a chain from links");
        assert_eq!(chain.origin, "link");
        let roles: Vec<ChainRole> = chain.steps.iter().map(|s| s.role).collect();
        assert_eq!(
            roles,
            vec![
                ChainRole::Create,
                ChainRole::Read,
                ChainRole::UndocumentedMethod,
                ChainRole::UndocumentedMethod,
                ChainRole::Delete,
                ChainRole::ReadAfterDelete
            ]
        );
        assert_eq!(
            chain.steps[1].bind,
            vec![(
                "uid".to_string(),
                vec![CaptureSource::Body("/user/uid".into())]
            )]
        );
        assert_eq!(
            chain.steps[4].bind,
            vec![("uid".to_string(), vec![CaptureSource::Location])]
        );
    }

    #[test]
    fn chains_probe_undocumented_methods_and_the_second_identity() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let mut c = config(3);
        c.other_identity = true;
        let p = plan(&spec, &c);
        assert_eq!(p.chains.len(), 2, "the smallest and the largest create");
        assert_ne!(p.chains[0].steps[0].request, p.chains[1].steps[0].request);
        let chain = &p.chains[0];
        let roles: Vec<ChainRole> = chain.steps.iter().map(|s| s.role).collect();
        use ChainRole::*;
        assert_eq!(
            roles,
            vec![
                Create,
                Read,
                OtherRead,
                UndocumentedMethod,
                UndocumentedMethod,
                UndocumentedMethod
            ]
        );
        let other = &chain.steps[2].request;
        assert_eq!(
            (other.auth, &other.expect),
            (AuthMode::Other, &Expectation::Hidden)
        );
        let methods: Vec<&str> = chain.steps[3..]
            .iter()
            .map(|s| s.request.method.as_str())
            .collect();
        assert_eq!(methods, ["PUT", "PATCH", "DELETE"], "DELETE last");
        for s in &chain.steps[3..] {
            assert_eq!(s.request.phase, Phase::Methods);
            assert!(s.request.body.is_none() && !s.request.destructive);
            assert_eq!(
                s.request.expect,
                Expectation::MethodNotAllowed {
                    allow: vec!["GET".into()]
                }
            );
            assert_eq!(s.bind, chain.steps[1].bind, "the created id");
        }
        // EnableNow also lists its collection as the second identity.
        let enablenow = bundled("enablenow-sharing-v1.yaml");
        let p = plan(&enablenow, &c);
        let roles: Vec<ChainRole> = p.chains[0].steps.iter().map(|s| s.role).collect();
        assert_eq!(&roles[..4], &[Create, Read, OtherRead, OtherList]);
        assert_eq!(p.chains[0].steps[3].request.label, "listShares");
        // Neither without a second identity nor without the methods phase.
        c.other_identity = false;
        c.phases = vec![Phase::Stateful];
        let p = plan(&spec, &c);
        let roles: Vec<ChainRole> = p.chains[0].steps.iter().map(|s| s.role).collect();
        assert_eq!(roles, vec![Create, Read]);
    }

    #[test]
    fn an_any_of_of_required_members_is_broken_whole() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let mut c = config(1);
        c.pins = vec![Pin::parse("body.consentIds=x").expect("pin")];
        let p = plan(&spec, &c);
        let g = Generator::new(&spec);
        let op = spec.operation_by_id("createShare").expect("createShare");
        let (_, schema) = body_schema(op).expect("a JSON body");
        let negative = requests(&p, "createShare", Phase::Negative);
        let any_of = negative
            .iter()
            .find(|r| r.mutation.as_ref().is_some_and(|m| m.rule == Rule::AnyOf))
            .expect("an anyOf negative");
        let body = any_of.body.as_ref().expect("a body");
        assert!(
            g.breaks_rule(schema, body, Rule::AnyOf, Carrier::Json),
            "{body}"
        );
        for ids in ["consentIds", "accountIds", "analysisIds"] {
            assert!(
                body.get(ids).is_none(),
                "{ids} left out, the pin too: {body}"
            );
        }
        assert!(
            body.get("clientId").is_some(),
            "required by the object itself"
        );
    }

    #[test]
    fn paths_and_queries_are_encoded() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let mut r = skeleton(&spec, 1, Phase::Positive, Expectation::Accepted);
        r.path.insert("shareId".into(), Value::from("a/b c"));
        r.query.insert("ids".into(), serde_json::json!([1, "x y"]));
        assert_eq!(r.path_and_query(), "/v1/shares/a%2Fb%20c?ids=1&ids=x+y");
    }
}
