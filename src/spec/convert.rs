//! Turns OpenAPI schema objects into plain JSON Schema 2020-12, so one
//! validator dialect serves both OpenAPI 3.0 and 3.1 documents.
//!
//! OpenAPI 3.0 schemas differ from JSON Schema in a few keywords:
//! `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`, and `$ref`
//! siblings being ignored. Both versions use `format: int32/int64`, which
//! JSON Schema does not know; we turn those into numeric bounds.
//! `readOnly`/`writeOnly` properties must not be required in requests and
//! responses respectively; [`relax_required`] makes the per-direction copies.

use serde_json::{Map, Value};

/// Whether an object key holds data rather than schemas (never rewritten).
pub fn is_data_key(key: &str) -> bool {
    // A `match` (length switch, word compares): this runs for every key
    // of every document.
    matches!(key, "example" | "examples" | "default" | "enum" | "const")
}

/// Which OpenAPI dialect a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OasVersion {
    V3_0,
    V3_1,
}

impl std::fmt::Display for OasVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OasVersion::V3_0 => "3.0",
            OasVersion::V3_1 => "3.1",
        })
    }
}

/// Rewrites a whole document in place.
/// Converts a document in place; also tells which per-direction copies the
/// converted document needs (found in the same walk, as [`would_relax`]
/// would find them: each object is looked at after its children).
pub fn convert_document(doc: &mut Value, version: OasVersion) -> Relax {
    let mut needs = Relax::default();
    walk(doc, version, &mut needs);
    needs
}

fn walk(value: &mut Value, version: OasVersion, needs: &mut Relax) {
    match value {
        Value::Object(map) => {
            rewrite_schema_object(map, version);
            for (key, child) in map.iter_mut() {
                if is_data_key(key) {
                    continue;
                }
                walk(child, version, needs);
            }
            if !needs.both() {
                note_relax_needs(map, needs);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, version, needs);
            }
        }
        _ => {}
    }
}

/// Whether this object's `required` names a `readOnly` or `writeOnly`
/// property (its `properties` and `required` found in one pass over keys).
fn note_relax_needs(map: &Map<String, Value>, needs: &mut Relax) {
    let (mut props, mut required) = (None, None);
    for (key, value) in map {
        match (key.as_str(), value) {
            ("properties", Value::Object(p)) => props = Some(p),
            ("required", Value::Array(r)) => required = Some(r),
            _ => {}
        }
    }
    let (Some(props), Some(required)) = (props, required) else {
        return;
    };
    for name in required.iter().filter_map(Value::as_str) {
        if let Some(Value::Object(s)) = props.get(name) {
            needs.read_only |= s.get("readOnly") == Some(&Value::Bool(true));
            needs.write_only |= s.get("writeOnly") == Some(&Value::Bool(true));
        }
    }
}

/// Applies the keyword rewrites to one object, if it looks like a schema.
/// Each rewrite is guarded by value types (a `nullable` that is a boolean, a
/// `format` that is a string beside `type: integer`), so a property that merely
/// happens to be *named* `nullable` is left alone.
fn rewrite_schema_object(map: &mut Map<String, Value>, version: OasVersion) {
    // Most objects hold none of the keywords rewritten below: one look at
    // the keys spares them the lookups (every object of a large document
    // passes here).
    let rewritten = |k: &String| {
        matches!(
            k.as_str(),
            "$ref" | "nullable" | "exclusiveMinimum" | "exclusiveMaximum" | "format"
        )
    };
    if !map.keys().any(rewritten) {
        return;
    }
    if version == OasVersion::V3_0 {
        // `$ref` siblings are ignored in 3.0 (but not in 3.1).
        if map.get("$ref").is_some_and(Value::is_string) && map.len() > 1 {
            map.retain(|k, _| k == "$ref");
            return;
        }
        if let Some(Value::Bool(nullable)) = map.get("nullable").cloned() {
            map.remove("nullable");
            if nullable {
                make_nullable(map);
            }
        }
        for (flag, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(Value::Bool(exclusive)) = map.get(flag).cloned() {
                map.remove(flag);
                if exclusive && let Some(limit) = map.remove(bound) {
                    map.insert(flag.to_string(), limit);
                }
            }
        }
    }
    add_integer_format_bounds(map);
}

