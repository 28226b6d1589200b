//! `$ref` resolution and `allOf` flattening over a spec's converted
//! documents, so the generators see one plain schema object per node.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::CannotGenerate;
use crate::spec::Spec;

/// How many `$ref`s one chain may follow before it is called a cycle.
const MAX_REF_CHAIN: usize = 32;

/// Keywords that only annotate: a `$ref` beside them is still a plain `$ref`.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "deprecated",
    "$comment",
    "externalDocs",
    "xml",
    "discriminator",
];

/// Resolves `$ref`s between the documents of one spec.
pub struct Resolver<'s> {
    spec: &'s Spec,
    canonical: Vec<Option<PathBuf>>,
}

impl<'s> Resolver<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        let canonical = spec
            .documents
            .iter()
            .map(|d| d.file.canonicalize().ok())
            .collect();
        Resolver { spec, canonical }
    }

    pub fn spec(&self) -> &'s Spec {
        self.spec
    }

    /// The schema a `$ref` names, relative to document `doc`.
    pub fn target(
        &self,
        doc: usize,
        reference: &str,
    ) -> Result<(usize, &'s Value), CannotGenerate> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if file.is_empty() {
            doc
        } else {
            self.document_of(doc, file).ok_or_else(|| {
                CannotGenerate::new(format!("$ref `{reference}`: file not loaded"))
            })?
        };
        let pointer = percent_decode_str(fragment).decode_utf8_lossy();
        let root = &self
            .spec
            .documents
            .get(doc)
            .ok_or_else(|| CannotGenerate::new(format!("$ref `{reference}`: no document")))?
            .value;
        let value = if pointer.is_empty() {
            Some(root.as_ref())
        } else {
            root.pointer(&pointer)
        };
        value
            .map(|v| (doc, v))
            .ok_or_else(|| CannotGenerate::new(format!("$ref `{reference}` does not resolve")))
    }

    fn document_of(&self, from: usize, file: &str) -> Option<usize> {
        let base = self.canonical.get(from)?.as_ref()?.parent()?;
        let decoded = percent_decode_str(file).decode_utf8_lossy().to_string();
        let target = Path::new(base).join(decoded).canonicalize().ok()?;
        self.canonical
            .iter()
            .position(|c| c.as_ref() == Some(&target))
    }

    /// Follows a chain of plain `$ref`s (annotations beside them ignored).
    pub fn follow<'v>(
        &self,
        doc: usize,
        schema: &'v Value,
    ) -> Result<(usize, Cow<'v, Value>), CannotGenerate>
    where
        's: 'v,
    {
        let mut doc = doc;
        let mut current: &'v Value = schema;
        for _ in 0..MAX_REF_CHAIN {
            let Some(map) = current.as_object() else {
                return Ok((doc, Cow::Borrowed(current)));
            };
            let Some(Value::String(reference)) = map.get("$ref") else {
                return Ok((doc, Cow::Borrowed(current)));
            };
            if map
                .keys()
                .any(|k| k != "$ref" && !ANNOTATIONS.contains(&k.as_str()))
            {
                // 3.1: `$ref` with siblings means both apply.
                let mut rest = constraints(map);
                rest.remove("$ref");
                let mut wrapper = Map::new();
                wrapper.insert(
                    "allOf".into(),
                    Value::Array(vec![
                        serde_json::json!({ "$ref": reference }),
                        Value::Object(rest),
                    ]),
                );
                return Ok((doc, Cow::Owned(Value::Object(wrapper))));
            }
            let (next_doc, next) = self.target(doc, reference)?;
            doc = next_doc;
            current = next;
        }
        Err(CannotGenerate::new(
            "$ref chain too long (a cycle of plain $refs)",
        ))
    }

    /// Resolves `$ref`s and merges `allOf` members into one schema object.
    /// `depth` bounds nested flattening (recursive `allOf`s).
    pub fn flatten<'v>(
        &self,
        doc: usize,
        schema: &'v Value,
        depth: usize,
    ) -> Result<(usize, Cow<'v, Value>), CannotGenerate>
    where
        's: 'v,
    {
        if depth > super::HARD_DEPTH {
            return Err(CannotGenerate::new(
                "recursive schema: allOf nesting has no end",
            ));
        }
        let (doc, schema) = self.follow(doc, schema)?;
        let Some(map) = schema.as_object() else {
            return Ok((doc, schema));
        };
        let Some(Value::Array(members)) = map.get("allOf") else {
            return Ok((doc, schema));
        };
        let mut merged = constraints(map);
        merged.remove("allOf");
        for member in members {
            let (_, flat) = self.flatten(doc, member, depth + 1)?;
            match flat.as_ref() {
                Value::Bool(true) => {}
                Value::Bool(false) => {
                    return Err(CannotGenerate::new("allOf holds the `false` schema"));
                }
                Value::Object(m) => merge_into(&mut merged, m),
                _ => {}
            }
        }
        Ok((doc, Cow::Owned(Value::Object(merged))))
    }
}

