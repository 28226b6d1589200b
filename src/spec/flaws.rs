//! Local flaws in a description's schemas: a keyword value the JSON Schema
//! meta-schema refuses (`minLength: -1`, `required: [0]`, `enum: 0`), a
//! `pattern` that cannot run, a local `$ref` to nothing. The validator
//! refuses a whole schema, and every schema referring to it, for one such
//! keyword; we remove just that keyword (or replace the broken `$ref` by an
//! empty schema) and report a warning naming its JSON pointer, so the rest of
//! the description stays enforced.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::escape_token;
use super::pattern::{Fate, Patterns};

/// One flaw: where it is and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flaw {
    /// JSON pointer of the offending keyword in its document.
    pub pointer: String,
    pub message: String,
    /// A local `$ref` to nothing: the schema holding it was emptied, so a
    /// case that uses it would check nothing there (see `Spec::broken_refs`).
    pub broken_ref: bool,
}

/// Keywords whose value is one schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];

/// Keywords whose value is an object of schemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// Keywords whose value is a non-empty array of schemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// How many keywords hold subschemas (the three lists above).
const SUBSCHEMA_KEYWORDS: usize = 21;

/// The position of a subschema keyword in `SCHEMA_KEYWORDS`, then
/// `SCHEMA_MAP_KEYWORDS`, then `SCHEMA_LIST_KEYWORDS` (a `match`, which
/// compiles to a length switch and word compares, not a call per keyword).
fn subschema_rank(key: &str) -> Option<usize> {
    Some(match key {
        "items" => 0,
        "additionalProperties" => 1,
        "not" => 2,
        "if" => 3,
        "then" => 4,
        "else" => 5,
        "contains" => 6,
        "propertyNames" => 7,
        "unevaluatedItems" => 8,
        "unevaluatedProperties" => 9,
        "additionalItems" => 10,
        "contentSchema" => 11,
        "properties" => 12,
        "patternProperties" => 13,
        "$defs" => 14,
        "definitions" => 15,
        "dependentSchemas" => 16,
        "allOf" => 17,
        "anyOf" => 18,
        "oneOf" => 19,
        "prefixItems" => 20,
        _ => return None,
    })
}

#[cfg(test)]
const NON_NEGATIVE_INTEGERS: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];

#[cfg(test)]
const NUMBERS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

#[cfg(test)]
const STRINGS: &[&str] = &[
    "format",
    "$ref",
    "$id",
    "$anchor",
    "$dynamicRef",
    "title",
    "description",
];

#[cfg(test)]
const BOOLEANS: &[&str] = &["uniqueItems", "readOnly", "writeOnly", "deprecated"];

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// What the meta-schema requires of a keyword's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    NonNegative,
    Number,
    MultipleOf,
    Text,
    Boolean,
    Type,
    Enum,
    Required,
    Pattern,
    Examples,
    SchemaMap,
    SchemaList,
    Items,
    Other,
}

/// The class of a keyword: one `match` (every key of every schema of a
/// large description passes here; scanning the keyword lists cost more).
/// The unit test keeps it in step with the lists above.
fn class(keyword: &str) -> Class {
    match keyword {
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties"
        | "minContains" | "maxContains" => Class::NonNegative,
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => Class::Number,
        "multipleOf" => Class::MultipleOf,
        "format" | "$ref" | "$id" | "$anchor" | "$dynamicRef" | "title" | "description" => {
            Class::Text
        }
        "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" => Class::Boolean,
        "type" => Class::Type,
        "enum" => Class::Enum,
        "required" => Class::Required,
        "pattern" => Class::Pattern,
        "examples" => Class::Examples,
        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
            Class::SchemaMap
        }
        "allOf" | "anyOf" | "oneOf" | "prefixItems" => Class::SchemaList,
        "items" => Class::Items,
        _ => Class::Other,
    }
}

