//! A copy of a document holding only what some schemas reach.
//!
//! The request-direction (`readOnly` relaxed) and response-direction
//! (`writeOnly` relaxed) documents used to be clones of the whole document,
//! though their validators only ever follow `$ref`s out of request bodies
//! and parameters, or out of responses. For GitHub's description that clone
//! (examples, every response) was a sixth of `check --spec`. The copy here
//! keeps each root's subtree and, transitively, every local `$ref` target,
//! all at their original pointers, so a reference resolves in it exactly as
//! in the whole document.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Keywords that change what a `$ref` means or adds targets the closure
/// below cannot follow (`$id` rebases relative references, anchors are
/// found by name): a document using them is copied whole.
const REBASING: [&str; 5] = [
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "$recursiveRef",
];

/// `doc` reduced to the subtrees at `roots` and everything their local
/// `$ref`s reach, at their original pointers; `None` when the closure cannot
/// be known (a reference that is not a local JSON pointer, or a keyword of
/// [`REBASING`]), in which case the caller copies the whole document.
pub fn reaching<'r>(doc: &Value, roots: impl IntoIterator<Item = &'r str>) -> Option<Value> {
    let mut entries: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut queue: Vec<Vec<String>> = roots.into_iter().map(tokens).collect();
    while let Some(entry) = queue.pop() {
        if covered(&entries, &entry) {
            continue;
        }
        let Some(subtree) = lookup(doc, &entry) else {
            // A dangling target: left out here as it is absent there, so
            // the validator reports it the same way.
            continue;
        };
        let mut refs = Vec::new();
        if !collect_refs(subtree, &mut refs) {
            return None;
        }
        for reference in refs {
            queue.push(entry_of(tokens(&reference)));
        }
        entries.insert(entry);
    }
    let mut copy = Value::Object(Map::new());
    for entry in &entries {
        if has_ancestor(&entries, entry) {
            continue;
        }
        let subtree = lookup(doc, entry)?;
        insert(&mut copy, doc, entry, subtree.clone());
    }
    Some(copy)
}

/// JSON-pointer tokens, unescaped (`~1` is `/`, `~0` is `~`).
pub(super) fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// A component is copied whole (`/components/schemas/X` for a reference to
/// `/components/schemas/X/properties/y`), so the many references into one
/// popular component make one entry.
fn entry_of(mut tokens: Vec<String>) -> Vec<String> {
    if tokens.first().is_some_and(|t| t == "components") && tokens.len() > 3 {
        tokens.truncate(3);
    }
    tokens
}

fn covered(entries: &BTreeSet<Vec<String>>, entry: &[String]) -> bool {
    (0..=entry.len()).any(|n| entries.contains(&entry[..n]))
}

fn has_ancestor(entries: &BTreeSet<Vec<String>>, entry: &[String]) -> bool {
    (0..entry.len()).any(|n| entries.contains(&entry[..n]))
}

fn lookup<'v>(doc: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(doc, |at, token| match at {
        Value::Object(map) => map.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Collects the local `$ref` pointers under `value` (percent-decoded);
/// false if something makes the closure unknowable.
pub(super) fn collect_refs(value: &Value, out: &mut Vec<String>) -> bool {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if REBASING.contains(&key.as_str()) {
                    return false;
                }
                if key == "$ref"
                    && let Value::String(reference) = child
                {
                    match reference.strip_prefix('#') {
                        Some(fragment) if fragment.is_empty() || fragment.starts_with('/') => {
                            let decoded = percent_encoding::percent_decode_str(fragment)
                                .decode_utf8_lossy()
                                .into_owned();
                            out.push(decoded);
                        }
                        _ => return false,
                    }
                    continue;
                }
                if !collect_refs(child, out) {
                    return false;
                }
            }
            true
        }
        Value::Array(items) => items.iter().all(|i| collect_refs(i, out)),
        _ => true,
    }
}

/// Puts `subtree` at `tokens` in `copy`, creating the containers on the way
/// as they are in `doc` (objects, or arrays padded with nulls).
fn insert(copy: &mut Value, doc: &Value, tokens: &[String], subtree: Value) {
    let Some((last, parents)) = tokens.split_last() else {
        *copy = subtree;
        return;
    };
    let mut at = copy;
    let mut original = doc;
    for token in parents {
        original = lookup(original, std::slice::from_ref(token)).unwrap_or(&Value::Null);
        at = child_slot(at, token, original);
    }
    *child_slot(at, last, &Value::Null) = subtree;
}

