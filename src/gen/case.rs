//! A generated request as something a person can act on: a ready YAML case
//! (a regression case for the suite) and a curl command line.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::plan::{AuthMode, CaptureSource, Expectation, GeneratedRequest, Phase, bound_variable};
use crate::redact::{placeholder, shell_quote as sh};

/// Why a request cannot become a case file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("value at {0} contains `{{{{`, which case files read as a template")]
    TemplateSyntax(String),
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

/// How the saved case authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOptions<'a> {
    /// The spec path as the case file should name it (relative to the file).
    pub spec: &'a str,
    pub case_name: &'a str,
    /// The suite credential used for [`AuthMode::Default`] (none when `None`).
    pub credential: Option<&'a str>,
}

#[derive(Serialize)]
struct SuiteFile<'a> {
    spec: &'a str,
    cases: Vec<CaseOut<'a>>,
}

#[derive(Serialize)]
struct CaseOut<'a> {
    name: &'a str,
    description: String,
    tags: Vec<String>,
    steps: Vec<StepOut>,
}

/// One step of a written case file (shared with `scaffold`); fields in the
/// order a person reads a step.
#[derive(Serialize, Clone)]
pub(super) struct StepOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub path: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub expect: ExpectOut,
    /// Variable -> `{body: JSON path}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, Value>,
}

#[derive(Serialize, Clone)]
pub(super) struct ExpectOut {
    pub status: Value,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub body: BTreeMap<String, Value>,
}

impl ExpectOut {
    pub fn status(status: Value) -> ExpectOut {
        ExpectOut {
            status,
            headers: BTreeMap::new(),
            body: BTreeMap::new(),
        }
    }
}