/// Finds and repairs the flaws of one converted OpenAPI document in place.
pub fn repair(doc: &mut Value, patterns: &mut Patterns) -> Vec<Flaw> {
    let mut walker = Walker {
        patterns,
        flaws: Vec::new(),
        refs: Vec::new(),
    };
    let mut pointer = String::new();
    walker.document(doc, &mut pointer);
    let Walker {
        mut flaws, refs, ..
    } = walker;
    // Local `$ref`s that name nothing: the schema holding them becomes `{}`.
    // Each target is looked up once (a popular type is named thousands of times).
    let mut broken: HashMap<&str, bool> = HashMap::new();
    for (_, reference) in &refs {
        broken.entry(reference.as_str()).or_insert_with(|| {
            let Some(fragment) = reference.strip_prefix('#') else {
                return false;
            };
            let target = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
            let resolves = target.is_empty() || doc.pointer(&target).is_some();
            !resolves && target.starts_with('/')
        });
    }
    let broken: HashSet<String> = broken
        .into_iter()
        .filter(|(_, b)| *b)
        .map(|(r, _)| r.to_string())
        .collect();
    for (at, reference) in refs {
        if !broken.contains(&reference) {
            continue;
        }
        if let Some(Value::Object(schema)) = doc.pointer_mut(&at) {
            schema.clear();
        }
        flaws.push(Flaw {
            pointer: format!("{at}/$ref"),
            message: format!(
                "$ref `{reference}` names nothing in this document; the schema is not enforced"
            ),
            broken_ref: true,
        });
    }
    flaws
}

struct Walker<'p> {
    patterns: &'p mut Patterns,
    flaws: Vec<Flaw>,
    /// `(pointer of the schema, $ref)` for every local reference seen.
    refs: Vec<(String, String)>,
}

fn push(pointer: &mut String, token: &str) -> usize {
    let len = pointer.len();
    super::push_token(pointer, token);
    len
}

