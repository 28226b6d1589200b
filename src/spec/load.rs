//! Loading a spec: read the root file and every file reached through `$ref`,
//! convert schemas, build the registry and index the operations.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::convert::{self, OasVersion};
use super::flaws;
use super::locate;
use super::outline::{self, Wanted};
use super::pattern::Patterns;
use super::source;
use super::sparse;
use super::swagger2;
use super::validators::{self, SchemaTable, Validators};
use super::{
    Document, Header, METHODS, MediaType, Operation, OperationKind, ParamIn, Parameter,
    RequestBody, Response, Spec, escape_token, reach::BrokenRef, router::Router,
};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::yaml;

/// Characters escaped in the path part of a document's made-up URI.
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// The path part of a document's made-up base URI: its canonical path, or
/// for a URL document `/url/<scheme>/<host:port>/<path>`, so relative
/// `$ref`s between documents resolve the same way in the registry.
fn uri_path(canonical: &Path) -> String {
    let text = canonical.to_string_lossy();
    let plain = match source::as_url(canonical) {
        Some(url) => {
            format!(
                "/url/{}/{}{}",
                url.scheme(),
                url.host_str().unwrap_or(""),
                url.port().map(|p| format!(":{p}")).unwrap_or_default()
            ) + url.path()
        }
        None => text.into_owned(),
    };
    utf8_percent_encode(&plain, URI_PATH).to_string()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct RawDoc {
    file: PathBuf,
    canonical: PathBuf,
    sha256: String,
    value: Value,
    /// The source, kept until the end of loading to place warnings.
    text: String,
}

/// A warning before it has a line and column: document, pointer, message.
struct Pending {
    doc: usize,
    pointer: String,
    message: String,
}

/// Turns pending warnings into diagnostics with `file:line:column` (one
/// pass over each file that has any), the pointer kept in the message.
fn place(pending: Vec<Pending>, documents: &[Document]) -> Diagnostics {
    let mut by_doc: HashMap<usize, Vec<String>> = HashMap::new();
    for p in &pending {
        by_doc.entry(p.doc).or_default().push(p.pointer.clone());
    }
    let mut located: HashMap<usize, HashMap<String, Pos>> = HashMap::new();
    for (doc, pointers) in by_doc {
        let Some(d) = documents.get(doc) else {
            continue;
        };
        let json = yaml::looks_json(&d.file, &d.text);
        located.insert(doc, locate::positions(&d.text, json, &pointers));
    }
    let mut out = Diagnostics::default();
    for p in pending {
        let pos = located
            .get(&p.doc)
            .and_then(|m| m.get(&p.pointer))
            .copied()
            .unwrap_or(Pos::UNKNOWN);
        let pointer = if p.pointer.is_empty() {
            "/"
        } else {
            &p.pointer
        };
        let file = documents
            .get(p.doc)
            .map(|d| d.file.clone())
            .unwrap_or_default();
        out.push(Diagnostic::new(
            file,
            pos,
            format!("{pointer}: {}", p.message),
        ));
    }
    out
}

/// Loads and indexes a spec. Every problem that makes it unusable is
/// returned as a diagnostic (parse errors with line and column, structural
/// problems with their JSON pointer).
/// Converts a Swagger 2.0 root document (and the documents it references)
/// in place to OpenAPI 3.0 semantics; whether it was one.
fn convert_swagger2(docs: &mut [RawDoc]) -> bool {
    let Some((first, rest)) = docs.split_first_mut() else {
        return false;
    };
    if !swagger2::is_swagger2(&first.value) {
        return false;
    }
    swagger2::convert(&mut first.value);
    for doc in rest {
        swagger2::nullable_and_file(&mut doc.value);
    }
    true
}

/// How long each phase of a load took (the benchmark prints them).
#[derive(Debug, Default, Clone)]
pub struct Phases(pub Vec<(&'static str, Duration)>);

impl Phases {
    fn add(&mut self, name: &'static str, took: Duration) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += took,
            None => self.0.push((name, took)),
        }
    }
}

/// Times the phases of one load.
struct Clock {
    last: Instant,
    phases: Phases,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            last: Instant::now(),
            phases: Phases::default(),
        }
    }

    /// Ends the running phase, naming it.
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.add(name, now - self.last);
        self.last = now;
    }
}

pub fn load(path: &Path) -> Result<Spec, Diagnostics> {
    load_with_phases(path, None).0
}

