//! Generated phases as compiled cases, so they run through the same step
//! stages, checks and reporters as hand-written ones: one case per
//! operation x phase (its requests are independent steps; a create's case
//! ends with cleanup steps deleting what its steps created, when the spec
//! documents that delete) and one case per stateful chain (create, read,
//! update, read after update, delete, read after delete, then a cleanup
//! delete of what the create made, skipped when the chain already deleted
//! it).

use reqwest::header::{AUTHORIZATION, HeaderName};
use serde_json::Value;

use super::template::{Template, ValueTemplate};
use super::{Body, Case, Expect, PathPart, StaticBody, Step, StepKind, split_path};
use crate::check::CheckSet;
use crate::diag::Pos;
use crate::generate::plan::{
    AuthMode, CaptureSource, Chain, ChainRole, ChainStep, GeneratedRequest, Phase, Plan,
    bound_variable,
};
use crate::generate::{Rule, plan::text_of};
use crate::spec::Spec;

/// Token an `invalid` credential carries: the right shape, accepted nowhere.
pub const INVALID_TOKEN: &str = "invalid-apiconform-token";

/// What a generated step carries beyond its compiled request.
#[derive(Debug, Clone)]
pub struct GeneratedStep {
    /// The plain-data request (for findings: shrinking, curl, saved cases).
    pub request: GeneratedRequest,
    pub phase: Phase,
    pub rule: Option<Rule>,
    /// Its role in a stateful chain (`None` outside chains).
    pub role: Option<ChainRole>,
    /// Variables this step captures for later steps of its chain.
    pub binds: Vec<Bind>,
    /// A cleanup delete: skipped when the chain already deleted the resource.
    pub cleanup: bool,
}

/// A value a create's response gives to later steps of its chain.
#[derive(Debug, Clone)]
pub struct Bind {
    pub variable: String,
    /// Tried in order; the first present wins.
    pub sources: Vec<CaptureSource>,
}

/// A header sent on every request of the generated phases.
#[derive(Debug, Clone)]
pub struct ExtraHeader {
    pub name: HeaderName,
    pub value: ValueTemplate,
    /// Part of the credential: left out without one, replaced by an invalid
    /// value with an invalid one.
    pub credential: bool,
}

/// How generated requests authenticate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The suite credential a request with [`AuthMode::Default`] carries.
    pub credential: Option<String>,
    /// The header an invalid credential goes in (`Authorization` if unset).
    pub credential_header: Option<HeaderName>,
    pub headers: Vec<ExtraHeader>,
    /// The suite credential a request with [`AuthMode::Other`] carries.
    pub other_credential: Option<String>,
}

/// The cases of a suite's `generate:` section, with the credential its
/// requests carry (`None`: none).
pub fn from_config(
    spec: &Spec,
    config: &super::model::GenerateConfig,
    credential: Option<&str>,
    credentials: &[(String, super::Credential)],
) -> Result<Vec<Case>, String> {
    use crate::generate::plan::{Filter, Pin, PlanConfig, Selector};
    let mut phases = Vec::new();
    for name in &config.phases {
        phases.push(Phase::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Phase::ALL.iter().map(Phase::name).collect();
            format!("unknown phase `{name}` (known: {})", known.join(", "))
        })?);
    }
    if phases.is_empty() {
        phases = Phase::ALL.to_vec();
    }
    let selectors = |list: &[String]| -> Result<Vec<Selector>, String> {
        list.iter()
            .map(|s| Selector::parse(s).map_err(|e| e.to_string()))
            .collect()
    };
    let mut pins = Vec::new();
    for (k, v) in &config.pins {
        pins.push(Pin::parse(&format!("{k}={v}")).map_err(|e| e.to_string())?);
    }
    let credential_header = match credential {
        None => None,
        Some(name) => match credentials.iter().find(|(n, _)| n == name) {
            None => return Err(format!("unknown credential `{name}`")),
            Some((_, super::Credential::Header(h, _))) => HeaderName::from_bytes(h.as_bytes()).ok(),
            Some(_) => Some(AUTHORIZATION),
        },
    };
    let plan_config = PlanConfig {
        seed: config.seed.unwrap_or(0),
        max_examples: config.max_examples.unwrap_or(10).max(1),
        phases,
        filter: Filter {
            include: selectors(&config.operations)?,
            exclude: selectors(&config.exclude)?,
            read_only: config.read_only,
            allow_destructive: config.allow_destructive,
        },
        pins,
        other_identity: config.other_credential.is_some(),
    };
    if let Some(other) = &config.other_credential
        && !credentials.iter().any(|(n, _)| n == other)
    {
        return Err(format!("unknown other_credential `{other}`"));
    }
    let plan = crate::generate::plan::plan(spec, &plan_config);
    let options = Options {
        credential: credential.map(str::to_string),
        credential_header,
        headers: Vec::new(),
        other_credential: config.other_credential.clone(),
    };
    Ok(cases(spec, &plan, &options))
}

