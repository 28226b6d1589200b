//! Swagger 2.0 read as OpenAPI 3.0, in memory.
//!
//! The document is rewritten in place and keeps its layout where it can, so
//! JSON pointers in diagnostics still name places in the original file:
//! `definitions` stay where they are (their `$ref`s need no rewriting), and
//! the new `content` entries of request bodies and responses `$ref` the
//! original `schema` (the indexer follows such a `$ref` and registers the
//! schema under its original pointer). What is moved:
//!
//! - body and formData parameters become a `requestBody`, one media type per
//!   `consumes` entry (form fields as an object schema);
//! - other parameters and response headers get a `schema` built from their
//!   `type`/`format`/`items`/... keywords;
//! - response `schema`s get one media type per `produces` entry;
//! - `securityDefinitions` become `components.securitySchemes`;
//! - `host` + `basePath` + `schemes` become `servers`;
//! - `x-nullable: true` becomes `nullable: true`, `type: file` a binary string.

use serde_json::{Map, Value, json};

use super::escape_token;

/// Keywords of a Swagger 2.0 non-body parameter or header that describe its
/// value (they move into the new `schema`).
const VALUE_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-nullable",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Whether a root document is Swagger 2.0.
pub fn is_swagger2(root: &Value) -> bool {
    root.get("swagger")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("2."))
}

/// Rewrites a Swagger 2.0 root document as OpenAPI 3.0.
pub fn convert(doc: &mut Value) {
    let Value::Object(root) = doc else {
        return;
    };
    let global_consumes = media_list(root.get("consumes"));
    let global_produces = media_list(root.get("produces"));
    root.remove("swagger");
    root.insert("openapi".into(), Value::String("3.0.3".into()));
    if let Some(servers) = servers(root) {
        root.insert("servers".into(), servers);
    }
    // Parameters may `$ref` the root `parameters`; only those are needed.
    let snapshot = json!({ "parameters": root.get("parameters").cloned().unwrap_or(Value::Null) });
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let item_pointer = format!("/paths/{}", escape_token(path));
            let Value::Object(item) = item else { continue };
            if let Some(Value::Array(params)) = item.get_mut("parameters") {
                params.iter_mut().for_each(value_parameter);
            }
            let shared: Vec<Value> = match item.get("parameters") {
                Some(Value::Array(p)) => p.clone(),
                _ => Vec::new(),
            };
            for method in METHODS {
                let Some(Value::Object(op)) = item.get_mut(*method) else {
                    continue;
                };
                let op_pointer = format!("{item_pointer}/{method}");
                let consumes = media_list(op.get("consumes")).or(global_consumes.clone());
                let produces = media_list(op.get("produces")).or(global_produces.clone());
                operation(
                    op,
                    &op_pointer,
                    &item_pointer,
                    &shared,
                    &snapshot,
                    consumes.as_deref(),
                    produces.as_deref(),
                );
            }
        }
    }
    if let Some(Value::Object(params)) = root.get_mut("parameters") {
        params.values_mut().for_each(value_parameter);
    }
    let produces = global_produces.unwrap_or_default();
    if let Some(Value::Object(responses)) = root.get_mut("responses") {
        for (name, response) in responses.iter_mut() {
            let pointer = format!("/responses/{}", escape_token(name));
            convert_response(response, &pointer, &produces);
        }
    }
    let mut components = Map::new();
    if let Some(Value::Object(defs)) = root.get("securityDefinitions") {
        let schemes: Map<String, Value> = defs
            .iter()
            .map(|(k, v)| (k.clone(), security_scheme(v)))
            .collect();
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    if !components.is_empty() {
        root.insert("components".into(), Value::Object(components));
    }
    nullable_and_file(doc);
}