/// Merges schema `b` into `a` as an intersection (`allOf` of both).
pub fn merge_into(a: &mut Map<String, Value>, b: &Map<String, Value>) {
    for (key, value) in b {
        if is_annotation(key) {
            continue;
        }
        let Some(existing) = a.get_mut(key) else {
            a.insert(key.clone(), value.clone());
            continue;
        };
        match key.as_str() {
            "properties" => {
                if let (Value::Object(pa), Value::Object(pb)) = (existing, value) {
                    for (name, sb) in pb {
                        match pa.get_mut(name) {
                            Some(sa) => {
                                let both = serde_json::json!({ "allOf": [sa.clone(), sb.clone()] });
                                *sa = both;
                            }
                            None => {
                                pa.insert(name.clone(), sb.clone());
                            }
                        }
                    }
                }
            }
            "required" => {
                if let (Value::Array(ra), Value::Array(rb)) = (existing, value) {
                    for r in rb {
                        if !ra.contains(r) {
                            ra.push(r.clone());
                        }
                    }
                }
            }
            "type" => *existing = intersect_types(existing, value),
            "minimum" | "exclusiveMinimum" | "minLength" | "minItems" | "minProperties"
                if value.as_f64() > existing.as_f64() =>
            {
                *existing = value.clone();
            }
            "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" | "maxProperties"
                if value.as_f64() < existing.as_f64() =>
            {
                *existing = value.clone();
            }
            "enum" => {
                if let (Value::Array(ea), Value::Array(eb)) = (&*existing, value) {
                    let both: Vec<Value> = ea.iter().filter(|v| eb.contains(v)).cloned().collect();
                    *existing = Value::Array(both);
                }
            }
            "additionalProperties" if value == &Value::Bool(false) => {
                *existing = Value::Bool(false);
            }
            "items" | "oneOf" | "anyOf" | "not" => {
                // Keep both as a residual allOf, resolved when generating.
                let mut residue = Map::new();
                residue.insert(key.clone(), value.clone());
                match a.get_mut("allOf") {
                    Some(Value::Array(list)) => list.push(Value::Object(residue)),
                    _ => {
                        a.insert("allOf".into(), Value::Array(vec![Value::Object(residue)]));
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_annotation(key: &str) -> bool {
    ANNOTATIONS.contains(&key)
}

/// A schema object without its annotations: what a merge or a generator
/// reads. Flattening runs once per generated value, and cloning long
/// `description`s and `examples` into every merged copy cost more than the
/// merge itself.
pub fn constraints(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| !is_annotation(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn type_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn intersect_types(a: &Value, b: &Value) -> Value {
    let la = type_list(a);
    let lb = type_list(b);
    let mut out: Vec<Value> = Vec::new();
    for t in &la {
        let keep = lb.contains(t) || (t == "integer" && lb.iter().any(|x| x == "number"));
        if keep {
            out.push(Value::String(t.clone()));
        } else if t == "number" && lb.iter().any(|x| x == "integer") {
            out.push(Value::String("integer".into()));
        }
    }
    match out.len() {
        1 => out.swap_remove(0),
        _ => Value::Array(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_intersects_bounds_types_and_required() {
        let mut a = json!({"type": ["string", "null"], "minLength": 2, "required": ["a"],
            "properties": {"a": {"type": "string"}}})
        .as_object()
        .cloned()
        .unwrap_or_default();
        let b = json!({"type": "string", "minLength": 5, "maxLength": 9, "required": ["b"],
            "properties": {"a": {"maxLength": 3}, "b": {"type": "integer"}}});
        merge_into(&mut a, b.as_object().unwrap_or(&Map::new()));
        assert_eq!(a["type"], json!("string"));
        assert_eq!(a["minLength"], json!(5));
        assert_eq!(a["maxLength"], json!(9));
        assert_eq!(a["required"], json!(["a", "b"]));
        assert_eq!(
            a["properties"]["a"],
            json!({"allOf": [{"type": "string"}, {"maxLength": 3}]})
        );
    }
}