/// The spec for work that uses only the `wanted` operations (a run of a
/// few cases): where that is safe, every other operation is an outline and
/// only what the wanted ones reach is parsed (`outline.rs`); otherwise, and
/// for YAML, the whole spec. [`Spec::is_outline`] and
/// [`Spec::is_outlined`] tell which.
pub fn load_for(path: &Path, wanted: &Wanted) -> Result<Spec, Diagnostics> {
    load_with_phases(path, Some(wanted)).0
}

/// [`load`] (or [`load_for`]), and how long each of its phases took.
pub fn load_with_phases(
    path: &Path,
    wanted: Option<&Wanted>,
) -> (Result<Spec, Diagnostics>, Phases) {
    let mut clock = Clock::new();
    let spec = load_timed(path, wanted, &mut clock);
    (spec, clock.phases)
}

fn load_timed(
    path: &Path,
    wanted: Option<&Wanted>,
    clock: &mut Clock,
) -> Result<Spec, Diagnostics> {
    let (mut docs, outlined) = read_documents(path, wanted, clock)?;
    let was_swagger2 = convert_swagger2(&mut docs);
    clock.lap("swagger 2.0");
    let Some(first) = docs.first() else {
        return Err(Diagnostics::from(Diagnostic::new(
            path,
            Pos::UNKNOWN,
            "the file holds no document",
        )));
    };
    let root = &first.value;
    let version = detect_version(path, root)?;
    let title = root
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = root
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();

    // Convert, then decide whether per-direction copies are needed.
    let mut converted: Vec<Value> = Vec::with_capacity(docs.len());
    let mut files = Vec::with_capacity(docs.len());
    let mut pending: Vec<Pending> = Vec::new();
    // (index in `pending`, document, pointer of the emptied schema)
    let mut broken: Vec<(usize, usize, String)> = Vec::new();
    let mut patterns = Patterns::default();
    // Whether some `required` names a `readOnly` (or `writeOnly`)
    // property: then requests (responses) get a relaxed copy. Found while
    // converting; a flaw repaired afterwards can only make a copy needless.
    let mut needs = convert::Relax::default();
    for (index, doc) in docs.into_iter().enumerate() {
        let mut value = doc.value;
        needs = needs.or(convert::convert_document(&mut value, version));
        clock.lap("convert");
        let found = flaws::repair(&mut value, &mut patterns);
        clock.lap("repair");
        for flaw in found {
            if flaw.broken_ref {
                let schema = flaw.pointer.trim_end_matches("/$ref").to_string();
                broken.push((pending.len(), index, schema));
            }
            pending.push(Pending {
                doc: index,
                pointer: flaw.pointer,
                message: flaw.message,
            });
        }
        files.push((doc.file, doc.canonical, doc.sha256, doc.text));
        converted.push(value);
    }
    let (needs_request, needs_response) = (needs.read_only, needs.write_only);

    let mut documents = Vec::new();
    let mut uris = Vec::new();
    for (value, (file, canonical, sha256, text)) in converted.into_iter().zip(files) {
        let path_part = uri_path(&canonical);
        let base = format!("https://spec.apiconform.local{path_part}");
        let request = format!("https://request.apiconform.local{path_part}");
        let response = format!("https://response.apiconform.local{path_part}");
        uris.push(DocUris {
            request: if needs_request { request } else { base.clone() },
            response: if needs_response {
                response
            } else {
                base.clone()
            },
            base,
            canonical: canonical.clone(),
        });
        documents.push(Document {
            file,
            canonical,
            sha256,
            value: Arc::new(value),
            text,
        });
    }
    let mut indexer = Indexer {
        documents: &documents,
        uris: &uris,
        schemas: SchemaTable::default(),
        diagnostics: Diagnostics::default(),
        warnings: Vec::new(),
        swagger2: was_swagger2,
        outlined: outlined.as_ref(),
    };
    let operations = indexer.operations();
    let Indexer {
        schemas,
        diagnostics,
        warnings: index_warnings,
        ..
    } = indexer;
    pending.extend(index_warnings);
    clock.lap("index");
    let resources = direction_documents(&documents, &uris, &schemas, needs);
    clock.lap("relax copies");
    let registry = validators::registry(resources)
        .map_err(|e| Diagnostics::from(Diagnostic::new(path, Pos::UNKNOWN, e.message)))?;
    clock.lap("registry");
    let validators = Validators::new(registry, schemas);

    let mut router = Router::default();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, op) in operations.iter().enumerate() {
        if op.kind == OperationKind::Path {
            router.insert(&op.method, &op.path, i);
        }
        if let Some(id) = &op.id {
            match by_id.get(id) {
                Some(&first) => pending.push(Pending {
                    doc: 0,
                    pointer: op.pointer.clone(),
                    message: format!(
                        "duplicate operationId `{id}` (also at {}); `{id}` names the first one",
                        operations[first].pointer
                    ),
                }),
                None => {
                    by_id.insert(id.clone(), i);
                }
            }
        }
    }
    let outlined_operations = outlined.map(|pointers| {
        let indices = operations.iter().enumerate();
        indices
            .filter(|(_, op)| pointers.contains(&op.pointer))
            .map(|(i, _)| i)
            .collect::<HashSet<usize>>()
    });
    clock.lap("operation ids");
    let warnings = place(pending, &documents);
    clock.lap("positions");
    let broken_refs = broken
        .into_iter()
        .filter_map(|(i, doc, schema)| {
            let warning = warnings.0.get(i)?.clone();
            Some(BrokenRef {
                doc,
                schema,
                warning,
            })
        })
        .collect();
    diagnostics.into_result(Spec {
        path: path.to_path_buf(),
        version,
        swagger2: was_swagger2,
        title,
        api_version,
        sha256: documents[0].sha256.clone(),
        documents,
        operations,
        warnings,
        broken_refs,
        router,
        by_id,
        validators,
        outlined: outlined_operations,
    })
}