/// `nullable: true` adds `"null"` to `type` (OAS 3.0.3: without `type` it has
/// no effect) and to `enum` when there is one.
fn make_nullable(map: &mut Map<String, Value>) {
    let Some(ty) = map.get_mut("type") else {
        return;
    };
    match ty {
        Value::String(s) => {
            let single = std::mem::take(s);
            *ty = Value::Array(vec![Value::String(single), Value::String("null".into())]);
        }
        Value::Array(types) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".into()));
            }
        }
        _ => return,
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.iter().any(Value::is_null)
    {
        values.push(Value::Null);
    }
}

fn has_type(map: &Map<String, Value>, wanted: &str) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == wanted,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == wanted),
        _ => false,
    }
}

/// `format: int32` / `int64` become `minimum`/`maximum` (kept when the schema
/// already has a stricter bound).
fn add_integer_format_bounds(map: &mut Map<String, Value>) {
    let (lo, hi): (i64, i64) = match map.get("format") {
        Some(Value::String(f)) if f == "int32" => (i32::MIN.into(), i32::MAX.into()),
        Some(Value::String(f)) if f == "int64" => (i64::MIN, i64::MAX),
        _ => return,
    };
    if !(has_type(map, "integer") || has_type(map, "number")) {
        return;
    }
    let tighter_min = map
        .get("minimum")
        .or_else(|| map.get("exclusiveMinimum"))
        .and_then(Value::as_f64)
        .is_some_and(|m| m >= lo as f64);
    if !tighter_min {
        map.insert("minimum".into(), Value::from(lo));
    }
    let tighter_max = map
        .get("maximum")
        .or_else(|| map.get("exclusiveMaximum"))
        .and_then(Value::as_f64)
        .is_some_and(|m| m <= hi as f64);
    if !tighter_max {
        map.insert("maximum".into(), Value::from(hi));
    }
}

/// Removes from every `required` list the properties whose schema carries
/// `marker: true` (`readOnly` for requests, `writeOnly` for responses).
/// Returns whether anything changed, so callers can skip an identical copy.
pub fn relax_required(value: &mut Value, marker: &str) -> bool {
    let mut changed = false;
    relax_walk(value, marker, &mut changed);
    changed
}

