//! Schema validators, compiled once on first use and shared by every step.
//!
//! All documents of a spec sit in one prepared jsonschema registry, each
//! under a made-up base URI, so `$ref`s between files resolve without I/O.
//! Every registered schema is one property of a single compiled validator
//! (see [`Shared`]), so shared and recursive subschemas compile once. A
//! small spec, or a run that uses only a few schemas (a small focus),
//! compiles each schema alone instead, so a value is validated as it is,
//! without first being copied into the shared validator's wrapper.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rustc_hash::FxHashMap;

/// Index of a schema in [`Validators`].
pub type SchemaId = usize;

/// A schema that does not compile (bad `$ref`, invalid keyword value...).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    pub message: String,
}

/// Characters that must be escaped in a URI fragment holding a JSON pointer.
const FRAGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

pub fn fragment_encode(pointer: &str) -> String {
    utf8_percent_encode(pointer, FRAGMENT).to_string()
}

struct Slot {
    /// Document index (for messages).
    document: usize,
    /// JSON pointer inside that document.
    pointer: String,
    /// Full reference, `<base uri>#<encoded pointer>`.
    reference: String,
}

/// Every schema of the spec compiled into one validator, so a component
/// referenced from thousands of operations (and every schema its `$ref`s
/// reach, cycles included) is compiled once: separate validators would each
/// compile their own copy of everything reachable, which for a description
/// of Microsoft Graph's shape is quadratic in time and memory.
struct Shared {
    /// `{"properties": {"<id>": {"$ref": "<reference>"}, ...}}` over the
    /// schemas that compile; validating `{"<id>": value}` validates `value`.
    validator: Option<Validator>,
    /// The schemas the validator refuses, each with its reason.
    errors: HashMap<SchemaId, SchemaError>,
    /// Why there is no validator at all (no schema compiled).
    none: SchemaError,
}

/// The schemas an indexed spec names, before anything is compiled: the
/// indexer fills it, and the registry is built afterwards, from documents
/// that only need to hold what these schemas reach.
#[derive(Default)]
pub(crate) struct SchemaTable {
    slots: Vec<Slot>,
    index: HashMap<String, SchemaId>,
}

impl SchemaTable {
    /// Registers a schema (deduplicated by reference) and returns its id.
    pub(crate) fn add(&mut self, document: usize, base_uri: &str, pointer: &str) -> SchemaId {
        let reference = format!("{base_uri}#{}", fragment_encode(pointer));
        if let Some(&id) = self.index.get(&reference) {
            return id;
        }
        let id = self.slots.len();
        self.slots.push(Slot {
            document,
            pointer: pointer.to_string(),
            reference: reference.clone(),
        });
        self.index.insert(reference, id);
        id
    }

    /// The pointers of the schemas registered in `document` under `base_uri`.
    pub(crate) fn pointers_under<'t>(
        &'t self,
        document: usize,
        base_uri: &'t str,
    ) -> impl Iterator<Item = &'t str> + 't {
        self.slots
            .iter()
            .filter(move |s| {
                s.document == document
                    && s.reference
                        .strip_prefix(base_uri)
                        .is_some_and(|r| r.starts_with('#'))
            })
            .map(|s| s.pointer.as_str())
    }
}

/// The validator table of one spec.
pub struct Validators {
    registry: Arc<Registry<'static>>,
    slots: Vec<Slot>,
    shared: OnceLock<Shared>,
    /// The schemas a run's selected cases use ([`Validators::focus`]).
    focus: OnceLock<HashSet<SchemaId>>,
    /// Those schemas alone, compiled when the first of them is needed; any
    /// other schema still gets `shared`, so nothing depends on the focus
    /// being complete.
    focused: OnceLock<Shared>,
    /// For a spec or a focus of at most [`SOLO_LIMIT`] schemas: a
    /// validator of each, compiled on its first use (instead of `shared`
    /// or `focused`). Looked up per validation, so hashed with Fx.
    solo: OnceLock<FxHashMap<SchemaId, OnceLock<Result<Validator, SchemaError>>>>,
}

/// The largest spec or focus whose schemas each get their own validator. Each one
/// compiles everything its `$ref`s reach, so this stays small: past it,
/// one shared validator compiles the common parts once.
const SOLO_LIMIT: usize = 64;