/// The registry's documents: each document under its base URI and, where
/// some schema marks a required property `readOnly` (or `writeOnly`), a
/// copy relaxed for requests (or responses). A copy holds only what that
/// direction's schemas reach (`sparse::reaching`), and is a whole clone
/// only when that cannot be known or the spec spans several files (a
/// reference into another file lands in that file's copy, which would then
/// have to hold what this one's schemas reach there).
fn direction_documents(
    documents: &[Document],
    uris: &[DocUris],
    schemas: &SchemaTable,
    needs: convert::Relax,
) -> Vec<(String, Arc<Value>)> {
    let mut resources = Vec::new();
    for (index, (doc, uri)) in documents.iter().zip(uris).enumerate() {
        let copies = [
            (needs.read_only, &uri.request, "readOnly"),
            (needs.write_only, &uri.response, "writeOnly"),
        ];
        for (needed, direction_uri, marker) in copies {
            if !needed {
                continue;
            }
            let sparse = match documents.len() {
                1 => sparse::reaching(&doc.value, schemas.pointers_under(index, direction_uri)),
                _ => None,
            };
            let mut copy = sparse.unwrap_or_else(|| (*doc.value).clone());
            convert::relax_required(&mut copy, marker);
            resources.push((direction_uri.clone(), Arc::new(copy)));
        }
        resources.push((uri.base.clone(), doc.value.clone()));
    }
    resources
}

fn detect_version(path: &Path, root: &Value) -> Result<OasVersion, Diagnostics> {
    let err = |m: String| Diagnostics::from(Diagnostic::new(path, Pos::UNKNOWN, m));
    match root.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0") => Ok(OasVersion::V3_0),
        Some(Value::String(v)) if v.starts_with("3.1") => Ok(OasVersion::V3_1),
        Some(Value::String(v)) => Err(err(format!(
            "/openapi: version {v} is not supported (use OpenAPI 3.0.x or 3.1.x)"
        ))),
        Some(other) => Err(err(format!(
            "/openapi: expected a version string, found {other}"
        ))),
        None if root.get("swagger").is_some() => Err(err(format!(
            "/swagger: version {} is not supported (use Swagger 2.0 or OpenAPI 3.0.x or 3.1.x)",
            root["swagger"]
        ))),
        None => Err(err("not an OpenAPI document: no `openapi` field".into())),
    }
}

/// The name a document is known by: its canonical path, or its URL as
/// parsed (so `a/../b` and `b` are one document either way).
pub(super) fn canonical_name(name: &Path) -> std::io::Result<PathBuf> {
    match source::as_url(name) {
        Some(url) => Ok(PathBuf::from(url.to_string())),
        None => name.canonicalize(),
    }
}