/// `consumes`/`produces` as a list, `None` when absent.
fn media_list(value: Option<&Value>) -> Option<Vec<String>> {
    match value {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

fn servers(root: &Map<String, Value>) -> Option<Value> {
    let host = root.get("host").and_then(Value::as_str);
    let base = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let schemes: Vec<&str> = match root.get("schemes") {
        Some(Value::Array(s)) => s.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let urls: Vec<Value> = match host {
        Some(host) => {
            let schemes = if schemes.is_empty() {
                vec!["https"]
            } else {
                schemes
            };
            schemes
                .iter()
                .map(|s| json!({ "url": format!("{s}://{host}{base}") }))
                .collect()
        }
        None if !base.is_empty() => vec![json!({ "url": base })],
        None => return None,
    };
    Some(Value::Array(urls))
}

/// A non-body parameter (or header): its value keywords move into `schema`.
fn value_parameter(param: &mut Value) {
    let Value::Object(p) = param else { return };
    if p.contains_key("$ref") || p.contains_key("schema") {
        return;
    }
    if matches!(
        p.get("in").and_then(Value::as_str),
        Some("body" | "formData")
    ) {
        return;
    }
    let schema = take_value_keywords(p);
    if !schema.is_empty() {
        p.insert("schema".into(), Value::Object(schema));
    }
}

fn take_value_keywords(p: &mut Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    for key in VALUE_KEYWORDS {
        if let Some(v) = p.remove(*key) {
            schema.insert((*key).to_string(), v);
        }
    }
    schema
}

/// Resolves a local `$ref` (Swagger 2.0 allows them for parameters).
fn resolve<'a>(value: &'a Value, root: &'a Value) -> (&'a Value, Option<String>) {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => {
            let pointer = percent_encoding::percent_decode_str(&r[1..])
                .decode_utf8_lossy()
                .to_string();
            match root.pointer(&pointer) {
                Some(target) => (target, Some(pointer)),
                None => (value, None),
            }
        }
        _ => (value, None),
    }
}

#[allow(clippy::too_many_arguments)]
fn operation(
    op: &mut Map<String, Value>,
    op_pointer: &str,
    item_pointer: &str,
    shared: &[Value],
    root: &Value,
    consumes: Option<&[String]>,
    produces: Option<&[String]>,
) {
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        params.iter_mut().for_each(value_parameter);
    }
    let own: Vec<Value> = match op.get("parameters") {
        Some(Value::Array(p)) => p.clone(),
        _ => Vec::new(),
    };
    // The body (or form fields), from the operation's parameters, then the
    // path item's; `pointer` is where the original sits.
    let mut body: Option<(String, bool)> = None;
    let mut form: Vec<(String, Value, bool)> = Vec::new();
    let mut seen_form: Vec<String> = Vec::new();
    let lists = [(op_pointer, own.as_slice()), (item_pointer, shared)];
    for (base, list) in lists {
        for (i, raw) in list.iter().enumerate() {
            let (param, target) = resolve(raw, root);
            let pointer = target.unwrap_or_else(|| format!("{base}/parameters/{i}"));
            match param.get("in").and_then(Value::as_str) {
                Some("body") if body.is_none() => {
                    let required = param.get("required").and_then(Value::as_bool) == Some(true);
                    body = Some((format!("{pointer}/schema"), required));
                }
                Some("formData") => {
                    let name = param.get("name").and_then(Value::as_str).unwrap_or("");
                    if name.is_empty() || seen_form.iter().any(|n| n == name) {
                        continue;
                    }
                    seen_form.push(name.to_string());
                    let mut p = match param {
                        Value::Object(m) => m.clone(),
                        _ => Map::new(),
                    };
                    let schema = take_value_keywords(&mut p);
                    let required = p.get("required").and_then(Value::as_bool) == Some(true);
                    form.push((name.to_string(), Value::Object(schema), required));
                }
                _ => {}
            }
        }
    }
    let media: Vec<String> = match consumes {
        Some(list) if !list.is_empty() => list.to_vec(),
        _ if !form.is_empty() => vec!["application/x-www-form-urlencoded".into()],
        _ => vec!["application/json".into()],
    };
    if let Some((schema_pointer, required)) = body {
        let reference = json!({ "$ref": format!("#{schema_pointer}") });
        let content: Map<String, Value> = media
            .iter()
            .map(|m| (m.clone(), json!({ "schema": reference.clone() })))
            .collect();
        op.insert(
            "requestBody".into(),
            json!({ "required": required, "content": content }),
        );
    } else if !form.is_empty() {
        let required: Vec<Value> = form
            .iter()
            .filter(|(_, _, r)| *r)
            .map(|(n, _, _)| Value::String(n.clone()))
            .collect();
        let properties: Map<String, Value> = form
            .iter()
            .map(|(n, s, _)| (n.clone(), s.clone()))
            .collect();
        let mut schema = json!({ "type": "object", "properties": properties });
        if !required.is_empty() {
            schema["required"] = Value::Array(required.clone());
        }
        let content: Map<String, Value> = media
            .iter()
            .map(|m| (m.clone(), json!({ "schema": schema.clone() })))
            .collect();
        op.insert(
            "requestBody".into(),
            json!({ "required": !required.is_empty(), "content": content }),
        );
    }
    let produces: Vec<String> = match produces {
        Some(list) if !list.is_empty() => list.to_vec(),
        _ => vec!["application/json".into()],
    };
    if let Some(Value::Object(responses)) = op.get_mut("responses") {
        for (status, response) in responses.iter_mut() {
            let pointer = format!("{op_pointer}/responses/{}", escape_token(status));
            convert_response(response, &pointer, &produces);
        }
    }
}

