//! A description reduced to what a run uses, parsed without building the rest.
//!
//! A run of a few cases against a description of Microsoft Graph's size
//! spent most of its start building the whole document tree (about 14
//! bytes of tree per byte of JSON, most of it fresh pages the kernel must
//! zero). Here the JSON text is scanned once into borrowed slices; the
//! operations the suite names are parsed whole, every other operation
//! becomes an *outline* (operationId, summary, security, response keys: what
//! the router, coverage and `did you mean` need), and of `components` only
//! what the whole operations' `$ref`s reach (transitively) is parsed, at its
//! original pointer. Everything after (conversion, flaws, indexing,
//! validators, positions) runs unchanged on the reduced document.
//!
//! Whenever the reduction could change a result it is not made (`None`:
//! the caller loads everything): YAML, Swagger 2.0, a `$ref` that is not a
//! local JSON pointer or that points into `paths`, `$id`/anchors, a path
//! item that is itself a `$ref`, or anything that does not parse.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::METHODS;
use super::router::Router;
use super::sparse;

/// The operations a suite names, by operationId or by method and path (a
/// template or a concrete path, as a step's `request:` gives it).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub ids: HashSet<String>,
    pub routes: Vec<(String, String)>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.routes.is_empty()
    }
}

/// The reduced document and the JSON pointers of its outlined operations.
pub(super) struct Outline {
    pub value: Value,
    pub outlined: HashSet<String>,
}

/// The members of a JSON object, in document order.
struct Entries<V>(Vec<(String, V)>);

/// Members of a JSON object, values unparsed.
type RawMap<'a> = Entries<&'a RawValue>;

/// An object of objects (`paths`, `components`), two levels read in one scan.
type RawMaps<'a> = Entries<RawMap<'a>>;

/// The root object, `paths` and `components` two levels deep.
struct RootParts<'a> {
    paths: Option<RawMaps<'a>>,
    components: Option<RawMaps<'a>>,
    rest: RawMap<'a>,
}

/// `text` (a JSON document) reduced to what `wanted` uses; `None` when the
/// reduction cannot be known to leave every result of those operations as
/// the whole document gives it.
pub(super) fn outline(text: &str, wanted: &Wanted) -> Option<Outline> {
    let parts: RootParts<'_> = serde_json::from_str(text).ok()?;
    let mut refs = Vec::new();
    let mut root = Map::new();
    for (key, raw) in &parts.rest.0 {
        let value = parse(raw)?;
        if !sparse::collect_refs(&value, &mut refs) {
            return None;
        }
        root.insert(key.clone(), value);
    }
    if !root
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with('3'))
    {
        // Swagger 2.0 is converted from the whole document; anything else
        // gets the whole loader's diagnostics.
        return None;
    }
    let mut outlined = HashSet::new();
    if let Some(items) = &parts.paths {
        let paths = reduce_paths(items, wanted, &mut refs, &mut outlined)?;
        root.insert("paths".into(), Value::Object(paths));
    }
    let empty = Entries(Vec::new());
    let components = reduce_components(parts.components.as_ref().unwrap_or(&empty), refs)?;
    if parts.components.is_some() || !components.is_empty() {
        root.insert("components".into(), Value::Object(components));
    }
    Some(Outline {
        value: Value::Object(root),
        outlined,
    })
}

fn parse(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

/// One operation of `paths`, its object's members unparsed.
struct RawOperation<'a> {
    item: usize,
    method: &'static str,
    members: RawMap<'a>,
}

fn reduce_paths(
    items: &RawMaps<'_>,
    wanted: &Wanted,
    refs: &mut Vec<String>,
    outlined: &mut HashSet<String>,
) -> Option<Map<String, Value>> {
    let mut operations: Vec<RawOperation<'_>> = Vec::new();
    let mut router = Router::default();
    for (item, (key, members)) in items.0.iter().enumerate() {
        if members.get("$ref").is_some() {
            return None;
        }
        for method in METHODS {
            let Some(raw) = members.get(method) else {
                continue;
            };
            let members: RawMap<'_> = serde_json::from_str(raw.get()).ok()?;
            let template = key.split('?').next().unwrap_or(key);
            router.insert(method, template, operations.len());
            operations.push(RawOperation {
                item,
                method,
                members,
            });
        }
    }
    let mut full = vec![false; operations.len()];
    for (i, op) in operations.iter().enumerate() {
        let id = op.members.get("operationId").and_then(parse);
        full[i] = id
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|id| wanted.ids.contains(id));
    }
    for (method, path) in &wanted.routes {
        if let Some(m) = router.find(method, path)
            && let Some(slot) = full.get_mut(m.route)
        {
            *slot = true;
        }
    }
    let mut by_item: Vec<Vec<usize>> = vec![Vec::new(); items.0.len()];
    for (i, op) in operations.iter().enumerate() {
        if let Some(list) = by_item.get_mut(op.item) {
            list.push(i);
        }
    }
    let mut paths = Map::new();
    for ((key, members), ops) in items.0.iter().zip(by_item) {
        let mut item = Map::new();
        if ops.iter().any(|&i| full[i]) {
            for (name, raw) in &members.0 {
                if METHODS.contains(&name.as_str()) {
                    continue;
                }
                let value = parse(raw)?;
                if !sparse::collect_refs(&value, refs) {
                    return None;
                }
                item.insert(name.clone(), value);
            }
        }
        for i in ops {
            let op = &operations[i];
            let value = if full[i] {
                let value = parse_members(&op.members)?;
                if !sparse::collect_refs(&value, refs) {
                    return None;
                }
                value
            } else {
                let mut pointer = String::from("/paths");
                super::push_token(&mut pointer, key);
                super::push_token(&mut pointer, op.method);
                outlined.insert(pointer);
                outline_of(&op.members)?
            };
            item.insert(op.method.to_string(), value);
        }
        paths.insert(key.clone(), Value::Object(item));
    }
    Some(paths)
}