/// The compiled cases of a plan, operation x phase cases first, then chains.
pub fn cases(spec: &Spec, plan: &Plan, opts: &Options) -> Vec<Case> {
    let mut out = Vec::new();
    for op in &plan.operations {
        for phase in Phase::ALL {
            let requests: Vec<&GeneratedRequest> =
                op.requests.iter().filter(|r| r.phase == phase).collect();
            if requests.is_empty() {
                continue;
            }
            let mut steps: Vec<Step> = requests
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    step(
                        spec,
                        r,
                        &step_name(r, i + 1),
                        opts,
                        GeneratedStep::of(r, None),
                    )
                })
                .collect();
            let cleanup = undo_creates(spec, op.cleanup.as_ref(), phase, &mut steps, opts);
            out.push(case(
                format!("{} [{}]", op.label, phase.name()),
                phase,
                steps,
                cleanup,
            ));
        }
    }
    for (n, chain) in plan.chains.iter().enumerate() {
        if let Some(c) = chain_case(spec, chain, n + 1, opts) {
            out.push(c);
        }
    }
    out
}

/// One generated request as a case of its own (a failing input re-sent
/// while it is shrunk), with the cleanup delete of what it may create.
pub fn single_case(
    spec: &Spec,
    request: &GeneratedRequest,
    delete: Option<&ChainStep>,
    opts: &Options,
) -> Option<Case> {
    let name = format!("{} [{}] (shrinking)", request.label, request.phase.name());
    let mut steps = vec![step(
        spec,
        request,
        &step_name(request, 1),
        opts,
        GeneratedStep::of(request, None),
    )?];
    let cleanup = undo_creates(spec, delete, request.phase, &mut steps, opts);
    Some(case(name, request.phase, steps, cleanup))
}

impl GeneratedStep {
    fn of(r: &GeneratedRequest, role: Option<ChainRole>) -> GeneratedStep {
        GeneratedStep {
            request: r.clone(),
            phase: r.phase,
            rule: r.mutation.as_ref().map(|m| m.rule),
            role,
            binds: Vec::new(),
            cleanup: false,
        }
    }
}

fn case(name: String, phase: Phase, steps: Vec<Step>, cleanup: Vec<Step>) -> Case {
    let location = steps
        .first()
        .map_or_else(|| "(generated)".to_string(), |s| s.location.to_string());
    Case {
        name: name.into(),
        pos: Pos::UNKNOWN,
        location: location.into(),
        description: None,
        requirement: None,
        tags: vec!["generated".into(), phase.name().into()],
        serial: None,
        variables: Vec::new(),
        steps,
        cleanup,
        // Chain steps need the ids earlier steps capture, so a failed
        // create holds back what depends on it; other steps all run.
        stop_on_failure: false,
        skip: None,
    }
}