/// One schema's validator: its own, or a view into a shared one.
#[derive(Clone, Copy)]
pub struct SchemaValidator<'a> {
    validator: &'a Validator,
    /// The property the schema is under in a shared validator; `None` for
    /// a schema compiled alone.
    property: Option<SchemaId>,
}

/// One way a value breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the value.
    pub instance_path: String,
    /// JSON pointer of the failing keyword, relative to the schema.
    pub schema_path: String,
    pub keyword: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl SchemaValidator<'_> {
    /// `value` as the validator takes it: under its property for a shared
    /// validator (a copy), as it is for one compiled alone.
    fn input<'v>(&self, value: &'v serde_json::Value) -> std::borrow::Cow<'v, serde_json::Value> {
        match self.property {
            None => std::borrow::Cow::Borrowed(value),
            Some(id) => {
                let mut map = serde_json::Map::with_capacity(1);
                map.insert(id.to_string(), value.clone());
                std::borrow::Cow::Owned(serde_json::Value::Object(map))
            }
        }
    }

    pub fn is_valid(&self, value: &serde_json::Value) -> bool {
        self.validator.is_valid(&self.input(value))
    }

    /// Whether the schema was compiled alone (for tests).
    #[cfg(test)]
    pub(crate) fn is_alone(&self) -> bool {
        self.property.is_none()
    }

    /// Every violation, paths relative to the value and to the schema.
    pub fn iter_errors(
        &self,
        value: &serde_json::Value,
    ) -> impl Iterator<Item = Violation> + use<> {
        let input = self.input(value);
        let (key, schema_prefix) = match self.property {
            Some(id) => (format!("/{id}"), format!("/properties/{id}")),
            None => (String::new(), String::new()),
        };
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(&input)
            .map(|e| {
                let instance = e.instance_path().as_str();
                let instance_path = instance.strip_prefix(&key).unwrap_or(instance).to_string();
                let schema = e.schema_path().as_str();
                let schema = schema.strip_prefix(&schema_prefix).unwrap_or(schema);
                let schema_path = schema.strip_prefix("/$ref").unwrap_or(schema).to_string();
                Violation {
                    instance_path,
                    schema_path,
                    keyword: e.kind().keyword().to_string(),
                    message: explain(&e, &key),
                }
            })
            .collect();
        violations.into_iter()
    }
}

/// The error's text; for `oneOf`/`anyOf`, why each branch failed, or which
/// branches a value matched when it may match only one.
fn explain(e: &jsonschema::ValidationError<'_>, key: &str) -> String {
    use jsonschema::error::ValidationErrorKind as Kind;
    /// Branches described at most (the rest are counted).
    const BRANCHES: usize = 6;
    match e.kind() {
        Kind::OneOfMultipleValid { context } => {
            let valid: Vec<String> = context
                .iter()
                .enumerate()
                .filter(|(_, errors)| errors.is_empty())
                .map(|(i, _)| format!("#{i}"))
                .collect();
            format!(
                "{} is valid under more than one `oneOf` branch ({}), but must match exactly one",
                e.instance(),
                valid.join(" and ")
            )
        }
        Kind::OneOfNotValid { context } | Kind::AnyOf { context } => {
            let keyword = e.kind().keyword();
            let mut reasons: Vec<String> = context
                .iter()
                .enumerate()
                .take(BRANCHES)
                .map(|(i, errors)| match errors.first() {
                    Some(first) => {
                        let at = first.instance_path().as_str();
                        let at = at.strip_prefix(key).unwrap_or(at);
                        let outer = e.instance_path().as_str();
                        let outer = outer.strip_prefix(key).unwrap_or(outer);
                        let inner = at.strip_prefix(outer).unwrap_or(at);
                        let more = match errors.len() {
                            1 => String::new(),
                            n => format!(" (+{} more)", n - 1),
                        };
                        if inner.is_empty() {
                            format!("#{i}: {first}{more}")
                        } else {
                            format!("#{i}: at {inner}: {first}{more}")
                        }
                    }
                    None => format!("#{i}: valid"),
                })
                .collect();
            if context.len() > BRANCHES {
                reasons.push(format!("{} more branches", context.len() - BRANCHES));
            }
            format!(
                "{} matches no `{keyword}` branch: {}",
                e.instance(),
                reasons.join("; ")
            )
        }
        _ => e.to_string(),
    }
}

