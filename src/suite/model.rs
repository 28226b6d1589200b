//! The case-file format, as Rust types. These types are the reference: the
//! JSON Schema shipped in `schema/case-file.schema.json` is generated from
//! them (`apiconform schema`), so editors can autocomplete case files.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::node::{Node, Sp};

/// A suite file: one OpenAPI spec, shared variables and credentials, and cases.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// Editor hint (`$schema: ../../schema/case-file.schema.json`); ignored.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// Path of the OpenAPI document, relative to this file.
    pub spec: Sp<String>,
    /// Display name of the suite (defaults to the file name).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Bundled reference server to start in-process when no `--base-url` is
    /// given: `enablenow` or `mycloud`.
    #[serde(default)]
    pub server: Option<Sp<String>>,
    /// Default variable values; `--var`, `--vars-file` and
    /// `APICONFORM_VAR_<name>` environment variables override them.
    #[serde(default)]
    pub variables: IndexMap<String, Sp<Node>>,
    /// Variables whose values are secret (redacted everywhere). Names
    /// containing `token`, `secret`, `password` or `key` are secret anyway.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Named credentials that steps pick with `credential: NAME`.
    #[serde(default)]
    pub credentials: IndexMap<String, Sp<Credential>>,
    /// Credential used by steps that do not name one (none when absent).
    #[serde(default)]
    pub default_credential: Option<Sp<String>>,
    /// Checks switched off (or back on) for the whole suite.
    #[serde(default)]
    pub checks: Checks,
    /// Documented responses a client cannot provoke, excluded from coverage.
    #[serde(default)]
    pub coverage: CoverageConfig,
    /// Files of named step lists (relative to this file) that steps include
    /// with `use: NAME`.
    #[serde(default)]
    pub shared: Vec<Sp<String>>,
    /// Steps run once before the suite's first case (log in, create
    /// fixtures); their captures are visible, read-only, to every case. A
    /// failed setup skips the suite's cases.
    #[serde(default)]
    pub setup: Vec<Step>,
    /// Steps run once after the suite's last case, also after failures; a
    /// step whose variables were never captured is skipped.
    #[serde(default)]
    pub teardown: Vec<Step>,
    /// Generated phases run with this suite's variables, credentials and
    /// server, beside its cases (as `apiconform fuzz` runs them).
    #[serde(default)]
    pub generate: Option<Sp<GenerateConfig>>,
    pub cases: Vec<Case>,
}

/// A suite's `generate:` section.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Phases: examples, positive, negative, auth, methods, stateful (default all).
    #[serde(default)]
    pub phases: Vec<String>,
    /// Only these operations: operationId, `tag:NAME`, `method:GET`, `path:/x*` (default all).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Leave these operations out (same selectors).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Most requests per operation and phase (default 10).
    #[serde(default)]
    pub max_examples: Option<usize>,
    /// Seed of the generation (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The credential generated requests carry (default: `default_credential`).
    #[serde(default)]
    pub credential: Option<String>,
    /// Values fixed by name, e.g. `body.ownerId: "{{ mycloud_user_id }}"`.
    #[serde(default)]
    pub pins: IndexMap<String, String>,
    /// Only GET, HEAD and OPTIONS.
    #[serde(default)]
    pub read_only: bool,
    /// Also PUT, PATCH and DELETE outside stateful chains.
    #[serde(default)]
    pub allow_destructive: bool,
    /// A second identity (a credential of this suite) that must not see
    /// what the generated credential creates: stateful chains read the
    /// created resource and list its collection with it (resource_isolation).
    #[serde(default)]
    pub other_credential: Option<String>,
}

/// A `shared:` file: named step lists that case files include with
/// `use: NAME` (in `steps`, `cleanup`, `setup` or `teardown`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedFile {
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// Name -> steps.
    pub steps: IndexMap<String, Sp<Vec<Step>>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    #[serde(default)]
    pub exclude: Vec<Sp<CoverageExclusion>>,
}

/// One operation × status pair left out of coverage, and why.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageExclusion {
    /// operationId (or `METHOD /path`).
    pub operation: String,
    /// Documented response key: `500`, `4XX`, `default`.
    pub status: Sp<Node>,
    pub reason: String,
}

/// How a request authenticates. Exactly one of the fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// `Authorization: Bearer <value>`.
    #[serde(default)]
    pub bearer: Option<Sp<String>>,
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic: Option<BasicAuth>,
    /// Any header, e.g. an API key.
    #[serde(default)]
    pub header: Option<HeaderAuth>,
    /// A client certificate for mutual TLS, presented by every request that
    /// uses this credential (with or without one of the headers above).
    #[serde(default)]
    pub tls: Option<ClientTls>,
    /// An OAuth2 client-credentials grant: the token is fetched once per
    /// run, shared by every job, renewed before it expires and sent as
    /// `Authorization: Bearer <token>`.
    #[serde(default)]
    pub oauth2: Option<Sp<OAuth2Auth>>,
}

