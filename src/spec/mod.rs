//! OpenAPI documents: loading (3.0 and 3.1, YAML or JSON, with `$ref`s to
//! other files), an operation index, and validators compiled once, lazily.
//!
//! The raw document (converted to JSON Schema 2020-12 keywords) stays the
//! single source of truth; no typed OpenAPI model is re-serialized.

pub mod convert;
mod flaws;
pub mod lint;
mod load;
mod locate;
mod outline;
pub mod pattern;
mod reach;
pub mod router;
pub mod source;
mod sparse;
mod swagger2;
mod validators;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::diag::{self, Diagnostics};
pub use convert::OasVersion;
pub use load::{Phases, load, load_for, load_with_phases, sha256_hex};
pub use outline::Wanted;

/// The operation keys of an OpenAPI path item.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
pub use reach::BrokenRef;
pub use validators::{SchemaError, SchemaId, SchemaValidator, Validators, Violation};

/// A loaded OpenAPI document and everything derived from it.
pub struct Spec {
    /// The root file, as given.
    pub path: PathBuf,
    pub version: OasVersion,
    /// The root was Swagger 2.0, read as OpenAPI 3.0.
    pub swagger2: bool,
    pub title: String,
    pub api_version: String,
    /// Hex SHA-256 of the root file's bytes.
    pub sha256: String,
    /// The root document first, then files reached through `$ref`.
    pub documents: Vec<Document>,
    pub operations: Vec<Operation>,
    /// Local flaws that were worked around (a pattern that cannot run, a
    /// keyword the meta-schema refuses, a path key with a query string...):
    /// each names its file and JSON pointer; the rest of the spec is enforced.
    pub warnings: Diagnostics,
    /// The local `$ref`s to nothing among `warnings`: a run refuses to start
    /// when a selected case uses the schema holding one (`reach.rs`).
    pub broken_refs: Vec<BrokenRef>,
    router: router::Router,
    by_id: HashMap<String, usize>,
    validators: Validators,
    /// For a spec loaded for some operations (`load_for`), the others,
    /// which are outlines; `None` for a whole spec.
    outlined: Option<HashSet<usize>>,
}

/// One file of a spec.
pub struct Document {
    pub file: PathBuf,
    /// Canonical path (or URL), as `$ref`s from other documents resolve to it.
    pub canonical: PathBuf,
    pub sha256: String,
    /// The converted document (schemas as JSON Schema 2020-12).
    pub value: Arc<Value>,
    /// The source text, to place a problem found after loading (a schema
    /// the validator refuses when compiled) at its line and column.
    text: String,
}

/// Whether an operation lives under `paths` or is a 3.1 webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationKind {
    Path,
    /// A webhook: the API calls the client; the name is the `webhooks` key.
    Webhook(String),
}