/// The member `token` of `at` (created empty, shaped like `like`).
fn child_slot<'c>(at: &'c mut Value, token: &str, like: &Value) -> &'c mut Value {
    let empty = || match like {
        Value::Array(_) => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    };
    match at {
        Value::Array(items) => {
            let index = token.parse::<usize>().unwrap_or(items.len());
            if items.len() <= index {
                items.resize(index + 1, Value::Null);
            }
            if items[index].is_null() {
                items[index] = empty();
            }
            &mut items[index]
        }
        Value::Object(map) => map.entry(token.to_string()).or_insert_with(empty),
        scalar => {
            // Only a placeholder null is ever here: it becomes a container.
            *scalar = Value::Object(Map::new());
            match scalar {
                Value::Object(map) => map.entry(token.to_string()).or_insert_with(empty),
                other => other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {
                "/a": {
                    "post": {
                        "parameters": [
                            {"name": "q", "schema": {"type": "string"}},
                            {"name": "r", "schema": {"$ref": "#/components/schemas/R"}}
                        ],
                        "requestBody": {"content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/In"}}}},
                        "responses": {"200": {"content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Out"}}}}}
                    }
                }
            },
            "components": {
                "schemas": {
                    "In": {"properties": {"child": {"$ref": "#/components/schemas/Child/properties/x"}}},
                    "Child": {"properties": {"x": {"$ref": "#/components/schemas/In"}}},
                    "R": {"type": "integer"},
                    "Out": {"properties": {"big": {"$ref": "#/components/schemas/Huge"}}},
                    "Huge": {"type": "object"}
                },
                "examples": {"e": {"value": {"a": 1}}}
            }
        })
    }

    #[test]
    fn keeps_roots_and_their_ref_closure_at_the_same_pointers() {
        let doc = doc();
        let roots = [
            "/paths/~1a/post/requestBody/content/application~1json/schema",
            "/paths/~1a/post/parameters/1/schema",
        ];
        let copy = reaching(&doc, roots).expect("closure known");
        for kept in [
            roots[0],
            roots[1],
            "/components/schemas/In",
            "/components/schemas/Child",
            "/components/schemas/R",
        ] {
            assert_eq!(copy.pointer(kept), doc.pointer(kept), "{kept}");
        }
        for left in [
            "/components/schemas/Out",
            "/components/schemas/Huge",
            "/components/examples",
            "/paths/~1a/post/responses",
            "/openapi",
        ] {
            assert_eq!(copy.pointer(left), None, "{left}");
        }
        // The array keeps its indices: item 0 is a placeholder.
        assert_eq!(
            copy.pointer("/paths/~1a/post/parameters/0"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn percent_encoded_and_dangling_targets() {
        let doc = json!({
            "paths": {"/x": {"get": {"responses": {"200": {"schema": {"$ref": "#/components/schemas/A%20B"}}}}}},
            "components": {"schemas": {"A B": {"$ref": "#/components/schemas/Gone"}}}
        });
        let copy = reaching(&doc, ["/paths/~1x/get/responses/200/schema"]).expect("known");
        assert!(copy.pointer("/components/schemas/A B").is_some());
        assert!(copy.pointer("/components/schemas/Gone").is_none());
    }

    #[test]
    fn an_id_or_a_non_pointer_reference_gives_up() {
        let with_id =
            json!({"components": {"schemas": {"A": {"$id": "https://x/a", "type": "string"}}}});
        assert!(reaching(&with_id, ["/components/schemas/A"]).is_none());
        let anchor = json!({"components": {"schemas": {"A": {"$ref": "#named"}}}});
        assert!(reaching(&anchor, ["/components/schemas/A"]).is_none());
        let file = json!({"components": {"schemas": {"A": {"$ref": "other.yaml#/B"}}}});
        assert!(reaching(&file, ["/components/schemas/A"]).is_none());
    }

    #[test]
    fn a_root_that_is_the_whole_document_copies_it() {
        let doc = doc();
        assert_eq!(reaching(&doc, [""]), Some(doc.clone()));
    }
}