/// `negative #3: maxLength at /name`, `auth #1: no credential`.
fn step_name(r: &GeneratedRequest, n: usize) -> String {
    let phase = r.phase.name();
    match (&r.mutation, r.auth, r.phase) {
        (Some(m), _, _) if m.pointer.is_empty() => format!("{phase} #{n}: {} at the body", m.rule),
        (Some(m), _, _) => format!("{phase} #{n}: {} at {}", m.rule, m.pointer),
        (_, AuthMode::Missing, _) => format!("{phase} #{n}: no credential"),
        (_, AuthMode::Invalid, _) => format!("{phase} #{n}: invalid credential"),
        (_, _, Phase::Methods) => format!("{phase} #{n}: {} {}", r.method, r.path_template),
        _ => format!("{phase} #{n}"),
    }
}

fn role_name(role: ChainRole) -> &'static str {
    match role {
        ChainRole::Create => "create",
        ChainRole::Read => "read",
        ChainRole::Update => "update",
        ChainRole::Delete => "delete",
        ChainRole::ReadAfterDelete => "read after delete",
        ChainRole::ReadAfterUpdate => "read after update",
        ChainRole::UndocumentedMethod => "undocumented method",
        ChainRole::OtherRead => "read as the other identity",
        ChainRole::OtherList => "list as the other identity",
    }
}

fn chain_case(spec: &Spec, chain: &Chain, n: usize, opts: &Options) -> Option<Case> {
    let create = chain.steps.first()?;
    // Every later step's path parameters come from the create's response.
    let mut binds: Vec<Bind> = Vec::new();
    for s in &chain.steps[1..] {
        for (param, sources) in &s.bind {
            if sources.is_empty() || binds.iter().any(|b| b.variable == bound_variable(param)) {
                continue;
            }
            binds.push(Bind {
                variable: bound_variable(param),
                sources: sources.clone(),
            });
        }
    }
    let bound: Vec<String> = binds.iter().map(|b| b.variable.clone()).collect();
    let mut steps = Vec::new();
    let mut delete = None;
    for (i, s) in chain.steps.iter().enumerate() {
        let mut meta = GeneratedStep::of(&s.request, Some(s.role));
        if i == 0 {
            meta.binds = binds.clone();
        }
        let mut name = format!("stateful #{}: {}", i + 1, role_name(s.role));
        if s.role == ChainRole::UndocumentedMethod {
            name = format!("{name} {}", s.request.method);
        }
        let mut st = step(spec, &s.request, &name, opts, meta)?;
        bind_path(&mut st, &bound);
        if s.role == ChainRole::Delete {
            delete = Some(s);
        }
        steps.push(st);
    }
    let mut cleanup = Vec::new();
    if let Some(d) = delete {
        let mut meta = GeneratedStep::of(&d.request, Some(ChainRole::Delete));
        meta.cleanup = true;
        let mut st = step(
            spec,
            &d.request,
            "cleanup: delete what the chain created",
            opts,
            meta,
        )?;
        bind_path(&mut st, &bound);
        st.checks = CheckSet::none();
        cleanup.push(st);
    }
    Some(case(
        format!("{} chain #{n} [stateful]", create.request.label),
        Phase::Stateful,
        steps,
        cleanup,
    ))
}