impl Walker<'_> {
    /// Walks OpenAPI structure (not schemas); every `schema` value and every
    /// entry of `components/schemas` / `definitions` is a schema root.
    fn document(&mut self, value: &mut Value, pointer: &mut String) {
        match value {
            Value::Object(map) => {
                let in_schemas =
                    pointer.ends_with("/components/schemas") || pointer == "/definitions";
                for (key, child) in map.iter_mut() {
                    // Vendor extensions (`x-...`) are not read as OpenAPI.
                    if super::convert::is_data_key(key) || (!in_schemas && key.starts_with("x-")) {
                        continue;
                    }
                    let len = push(pointer, key);
                    if in_schemas || key == "schema" {
                        self.schema(child, pointer);
                    } else {
                        self.document(child, pointer);
                    }
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = push(pointer, &i.to_string());
                    self.document(item, pointer);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn flaw(&mut self, pointer: &str, keyword: &str, message: String) {
        self.flaws.push(Flaw {
            pointer: format!("{pointer}/{}", escape_token(keyword)),
            message,
            broken_ref: false,
        });
    }

    /// Checks one schema and recurses into its subschemas.
    fn schema(&mut self, value: &mut Value, pointer: &mut String) {
        let map = match value {
            Value::Object(map) => map,
            Value::Bool(_) => return,
            other => {
                self.flaws.push(Flaw {
                    pointer: pointer.clone(),
                    message: format!(
                        "a schema must be an object or a boolean, found {}; not enforced",
                        kind(other)
                    ),
                    broken_ref: false,
                });
                *other = Value::Bool(true);
                return;
            }
        };
        if let Some(Value::String(r)) = map.get("$ref")
            && r.starts_with('#')
        {
            self.refs.push((pointer.clone(), r.clone()));
        }
        self.keywords(map, pointer);
        if let Some(Value::Array(branches)) = map.get("oneOf")
            && let Some(message) = overlapping_branches(branches)
        {
            self.flaw(pointer, "oneOf", message);
        }
        // Which subschema keywords are present, found in one pass over the
        // keys (a lookup per keyword compared every key ~20 times); they are
        // still visited in the lists' order, so flaws keep their order.
        let mut present = [false; SUBSCHEMA_KEYWORDS];
        for key in map.keys() {
            if let Some(rank) = subschema_rank(key) {
                present[rank] = true;
            }
        }
        if !present.contains(&true) {
            return;
        }
        let (single, rest) = present.split_at(SCHEMA_KEYWORDS.len());
        let (maps, lists) = rest.split_at(SCHEMA_MAP_KEYWORDS.len());
        fn wanted<'p>(
            keys: &'static [&'static str],
            present: &'p [bool],
        ) -> impl Iterator<Item = &'static str> + 'p {
            keys.iter()
                .zip(present)
                .filter(|(_, p)| **p)
                .map(|(k, _)| *k)
        }
        for key in wanted(SCHEMA_KEYWORDS, single) {
            if let Some(child) = map.get_mut(key) {
                let len = push(pointer, key);
                self.schema(child, pointer);
                pointer.truncate(len);
            }
        }
        for key in wanted(SCHEMA_MAP_KEYWORDS, maps) {
            if let Some(Value::Object(children)) = map.get_mut(key) {
                let len = push(pointer, key);
                for (name, child) in children.iter_mut() {
                    let inner = push(pointer, name);
                    self.schema(child, pointer);
                    pointer.truncate(inner);
                }
                pointer.truncate(len);
            }
        }
        for key in wanted(SCHEMA_LIST_KEYWORDS, lists) {
            if let Some(Value::Array(children)) = map.get_mut(key) {
                let len = push(pointer, key);
                for (i, child) in children.iter_mut().enumerate() {
                    let inner = push(pointer, &i.to_string());
                    self.schema(child, pointer);
                    pointer.truncate(inner);
                }
                pointer.truncate(len);
            }
        }
    }

    /// Removes keyword values the 2020-12 meta-schema refuses.
    fn keywords(&mut self, map: &mut Map<String, Value>, pointer: &str) {
        let mut bad: Vec<(String, String)> = Vec::new();
        for (key, value) in map.iter() {
            let k = key.as_str();
            let problem = match class(k) {
                Class::NonNegative => (value.as_u64().is_none() && !is_whole_non_negative(value))
                    .then(|| format!("`{k}` must be a non-negative integer, found {value}")),
                Class::Number => {
                    (!value.is_number()).then(|| format!("`{k}` must be a number, found {value}"))
                }
                Class::MultipleOf => (!value.as_f64().is_some_and(|n| n > 0.0))
                    .then(|| format!("`multipleOf` must be a number above 0, found {value}")),
                Class::Text => {
                    (!value.is_string()).then(|| format!("`{k}` must be a string, found {value}"))
                }
                Class::Boolean => (!value.is_boolean())
                    .then(|| format!("`{k}` must be true or false, found {value}")),
                Class::Type => type_problem(value),
                Class::Enum => (!value.is_array())
                    .then(|| format!("`enum` must be a list of values, found {value}")),
                Class::Required => required_problem(value),
                Class::Pattern => (!value.is_string())
                    .then(|| format!("`pattern` must be a string, found {value}")),
                Class::Examples => (!value.is_array()).then(|| {
                    format!(
                        "`examples` in a schema must be a list, found {}",
                        kind(value)
                    )
                }),
                Class::SchemaMap => (!value.is_object())
                    .then(|| format!("`{k}` must map names to schemas, found {}", kind(value))),
                Class::SchemaList => match value {
                    Value::Array(items) if !items.is_empty() => None,
                    _ => Some(format!(
                        "`{k}` must be a non-empty list of schemas, found {value}"
                    )),
                },
                Class::Items if value.is_array() => {
                    Some("`items` must be one schema (a list of schemas is `prefixItems`)".into())
                }
                Class::Items | Class::Other => None,
            };
            if let Some(problem) = problem {
                bad.push((key.clone(), problem));
            }
        }
        for (key, problem) in bad {
            map.remove(&key);
            self.flaw(
                pointer,
                &key,
                format!("{problem}; the keyword is not enforced"),
            );
        }
        if let Some(Value::String(p)) = map.get("pattern") {
            match self.patterns.fate(p) {
                Fate::Kept => {}
                Fate::Translated(t) => {
                    map.insert("pattern".into(), Value::String(t));
                }
                Fate::Dropped => {
                    let message = format!(
                        "pattern `{p}` is not a regular expression the validator can run (nor a Java, .NET, PCRE or Ruby form it could be translated from); it is not enforced"
                    );
                    map.remove("pattern");
                    self.flaw(pointer, "pattern", message);
                }
            }
        }
        if let Some(Value::Object(props)) = map.get_mut("patternProperties") {
            let keys: Vec<String> = props.keys().cloned().collect();
            for key in keys {
                match self.patterns.fate(&key) {
                    Fate::Kept => {}
                    Fate::Translated(t) => {
                        if let Some(v) = props.remove(&key) {
                            props.insert(t, v);
                        }
                    }
                    Fate::Dropped => {
                        props.remove(&key);
                        self.flaws.push(Flaw {
                            pointer: format!("{pointer}/patternProperties/{}", escape_token(&key)),
                            message: format!(
                                "patternProperties key `{key}` is not a regular expression the validator can run; those properties are not checked"
                            ),
                            broken_ref: false,
                        });
                    }
                }
            }
        }
    }
}

/// The types a branch accepts when it constrains nothing but its type
/// (annotations aside); `None` for a branch that constrains more.
fn bare_types(branch: &Value) -> Option<Vec<&str>> {
    let map = branch.as_object()?;
    let annotation = |k: &str| {
        matches!(
            k,
            "type"
                | "title"
                | "description"
                | "example"
                | "examples"
                | "deprecated"
                | "readOnly"
                | "writeOnly"
        )
    };
    if !map.keys().all(|k| annotation(k)) {
        return None;
    }
    match map.get("type")? {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => ts.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Two `oneOf` branches that accept the same values (`{type: integer}` and
/// `{type: number}` both take `7`): such a value fails the `oneOf`.
fn overlapping_branches(branches: &[Value]) -> Option<String> {
    let types: Vec<Option<Vec<&str>>> = branches.iter().map(bare_types).collect();
    let accepts =
        |set: &[&str], t: &str| set.contains(&t) || (t == "integer" && set.contains(&"number"));
    for (i, a) in types.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in types.iter().enumerate().skip(i + 1) {
            let Some(b) = b else { continue };
            let shared = [
                "integer", "number", "string", "boolean", "null", "array", "object",
            ]
            .into_iter()
            .find(|t| accepts(a, t) && accepts(b, t));
            if let Some(t) = shared {
                let example = match t {
                    "integer" | "number" => "7",
                    "string" => "\"x\"",
                    "boolean" => "true",
                    "null" => "null",
                    "array" => "[]",
                    _ => "{}",
                };
                return Some(format!(
                    "`oneOf` branches #{i} ({}) and #{j} ({}) overlap: a value valid under both, such as {example}, fails the `oneOf` (`anyOf` may be what is meant); enforced as written",
                    a.join(", "),
                    b.join(", ")
                ));
            }
        }
    }
    None
}

fn is_whole_non_negative(value: &Value) -> bool {
    value.as_f64().is_some_and(|n| n >= 0.0 && n.fract() == 0.0)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn type_problem(value: &Value) -> Option<String> {
    let ok = |t: &Value| t.as_str().is_some_and(|t| TYPES.contains(&t));
    let fine = match value {
        Value::String(_) => ok(value),
        Value::Array(items) => {
            items.iter().all(ok)
                && items
                    .iter()
                    .enumerate()
                    .all(|(i, t)| !items[..i].contains(t))
        }
        _ => false,
    };
    (!fine).then(|| {
        format!(
            "`type` must be one of {} (or a list of them), found {value}",
            TYPES.join(", ")
        )
    })
}

fn required_problem(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let dup = items
                .iter()
                .enumerate()
                .find(|(i, t)| items[..*i].contains(t));
            dup.map(|(_, t)| format!("`required` lists {t} twice"))
        }
        _ => Some(format!(
            "`required` must be a list of property names, found {value}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subschema_ranks_follow_the_keyword_lists() {
        let all: Vec<&str> = SCHEMA_KEYWORDS
            .iter()
            .chain(SCHEMA_MAP_KEYWORDS)
            .chain(SCHEMA_LIST_KEYWORDS)
            .copied()
            .collect();
        assert_eq!(all.len(), SUBSCHEMA_KEYWORDS);
        for (i, key) in all.iter().enumerate() {
            assert_eq!(subschema_rank(key), Some(i), "{key}");
        }
        assert_eq!(subschema_rank("type"), None);
    }

    #[test]
    fn the_keyword_classes_match_the_keyword_lists() {
        let lists: [(&[&str], Class); 7] = [
            (NON_NEGATIVE_INTEGERS, Class::NonNegative),
            (NUMBERS, Class::Number),
            (STRINGS, Class::Text),
            (BOOLEANS, Class::Boolean),
            (SCHEMA_MAP_KEYWORDS, Class::SchemaMap),
            (SCHEMA_LIST_KEYWORDS, Class::SchemaList),
            (&["multipleOf"], Class::MultipleOf),
        ];
        for (list, expected) in lists {
            for k in list {
                assert_eq!(class(k), expected, "{k}");
            }
        }
        assert_eq!(class("items"), Class::Items);
        assert_eq!(class("nullable"), Class::Other);
        assert_eq!(class("minlength"), Class::Other);
    }

    #[test]
    fn meta_schema_breaches_are_removed_keyword_by_keyword() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
                "type": "object",
                "required": [0],
                "properties": {
                    "type": {"type": "string", "enum": 0},
                    "n": {"type": "integer", "minimum": "1", "maxLength": -1},
                    "tags": {"type": "array", "items": [{"type": "string"}]}
                }
            }}}}}}}},
            "components": {"schemas": {
                "B": {"type": "object", "minProperties": -3, "allOf": []},
                "C": "string",
                "D": {"$ref": "#/components/schemas/Missing"},
                "E": {"$ref": "#/components/schemas/B"},
                "F": {"type": "strin"}
            }}
        });
        let flaws = repair(&mut doc, &mut Patterns::default());
        let mut pointers: Vec<&str> = flaws.iter().map(|f| f.pointer.as_str()).collect();
        pointers.sort();
        let s = "/paths/~1a/get/responses/200/content/application~1json/schema";
        let mut expected = [
            format!("{s}/required"),
            format!("{s}/properties/type/enum"),
            format!("{s}/properties/n/maxLength"),
            format!("{s}/properties/n/minimum"),
            format!("{s}/properties/tags/items"),
            "/components/schemas/B/allOf".to_string(),
            "/components/schemas/B/minProperties".to_string(),
            "/components/schemas/C".to_string(),
            "/components/schemas/F/type".to_string(),
            "/components/schemas/D/$ref".to_string(),
        ];
        expected.sort();
        assert_eq!(
            pointers,
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "{flaws:#?}"
        );
        // Only the broken keyword goes; its siblings stay.
        assert_eq!(
            doc.pointer(&format!("{s}/properties/type")),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(doc["components"]["schemas"]["B"], json!({"type": "object"}));
        assert_eq!(doc["components"]["schemas"]["C"], json!(true));
        assert_eq!(doc["components"]["schemas"]["D"], json!({}));
        assert!(flaws.iter().any(|f| {
            f.message
                .contains("`required` must be a list of property names, found [0]")
        }));
        // The result compiles.
        for name in ["B", "C", "D", "E", "F"] {
            let mut schema = doc["components"]["schemas"][name].clone();
            if name == "E" {
                schema = doc["components"]["schemas"]["B"].clone();
            }
            jsonschema::validator_for(&schema).expect("compiles");
        }
    }

    #[test]
    fn overlapping_one_of_branches_are_warned_about_but_kept() {
        let mut doc = json!({"components": {"schemas": {
            "N": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "S": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "string"}]},
            "D": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        }}});
        let before = doc.clone();
        let flaws = repair(&mut doc, &mut Patterns::default());
        assert_eq!(flaws.len(), 1, "{flaws:?}");
        assert_eq!(flaws[0].pointer, "/components/schemas/N/oneOf");
        assert!(
            flaws[0].message.starts_with("`oneOf` branches #0 (integer) and #1 (number) overlap: a value valid under both, such as 7,"),
            "{}",
            flaws[0].message
        );
        assert_eq!(doc, before);
    }

    #[test]
    fn vendor_extensions_are_not_read_as_schemas() {
        let mut doc = json!({"paths": {"/a": {"get": {"x-breaking-changes": [{"schema": {"properties": {"p": "string"}}}]}}}});
        let before = doc.clone();
        assert!(repair(&mut doc, &mut Patterns::default()).is_empty());
        assert_eq!(doc, before);
    }

    #[test]
    fn a_property_named_like_a_keyword_is_not_a_keyword() {
        let mut doc = json!({"components": {"schemas": {"A": {"type": "object", "properties": {
            "required": {"type": "boolean"}, "minLength": {"type": "integer"}, "type": {"type": "string"}
        }}}}});
        let before = doc.clone();
        assert!(repair(&mut doc, &mut Patterns::default()).is_empty());
        assert_eq!(doc, before);
    }

    #[test]
    fn dropped_patterns_are_named_and_translated_ones_replaced() {
        let mut doc = serde_json::json!({
            "components": {"schemas": {
                "A": {"type": "string", "pattern": "(?<n>a)\\k<n>"},
                "B": {"type": "string", "pattern": "^\\p{XDigit}+$"},
                "C": {"type": "object", "patternProperties": {"(bad": {}, "^x\\p{XDigit}$": {}}},
                "D": {"type": "object", "example": {"pattern": "(bad"}}
            }}
        });
        let dropped = repair(&mut doc, &mut Patterns::default());
        let pointers: Vec<&str> = dropped.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/components/schemas/A/pattern",
                "/components/schemas/C/patternProperties/(bad"
            ]
        );
        assert!(doc["components"]["schemas"]["A"].get("pattern").is_none());
        assert_eq!(
            doc["components"]["schemas"]["B"]["pattern"],
            "^[0-9a-fA-F]+$"
        );
        assert!(
            doc["components"]["schemas"]["C"]["patternProperties"]["^x[0-9a-fA-F]$"].is_object()
        );
        assert_eq!(
            doc["components"]["schemas"]["D"]["example"]["pattern"],
            "(bad"
        );
    }
}