/// Reads the root document (outlined for `wanted` where possible, see
/// [`load_for`]) and, breadth first, every document its `$ref`s name
/// (files, or URLs for a spec fetched from a URL), each once. Also returns
/// the pointers of the outlined operations (`None` for a whole spec).
fn read_documents(
    path: &Path,
    wanted: Option<&Wanted>,
    clock: &mut Clock,
) -> Result<(Vec<RawDoc>, Option<HashSet<String>>), Diagnostics> {
    let mut outlined = None;
    let mut docs: Vec<RawDoc> = Vec::new();
    let mut seen: HashMap<PathBuf, usize> = HashMap::new();
    let mut queue: VecDeque<(PathBuf, Option<(PathBuf, String)>)> = VecDeque::new();
    queue.push_back((path.to_path_buf(), None));
    let mut diagnostics = Diagnostics::default();
    while let Some((file, referrer)) = queue.pop_front() {
        let canonical = match canonical_name(&file) {
            Ok(c) => c,
            Err(e) => {
                let d = match &referrer {
                    Some((from, pointer)) => Diagnostic::new(
                        from,
                        Pos::UNKNOWN,
                        format!("{pointer}: $ref to {}: {e}", file.display()),
                    ),
                    None => Diagnostic::new(&file, Pos::UNKNOWN, format!("cannot read file: {e}")),
                };
                diagnostics.push(d);
                continue;
            }
        };
        if seen.contains_key(&canonical) {
            continue;
        }
        seen.insert(canonical.clone(), docs.len());
        let bytes = match source::read_spec_bytes(&file) {
            Ok(b) => b,
            Err(e) => {
                let d = match &referrer {
                    Some((from, pointer)) => Diagnostic::new(
                        from,
                        Pos::UNKNOWN,
                        format!("{pointer}: $ref to {}: {e}", file.display()),
                    ),
                    None => Diagnostic::new(&file, Pos::UNKNOWN, e.to_string()),
                };
                diagnostics.push(d);
                continue;
            }
        };
        let sha256 = sha256_hex(&bytes);
        clock.lap("read");
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                diagnostics.push(Diagnostic::new(
                    &file,
                    Pos::UNKNOWN,
                    "file is not UTF-8 text",
                ));
                continue;
            }
        };
        let reduced = match wanted {
            Some(wanted) if docs.is_empty() && yaml::looks_json(&file, &text) => {
                outline::outline(&text, wanted)
            }
            _ => None,
        };
        let value = match reduced {
            Some(reduced) => {
                outlined = Some(reduced.outlined);
                reduced.value
            }
            None => match yaml::value_from_str(&file, &text) {
                Ok(v) => v,
                Err(d) => {
                    diagnostics.push(d);
                    continue;
                }
            },
        };
        clock.lap("parse");
        let mut refs = Vec::new();
        if outlined.is_none() {
            // (An outline has none: it is not made when a `$ref` names a file.)
            collect_external_refs(&value, &mut refs);
        }
        clock.lap("external refs");
        for (pointer, target) in refs {
            let next = source::join_reference(&canonical, &target);
            queue.push_back((next, Some((file.clone(), pointer))));
        }
        docs.push(RawDoc {
            file,
            canonical,
            sha256,
            value,
            text,
        });
    }
    if docs.is_empty() || !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok((docs, outlined))
}

/// Collects `(pointer, file)` for every `$ref` that names another file.
/// The walk keeps the path as borrowed tokens and writes a pointer only for
/// a `$ref` it keeps (it visits every node of the document).
fn collect_external_refs(value: &Value, out: &mut Vec<(String, String)>) {
    let mut path: Vec<Token<'_>> = Vec::new();
    external_refs_walk(value, &mut path, out);
}