fn parse_members(members: &RawMap<'_>) -> Option<Value> {
    let mut map = Map::new();
    for (name, raw) in &members.0 {
        map.insert(name.clone(), parse(raw)?);
    }
    Some(Value::Object(map))
}

/// What an operation that is not used is known by: its identity, its
/// security (whether it needs a credential) and its response keys.
fn outline_of(members: &RawMap<'_>) -> Option<Value> {
    let mut map = Map::new();
    for name in ["operationId", "summary", "security"] {
        if let Some(raw) = members.get(name) {
            map.insert(name.into(), parse(raw)?);
        }
    }
    if let Some(raw) = members.get("responses") {
        let responses: RawMap<'_> = serde_json::from_str(raw.get()).ok()?;
        let keys = responses
            .0
            .into_iter()
            .map(|(key, _)| (key, Value::Object(Map::new())))
            .collect();
        map.insert("responses".into(), Value::Object(keys));
    }
    Some(Value::Object(map))
}

/// `components` with every security scheme and whatever `refs` reach.
fn reduce_components(sections: &RawMaps<'_>, mut refs: Vec<String>) -> Option<Map<String, Value>> {
    let by_name: HashMap<&str, &RawMap<'_>> =
        sections.0.iter().map(|(k, v)| (k.as_str(), v)).collect();
    // Each section's entries by name, made when first referenced (the
    // last of a repeated name, as `serde_json` keeps).
    let mut entries_of: HashMap<&str, HashMap<&str, &RawValue>> = HashMap::new();
    let mut out: Map<String, Value> = Map::new();
    if let Some(schemes) = by_name.get("securitySchemes") {
        let value = parse_members(schemes)?;
        if !sparse::collect_refs(&value, &mut refs) {
            return None;
        }
        out.insert("securitySchemes".into(), value);
    }
    let mut done: HashSet<(String, String)> = HashSet::new();
    while let Some(reference) = refs.pop() {
        let tokens = sparse::tokens(&reference);
        match tokens.first().map(String::as_str) {
            // The whole document, or into `paths` (which holds outlines).
            None | Some("paths") => return None,
            Some("components") => {}
            // Another root member: kept whole already.
            Some(_) => continue,
        }
        let (Some(section), Some(name)) = (tokens.get(1), tokens.get(2)) else {
            // `#/components` or `#/components/schemas` itself.
            return None;
        };
        if section == "securitySchemes" || !done.insert((section.clone(), name.clone())) {
            continue;
        }
        // A target that does not exist stays absent, as in the whole
        // document: the same warning follows.
        let Some((&section_name, &listed)) = by_name.get_key_value(section.as_str()) else {
            continue;
        };
        let entries = entries_of
            .entry(section_name)
            .or_insert_with(|| listed.0.iter().map(|(k, v)| (k.as_str(), *v)).collect());
        let Some(&raw) = entries.get(name.as_str()) else {
            continue;
        };
        let value = parse(raw)?;
        if !sparse::collect_refs(&value, &mut refs) {
            return None;
        }
        let slot = out
            .entry(section.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(entries) = slot {
            entries.insert(name.clone(), value);
        }
    }
    Some(out)
}

impl<'a> Entries<&'a RawValue> {
    /// The last member named `name` (as `serde_json` keeps the last of
    /// duplicate keys).
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Members<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Members(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for RootParts<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RootParts<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OpenAPI document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut parts = RootParts {
                    paths: None,
                    components: None,
                    rest: Entries(Vec::new()),
                };
                let mut seen = HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        // A repeated root key: let the whole loader decide.
                        return Err(serde::de::Error::custom("duplicate key"));
                    }
                    match key.as_str() {
                        "paths" => parts.paths = Some(map.next_value()?),
                        "components" => parts.components = Some(map.next_value()?),
                        _ => parts.rest.0.push((key, map.next_value()?)),
                    }
                }
                Ok(parts)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text() -> String {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "security": [{"key": []}],
            "paths": {
                "/pets/{id}": {
                    "parameters": [{"name": "id", "in": "path", "required": true,
                                    "schema": {"$ref": "#/components/schemas/Id"}}],
                    "get": {"operationId": "getPet", "summary": "one pet",
                            "responses": {"200": {"$ref": "#/components/responses/Pet"}}},
                    "delete": {"operationId": "deletePet", "security": [],
                               "responses": {"204": {"description": "gone"},
                                             "404": {"$ref": "#/components/responses/Missing"}}}
                },
                "/owners": {
                    "get": {"operationId": "listOwners",
                            "responses": {"200": {"content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/Owners"}}}}}}
                }
            },
            "components": {
                "schemas": {
                    "Id": {"type": "string"},
                    "Pet": {"properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
                    "Owner": {"properties": {"pets": {"items": {"$ref": "#/components/schemas/Pet"}}}},
                    "Owners": {"items": {"$ref": "#/components/schemas/Owner"}},
                    "Unused": {"type": "integer"}
                },
                "responses": {
                    "Pet": {"description": "a pet", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Pet"}}}},
                    "Missing": {"description": "no such pet"}
                },
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "k"}}
            }
        })
        .to_string()
    }

    fn wanted_ids(ids: &[&str]) -> Wanted {
        Wanted {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            routes: Vec::new(),
        }
    }

    #[test]
    fn a_named_operation_is_whole_and_the_rest_are_outlines() {
        let whole: Value = serde_json::from_str(&text()).expect("json");
        let o = outline(&text(), &wanted_ids(&["getPet"])).expect("reducible");
        let v = &o.value;
        for kept in [
            "/paths/~1pets~1{id}/get",
            "/paths/~1pets~1{id}/parameters",
            "/components/schemas/Id",
            "/components/schemas/Pet",
            "/components/schemas/Owner",
            "/components/responses/Pet",
            "/components/securitySchemes",
            "/info",
            "/security",
        ] {
            assert_eq!(v.pointer(kept), whole.pointer(kept), "{kept}");
        }
        for left in [
            "/components/schemas/Unused",
            "/components/schemas/Owners",
            "/components/responses/Missing",
        ] {
            assert_eq!(v.pointer(left), None, "{left}");
        }
        assert_eq!(
            v.pointer("/paths/~1pets~1{id}/delete"),
            Some(&json!({"operationId": "deletePet", "security": [],
                         "responses": {"204": {}, "404": {}}}))
        );
        assert_eq!(
            v.pointer("/paths/~1owners/get"),
            Some(&json!({"operationId": "listOwners", "responses": {"200": {}}}))
        );
        let mut outlined: Vec<&str> = o.outlined.iter().map(String::as_str).collect();
        outlined.sort_unstable();
        assert_eq!(
            outlined,
            ["/paths/~1owners/get", "/paths/~1pets~1{id}/delete"]
        );
    }

    #[test]
    fn a_route_names_an_operation_by_template_or_concrete_path() {
        let routes = |m: &str, p: &str| Wanted {
            ids: HashSet::new(),
            routes: vec![(m.to_string(), p.to_string())],
        };
        for (method, path) in [("GET", "/pets/{id}"), ("get", "/pets/abc")] {
            let o = outline(&text(), &routes(method, path)).expect("reducible");
            assert!(
                !o.outlined.contains("/paths/~1pets~1{id}/get"),
                "{method} {path}"
            );
            assert!(o.outlined.contains("/paths/~1pets~1{id}/delete"));
        }
    }

    #[test]
    fn what_it_cannot_know_it_leaves_to_the_whole_loader() {
        let wanted = wanted_ids(&["a"]);
        let cases = [
            json!({"swagger": "2.0", "paths": {}}).to_string(),
            json!({"openapi": "3.0.3", "paths": {"/a": {"$ref": "#/components/pathItems/A"}}})
                .to_string(),
            json!({"openapi": "3.0.3", "paths": {"/a": {"get": {"operationId": "a",
                "responses": {"200": {"$ref": "#/paths/~1b/get/responses/200"}}}}}})
            .to_string(),
            json!({"openapi": "3.0.3", "paths": {"/a": {"get": {"operationId": "a",
                "responses": {"200": {"$ref": "other.yaml#/R"}}}}}})
            .to_string(),
            "{\"openapi\": \"3.0.3\", \"paths\": {}, \"paths\": {}}".to_string(),
            "{\"openapi\": \"3.0.3\", \"paths\": [".to_string(),
        ];
        for text in cases {
            assert!(outline(&text, &wanted).is_none(), "{text}");
        }
    }

    #[test]
    fn members_the_document_lacks_stay_absent() {
        let text = json!({"openapi": "3.1.0", "webhooks": {"made": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}}}})
        .to_string();
        let o = outline(&text, &Wanted::default()).expect("reducible");
        assert_eq!(o.value.get("paths"), None);
        assert_eq!(o.value.get("components"), None);
        assert!(o.value.pointer("/webhooks/made/post/requestBody").is_some());
    }
}