/// OAuth2 client credentials (RFC 6749 4.4). Every value may use
/// variables, e.g. `client_secret: "{{ oauth_secret }}"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Auth {
    /// The token endpoint, e.g. `https://login.example.com/oauth2/token`.
    pub token_url: Sp<String>,
    pub client_id: Sp<String>,
    /// Redacted everywhere, like every secret.
    pub client_secret: Sp<String>,
    /// Scopes requested (sent space-separated as `scope`).
    #[serde(default)]
    pub scopes: Vec<Sp<String>>,
    /// Sent as the `audience` parameter when given (Auth0, Okta and others
    /// name the API with it).
    #[serde(default)]
    pub audience: Option<Sp<String>>,
    /// How the client authenticates to the token endpoint: `basic` (an
    /// `Authorization: Basic` header, the default) or `body`
    /// (`client_id` and `client_secret` as form fields).
    #[serde(default)]
    pub client_auth: Option<Sp<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: Sp<String>,
    pub password: Sp<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderAuth {
    pub name: String,
    pub value: Sp<String>,
}

/// A credential's client certificate and private key: PEM files, paths
/// relative to the file that declares the credential.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// The certificate (the leaf first, then any intermediates).
    pub cert: Sp<String>,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Sp<String>,
}

/// Switch automatic checks off or on by name (see `apiconform checks`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    #[serde(default)]
    pub disable: Vec<Sp<String>>,
    #[serde(default)]
    pub enable: Vec<Sp<String>>,
}

/// A requirement a case verifies, for certification reports.
#[derive(Debug, Clone, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
#[schemars(extend("required" = ["id", "text", "level", "source"]))]
pub struct Requirement {
    /// Short id, e.g. `EN-LIST-03`.
    pub id: String,
    /// One sentence: what a conforming implementation does.
    pub text: String,
    /// `must`: the API's documents (or a settled decision) state it, and a
    /// certificate's verdict counts it. `should`: a reading the documents do
    /// not fix; reported as advisory only. Required in case files (the
    /// loader says so); reports written before levels existed read as `must`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Where the requirement comes from: a document and passage, or a
    /// decision id such as `E31`. Required in case files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Requirement {
    /// The level, `must` when none was recorded.
    pub fn level(&self) -> Level {
        self.level.unwrap_or(Level::Must)
    }

    /// Whether the requirement is advisory (`should`).
    pub fn is_advisory(&self) -> bool {
        self.level() == Level::Should
    }

    /// `advisory: should, E31` for a `should` requirement, for reports that
    /// show a failed case beside its reason; `None` for `must`.
    pub fn advisory_label(&self) -> Option<String> {
        self.is_advisory().then(|| match &self.source {
            Some(src) => format!("advisory: should, {src}"),
            None => "advisory: should".to_string(),
        })
    }
}

/// How binding a requirement is (RFC 2119 words, as certificates use them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Counted by the certificate's verdict.
    #[default]
    Must,
    /// Advisory: reported, never fails a certificate.
    Should,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
        }
    }
}

/// One test case: ordered steps, then cleanup steps that always run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique within the suite.
    pub name: Sp<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub requirement: Option<Requirement>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Run this case alone, never beside other cases; the value says why.
    #[serde(default)]
    pub serial: Option<String>,
    /// `true`: a failed step skips every later step of the case (cleanup
    /// still runs). By default later steps run unless they need a value the
    /// failed step did not capture.
    #[serde(default)]
    pub stop_on_failure: bool,
    #[serde(default)]
    pub checks: Checks,
    /// Variables local to this case (override the suite's).
    #[serde(default)]
    pub variables: IndexMap<String, Sp<Node>>,
    /// Data-driven case: one case per row, named from the name template
    /// (`"create with {{ row.kind }}"`); fields are variables `row.FIELD`.
    /// A list of mappings, or the path (relative to this file) of a YAML
    /// list of mappings or a CSV file with a header line (values strings).
    /// The requirement id gets the row number: `EN-CREATE-05.2`.
    #[serde(default)]
    #[schemars(with = "Option<RowsSchema>")]
    pub rows: Option<Sp<Node>>,
    pub steps: Vec<Step>,
    /// Steps that run after `steps` whatever happened (e.g. delete what the
    /// case created). A cleanup step whose variables were never captured is
    /// skipped.
    #[serde(default)]
    pub cleanup: Vec<Step>,
    /// Do not run this case: it is reported as skipped (never passed) with
    /// this reason, e.g. a scaffolded `TODO: ...` case still to be written.
    #[serde(default)]
    pub skip: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum RowsSchema {
    Inline(Vec<IndexMap<String, serde_json::Value>>),
    File(String),
}