impl Validators {
    pub(crate) fn new(registry: Registry<'static>, table: SchemaTable) -> Self {
        let solo = OnceLock::new();
        if table.slots.len() <= SOLO_LIMIT {
            let _ = solo.set(Self::solo_cells(0..table.slots.len()));
        }
        Validators {
            registry: Arc::new(registry),
            slots: table.slots,
            shared: OnceLock::new(),
            focus: OnceLock::new(),
            focused: OnceLock::new(),
            solo,
        }
    }

    /// Compiles no schema alone from now on (for tests of the shared paths).
    #[cfg(test)]
    pub(crate) fn share_all(&mut self) {
        // An empty set, already set: a later focus cannot add any.
        self.solo = OnceLock::from(FxHashMap::default());
    }

    /// Empty cells for schemas to be compiled alone.
    fn solo_cells(
        ids: impl IntoIterator<Item = SchemaId>,
    ) -> FxHashMap<SchemaId, OnceLock<Result<Validator, SchemaError>>> {
        ids.into_iter().map(|id| (id, OnceLock::new())).collect()
    }

    /// Names the schemas the work ahead uses (a run's selected cases): the
    /// first validator asked for among them compiles only them (and what
    /// their `$ref`s reach) instead of the whole spec. Only the first call
    /// counts, and only before anything is compiled.
    pub(crate) fn focus(&self, ids: impl IntoIterator<Item = SchemaId>) {
        if self.shared.get().is_some() {
            return;
        }
        let ids: HashSet<SchemaId> = ids
            .into_iter()
            .filter(|id| *id < self.slots.len())
            .collect();
        if ids.len() <= SOLO_LIMIT {
            let _ = self.solo.set(Self::solo_cells(ids.iter().copied()));
        }
        let _ = self.focus.set(ids);
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Leaves everything this table holds allocated (see `spec::skip_teardown`).
    pub(crate) fn forget(&mut self) {
        std::mem::forget(std::mem::take(&mut self.slots));
        std::mem::forget(self.shared.take());
        std::mem::forget(Arc::clone(&self.registry));
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn pointer(&self, id: SchemaId) -> &str {
        &self.slots[id].pointer
    }

    pub fn document(&self, id: SchemaId) -> usize {
        self.slots[id].document
    }

    /// The validator of one schema: compiled alone in a small focus;
    /// otherwise the first call compiles the focus (or the whole spec).
    pub fn get(&self, id: SchemaId) -> Result<SchemaValidator<'_>, &SchemaError> {
        if let Some(cell) = self.solo.get().and_then(|cells| cells.get(&id)) {
            let compiled = cell.get_or_init(|| {
                let reference = &self.slots[id].reference;
                compile(&self.registry, &serde_json::json!({ "$ref": reference }))
            });
            return compiled.as_ref().map(|validator| SchemaValidator {
                validator,
                property: None,
            });
        }
        let shared = match self.focus.get() {
            Some(focus) if focus.contains(&id) => self.focused.get_or_init(|| {
                let mut ids: Vec<SchemaId> = focus.iter().copied().collect();
                ids.sort_unstable();
                self.build_shared(ids)
            }),
            _ => self
                .shared
                .get_or_init(|| self.build_shared((0..self.slots.len()).collect())),
        };
        if let Some(e) = shared.errors.get(&id) {
            return Err(e);
        }
        match &shared.validator {
            Some(v) => Ok(SchemaValidator {
                validator: v,
                property: Some(id),
            }),
            None => Err(&shared.none),
        }
    }

    /// The schemas refused so far, by whatever has been compiled (nothing
    /// is compiled here): what a run found lazily.
    pub fn compiled_failures(&self) -> Vec<(SchemaId, &SchemaError)> {
        let mut failed: Vec<(SchemaId, &SchemaError)> = [self.shared.get(), self.focused.get()]
            .into_iter()
            .flatten()
            .flat_map(|s| s.errors.iter().map(|(id, e)| (*id, e)))
            .collect();
        let solo = self.solo.get().into_iter().flatten();
        failed.extend(solo.filter_map(|(id, cell)| Some((*id, cell.get()?.as_ref().err()?))));
        failed.sort_by_key(|(id, _)| *id);
        failed.dedup_by_key(|(id, _)| *id);
        failed
    }

    /// Whether validators of the focus (shared or each alone) and the full
    /// validator are built (for tests).
    #[cfg(test)]
    pub(crate) fn built(&self) -> (bool, bool) {
        let mut solo = self.solo.get().into_iter().flatten();
        let solo_built = solo.any(|(_, cell)| cell.get().is_some());
        (
            self.focused.get().is_some() || solo_built,
            self.shared.get().is_some(),
        )
    }

    /// Compiles every schema now; returns those the validator refuses.
    pub fn compile_all(&self) -> Vec<(SchemaId, &SchemaError)> {
        let shared = self
            .shared
            .get_or_init(|| self.build_shared((0..self.slots.len()).collect()));
        let mut failed: Vec<(SchemaId, &SchemaError)> =
            shared.errors.iter().map(|(id, e)| (*id, e)).collect();
        failed.sort_by_key(|(id, _)| *id);
        failed
    }

    /// One validator over `all` (those it refuses left out, with their reasons).
    fn build_shared(&self, all: Vec<SchemaId>) -> Shared {
        let none = SchemaError {
            message: "no schema of the spec compiles".into(),
        };
        if all.is_empty() {
            return Shared {
                validator: None,
                errors: HashMap::new(),
                none,
            };
        }
        match self.compile_set(&all) {
            Ok(v) => Shared {
                validator: Some(v),
                errors: HashMap::new(),
                none,
            },
            Err(_) => {
                // Some schema is refused: find which by halving, so one bad
                // schema leaves every other one enforced.
                let mut errors = HashMap::new();
                self.find_failures(&all, &mut errors);
                let good: Vec<SchemaId> = all
                    .into_iter()
                    .filter(|id| !errors.contains_key(id))
                    .collect();
                let validator = if good.is_empty() {
                    None
                } else {
                    self.compile_set(&good).ok()
                };
                Shared {
                    validator,
                    errors,
                    none,
                }
            }
        }
    }

    fn find_failures(&self, ids: &[SchemaId], errors: &mut HashMap<SchemaId, SchemaError>) {
        match self.compile_set(ids) {
            Ok(_) => {}
            Err(e) if ids.len() == 1 => {
                errors.insert(ids[0], e);
            }
            Err(_) => {
                let (a, b) = ids.split_at(ids.len() / 2);
                self.find_failures(a, errors);
                self.find_failures(b, errors);
            }
        }
    }

    fn compile_set(&self, ids: &[SchemaId]) -> Result<Validator, SchemaError> {
        let properties: serde_json::Map<String, serde_json::Value> = ids
            .iter()
            .map(|&id| {
                (
                    id.to_string(),
                    serde_json::json!({ "$ref": self.slots[id].reference }),
                )
            })
            .collect();
        compile(
            &self.registry,
            &serde_json::json!({ "properties": properties }),
        )
    }
}

fn uuid_format(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

fn compile(
    registry: &Registry<'static>,
    schema: &serde_json::Value,
) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry)
        .should_validate_formats(true)
        // OpenAPI documents (EnableNow's among them) say `guid` for `uuid`.
        .with_format("guid", uuid_format)
        .build(schema)
        .map_err(|e| SchemaError {
            message: e.to_string(),
        })
}

/// Builds the registry from `(base uri, document)` pairs.
pub(crate) fn registry(
    resources: Vec<(String, Arc<serde_json::Value>)>,
) -> Result<Registry<'static>, SchemaError> {
    let mut builder = Registry::new().draft(Draft::Draft202012);
    for (uri, value) in resources {
        builder = builder.add(&uri, value).map_err(|e| SchemaError {
            message: format!("cannot register {uri}: {e}"),
        })?;
    }
    builder.prepare().map_err(|e| SchemaError {
        message: e.to_string(),
    })
}