/// One step of a JSON pointer, borrowed from the document.
#[derive(Clone, Copy)]
enum Token<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer_of(path: &[Token<'_>]) -> String {
    let mut pointer = String::new();
    for token in path {
        match token {
            Token::Key(k) => super::push_token(&mut pointer, k),
            Token::Index(i) => push_index(&mut pointer, *i),
        }
    }
    pointer
}

fn external_refs_walk<'v>(
    value: &'v Value,
    path: &mut Vec<Token<'v>>,
    out: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            // The object's own `$ref` goes before those of its members,
            // whatever the key order.
            let own = out.len();
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let file = r.split('#').next().unwrap_or("");
                        if !file.is_empty() {
                            out.insert(own, (pointer_of(path), file.to_string()));
                        }
                        continue;
                    }
                    ("example" | "examples" | "default" | "enum" | "const", _) => continue,
                    _ => {}
                }
                if matches!(v, Value::Object(_) | Value::Array(_)) {
                    path.push(Token::Key(k));
                    external_refs_walk(v, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if matches!(v, Value::Object(_) | Value::Array(_)) {
                    path.push(Token::Index(i));
                    external_refs_walk(v, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// Appends `/<index>` to a JSON pointer without a temporary string.
fn push_index(pointer: &mut String, index: usize) {
    use std::fmt::Write;
    let _ = write!(pointer, "/{index}");
}

struct DocUris {
    /// The document as written (converted).
    base: String,
    /// The documents request and response schemas are looked up in: a
    /// relaxed copy's, or `base`.
    request: String,
    response: String,
    canonical: PathBuf,
}

#[derive(Clone, Copy)]
enum Direction {
    Request,
    Response,
}

/// A position in the spec: document index and JSON pointer.
#[derive(Clone)]
struct At {
    doc: usize,
    pointer: String,
}

impl At {
    fn child(&self, token: &str) -> At {
        let mut pointer = String::with_capacity(self.pointer.len() + token.len() + 1);
        pointer.push_str(&self.pointer);
        super::push_token(&mut pointer, token);
        At {
            doc: self.doc,
            pointer,
        }
    }
}

struct Indexer<'a> {
    documents: &'a [Document],
    uris: &'a [DocUris],
    schemas: SchemaTable,
    /// Problems that leave nothing usable (no `paths` at all).
    diagnostics: Diagnostics,
    /// Local flaws: the part concerned is skipped, the rest indexed.
    warnings: Vec<Pending>,
    /// The root was Swagger 2.0 (converted): body parameters are expected.
    swagger2: bool,
    /// Pointers of the operations that are outlines (see `outline.rs`):
    /// their parameters were not read, so they are not checked.
    outlined: Option<&'a HashSet<String>>,
}

impl<'a> Indexer<'a> {
    fn value(&self, at: &At) -> Option<&'a Value> {
        super::lookup(&self.documents[at.doc].value, &at.pointer)
    }

    fn diagnostic(&self, at: &At, message: impl Into<String>) -> Diagnostic {
        let pointer = if at.pointer.is_empty() {
            "/"
        } else {
            &at.pointer
        };
        Diagnostic::new(
            &self.documents[at.doc].file,
            Pos::UNKNOWN,
            format!("{pointer}: {}", message.into()),
        )
    }

    /// A local flaw: reported as a warning, the part concerned skipped.
    fn problem(&mut self, at: &At, message: impl Into<String>) {
        self.warnings.push(Pending {
            doc: at.doc,
            pointer: at.pointer.clone(),
            message: message.into(),
        });
    }

    /// Follows `$ref` chains to the object they name.
    fn deref(&mut self, at: At) -> Option<(At, &'a Value)> {
        let mut at = at;
        for _ in 0..32 {
            let value = match self.value(&at) {
                Some(v) => v,
                None => {
                    self.problem(&at, "nothing at this pointer");
                    return None;
                }
            };
            let Some(Value::String(reference)) = value.get("$ref") else {
                return Some((at, value));
            };
            let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
            let doc = if file.is_empty() {
                at.doc
            } else {
                let joined = source::join_reference(&self.uris[at.doc].canonical, file);
                let target = canonical_name(&joined).ok();
                match target.and_then(|t| self.uris.iter().position(|u| u.canonical == t)) {
                    Some(d) => d,
                    None => {
                        self.problem(&at, format!("$ref `{reference}`: file not loaded"));
                        return None;
                    }
                }
            };
            let pointer = percent_decode_str(fragment).decode_utf8_lossy().to_string();
            if !pointer.is_empty() && !pointer.starts_with('/') {
                self.problem(
                    &at,
                    format!("$ref `{reference}`: only JSON-pointer fragments are supported"),
                );
                return None;
            }
            let next = At { doc, pointer };
            if self.value(&next).is_none() {
                self.problem(&at, format!("$ref `{reference}` does not resolve"));
                return None;
            }
            at = next;
        }
        self.problem(&at, "$ref chain too long (a cycle?)");
        None
    }

    /// Registers the schema at `at`. A schema that is only a `$ref` is
    /// registered under its target, so every operation naming the same
    /// component shares one validator.
    fn schema(&mut self, at: &At, direction: Direction) -> Option<usize> {
        let only_ref = self
            .value(at)
            .and_then(Value::as_object)
            .is_some_and(|o| o.len() == 1 && o.get("$ref").is_some_and(Value::is_string));
        let target = if only_ref {
            self.deref(at.clone()).map(|(t, _)| t)
        } else {
            None
        };
        let at = target.as_ref().unwrap_or(at);
        let uri = match direction {
            Direction::Request => &self.uris[at.doc].request,
            Direction::Response => &self.uris[at.doc].response,
        };
        Some(self.schemas.add(at.doc, uri, &at.pointer))
    }

    fn operations(&mut self) -> Vec<Operation> {
        let root = &self.documents[0].value;
        let global_security = root.get("security");
        let mut ops = Vec::new();
        let sections: [(&str, bool); 2] = [("paths", false), ("webhooks", true)];
        for (section, is_webhook) in sections {
            let Some(Value::Object(items)) = root.get(section) else {
                if section == "paths" && root.get("webhooks").is_none() {
                    let at = At {
                        doc: 0,
                        pointer: String::new(),
                    };
                    let d = self.diagnostic(&at, "no `paths` (and no `webhooks`): nothing to test");
                    self.diagnostics.push(d);
                }
                continue;
            };
            for (key, _) in items {
                let item_at = At {
                    doc: 0,
                    pointer: format!("/{section}/{}", escape_token(key)),
                };
                let Some((item_at, item)) = self.deref(item_at) else {
                    continue;
                };
                let mut shared =
                    self.parameters(&item_at.child("parameters"), item.get("parameters"));
                let template = if is_webhook {
                    key.as_str()
                } else {
                    self.split_query(&item_at, key, &mut shared)
                };
                for method in METHODS {
                    let Some(op) = item.get(*method) else {
                        continue;
                    };
                    let op_at = item_at.child(method);
                    let kind = if is_webhook {
                        OperationKind::Webhook(key.clone())
                    } else {
                        OperationKind::Path
                    };
                    if !is_webhook && !key.starts_with('/') {
                        self.problem(&item_at, "path must start with `/`");
                    }
                    let op =
                        self.operation(op_at, op, template, method, kind, &shared, global_security);
                    ops.push(op);
                }
            }
        }
        ops
    }

    /// A path key carrying a query string (`/uploads?convert={convert}`) is
    /// not a path template: the part before `?` is, and each `{name}` after it
    /// becomes an optional query parameter (unless declared). Warned about.
    fn split_query<'k>(&mut self, at: &At, key: &'k str, shared: &mut Vec<Parameter>) -> &'k str {
        let Some((path, query)) = key.split_once('?') else {
            return key;
        };
        let names: Vec<&str> = template_params(query).collect();
        for name in &names {
            if !shared
                .iter()
                .any(|p| p.location == ParamIn::Query && p.name == *name)
            {
                shared.push(Parameter {
                    name: (*name).to_string(),
                    location: ParamIn::Query,
                    required: false,
                    schema: None,
                });
            }
        }
        let list = if names.is_empty() {
            String::from("no parameters")
        } else {
            format!(
                "query parameter{} `{}`",
                if names.len() == 1 { "" } else { "s" },
                names.join("`, `")
            )
        };
        self.problem(
            at,
            format!("a path key cannot carry a query string; read as path `{path}` with {list}"),
        );
        path
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        at: At,
        op: &'a Value,
        key: &str,
        method: &str,
        kind: OperationKind,
        shared: &[Parameter],
        global_security: Option<&Value>,
    ) -> Operation {
        let mut parameters = shared.to_vec();
        for p in self.parameters(&at.child("parameters"), op.get("parameters")) {
            parameters.retain(|q| !(q.name == p.name && q.location == p.location));
            parameters.push(p);
        }
        if kind == OperationKind::Path && !self.outlined.is_some_and(|o| o.contains(&at.pointer)) {
            for name in template_params(key) {
                if !parameters
                    .iter()
                    .any(|p| p.location == ParamIn::Path && p.name == name)
                {
                    self.problem(&at, format!("path parameter `{name}` is not declared"));
                }
            }
            for p in parameters.iter().filter(|p| p.location == ParamIn::Path) {
                if !template_params(key).any(|n| n == p.name) {
                    self.problem(
                        &at,
                        format!("path parameter `{}` is not in the path template", p.name),
                    );
                }
            }
        }
        let request_body = op.get("requestBody").and_then(|_| {
            let (body_at, body) = self.deref(at.child("requestBody"))?;
            let required = body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let content = self.content(&body_at, body, Direction::Request);
            Some(RequestBody { required, content })
        });
        let mut responses = Vec::new();
        match op.get("responses") {
            Some(Value::Object(map)) => {
                for (status, _) in map {
                    let valid = status == "default"
                        || (status.len() == 3
                            && status.chars().enumerate().all(|(i, c)| {
                                c.is_ascii_digit() || (i > 0 && (c == 'X' || c == 'x'))
                            }));
                    let resp_at = at.child("responses").child(status);
                    if !valid {
                        self.problem(
                            &resp_at,
                            "response key must be a status code, a range like 4XX, or default",
                        );
                        continue;
                    }
                    let Some((resp_at, resp)) = self.deref(resp_at) else {
                        continue;
                    };
                    let content = self.content(&resp_at, resp, Direction::Response);
                    let headers = self.headers(&resp_at, resp);
                    responses.push(Response {
                        key: status.to_uppercase().replace("DEFAULT", "default"),
                        content,
                        headers,
                    });
                }
            }
            _ if kind == OperationKind::Path => self.problem(&at, "operation has no `responses`"),
            _ => {}
        }
        let security = op.get("security").or(global_security);
        let secured = match security {
            Some(Value::Array(reqs)) => {
                !reqs.is_empty()
                    && !reqs
                        .iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            }
            _ => false,
        };
        Operation {
            id: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string),
            method: method.to_ascii_uppercase(),
            path: key.to_string(),
            kind,
            pointer: at.pointer.clone(),
            summary: op
                .get("summary")
                .and_then(Value::as_str)
                .map(str::to_string),
            parameters,
            request_body,
            responses,
            secured,
        }
    }

    fn parameters(&mut self, at: &At, list: Option<&Value>) -> Vec<Parameter> {
        let Some(Value::Array(items)) = list else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in 0..items.len() {
            let Some((p_at, p)) = self.deref(at.child(&i.to_string())) else {
                continue;
            };
            let name = p.get("name").and_then(Value::as_str);
            let raw_in = p.get("in").and_then(Value::as_str);
            if matches!(raw_in, Some("body" | "formData")) && self.swagger2 {
                // Swagger 2.0: already turned into the operation's requestBody.
                continue;
            }
            let location = raw_in.and_then(ParamIn::parse);
            let (Some(name), Some(location)) = (name, location) else {
                self.problem(
                    &p_at,
                    "parameter needs `name` and `in` (path, query, header or cookie)",
                );
                continue;
            };
            let schema = if p.get("schema").is_some() {
                self.schema(&p_at.child("schema"), Direction::Request)
            } else {
                None
            };
            out.push(Parameter {
                name: name.to_string(),
                location,
                required: p
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(location == ParamIn::Path),
                schema,
            });
        }
        out
    }

    fn content(&mut self, at: &At, owner: &Value, direction: Direction) -> Vec<MediaType> {
        let Some(Value::Object(content)) = owner.get("content") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (media, entry) in content {
            let media_at = at.child("content").child(media);
            let schema = if entry.get("schema").is_some() {
                self.schema(&media_at.child("schema"), direction)
            } else {
                None
            };
            out.push(MediaType::new(media, schema));
        }
        out
    }

    fn headers(&mut self, at: &At, response: &Value) -> Vec<Header> {
        let Some(Value::Object(headers)) = response.get("headers") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for name in headers.keys() {
            let Some((h_at, h)) = self.deref(at.child("headers").child(name)) else {
                continue;
            };
            let schema = if h.get("schema").is_some() {
                self.schema(&h_at.child("schema"), Direction::Response)
            } else {
                None
            };
            out.push(Header {
                name: name.clone(),
                required: h.get("required").and_then(Value::as_bool).unwrap_or(false),
                schema,
            });
        }
        out
    }
}