fn relax_walk(value: &mut Value, marker: &str, changed: &mut bool) {
    match value {
        Value::Object(map) => {
            let marked: Vec<String> = match map.get("properties") {
                Some(Value::Object(props)) => props
                    .iter()
                    .filter(|(_, s)| s.get(marker) == Some(&Value::Bool(true)))
                    .map(|(name, _)| name.clone())
                    .collect(),
                _ => Vec::new(),
            };
            if !marked.is_empty()
                && let Some(Value::Array(required)) = map.get_mut("required")
            {
                let before = required.len();
                required.retain(|r| !r.as_str().is_some_and(|r| marked.iter().any(|m| m == r)));
                *changed |= required.len() != before;
            }
            for (key, child) in map.iter_mut() {
                if !is_data_key(key) {
                    relax_walk(child, marker, changed);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| relax_walk(i, marker, changed)),
        _ => {}
    }
}

/// Whether [`relax_required`] would change anything (checked without copying
/// the document: for large specs a copy per direction is costly).
pub fn would_relax(value: &Value, marker: &str) -> bool {
    match value {
        Value::Object(map) => {
            let relaxes_here = match (map.get("properties"), map.get("required")) {
                (Some(Value::Object(props)), Some(Value::Array(required))) => {
                    required.iter().any(|r| {
                        r.as_str()
                            .and_then(|name| props.get(name))
                            .is_some_and(|s| s.get(marker) == Some(&Value::Bool(true)))
                    })
                }
                _ => false,
            };
            relaxes_here
                || map
                    .iter()
                    .any(|(k, v)| !is_data_key(k) && would_relax(v, marker))
        }
        Value::Array(items) => items.iter().any(|i| would_relax(i, marker)),
        _ => false,
    }
}

/// Which per-direction copies a document needs: whether some `required`
/// list names a `readOnly` (request copy) or `writeOnly` (response copy)
/// property.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Relax {
    pub read_only: bool,
    pub write_only: bool,
}

impl Relax {
    pub fn or(self, other: Relax) -> Relax {
        Relax {
            read_only: self.read_only || other.read_only,
            write_only: self.write_only || other.write_only,
        }
    }

    fn both(&self) -> bool {
        self.read_only && self.write_only
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv30(mut v: Value) -> Value {
        convert_document(&mut v, OasVersion::V3_0);
        v
    }

    #[test]
    fn nullable_adds_null_to_type_and_enum() {
        let v = conv30(json!({"type": "string", "nullable": true, "enum": ["a", "b"]}));
        assert_eq!(
            v,
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
    }

    #[test]
    fn nullable_false_and_untyped_nullable_are_dropped() {
        assert_eq!(
            conv30(json!({"type": "string", "nullable": false})),
            json!({"type": "string"})
        );
        assert_eq!(conv30(json!({"nullable": true})), json!({}));
    }

    #[test]
    fn boolean_exclusive_bounds_become_numeric() {
        let v = conv30(
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true,
                              "maximum": 10, "exclusiveMaximum": false}),
        );
        assert_eq!(
            v,
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 10})
        );
    }

    #[test]
    fn ref_siblings_are_ignored_in_30_but_kept_in_31() {
        let doc = json!({"$ref": "#/x", "description": "d", "type": "string"});
        assert_eq!(conv30(doc.clone()), json!({"$ref": "#/x"}));
        let mut v31 = doc.clone();
        convert_document(&mut v31, OasVersion::V3_1);
        assert_eq!(v31, doc);
    }

    #[test]
    fn int32_format_gets_bounds_but_keeps_tighter_ones() {
        let v = conv30(json!({"type": "integer", "format": "int32", "minimum": 1}));
        assert_eq!(v["minimum"], json!(1));
        assert_eq!(v["maximum"], json!(i32::MAX));
        let v = conv30(json!({"type": "integer", "format": "int64"}));
        assert_eq!(v["minimum"], json!(i64::MIN));
    }

    #[test]
    fn property_named_nullable_is_not_a_keyword() {
        let v = conv30(json!({"type": "object", "properties": {"nullable": {"type": "boolean"}}}));
        assert_eq!(v["properties"]["nullable"], json!({"type": "boolean"}));
    }

    #[test]
    fn examples_are_left_alone() {
        let v = conv30(json!({"type": "object", "example": {"type": "x", "nullable": true}}));
        assert_eq!(v["example"], json!({"type": "x", "nullable": true}));
    }

    #[test]
    fn conversion_finds_both_relax_markers_as_would_relax_does() {
        let none = json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}},
            "example": {"required": ["x"], "properties": {"x": {"readOnly": true}}}});
        let read =
            json!({"paths": {"/x": {"required": ["a"], "properties": {"a": {"readOnly": true}}}}});
        let both =
            json!([read.clone(), {"required": ["b"], "properties": {"b": {"writeOnly": true}}}]);
        for v in [&none, &read, &both] {
            let r = convert_document(&mut v.clone(), OasVersion::V3_1);
            assert_eq!(r.read_only, would_relax(v, "readOnly"), "{v}");
            assert_eq!(r.write_only, would_relax(v, "writeOnly"), "{v}");
        }
        assert_eq!(
            convert_document(&mut both.clone(), OasVersion::V3_1),
            Relax {
                read_only: true,
                write_only: true
            }
        );
    }

    #[test]
    fn read_only_properties_are_not_required_in_requests() {
        let mut v = json!({"type": "object", "required": ["id", "name"],
            "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}});
        assert!(would_relax(&v, "readOnly"));
        assert!(!would_relax(&v, "writeOnly"));
        assert!(relax_required(&mut v, "readOnly"));
        assert!(!would_relax(&v, "readOnly"));
        assert_eq!(v["required"], json!(["name"]));
        assert!(!relax_required(&mut v, "writeOnly"));
    }
}