/// One operation, with its parameters, request body and responses resolved.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: Option<String>,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template, e.g. `/shares/{shareId}` (the webhook name for webhooks).
    pub path: String,
    pub kind: OperationKind,
    /// JSON pointer of the operation in the root document.
    pub pointer: String,
    pub summary: Option<String>,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<RequestBody>,
    pub responses: Vec<Response>,
    /// Whether a credential is required (security requirements with no empty alternative).
    pub secured: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamIn {
    fn parse(s: &str) -> Option<ParamIn> {
        match s {
            "path" => Some(ParamIn::Path),
            "query" => Some(ParamIn::Query),
            "header" => Some(ParamIn::Header),
            "cookie" => Some(ParamIn::Cookie),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub location: ParamIn,
    pub required: bool,
    pub schema: Option<SchemaId>,
}

#[derive(Debug, Clone)]
pub struct RequestBody {
    pub required: bool,
    pub content: Vec<MediaType>,
}

#[derive(Debug, Clone)]
pub struct MediaType {
    /// Lower-case media range as documented, e.g. `application/json`, `application/*`.
    pub name: String,
    pub schema: Option<SchemaId>,
    /// Whether it carries JSON ([`is_json`]), decided once at load: the
    /// checks ask it of every response.
    pub json: bool,
}

impl MediaType {
    pub fn new(name: &str, schema: Option<SchemaId>) -> MediaType {
        let name = name.to_ascii_lowercase();
        MediaType {
            json: is_json(&name),
            name,
            schema,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    /// `200`, `4XX` or `default`.
    pub key: String,
    pub content: Vec<MediaType>,
    pub headers: Vec<Header>,
}

#[derive(Debug, Clone)]
pub struct Header {
    pub name: String,
    pub required: bool,
    pub schema: Option<SchemaId>,
}

impl Operation {
    /// Every schema the operation names: parameters, request body,
    /// responses and their headers.
    pub fn schema_ids(&self) -> impl Iterator<Item = SchemaId> + '_ {
        let params = self.parameters.iter().filter_map(|p| p.schema);
        let body = self.request_body.iter().flat_map(|b| &b.content);
        let responses = self.responses.iter().flat_map(|r| {
            let content = r.content.iter().filter_map(|m| m.schema);
            content.chain(r.headers.iter().filter_map(|h| h.schema))
        });
        params.chain(body.filter_map(|m| m.schema)).chain(responses)
    }

    /// `getShare` or `GET /shares/{shareId}` when it has no operationId.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => self.method_path(),
        }
    }

    /// `GET /shares/{shareId}`.
    pub fn method_path(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The documented response for a status: exact code, then `4XX`-style
    /// ranges, then `default`.
    pub fn response_for(&self, status: u16) -> Option<&Response> {
        // Compared as bytes: this runs for every response, so no key text
        // is formatted for it.
        let by_code = status_digits(status).and_then(|digits| {
            let is_range = |key: &[u8]| {
                matches!(key, [first, rest @ ..] if *first == digits[0] && rest.eq_ignore_ascii_case(b"XX"))
            };
            let keys = || self.responses.iter().map(|r| (r, r.key.as_bytes()));
            keys()
                .find(|(_, k)| *k == digits)
                .or_else(|| keys().find(|(_, k)| is_range(k)))
                .map(|(r, _)| r)
        });
        by_code.or_else(|| self.responses.iter().find(|r| r.key == "default"))
    }

    pub fn parameter(&self, location: ParamIn, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| {
            p.location == location
                && if location == ParamIn::Header {
                    p.name.eq_ignore_ascii_case(name)
                } else {
                    p.name == name
                }
        })
    }
}

impl Response {
    /// The documented media type matching a response `Content-Type`
    /// (parameters such as `charset` ignored; `type/*` and `*/*` ranges allowed).
    pub fn media_type(&self, content_type: &str) -> Option<&MediaType> {
        let essence = essence(content_type);
        self.content.iter().find(|m| m.name == essence).or_else(|| {
            self.content
                .iter()
                .find(|m| media_range_matches(&m.name, &essence))
        })
    }
}

/// `Application/JSON; charset=utf-8` -> `application/json`. Borrowed
/// when the type is already in lower case (the usual header), so checking
/// a response's media type allocates nothing.
pub fn essence(content_type: &str) -> Cow<'_, str> {
    // Bytes, not a `char` split and a Unicode trim: this runs several
    // times per response, and HTTP's optional whitespace is ASCII.
    let end = content_type
        .bytes()
        .position(|b| b == b';')
        .unwrap_or(content_type.len());
    let bare = content_type.get(..end).unwrap_or(content_type).trim_ascii();
    if bare.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(bare.to_ascii_lowercase())
    } else {
        Cow::Borrowed(bare)
    }
}

/// A status code's three ASCII digits; none outside 100-999, where no
/// spec key can name it.
fn status_digits(status: u16) -> Option<[u8; 3]> {
    let digit = |n: u16| b'0' + (n % 10) as u8;
    (100..1000)
        .contains(&status)
        .then(|| [digit(status / 100), digit(status / 10), digit(status)])
}

fn media_range_matches(range: &str, essence: &str) -> bool {
    if range == "*/*" {
        return true;
    }
    match range.strip_suffix("/*") {
        Some(top) => essence.split('/').next() == Some(top),
        None => range == essence,
    }
}