/// `/data/shareId` -> `$.data.shareId` (bracketed where a name needs it).
pub(super) fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for token in pointer.split('/').skip(1) {
        let t = crate::spec::unescape_token(token);
        let plain = t
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            out.push('.');
            out.push_str(&t);
        } else {
            out.push_str(&format!(
                "['{}']",
                t.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    out
}

/// The variable a saved case reads the second identity's `Authorization`
/// value from.
pub const OTHER_CREDENTIAL_VARIABLE: &str = "fuzz_other_credential";

/// The status a correct server answers with, as a case's `expect.status`.
fn expected_status(expect: &Expectation) -> (Value, BTreeMap<String, Value>) {
    let mut headers = BTreeMap::new();
    let status = match expect {
        Expectation::Accepted | Expectation::Available => Value::from("2xx"),
        Expectation::Rejected => Value::from("4xx"),
        Expectation::Unauthorized => serde_json::json!([401, 403]),
        Expectation::MethodNotAllowed { .. } => {
            // Which methods `Allow` lists is the unsupported_method check's
            // job; the case asserts the header is there.
            headers.insert("Allow".into(), serde_json::json!({"present": true}));
            Value::from(405)
        }
        Expectation::Gone => serde_json::json!([404, 410]),
        Expectation::Hidden => serde_json::json!([401, 403, 404]),
    };
    (status, headers)
}

/// A suite file with one case that sends `request` and expects what a
/// correct server answers (so it fails while the finding stands).
pub fn to_case_yaml(
    request: &GeneratedRequest,
    options: &CaseOptions<'_>,
) -> Result<String, CaseError> {
    let step = step_out(request, options)?;
    write_case(request, options, vec![step], "")
}

/// One step of a stateful chain, as a saved case replays it: the request
/// sent and, for the create, where the ids later steps need come from.
pub struct ChainStepIn<'a> {
    pub request: &'a GeneratedRequest,
    /// Variable -> where in this step's response it is (the create's binds).
    pub binds: &'a [(String, Vec<CaptureSource>)],
}

/// A suite file with one case that replays a stateful chain up to the step
/// whose finding it reproduces (the last of `steps`): the create captures
/// the ids its response gives, and later steps address that resource, as
/// the run did, instead of the plan's placeholder ids. `None` when an id
/// comes only from a `Location` header (a case captures whole headers, not
/// their last segment): the caller saves the single request instead.
///
/// `read_back` (json path -> matcher, e.g. `{"equals": true}`) are what the
/// failing read must give back (a stored_values finding).
pub fn chain_to_case_yaml(
    steps: &[ChainStepIn<'_>],
    read_back: &[(String, Value)],
    options: &CaseOptions<'_>,
) -> Option<Result<String, CaseError>> {
    let (first, last) = (steps.first()?, steps.last()?);
    let mut captures = BTreeMap::new();
    for (variable, sources) in first.binds {
        let path = sources.iter().find_map(|s| match s {
            CaptureSource::Body(pointer) => Some(json_path(pointer)),
            CaptureSource::Location => None,
        })?;
        captures.insert(variable.clone(), serde_json::json!({"body": path}));
    }
    let mut out = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let mut step = match step_out(s.request, options) {
            Ok(step) => step,
            Err(e) => return Some(Err(e)),
        };
        if i == 0 {
            step.capture = captures.clone();
        } else {
            for (name, value) in &mut step.path {
                let variable = bound_variable(name);
                if captures.contains_key(&variable) {
                    *value = Value::from(format!("{{{{ {variable} }}}}"));
                }
            }
        }
        out.push(step);
    }
    for (path, matcher) in read_back {
        if let Err(e) = refuse_templates(path, matcher) {
            return Some(Err(e));
        }
        if let Some(last) = out.last_mut() {
            last.expect.body.insert(path.clone(), matcher.clone());
        }
    }
    let note = format!(
        " Replays the stateful chain's {} steps up to the one that failed.",
        steps.len()
    );
    Some(write_case(last.request, options, out, &note))
}

/// The case step that sends `request` and expects what a correct server
/// answers.
fn step_out(request: &GeneratedRequest, options: &CaseOptions<'_>) -> Result<StepOut, CaseError> {
    for (what, value) in values(request) {
        refuse_templates(&what, value)?;
    }
    // The methods phase (and a chain's undocumented-method step) sends a
    // method the spec does not document for the operation: name it by
    // method and path.
    let undocumented = request.phase == Phase::Methods
        || matches!(request.expect, Expectation::MethodNotAllowed { .. });
    let by_id = !undocumented && !request.label.contains(' ');
    let (operation, raw) = if by_id {
        (Some(request.label.clone()), None)
    } else {
        (
            None,
            Some(format!("{} {}", request.method, request.path_template)),
        )
    };
    let mut headers = request.headers.clone();
    let credential = match request.auth {
        AuthMode::Default => options.credential.map(str::to_string),
        AuthMode::Missing => Some("none".into()),
        // The second identity (`--other-header`): its header from a
        // variable the run gives (`--secret fuzz_other_credential=...`).
        AuthMode::Other => {
            headers.insert(
                "Authorization".into(),
                Value::from(format!("{{{{ {OTHER_CREDENTIAL_VARIABLE} }}}}")),
            );
            Some("none".into())
        }
        AuthMode::Invalid => {
            headers.insert(
                "Authorization".into(),
                Value::from("Bearer invalid-apiconform-token"),
            );
            Some("none".into())
        }
    };
    let (status, expect_headers) = expected_status(&request.expect);
    Ok(StepOut {
        name: None,
        operation,
        request: raw,
        credential,
        path: request.path.clone(),
        query: request.query.clone(),
        headers,
        body: request.body.clone(),
        content_type: request
            .content_type
            .clone()
            .filter(|c| c != "application/json"),
        expect: ExpectOut {
            status,
            headers: expect_headers,
            body: BTreeMap::new(),
        },
        capture: BTreeMap::new(),
    })
}

/// The suite file around `steps`, described after the failing `request`.
fn write_case(
    request: &GeneratedRequest,
    options: &CaseOptions<'_>,
    steps: Vec<StepOut>,
    note: &str,
) -> Result<String, CaseError> {
    let mut description = format!(
        "Generated by apiconform ({} phase) for {}.",
        request.phase.name(),
        request.label
    );
    if let Some(m) = &request.mutation {
        description.push_str(&format!(" Breaks `{}`: {}.", m.rule, m.description));
    }
    description.push_str(note);
    let file = SuiteFile {
        spec: options.spec,
        cases: vec![CaseOut {
            name: options.case_name,
            description,
            tags: vec!["generated".into(), request.phase.name().into()],
            steps,
        }],
    };
    serde_saphyr::to_string(&file).map_err(|e| CaseError::Yaml(e.to_string()))
}

fn values(r: &GeneratedRequest) -> Vec<(String, &Value)> {
    let mut out: Vec<(String, &Value)> = Vec::new();
    for (place, map) in [
        ("path", &r.path),
        ("query", &r.query),
        ("header", &r.headers),
    ] {
        for (k, v) in map {
            out.push((format!("{place}.{k}"), v));
        }
    }
    if let Some(b) = &r.body {
        out.push(("body".into(), b));
    }
    out
}

fn refuse_templates(what: &str, value: &Value) -> Result<(), CaseError> {
    match value {
        Value::String(s) if s.contains("{{") => Err(CaseError::TemplateSyntax(what.into())),
        Value::Array(items) => items.iter().try_for_each(|v| refuse_templates(what, v)),
        Value::Object(m) => m.iter().try_for_each(|(k, v)| {
            if k.contains("{{") {
                return Err(CaseError::TemplateSyntax(what.into()));
            }
            refuse_templates(what, v)
        }),
        _ => Ok(()),
    }
}

/// How the curl line authenticates: only ever a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurlAuth {
    None,
    /// `Authorization: Bearer $NAME`.
    Bearer(String),
    /// `NAME_OF_HEADER: $VAR`.
    Header {
        name: String,
        var: String,
    },
    /// `-u "$USER:$PASSWORD"`.
    Basic {
        user_var: String,
        password_var: String,
    },
}

