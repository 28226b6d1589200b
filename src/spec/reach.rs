//! Which broken `$ref`s an operation depends on. A local `$ref` to nothing
//! is only a warning at load (the schema holding it is emptied, the rest of
//! the spec enforced), but a run whose cases use that schema would check
//! nothing there and blame the target for whatever follows: such a run is
//! refused before its first request instead.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::{Spec, load::canonical_name, source};
use crate::diag::Diagnostic;

/// A local `$ref` that names nothing, found at load.
#[derive(Debug, Clone)]
pub struct BrokenRef {
    /// Document index in `Spec::documents`.
    pub doc: usize,
    /// JSON pointer of the schema that held the `$ref` (now empty).
    pub schema: String,
    /// The load warning, with file:line:column.
    pub warning: Diagnostic,
}

impl Spec {
    /// The broken `$ref`s inside the schemas of an operation (parameters,
    /// request body, responses and their headers), following `$ref`s across
    /// documents. Empty at once when the spec has none.
    pub fn broken_refs_used_by(&self, operation: usize) -> Vec<&BrokenRef> {
        let Some(op) = self.operations.get(operation) else {
            return Vec::new();
        };
        if self.broken_refs.is_empty() {
            return Vec::new();
        }
        let starts = op.schema_ids().map(|id| {
            (
                self.validators.document(id),
                self.validators.pointer(id).to_string(),
            )
        });
        let reached = Walk::new(self).run(starts);
        self.broken_refs
            .iter()
            .filter(|b| {
                reached
                    .iter()
                    .any(|(doc, at)| *doc == b.doc && contains(at, &b.schema))
            })
            .collect()
    }
}

/// Whether the JSON pointer `inner` lies at or below `outer`.
fn contains(outer: &str, inner: &str) -> bool {
    inner == outer || (inner.starts_with(outer) && inner[outer.len()..].starts_with('/'))
}

/// A walk over schemas and everything their `$ref`s reach.
struct Walk<'s> {
    spec: &'s Spec,
    /// `(document, file part of a $ref)` -> the document it names.
    files: HashMap<(usize, String), Option<usize>>,
}

impl<'s> Walk<'s> {
    fn new(spec: &'s Spec) -> Self {
        Walk {
            spec,
            files: HashMap::new(),
        }
    }

    /// Every `(document, pointer)` of a schema reached from `starts`.
    fn run(mut self, starts: impl Iterator<Item = (usize, String)>) -> HashSet<(usize, String)> {
        let mut seen: HashSet<(usize, String)> = HashSet::new();
        let mut todo: Vec<(usize, String)> = starts.collect();
        while let Some((doc, pointer)) = todo.pop() {
            if !seen.insert((doc, pointer.clone())) {
                continue;
            }
            let Some(value) = self.value(doc, &pointer) else {
                continue;
            };
            let mut refs = Vec::new();
            collect_refs(value, &mut refs);
            for reference in refs {
                if let Some(target) = self.resolve(doc, reference) {
                    todo.push(target);
                }
            }
        }
        seen
    }

    fn value(&self, doc: usize, pointer: &str) -> Option<&'s Value> {
        let value: &'s Value = &self.spec.documents.get(doc)?.value;
        if pointer.is_empty() {
            Some(value)
        } else {
            value.pointer(pointer)
        }
    }

    /// The `(document, pointer)` a `$ref` names, when it names one.
    fn resolve(&mut self, from: usize, reference: &str) -> Option<(usize, String)> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if file.is_empty() {
            from
        } else {
            let key = (from, file.to_string());
            if let Some(known) = self.files.get(&key) {
                (*known)?
            } else {
                let found = self.document_named(from, file);
                self.files.insert(key, found);
                found?
            }
        };
        let pointer = percent_decode_str(fragment).decode_utf8_lossy().to_string();
        (pointer.is_empty() || pointer.starts_with('/')).then_some((doc, pointer))
    }

    fn document_named(&self, from: usize, file: &str) -> Option<usize> {
        let base = &self.spec.documents.get(from)?.canonical;
        let joined: PathBuf = source::join_reference(base, file);
        let target = canonical_name(&joined).ok()?;
        self.spec
            .documents
            .iter()
            .position(|d| d.canonical == target)
    }
}

/// The `$ref` strings in a schema and its subschemas (not inside example
/// values, which may hold any JSON).
fn collect_refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    ("example" | "examples" | "default" | "enum" | "const", _) => {}
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder removed when dropped.
    struct Dir(PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn spec_with(schemas: &str, used: &str) -> (Dir, Spec) {
        let dir = Dir(std::env::temp_dir().join(format!(
            "apiconform-reach-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        )));
        std::fs::create_dir_all(&dir.0).expect("temp dir");
        let text = format!(
            r##"openapi: 3.0.3
info: {{title: t, version: "1"}}
paths:
  /a:
    get:
      operationId: getA
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/{used}"}}
  /b:
    get:
      operationId: getB
      responses:
        "204": {{description: none}}
components:
  schemas:
{schemas}
"##
        );
        let path = dir.0.join("openapi.yaml");
        std::fs::write(&path, text).expect("write spec");
        let spec = crate::spec::load(&path).expect("spec loads");
        (dir, spec)
    }

    #[test]
    fn a_broken_ref_deep_in_a_used_schema_is_found() {
        let (_d, spec) = spec_with(
            "    A: {type: object, properties: {b: {$ref: \"#/components/schemas/B\"}}}\n    B: {type: array, items: {$ref: \"#/components/schemas/Missing\"}}",
            "A",
        );
        assert_eq!(spec.broken_refs.len(), 1);
        let a = spec.operation_index_by_id("getA").expect("getA");
        let b = spec.operation_index_by_id("getB").expect("getB");
        let used = spec.broken_refs_used_by(a);
        assert_eq!(used.len(), 1);
        assert_eq!(used[0].schema, "/components/schemas/B/items");
        assert!(used[0].warning.to_string().contains("Missing"));
        assert!(spec.broken_refs_used_by(b).is_empty());
    }

    #[test]
    fn a_broken_ref_elsewhere_is_not_used() {
        let (_d, spec) = spec_with(
            "    A: {type: object}\n    Other: {$ref: \"#/components/schemas/Missing\"}",
            "A",
        );
        assert_eq!(spec.broken_refs.len(), 1);
        let a = spec.operation_index_by_id("getA").expect("getA");
        assert!(spec.broken_refs_used_by(a).is_empty());
    }

    #[test]
    fn cycles_end() {
        let (_d, spec) = spec_with(
            "    A: {type: object, properties: {self: {$ref: \"#/components/schemas/A\"}, x: {$ref: \"#/components/schemas/Gone\"}}}",
            "A",
        );
        let a = spec.operation_index_by_id("getA").expect("getA");
        assert_eq!(spec.broken_refs_used_by(a).len(), 1);
    }

    #[test]
    fn pointer_containment_is_by_segment() {
        assert!(contains("/a/b", "/a/b"));
        assert!(contains("/a/b", "/a/b/c"));
        assert!(!contains("/a/b", "/a/bc"));
        assert!(contains("", "/a"));
    }
}