/// The JSON Schema type name of a value (`integer` for a whole number).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether a media type carries JSON (`application/json`, `application/problem+json`, ...).
pub fn is_json(media: &str) -> bool {
    if media == "application/json" {
        return true;
    }
    let essence = essence(media);
    essence == "application/json" || essence.ends_with("+json") || essence == "*/*"
}

impl Spec {
    pub fn operation_by_id(&self, id: &str) -> Option<&Operation> {
        self.by_id.get(id).map(|&i| &self.operations[i])
    }

    pub fn operation_index_by_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Whether this spec was loaded for some operations only
    /// ([`load_for`]): its warnings then cover what those operations use.
    pub fn is_outline(&self) -> bool {
        self.outlined.is_some()
    }

    /// Whether an operation is an outline: identity, security and response
    /// keys only, no parameters, bodies or schemas ([`load_for`]).
    pub fn is_outlined(&self, op: OperationId) -> bool {
        self.outlined.as_ref().is_some_and(|o| o.contains(&op.0))
    }

    /// Finds the operation for a method and a concrete or template path.
    pub fn find_operation(&self, method: &str, path: &str) -> Option<(usize, router::Match)> {
        let m = self.router.find(method, path)?;
        Some((m.route, m))
    }

    /// Methods documented at a concrete path.
    pub fn methods_at(&self, path: &str) -> Vec<String> {
        self.router.methods_at(path)
    }

    /// Webhook operations by their `webhooks` key.
    /// How many of `operations` are webhooks (the rest are under `paths`).
    pub fn webhook_count(&self) -> usize {
        self.operations
            .iter()
            .filter(|o| matches!(o.kind, OperationKind::Webhook(_)))
            .count()
    }

    pub fn webhook(&self, name: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.kind == OperationKind::Webhook(name.to_string()))
    }

    /// The compiled validator for a schema, compiling it on first use.
    pub fn validator(&self, id: SchemaId) -> Result<SchemaValidator<'_>, &SchemaError> {
        self.validators.get(id)
    }

    /// The schemas of these operations (parameters, bodies, responses and
    /// their headers) are what the work ahead validates: the first of them
    /// used compiles only them, not the whole spec (see `Validators::focus`).
    pub fn focus(&self, operations: &[OperationId]) {
        let ops = operations.iter().filter_map(|o| self.operations.get(o.0));
        self.validators.focus(ops.flat_map(Operation::schema_ids));
    }

    /// The JSON pointer (in its file) of a schema, for messages.
    pub fn schema_pointer(&self, id: SchemaId) -> &str {
        self.validators.pointer(id)
    }

    /// The raw (converted) schema object behind a validator id and the index
    /// of its document, for value generation (which walks schemas itself).
    pub fn schema_source(&self, id: SchemaId) -> Option<(usize, &Value)> {
        let doc = self.validators.document(id);
        let pointer = self.validators.pointer(id);
        let root = &self.documents.get(doc)?.value;
        let value = if pointer.is_empty() {
            Some(root.as_ref())
        } else {
            root.pointer(pointer)
        };
        value.map(|v| (doc, v))
    }

    /// The index in [`Spec::documents`] of the document a schema lives in.
    pub fn schema_document(&self, id: SchemaId) -> usize {
        self.validators.document(id)
    }

    /// The file a schema lives in.
    pub fn schema_file(&self, id: SchemaId) -> &Path {
        &self.documents[self.validators.document(id)].file
    }

    /// The `file:line:column` position of each `(document, pointer)`: one
    /// pass over each document's text for all its pointers; a pointer the
    /// source does not hold (made by the Swagger 2.0 conversion) gets its
    /// deepest existing parent's position.
    pub fn positions(&self, wanted: &[(usize, &str)]) -> Vec<diag::Pos> {
        let mut by_doc: HashMap<usize, Vec<String>> = HashMap::new();
        for (doc, pointer) in wanted {
            by_doc.entry(*doc).or_default().push((*pointer).to_string());
        }
        let mut found: HashMap<usize, HashMap<String, diag::Pos>> = HashMap::new();
        for (doc, pointers) in by_doc {
            if let Some(d) = self.documents.get(doc) {
                let json = crate::yaml::looks_json(&d.file, &d.text);
                found.insert(doc, locate::positions(&d.text, json, &pointers));
            }
        }
        wanted
            .iter()
            .map(|(doc, pointer)| {
                found
                    .get(doc)
                    .and_then(|m| m.get(*pointer))
                    .copied()
                    .unwrap_or(diag::Pos::UNKNOWN)
            })
            .collect()
    }

    pub fn schema_count(&self) -> usize {
        self.validators.len()
    }

    /// The schemas the validator refused among those compiled so far.
    pub fn compiled_failures(&self) -> Vec<(SchemaId, &SchemaError)> {
        self.validators.compiled_failures()
    }

    /// Compiles every validator now (used by `check --spec` and benchmarks).
    pub fn compile_all(&self) -> Vec<(SchemaId, &SchemaError)> {
        self.validators.compile_all()
    }
}