/// Cleanup steps deleting what a phase's creates made: each create step
/// captures the new resource's id (the same sources a chain uses) into its
/// own variable, and one cleanup step per create deletes it. Cleanup runs
/// after a failure or a signal too; one whose create made nothing (no id
/// captured) is skipped. The methods phase sends undocumented methods, and
/// chains clean up after themselves: neither gets these.
fn undo_creates(
    spec: &Spec,
    delete: Option<&ChainStep>,
    phase: Phase,
    steps: &mut [Step],
    opts: &Options,
) -> Vec<Step> {
    let Some(delete) = delete else {
        return Vec::new();
    };
    if matches!(phase, Phase::Methods | Phase::Stateful) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, st) in steps.iter_mut().enumerate() {
        let StepKind::Request(req) = &mut st.kind else {
            continue;
        };
        let Some(meta) = req.generated.as_mut() else {
            continue;
        };
        let binds: Vec<Bind> = delete
            .bind
            .iter()
            .map(|(param, sources)| Bind {
                variable: created_variable(param, i + 1),
                sources: sources.clone(),
            })
            .collect();
        meta.binds = binds;
        let mut request = delete.request.clone();
        request.phase = phase;
        // Path parameters the create's path shares keep the create's value.
        for (name, value) in &meta.request.path {
            if let Some(slot) = request.path.get_mut(name) {
                *slot = value.clone();
            }
        }
        let mut undo = GeneratedStep::of(&request, None);
        undo.cleanup = true;
        let name = format!("cleanup: delete what step {} created", i + 1);
        let Some(mut cleanup) = self::step(spec, &request, &name, opts, undo) else {
            continue;
        };
        if let StepKind::Request(creq) = &mut cleanup.kind {
            for part in &mut creq.path {
                if let PathPart::Param(param, vt) = part
                    && delete.bind.iter().any(|(p, _)| p == param)
                    && let Ok(t) =
                        Template::parse(&format!("{{{{ {} }}}}", created_variable(param, i + 1)))
                {
                    *vt = ValueTemplate::Text(t);
                }
            }
        }
        cleanup.checks = CheckSet::none();
        out.push(cleanup);
    }
    out
}

/// The variable step `n` of a phase case captures a created id into.
fn created_variable(param: &str, n: usize) -> String {
    let safe: String = param
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("created_{safe}_{n}")
}

/// Path parameters a chain binds are taken from the bound variables.
fn bind_path(step: &mut Step, bound: &[String]) {
    let StepKind::Request(req) = &mut step.kind else {
        return;
    };
    for part in &mut req.path {
        if let PathPart::Param(name, vt) = part
            && bound.contains(&bound_variable(name))
            && let Ok(t) = Template::parse(&format!("{{{{ {} }}}}", bound_variable(name)))
        {
            *vt = ValueTemplate::Text(t);
        }
    }
}

/// One compiled request step for a generated request.
fn step(
    spec: &Spec,
    r: &GeneratedRequest,
    name: &str,
    opts: &Options,
    meta: GeneratedStep,
) -> Option<Step> {
    let mut step = Step::request(spec, r.operation, name, &[])?;
    let StepKind::Request(req) = &mut step.kind else {
        return None;
    };
    req.method = reqwest::Method::from_bytes(r.method.as_bytes()).ok()?;
    req.path = split_path(&r.path_template)
        .into_iter()
        .map(|piece| match piece {
            Ok(lit) => PathPart::Literal(lit.to_string()),
            Err(param) => match r.path.get(param) {
                Some(v) => PathPart::Param(param.to_string(), template_of(v)),
                None => PathPart::Literal(format!("{{{param}}}")),
            },
        })
        .collect();
    req.query = r
        .query
        .iter()
        .map(|(k, v)| (k.clone(), template_of(v)))
        .collect();
    req.headers = headers(r, opts);
    req.body = r.body.as_ref().map(|b| {
        let ct = r
            .content_type
            .clone()
            .unwrap_or_else(|| "application/json".into());
        let vt = template_of(b);
        // Generated bodies are schema-checked when sent, never trusted.
        let prepared = StaticBody::of(&vt, false);
        Body::Json(vt, ct, prepared)
    });
    req.credential = match r.auth {
        AuthMode::Default => opts.credential.clone(),
        AuthMode::Other => opts.other_credential.clone(),
        AuthMode::Missing | AuthMode::Invalid => None,
    };
    req.expect = Expect::default();
    req.generated = Some(Box::new(meta));
    step.location = format!("{} (generated, {} phase)", r.label, r.phase.name()).into();
    step.checks = checks_for(r.phase);
    Some(step)
}