/// A response's `schema` becomes `content` (a `$ref` to the original, so
/// the schema keeps its pointer); its headers get schemas.
fn convert_response(response: &mut Value, pointer: &str, produces: &[String]) {
    let Value::Object(r) = response else { return };
    if r.contains_key("$ref") {
        return;
    }
    if r.contains_key("schema") {
        let reference = json!({ "$ref": format!("#{pointer}/schema") });
        let media: Vec<String> = if produces.is_empty() {
            vec!["application/json".into()]
        } else {
            produces.to_vec()
        };
        let content: Map<String, Value> = media
            .iter()
            .map(|m| (m.clone(), json!({ "schema": reference.clone() })))
            .collect();
        r.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = r.get_mut("headers") {
        for header in headers.values_mut() {
            if let Value::Object(h) = header
                && !h.contains_key("schema")
            {
                let schema = take_value_keywords(h);
                h.insert("schema".into(), Value::Object(schema));
            }
        }
    }
}

fn security_scheme(v: &Value) -> Value {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let description = v.get("description").cloned();
    let mut out = match kind {
        "basic" => json!({ "type": "http", "scheme": "basic" }),
        "apiKey" => json!({
            "type": "apiKey",
            "name": v.get("name").cloned().unwrap_or(Value::Null),
            "in": v.get("in").cloned().unwrap_or(Value::Null),
        }),
        "oauth2" => {
            let flow = match v.get("flow").and_then(Value::as_str) {
                Some("accessCode") => "authorizationCode",
                Some("application") => "clientCredentials",
                Some("password") => "password",
                _ => "implicit",
            };
            let mut f = Map::new();
            for (from, to) in [
                ("authorizationUrl", "authorizationUrl"),
                ("tokenUrl", "tokenUrl"),
            ] {
                if let Some(u) = v.get(from) {
                    f.insert(to.into(), u.clone());
                }
            }
            f.insert(
                "scopes".into(),
                v.get("scopes").cloned().unwrap_or_else(|| json!({})),
            );
            json!({ "type": "oauth2", "flows": { flow: f } })
        }
        _ => v.clone(),
    };
    if let Some(d) = description {
        out["description"] = d;
    }
    out
}

/// `x-nullable: true` -> `nullable: true`; `type: file` -> binary string.
/// Applied to every object outside data keywords.
pub fn nullable_and_file(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(n) = map.remove("x-nullable") {
                map.entry("nullable").or_insert(n);
            }
            if map.get("type").and_then(Value::as_str) == Some("file") {
                map.insert("type".into(), Value::String("string".into()));
                map.insert("format".into(), Value::String("binary".into()));
            }
            for (key, child) in map.iter_mut() {
                if !super::convert::is_data_key(key) {
                    nullable_and_file(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_and_file),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_responses_headers_servers_and_security_convert_in_place() {
        let mut doc = json!({
            "swagger": "2.0",
            "host": "api.example.com", "basePath": "/v2", "schemes": ["https", "http"],
            "consumes": ["application/json"], "produces": ["application/json"],
            "securityDefinitions": {"key": {"type": "apiKey", "name": "X-Key", "in": "header"}},
            "paths": {"/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer", "format": "int64"}],
                "put": {
                    "parameters": [{"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"},
                        "headers": {"X-Rate": {"type": "integer"}}}}
                },
                "post": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [{"name": "file", "in": "formData", "type": "file", "required": true}],
                    "responses": {"204": {"description": "ok"}}
                }
            }},
            "definitions": {"Pet": {"type": "object", "properties": {"tag": {"type": "string", "x-nullable": true}}}}
        });
        convert(&mut doc);
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["servers"][0]["url"], "https://api.example.com/v2");
        assert_eq!(doc["servers"][1]["url"], "http://api.example.com/v2");
        let item = &doc["paths"]["/pets/{id}"];
        assert_eq!(
            item["parameters"][0]["schema"],
            json!({"type": "integer", "format": "int64"})
        );
        let put = &item["put"];
        assert_eq!(put["requestBody"]["required"], true);
        assert_eq!(
            put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/paths/~1pets~1{id}/put/parameters/0/schema"
        );
        assert_eq!(
            put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/paths/~1pets~1{id}/put/responses/200/schema"
        );
        assert_eq!(
            put["responses"]["200"]["headers"]["X-Rate"]["schema"],
            json!({"type": "integer"})
        );
        let form = &item["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(
            form["properties"]["file"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(form["required"], json!(["file"]));
        assert_eq!(
            doc["components"]["securitySchemes"]["key"],
            json!({"type": "apiKey", "name": "X-Key", "in": "header"})
        );
        assert_eq!(
            doc["definitions"]["Pet"]["properties"]["tag"],
            json!({"type": "string", "nullable": true})
        );
    }
}