/// Set once by a process that ends soon after its specs are dropped.
static SKIP_TEARDOWN: AtomicBool = AtomicBool::new(false);

/// Lets dropping a [`Spec`] leave its documents and validators to the end
/// of the process: for the CLI, where freeing millions of small
/// allocations of a large description (a quarter of a second or more)
/// would only precede the exit that frees them at once. Libraries and
/// tests, which load specs again and again, leave it off.
pub fn skip_teardown() {
    SKIP_TEARDOWN.store(true, Ordering::Relaxed);
}

impl Drop for Spec {
    fn drop(&mut self) {
        if SKIP_TEARDOWN.load(Ordering::Relaxed) {
            std::mem::forget(std::mem::take(&mut self.documents));
            self.validators.forget();
        }
    }
}

/// `value.pointer(pointer)` as serde_json reads it (RFC 6901), without a
/// new string per token when the token holds no `~` escape: the indexer
/// looks up every operation, response and schema of a spec by pointer.
pub(crate) fn lookup<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut target = value;
    for raw in rest.split('/') {
        let token: std::borrow::Cow<'_, str> = if raw.contains('~') {
            std::borrow::Cow::Owned(unescape_token(raw))
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        target = match target {
            Value::Object(map) => map.get(token.as_ref())?,
            Value::Array(list) => {
                if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
                    return None;
                }
                list.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(target)
}

/// Escapes one JSON pointer token.
pub fn escape_token(token: &str) -> String {
    if !token.contains(['~', '/']) {
        return token.to_string();
    }
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends `/` and one escaped token to a JSON pointer (no allocation for
/// a token without `~` or `/`: walks over a whole document build many).
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    if token.contains(['~', '/']) {
        pointer.push_str(&escape_token(token));
    } else {
        pointer.push_str(token);
    }
}

/// Unescapes one JSON pointer token.
pub fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn validate(spec: &Spec, id: SchemaId, value: &Value) -> Vec<String> {
        let v = spec.validator(id).expect("compiles");
        v.iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    }

    fn operation_answering(keys: &[&str]) -> Operation {
        Operation {
            id: None,
            method: "GET".into(),
            path: "/x".into(),
            kind: OperationKind::Path,
            pointer: String::new(),
            summary: None,
            parameters: Vec::new(),
            request_body: None,
            responses: keys
                .iter()
                .map(|k| Response {
                    key: (*k).into(),
                    content: vec![MediaType::new("application/json", None)],
                    headers: Vec::new(),
                })
                .collect(),
            secured: false,
        }
    }

    #[test]
    fn a_status_finds_its_code_then_its_range_then_default() {
        let op = operation_answering(&["default", "4xx", "404", "2XX"]);
        let key = |status| op.response_for(status).map(|r| r.key.as_str());
        assert_eq!(key(404), Some("404"));
        assert_eq!(key(400), Some("4xx"));
        assert_eq!(key(201), Some("2XX"));
        assert_eq!(key(500), Some("default"));
        // Outside 100-999 no code or range names it; only `default` can.
        assert_eq!(key(1404), Some("default"));
        assert_eq!(key(40), Some("default"));
        assert_eq!(
            operation_answering(&["200"])
                .response_for(1200)
                .map(|r| r.key.as_str()),
            None
        );
    }

    #[test]
    fn a_media_type_is_matched_by_its_essence_in_any_case() {
        assert_eq!(
            essence("application/json; charset=utf-8"),
            "application/json"
        );
        assert!(matches!(essence("application/json"), Cow::Borrowed(_)));
        assert_eq!(
            essence(" Application/Problem+JSON ;x=1"),
            "application/problem+json"
        );
        let op = operation_answering(&["200"]);
        let ok = op.response_for(200).expect("200");
        assert!(ok.media_type("APPLICATION/JSON; charset=utf-8").is_some());
        assert!(ok.media_type("text/plain").is_none());
        assert!(is_json("application/problem+json") && !is_json("text/html"));
        let problem = MediaType::new("Application/Problem+JSON", None);
        assert!(problem.json && problem.name == "application/problem+json");
        assert!(!MediaType::new("text/html", None).json);
    }

    #[test]
    fn loads_30_with_external_refs_and_converts_schemas() {
        let spec = load(&fixture("petstore-30.yaml")).expect("loads");
        assert_eq!(spec.version, OasVersion::V3_0);
        let get = spec.operation_by_id("getPet").expect("getPet");
        assert_eq!(get.method_path(), "GET /pets/{petId}");
        let ok = get.response_for(200).expect("200");
        assert_eq!(ok.headers[0].name, "X-Rate-Limit");
        assert!(ok.headers[0].required);
        let schema = ok
            .media_type("application/json; charset=utf-8")
            .and_then(|m| m.schema)
            .expect("schema");
        let good = json!({"id": "0b9a1c9e-8d5e-4c4e-9d6f-1d2a3b4c5d6e", "name": null, "age": 3, "born": "2020-01-31"});
        assert!(validate(&spec, schema, &good).is_empty());
        let bad = json!({"id": "nope", "name": 5, "age": 0, "born": "yesterday", "secret": "x"});
        let errors = validate(&spec, schema, &bad);
        assert_eq!(errors.len(), 4, "{errors:?}");
        // writeOnly `secret` is not required in responses; readOnly `id` not in requests.
        let create = spec.operation_by_id("createPet").expect("createPet");
        let req = create
            .request_body
            .as_ref()
            .and_then(|b| b.content[0].schema)
            .expect("request schema");
        assert!(
            validate(
                &spec,
                req,
                &json!({"name": "rex", "age": 1, "born": "2020-01-01"})
            )
            .is_empty()
        );
        assert_eq!(
            validate(
                &spec,
                schema,
                &json!({"name": "rex", "age": 1, "born": "2020-01-01"})
            )
            .len(),
            1
        );
        // int32 bounds
        let too_big = json!({"id": "0b9a1c9e-8d5e-4c4e-9d6f-1d2a3b4c5d6e", "name": "a", "age": 3_000_000_000u64, "born": "2020-01-31"});
        assert_eq!(validate(&spec, schema, &too_big).len(), 1);
        // default response via $ref
        assert!(get.response_for(500).is_some_and(|r| r.key == "default"));
        assert!(spec.find_operation("get", "/pets/abc").is_some());
        assert!(lint::lint(&spec).is_empty());
    }

    #[test]
    fn loads_31_with_webhooks() {
        let spec = load(&fixture("petstore-31.yaml")).expect("loads");
        assert_eq!(spec.version, OasVersion::V3_1);
        let hook = spec.webhook("pet.created").expect("webhook");
        assert_eq!(hook.id.as_deref(), Some("petCreated"));
        let get = spec.operation_by_id("getPet").expect("getPet");
        let schema = get
            .response_for(200)
            .and_then(|r| r.content[0].schema)
            .expect("schema");
        assert!(
            validate(
                &spec,
                schema,
                &json!({"id": "0b9a1c9e-8d5e-4c4e-9d6f-1d2a3b4c5d6e", "name": null, "kind": "pet"})
            )
            .is_empty()
        );
        assert_eq!(validate(&spec, schema, &json!({"id": "0b9a1c9e-8d5e-4c4e-9d6f-1d2a3b4c5d6e", "name": "x", "kind": "cat", "age": 0})).len(), 2);
        assert!(lint::lint(&spec).is_empty());
    }

    #[test]
    fn a_focus_compiles_only_its_schemas_and_the_rest_still_validate() {
        let mut spec = load(&fixture("petstore-30.yaml")).expect("loads");
        spec.validators.share_all();
        let get = spec.operation_index_by_id("getPet").expect("getPet");
        let create = spec.operation_index_by_id("createPet").expect("createPet");
        spec.focus(&[OperationId(get)]);
        let response = spec.operations[get]
            .response_for(200)
            .and_then(|r| r.content[0].schema)
            .expect("response schema");
        let request = spec.operations[create]
            .request_body
            .as_ref()
            .and_then(|b| b.content[0].schema)
            .expect("request schema");
        let v = spec.validator(response).expect("compiles");
        assert!(!v.is_valid(&json!({"id": "nope"})));
        assert_eq!(spec.validators.built(), (true, false), "only the focus");
        // Outside the focus: the whole spec compiles, and validates.
        let v = spec.validator(request).expect("compiles");
        assert!(v.is_valid(&json!({"name": "rex", "age": 1, "born": "2020-01-01"})));
        assert_eq!(spec.validators.built(), (true, true));
    }

    #[test]
    fn a_schema_compiled_alone_reports_what_the_shared_validator_reports() {
        let mut whole = load(&fixture("petstore-30.yaml")).expect("loads");
        whole.validators.share_all();
        let small = load(&fixture("petstore-30.yaml")).expect("loads");
        let create = whole.operation_index_by_id("createPet").expect("createPet");
        let schema = whole.operations[create]
            .request_body
            .as_ref()
            .and_then(|b| b.content[0].schema)
            .expect("request schema");
        let bad = json!({"name": 7, "age": "old", "born": "yesterday"});
        let shared = validate(&whole, schema, &bad);
        assert!(shared.len() >= 2, "{shared:?}");
        assert_eq!(validate(&small, schema, &bad), shared);
        let rules = |spec: &Spec| -> Vec<String> {
            let v = spec.validator(schema).expect("compiles");
            v.iter_errors(&bad).map(|e| e.schema_path).collect()
        };
        assert_eq!(rules(&small), rules(&whole));
        assert!(
            rules(&small).iter().all(|p| !p.starts_with("/$ref")),
            "{:?}",
            rules(&small)
        );
        let good = json!({"name": "rex", "age": 1, "born": "2020-01-01"});
        assert!(small.validator(schema).expect("compiles").is_valid(&good));
        // A small spec compiles each schema alone, on first use; nothing shared.
        assert!(small.validator(schema).expect("compiles").is_alone());
        assert!(!whole.validator(schema).expect("compiles").is_alone());
        assert_eq!(small.validators.built(), (true, false));
    }

    #[test]
    fn lookup_reads_pointers_as_serde_json_does() {
        let v = json!({"a/b": {"c~d": [1, {"": 2}]}, "x": [0, 1, 2], "": 3});
        for p in [
            "",
            "/",
            "/a~1b",
            "/a~1b/c~0d/1",
            "/a~1b/c~0d/1/",
            "/x/01",
            "/x/+1",
            "/x/2",
            "/x/3",
            "/x/-",
            "/nope",
            "a",
            "/a~1b/c~0d/0/z",
            "/x/1/y",
        ] {
            assert_eq!(lookup(&v, p), v.pointer(p), "{p}");
        }
    }

    #[test]
    fn broken_spec_is_reported_with_pointers() {
        let spec = load(&fixture("broken-30.yaml")).expect("structure loads");
        let problems = lint::lint(&spec);
        let text = problems.to_string();
        assert_eq!(problems.len(), 2, "{text}");
        assert!(
            text.contains("/paths/~1things/get/responses/200/content/application~1json/schema"),
            "{text}"
        );
        assert!(text.contains("/responses/400/"), "{text}");
    }
}

/// An operation's position in [`Spec::operations`]: how results and
/// coverage name an operation (never by re-parsing its label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub usize);