/// Every check, except for the methods phase: an undocumented method has
/// no documented responses, so only the generated checks judge it.
fn checks_for(phase: Phase) -> CheckSet {
    if phase != Phase::Methods {
        return CheckSet::with_generated();
    }
    crate::check::REGISTRY
        .iter()
        .enumerate()
        .filter(|(_, c)| c.generated_only)
        .fold(CheckSet::none(), |set, (i, _)| set.with(i, true))
}

/// The headers a generated request sends: its own, the run's extra ones
/// (credential ones only with the default credential), an invalid
/// credential in the auth phase, and its cookies.
fn headers(r: &GeneratedRequest, opts: &Options) -> Vec<(HeaderName, ValueTemplate)> {
    let mut out: Vec<(HeaderName, ValueTemplate)> = Vec::new();
    for (k, v) in &r.headers {
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            out.push((name, template_of(&Value::String(text_of(v)))));
        }
    }
    for h in &opts.headers {
        if out.iter().any(|(n, _)| *n == h.name) {
            continue;
        }
        match (h.credential, r.auth) {
            (false, _) | (true, AuthMode::Default) => out.push((h.name.clone(), h.value.clone())),
            (true, AuthMode::Invalid) => out.push((
                h.name.clone(),
                ValueTemplate::Static(Value::String(INVALID_TOKEN.into())),
            )),
            (true, AuthMode::Missing | AuthMode::Other) => {}
        }
    }
    if r.auth == AuthMode::Invalid {
        let name = opts.credential_header.clone().unwrap_or(AUTHORIZATION);
        let value = if name == AUTHORIZATION {
            format!("Bearer {INVALID_TOKEN}")
        } else {
            INVALID_TOKEN.to_string()
        };
        out.retain(|(n, _)| *n != name);
        out.push((name, ValueTemplate::Static(Value::String(value))));
    }
    if !r.cookies.is_empty() {
        let text: Vec<String> = r
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={}", text_of(v)))
            .collect();
        out.push((
            reqwest::header::COOKIE,
            ValueTemplate::Static(Value::String(text.join("; "))),
        ));
    }
    out
}

/// A generated value as a template: strings with `{{` (pins such as
/// `{{ mycloud_user_id }}`) are rendered by the runner, the rest is static.
pub fn template_of(value: &Value) -> ValueTemplate {
    if !has_template(value) {
        return ValueTemplate::Static(value.clone());
    }
    match value {
        Value::String(s) => match Template::parse(s) {
            Ok(t) => ValueTemplate::Text(t),
            Err(_) => ValueTemplate::Static(value.clone()),
        },
        Value::Array(items) => ValueTemplate::Array(items.iter().map(template_of).collect()),
        Value::Object(map) => ValueTemplate::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), template_of(v)))
                .collect(),
        ),
        other => ValueTemplate::Static(other.clone()),
    }
}

