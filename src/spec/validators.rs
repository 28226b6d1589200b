//! Schema validators, compiled once on first use and shared by every step.
//!
//! All documents of a spec sit in one prepared jsonschema registry, each
//! under a made-up base URI, so `$ref`s between files resolve without I/O.
//! A validator is a one-line wrapper `{"$ref": "<uri>#<pointer>"}`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

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
    compiled: OnceLock<Result<Validator, SchemaError>>,
}

/// The validator table of one spec.
pub struct Validators {
    registry: Arc<Registry<'static>>,
    slots: Vec<Slot>,
    index: HashMap<String, SchemaId>,
}

impl Validators {
    pub(crate) fn new(registry: Registry<'static>) -> Self {
        Validators {
            registry: Arc::new(registry),
            slots: Vec::new(),
            index: HashMap::new(),
        }
    }

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
            compiled: OnceLock::new(),
        });
        self.index.insert(reference, id);
        id
    }

    pub fn len(&self) -> usize {
        self.slots.len()
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

    pub fn get(&self, id: SchemaId) -> Result<&Validator, &SchemaError> {
        let slot = &self.slots[id];
        slot.compiled
            .get_or_init(|| compile(&self.registry, &slot.reference))
            .as_ref()
    }

    /// Compiles every validator, on all cores (each slot compiles once
    /// whichever thread gets to it first).
    pub fn compile_all(&self) -> Vec<(SchemaId, &SchemaError)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| {
                    loop {
                        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if id >= self.slots.len() {
                            break;
                        }
                        let _ = self.get(id);
                    }
                });
            }
            loop {
                let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if id >= self.slots.len() {
                    break;
                }
                let _ = self.get(id);
            }
        });
        (0..self.slots.len())
            .filter_map(|id| self.get(id).err().map(|e| (id, e)))
            .collect()
    }
}

fn uuid_format(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

fn compile(registry: &Registry<'static>, reference: &str) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry)
        .should_validate_formats(true)
        // OpenAPI documents (EnableNow's among them) say `guid` for `uuid`.
        .with_format("guid", uuid_format)
        .build(&serde_json::json!({ "$ref": reference }))
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