/// One request and what to expect of its response, or one expected webhook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Instead of a step: include the named step list of a `shared:` file
    /// here (nothing else may be given beside it).
    #[serde(default, rename = "use")]
    pub use_: Option<Sp<String>>,
    #[serde(default)]
    pub name: Option<String>,
    /// The operation, by operationId.
    #[serde(default)]
    pub operation: Option<Sp<String>>,
    /// The operation by method and path, e.g. `GET /shares/{shareId}` (a
    /// template or a concrete path), for specs without operationIds; the
    /// method and path must be an operation of the spec.
    #[serde(default)]
    pub request: Option<Sp<String>>,
    /// Instead of a request: wait for a webhook the API sends.
    #[serde(default)]
    pub webhook: Option<Sp<WebhookExpect>>,
    /// Credential name, or `none` to send no credential.
    #[serde(default)]
    pub credential: Option<Sp<String>>,
    /// Path parameters.
    #[serde(default)]
    pub path: IndexMap<String, Sp<Node>>,
    /// Query parameters (an array value repeats the parameter).
    #[serde(default)]
    pub query: IndexMap<String, Sp<Node>>,
    /// Request headers.
    #[serde(default)]
    pub headers: IndexMap<String, Sp<Node>>,
    /// JSON request body.
    #[serde(default)]
    pub body: Option<Sp<Node>>,
    /// A raw request body sent as is (e.g. malformed JSON).
    #[serde(default)]
    pub raw_body: Option<Sp<String>>,
    /// Content-Type of the body (default `application/json`).
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub expect: Expect,
    /// Values to keep for later steps: name -> where to take it from.
    #[serde(default)]
    pub capture: IndexMap<String, Sp<Capture>>,
    /// Compare the (redacted) response body with a stored snapshot.
    #[serde(default)]
    pub snapshot: Option<Sp<Snapshot>>,
    #[serde(default)]
    pub checks: Checks,
}

/// What the response must look like.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `200`, `[200, 201]`, `"2xx"`, or a list mixing codes and classes.
    #[serde(default)]
    pub status: Option<Sp<StatusSpec>>,
    /// Header name -> matcher.
    #[serde(default)]
    pub headers: IndexMap<String, Sp<Matcher>>,
    /// JSON path (RFC 9535, e.g. `$.data[0].id`; templates allowed) -> matcher.
    #[serde(default)]
    pub body: IndexMap<String, Sp<Matcher>>,
    /// Fail when the response takes longer (milliseconds).
    #[serde(default)]
    pub max_time_ms: Option<u64>,
}

/// Expected status codes.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(with = "StatusSpecSchema")]
pub struct StatusSpec(pub Vec<StatusPattern>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Code(u16),
    /// `4xx`: the hundreds digit.
    Class(u16),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum StatusSpecSchema {
    Code(#[schemars(range(min = 100, max = 599))] u16),
    Pattern(#[schemars(regex(pattern = r"^[1-5]([0-9]{2}|xx|XX)$"))] String),
    List(Vec<StatusOneSchema>),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum StatusOneSchema {
    Code(#[schemars(range(min = 100, max = 599))] u16),
    Pattern(#[schemars(regex(pattern = r"^[1-5]([0-9]{2}|xx|XX)$"))] String),
}

impl StatusPattern {
    pub fn parse(s: &str) -> Option<StatusPattern> {
        let s = s.trim();
        if s.len() != 3 {
            return None;
        }
        let lower = s.to_ascii_lowercase();
        if let Some(d) = lower.strip_suffix("xx") {
            return d
                .parse::<u16>()
                .ok()
                .filter(|d| (1..=5).contains(d))
                .map(StatusPattern::Class);
        }
        lower
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusPattern::Code)
    }

    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusPattern::Code(c) => *c == status,
            StatusPattern::Class(d) => status / 100 == *d,
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Code(c) => write!(f, "{c}"),
            StatusPattern::Class(d) => write!(f, "{d}xx"),
        }
    }
}

impl StatusSpec {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|p| p.matches(status))
    }
}

impl std::fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" or "))
    }
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let node = Node::deserialize(d)?;
        let one = |n: &Node| -> Result<StatusPattern, D::Error> {
            match n {
                Node::Number(num) => num
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| (100..=599).contains(c))
                    .map(StatusPattern::Code)
                    .ok_or_else(|| {
                        D::Error::custom(format!("status {num} is not between 100 and 599"))
                    }),
                Node::String(s) => StatusPattern::parse(s).ok_or_else(|| {
                    D::Error::custom(format!("`{s}` is not a status code or class like 4xx"))
                }),
                _ => Err(D::Error::custom(
                    "expected a status code, a class like 4xx, or a list of them",
                )),
            }
        };
        match &node {
            Node::Seq(items) if !items.is_empty() => items
                .iter()
                .map(|i| one(&i.value))
                .collect::<Result<Vec<_>, _>>()
                .map(StatusSpec),
            Node::Seq(_) => Err(D::Error::custom("empty status list")),
            other => one(other).map(|p| StatusSpec(vec![p])),
        }
    }
}