fn has_template(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("{{"),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::plan::{PlanConfig, plan};
    use serde_json::json;

    fn spec() -> Spec {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mycloud-shares-v1.yaml");
        crate::spec::load(&path).expect("bundled spec loads")
    }

    #[test]
    fn one_case_per_operation_and_phase_plus_chains() {
        let spec = spec();
        let config = PlanConfig {
            max_examples: 3,
            ..PlanConfig::default()
        };
        let p = plan(&spec, &config);
        let cases = cases(&spec, &p, &Options::default());
        assert!(!cases.is_empty());
        let chains: Vec<&Case> = cases.iter().filter(|c| c.name.contains("chain")).collect();
        assert_eq!(chains.len(), p.chains.len());
        for c in &cases {
            assert!(c.is_generated(), "{}", c.name);
            assert!(c.tags.contains(&"generated".to_string()));
            if c.name.contains("chain") {
                assert!(!c.independent_steps(), "a chain's steps depend");
                assert!(c.steps[0].generated().is_some_and(|g| !g.binds.is_empty()));
            } else {
                assert!(c.independent_steps(), "{}", c.name);
                assert!(c.steps.len() <= 3);
            }
        }
    }

    #[test]
    fn auth_modes_drop_or_spoil_the_credential() {
        let spec = spec();
        let config = PlanConfig {
            max_examples: 2,
            phases: vec![Phase::Auth],
            ..PlanConfig::default()
        };
        let p = plan(&spec, &config);
        let opts = Options {
            credential: Some("default".into()),
            credential_header: None,
            headers: vec![ExtraHeader {
                name: HeaderName::from_static("x-tenant"),
                value: ValueTemplate::Static(json!("t1")),
                credential: false,
            }],
            other_credential: None,
        };
        let cases = cases(&spec, &p, &opts);
        let steps: Vec<&Step> = cases.iter().flat_map(|c| c.steps.iter()).collect();
        assert!(!steps.is_empty());
        for s in steps {
            let StepKind::Request(req) = &s.kind else {
                panic!("request step")
            };
            assert_eq!(req.credential, None, "{}", s.name);
            assert!(req.headers.iter().any(|(n, _)| n == "x-tenant"));
            let auth = req.headers.iter().find(|(n, _)| *n == AUTHORIZATION);
            if s.name.contains("invalid") {
                assert_eq!(
                    auth.map(|(_, v)| v.clone()),
                    Some(ValueTemplate::Static(json!(format!(
                        "Bearer {INVALID_TOKEN}"
                    ))))
                );
            } else {
                assert!(auth.is_none(), "{}", s.name);
            }
        }
    }

    #[test]
    fn a_phase_create_captures_its_id_and_its_case_deletes_it() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("specs/enablenow-sharing-v1.yaml");
        let spec = crate::spec::load(&path).expect("bundled spec loads");
        let config = PlanConfig {
            max_examples: 3,
            phases: vec![Phase::Positive, Phase::Methods],
            ..PlanConfig::default()
        };
        let p = plan(&spec, &config);
        let create = p
            .operations
            .iter()
            .find(|o| o.label == "createShare")
            .expect("createShare planned");
        let delete = create
            .cleanup
            .as_ref()
            .expect("the spec documents a delete");
        assert_eq!(spec.operations[delete.request.operation].method, "DELETE");
        assert!(!delete.bind.is_empty(), "{:?}", delete.bind);
        assert!(
            p.operations
                .iter()
                .filter(|o| spec.operations[o.operation].method != "POST")
                .all(|o| o.cleanup.is_none())
        );
        let cases = cases(&spec, &p, &Options::default());
        let positive = cases
            .iter()
            .find(|c| &*c.name == "createShare [positive]")
            .expect("positive case");
        assert_eq!(positive.cleanup.len(), positive.steps.len());
        for (i, (create, undo)) in positive.steps.iter().zip(&positive.cleanup).enumerate() {
            let binds = &create.generated().expect("generated").binds;
            let variable = &binds.first().expect("a bind").variable;
            assert_eq!(variable, &format!("created_shareId_{}", i + 1));
            assert!(undo.variables().contains(variable), "{}", undo.name);
            assert!(undo.generated().is_some_and(|g| g.cleanup));
        }
        // Other operations' cases and the methods phase delete nothing.
        for c in cases
            .iter()
            .filter(|c| &*c.name != "createShare [positive]")
        {
            if !c.name.contains("chain") {
                assert!(c.cleanup.is_empty(), "{}", c.name);
            }
        }
    }

    #[test]
    fn pinned_templates_are_rendered_later() {
        assert!(
            template_of(&json!({"a": "{{ x }}"})) != ValueTemplate::Static(json!({"a": "{{ x }}"}))
        );
        assert_eq!(
            template_of(&json!({"a": 1})),
            ValueTemplate::Static(json!({"a": 1}))
        );
    }
}