/// Header names whose values are secret whatever they hold.
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "cookie"
        || n == "proxy-authorization"
        || ["token", "secret", "password", "key", "session"]
            .iter()
            .any(|w| n.contains(w))
}

/// A curl command reproducing `request` against `base_url`; credentials and
/// secret-looking headers appear only as `$NAME` placeholders (in double
/// quotes so the shell expands them from the environment).
pub fn to_curl(request: &GeneratedRequest, base_url: &str, auth: &CurlAuth) -> String {
    let url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        request.path_and_query()
    );
    let mut parts = vec![
        "curl".to_string(),
        "-i".into(),
        "-X".into(),
        request.method.clone(),
        sh(&url),
    ];
    let mut header = |line: String| {
        parts.push("-H".into());
        parts.push(line);
    };
    match (request.auth, auth) {
        (AuthMode::Missing, _) | (AuthMode::Default, CurlAuth::None) => {}
        (AuthMode::Invalid, _) => header(sh("Authorization: Bearer invalid-apiconform-token")),
        (AuthMode::Default, CurlAuth::Bearer(var)) => {
            header(format!("\"Authorization: Bearer ${var}\""))
        }
        (AuthMode::Default, CurlAuth::Header { name, var }) => {
            header(format!("\"{name}: ${var}\""))
        }
        (AuthMode::Default, CurlAuth::Basic { .. }) => {}
        (AuthMode::Other, _) => header("\"Authorization: $OTHER_CREDENTIAL\"".into()),
    }
    for (name, value) in &request.headers {
        if is_secret_header(name) {
            header(format!("\"{name}: ${}\"", placeholder(name)));
        } else {
            header(sh(&format!("{name}: {}", super::plan::text_of(value))));
        }
    }
    if !request.cookies.is_empty() {
        header("\"Cookie: $COOKIE\"".to_string());
    }
    if let Some(body) = &request.body {
        let ct = request
            .content_type
            .as_deref()
            .unwrap_or("application/json");
        header(sh(&format!("Content-Type: {ct}")));
        parts.push("--data-raw".into());
        parts.push(sh(&body.to_string()));
    }
    if let (
        AuthMode::Default,
        CurlAuth::Basic {
            user_var,
            password_var,
        },
    ) = (request.auth, auth)
    {
        parts.push("-u".into());
        parts.push(format!("\"${user_var}:${password_var}\""));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Mutation, Rule};
    use serde_json::json;

    fn request() -> GeneratedRequest {
        GeneratedRequest {
            phase: Phase::Negative,
            operation: 0,
            label: "createShare".into(),
            method: "POST".into(),
            path_template: "/v1/shares/{shareId}".into(),
            path: BTreeMap::from([("shareId".into(), json!("a b/c"))]),
            query: BTreeMap::from([("tag".into(), json!(["x", "y"]))]),
            headers: BTreeMap::from([
                ("X-Api-Key".into(), json!("s3cr3t-value")),
                ("X-Trace".into(), json!("it's")),
            ]),
            cookies: BTreeMap::new(),
            body: Some(json!({"fileIds": "not-a-list"})),
            content_type: Some("application/json".into()),
            auth: AuthMode::Default,
            expect: Expectation::Rejected,
            mutation: Some(Mutation {
                rule: Rule::Type,
                pointer: "/fileIds".into(),
                description: "a string instead of array".into(),
            }),
            destructive: false,
        }
    }

    #[test]
    fn curl_keeps_secrets_as_placeholders() {
        let line = to_curl(
            &request(),
            "http://127.0.0.1:8080/",
            &CurlAuth::Bearer("MYCLOUD_TOKEN".into()),
        );
        assert!(
            line.contains(r#"-H "Authorization: Bearer $MYCLOUD_TOKEN""#),
            "{line}"
        );
        assert!(line.contains(r#"-H "X-Api-Key: $X_API_KEY""#), "{line}");
        assert!(!line.contains("s3cr3t"), "{line}");
        assert!(
            line.contains("'http://127.0.0.1:8080/v1/shares/a%20b%2Fc?tag=x&tag=y'"),
            "{line}"
        );
        assert!(line.contains(r"'X-Trace: it'\''s'"), "{line}");
        assert!(
            line.contains(r#"--data-raw '{"fileIds":"not-a-list"}'"#),
            "{line}"
        );
        let mut anon = request();
        anon.auth = AuthMode::Missing;
        let line = to_curl(
            &anon,
            "http://127.0.0.1:8080",
            &CurlAuth::Bearer("T".into()),
        );
        assert!(!line.contains("Authorization"), "{line}");
    }

    /// `yaml` parsed back, after asserting it is a valid case file
    /// (`schema/case-file.schema.json`).
    fn valid_case_file(yaml: &str) -> Value {
        let schema: Value =
            serde_json::from_str(include_str!("../../schema/case-file.schema.json"))
                .expect("schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let value = crate::yaml::value_from_str(std::path::Path::new("case.yaml"), yaml)
            .expect("parses back");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{yaml}\n{errors:?}");
        value
    }

    #[test]
    fn case_yaml_validates_against_the_case_file_schema() {
        let opts = CaseOptions {
            spec: "../specs/mycloud-shares-v1.yaml",
            case_name: "fuzz: createShare type",
            credential: Some("owner"),
        };
        let mut variants = vec![request()];
        let mut r = request();
        r.auth = AuthMode::Invalid;
        r.expect = Expectation::Unauthorized;
        variants.push(r);
        let mut r = request();
        r.phase = Phase::Methods;
        r.method = "PATCH".into();
        r.expect = Expectation::MethodNotAllowed {
            allow: vec!["POST".into()],
        };
        variants.push(r);
        for r in variants {
            let yaml = to_case_yaml(&r, &opts).expect("renders");
            let value = valid_case_file(&yaml);
            assert_eq!(
                value["cases"][0]["steps"][0]["body"],
                json!({"fileIds": "not-a-list"})
            );
            if r.method == "PATCH" {
                assert_eq!(
                    value["cases"][0]["steps"][0]["request"],
                    json!("PATCH /v1/shares/{shareId}")
                );
                assert_eq!(
                    value["cases"][0]["steps"][0]["expect"]["status"],
                    json!(405)
                );
            } else {
                assert_eq!(
                    value["cases"][0]["steps"][0]["operation"],
                    json!("createShare")
                );
            }
        }
    }

    #[test]
    fn a_chain_replays_with_the_created_id_captured_and_fed_on() {
        let opts = CaseOptions {
            spec: "../specs/mycloud-shares-v1.yaml",
            case_name: "fuzz: use after free",
            credential: Some("owner"),
        };
        let mut create = request();
        create.phase = Phase::Stateful;
        create.path = BTreeMap::new();
        create.path_template = "/v1/shares".into();
        create.mutation = None;
        create.expect = Expectation::Accepted;
        let mut gone = request();
        gone.phase = Phase::Stateful;
        gone.label = "getShare".into();
        gone.method = "GET".into();
        gone.body = None;
        gone.mutation = None;
        gone.expect = Expectation::Gone;
        let binds = vec![(
            "created_shareId".to_string(),
            vec![
                CaptureSource::Location,
                CaptureSource::Body("/data/shareId".into()),
            ],
        )];
        let steps = [
            ChainStepIn {
                request: &create,
                binds: &binds,
            },
            ChainStepIn {
                request: &gone,
                binds: &[],
            },
        ];
        let read_back = [("$.data.useCache".to_string(), json!({"equals": true}))];
        let yaml = chain_to_case_yaml(&steps, &read_back, &opts)
            .expect("a body source")
            .expect("renders");
        let value = valid_case_file(&yaml);
        let steps = &value["cases"][0]["steps"];
        assert_eq!(
            steps[0]["capture"],
            json!({"created_shareId": {"body": "$.data.shareId"}})
        );
        assert_eq!(steps[1]["path"]["shareId"], json!("{{ created_shareId }}"));
        assert_eq!(steps[1]["expect"]["status"], json!([404, 410]));
        assert_eq!(
            steps[1]["expect"]["body"],
            json!({"$.data.useCache": {"equals": true}})
        );
        // Only a Location header to take the id from: no replay.
        let location = vec![("created_shareId".to_string(), vec![CaptureSource::Location])];
        let steps = [
            ChainStepIn {
                request: &create,
                binds: &location,
            },
            ChainStepIn {
                request: &gone,
                binds: &[],
            },
        ];
        assert!(chain_to_case_yaml(&steps, &[], &opts).is_none());
    }

    #[test]
    fn template_braces_in_values_are_refused() {
        let mut r = request();
        r.body = Some(json!({"name": "{{ x }}"}));
        let opts = CaseOptions {
            spec: "s.yaml",
            case_name: "c",
            credential: None,
        };
        assert_eq!(
            to_case_yaml(&r, &opts),
            Err(CaseError::TemplateSyntax("body".into()))
        );
    }
}