/// JSON value types for `type:` matchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    Null,
    Boolean,
    Number,
    Integer,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn name(&self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// Assertions on one value (a header or the node a JSON path selects).
/// Every given field must hold.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Equal to this value (templates allowed: `"{{ share_id }}"` compares with a capture).
    #[serde(default)]
    pub equals: Option<Sp<Node>>,
    #[serde(default)]
    pub not_equals: Option<Sp<Node>>,
    /// One of these values.
    #[serde(default)]
    pub one_of: Option<Vec<Sp<Node>>>,
    #[serde(default, rename = "type")]
    pub type_: Option<JsonType>,
    /// A string matching this regular expression (unanchored; use ^...$;
    /// templates allowed).
    #[serde(default)]
    pub regex: Option<Sp<String>>,
    /// An object with at least one key matching this regular expression
    /// (unanchored), e.g. `(?i)consentIds` for an error map whose key
    /// spelling the contract leaves open (`consentIds`, `$.consentIds[0]`).
    #[serde(default)]
    pub key_regex: Option<Sp<String>>,
    /// A UUID string (`true`) or not (`false`).
    #[serde(default)]
    pub uuid: Option<bool>,
    /// An RFC 3339 date-time string.
    #[serde(default)]
    pub date_time: Option<bool>,
    /// Exact length of a string, array or object.
    #[serde(default)]
    pub length: Option<usize>,
    #[serde(default)]
    pub min_length: Option<usize>,
    #[serde(default)]
    pub max_length: Option<usize>,
    /// A string containing this substring, an array containing this element,
    /// or an object containing these members.
    #[serde(default)]
    pub contains: Option<Sp<Node>>,
    /// An array with no element equal to this value.
    #[serde(default)]
    pub not_contains: Option<Sp<Node>>,
    /// The path selects something (`true`) or nothing (`false`).
    #[serde(default)]
    pub present: Option<bool>,
    /// The path selects nothing.
    #[serde(default)]
    pub absent: Option<bool>,
    /// Numeric (or RFC 3339 date-time) comparisons.
    #[serde(default)]
    pub gt: Option<Sp<Node>>,
    #[serde(default)]
    pub gte: Option<Sp<Node>>,
    #[serde(default)]
    pub lt: Option<Sp<Node>>,
    #[serde(default)]
    pub lte: Option<Sp<Node>>,
    /// Apply to every element the path selects (default: exactly one must be selected).
    #[serde(default)]
    pub each: Option<bool>,
}

/// Where a captured value comes from. Exactly one of `body` and `header`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// A JSON path into the response body.
    #[serde(default)]
    pub body: Option<Sp<String>>,
    /// A response header.
    #[serde(default)]
    pub header: Option<String>,
    /// Redact this value in reports.
    #[serde(default)]
    pub secret: bool,
    /// When the value is missing, leave the variable unset (later steps
    /// using it are skipped in cleanup) instead of failing the step.
    #[serde(default)]
    pub optional: bool,
}

/// A snapshot comparison of the response body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Snapshot name, unique in the suite: `snapshots/<suite>/<name>.snap`.
    pub name: String,
    /// JSON path -> placeholder (`[uuid]`, `[datetime]`, or `{{ capture }}`
    /// to replace the value only when it equals that capture).
    #[serde(default)]
    pub redact: IndexMap<String, Sp<String>>,
}

/// A webhook the API must send, tied to an earlier request.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookExpect {
    /// Event name: a key of the spec's `webhooks`, matched against the
    /// body's `event` (or `type`) field.
    pub event: Sp<String>,
    /// Which delivery belongs to this case: JSON path -> matcher (usually the
    /// id returned by the triggering request).
    #[serde(default, rename = "match")]
    pub match_: IndexMap<String, Sp<Matcher>>,
    /// Assertions on the delivered body.
    #[serde(default)]
    pub expect: IndexMap<String, Sp<Matcher>>,
    /// How long to wait, in milliseconds (default 5000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}