/// Names of `{params}` in a path template.
pub fn template_params(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod external_ref_tests {
    use super::*;

    #[test]
    fn external_refs_are_found_with_their_pointers_object_first() {
        let doc = serde_json::json!({
            "paths": {"/a~b": {"get": {"parameters": [{"$ref": "p.yaml#/x"}]}}},
            "components": {"schemas": {"A": {
                "!first": {"$ref": "inner.yaml"},
                "$ref": "outer.yaml#/A",
                "example": {"$ref": "not-a-ref.yaml"},
                "local": {"$ref": "#/components/schemas/B"}
            }}}
        });
        let mut refs = Vec::new();
        collect_external_refs(&doc, &mut refs);
        let found: Vec<(&str, &str)> = refs.iter().map(|(p, f)| (p.as_str(), f.as_str())).collect();
        assert_eq!(
            found,
            vec![
                ("/components/schemas/A", "outer.yaml"),
                ("/components/schemas/A/!first", "inner.yaml"),
                ("/paths/~1a~0b/get/parameters/0", "p.yaml"),
            ]
        );
    }
}

/// A spec loaded for some operations (`load_for`) against the whole load.
#[cfg(test)]
mod outline_tests {
    use super::*;

    /// An operation as a run sees it, schemas named by pointer and content.
    fn describe(spec: &crate::spec::Spec, op: &crate::spec::Operation) -> String {
        let schema = |id: Option<crate::spec::SchemaId>| match id {
            Some(id) => format!(
                "{}={}",
                spec.schema_pointer(id),
                spec.schema_source(id)
                    .map_or(Value::Null, |(_, v)| v.clone())
            ),
            None => "-".into(),
        };
        let mut out = format!(
            "{} {} {:?} {:?} secured={}\n",
            op.method, op.path, op.id, op.pointer, op.secured
        );
        for p in &op.parameters {
            out += &format!(
                "param {} {:?} {} {}\n",
                p.name,
                p.location,
                p.required,
                schema(p.schema)
            );
        }
        if let Some(body) = &op.request_body {
            for m in &body.content {
                out += &format!("body {} {} {}\n", body.required, m.name, schema(m.schema));
            }
        }
        for r in &op.responses {
            out += &format!("response {}\n", r.key);
            for m in &r.content {
                out += &format!("  {} {}\n", m.name, schema(m.schema));
            }
            for h in &r.headers {
                out += &format!("  header {} {} {}\n", h.name, h.required, schema(h.schema));
            }
        }
        out
    }

    #[test]
    fn each_operation_loaded_for_itself_is_what_the_whole_spec_says() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir =
            std::env::temp_dir().join(format!("apiconform-outline-eq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // petstore-30 names schemas in common.yaml: a spec of two files is
        // never outlined, and must come out the same.
        std::fs::copy(
            root.join("tests/fixtures/common.yaml"),
            dir.join("common.yaml"),
        )
        .expect("copy common.yaml");
        for (name, outlined) in [
            ("specs/enablenow-sharing-v1.yaml", true),
            ("specs/mycloud-shares-v1.yaml", true),
            ("tests/fixtures/pets-api.yaml", true),
            ("tests/fixtures/echo-api.yaml", true),
            ("tests/fixtures/petstore-30.yaml", false),
        ] {
            let yaml = root.join(name);
            let text = std::fs::read_to_string(&yaml).expect("fixture");
            let value = crate::yaml::value_from_str(&yaml, &text).expect("parses");
            let json = dir.join("spec.json");
            std::fs::write(&json, serde_json::to_string_pretty(&value).expect("json"))
                .expect("write");
            let whole = crate::spec::load(&json).expect("loads whole");
            for (i, op) in whole.operations.iter().enumerate() {
                let mut wanted = Wanted::default();
                wanted.routes.push((op.method.clone(), op.path.clone()));
                let part = crate::spec::load_for(&json, &wanted).expect("loads for one");
                assert_eq!(part.is_outline(), outlined, "{name}");
                assert!(
                    !part.is_outlined(crate::spec::OperationId(i)),
                    "{name} {}",
                    op.label()
                );
                assert_eq!(part.operations.len(), whole.operations.len(), "{name}");
                assert_eq!(
                    describe(&part, &part.operations[i]),
                    describe(&whole, op),
                    "{name}"
                );
                for w in &part.warnings.0 {
                    let text = w.to_string();
                    assert!(
                        whole.warnings.0.iter().any(|v| v.to_string() == text),
                        "{name}: a warning the whole spec does not give: {text}"
                    );
                }
            }
        }
    }
}
