//! Schema-invalid values (the negative phase): a valid value with one
//! mutation, each naming the JSON Schema rule it breaks. A mutation is kept
//! only when the compiled validator rejects the result *for that rule*.

use serde_json::{Map, Value};

use super::value::{ValueGen, int_bounds, num_bounds, types_of};
use super::{CannotGenerate, format};

/// The rule a negative value breaks (a JSON Schema keyword, or a required
/// parameter left out, which no schema states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Required,
    RequiredParameter,
    Type,
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
    MultipleOf,
    MinLength,
    MaxLength,
    Pattern,
    Format,
    Enum,
    Const,
    AdditionalProperties,
    MinItems,
    MaxItems,
    UniqueItems,
    /// Every alternative of an object's `anyOf` broken at once.
    AnyOf,
}

impl Rule {
    /// The JSON Schema keyword a validator error reports for this rule.
    pub fn keyword(&self) -> &'static str {
        match self {
            Rule::Required | Rule::RequiredParameter => "required",
            Rule::Type => "type",
            Rule::Minimum => "minimum",
            Rule::Maximum => "maximum",
            Rule::ExclusiveMinimum => "exclusiveMinimum",
            Rule::ExclusiveMaximum => "exclusiveMaximum",
            Rule::MultipleOf => "multipleOf",
            Rule::MinLength => "minLength",
            Rule::MaxLength => "maxLength",
            Rule::Pattern => "pattern",
            Rule::Format => "format",
            Rule::Enum => "enum",
            Rule::Const => "const",
            Rule::AdditionalProperties => "additionalProperties",
            Rule::MinItems => "minItems",
            Rule::MaxItems => "maxItems",
            Rule::UniqueItems => "uniqueItems",
            Rule::AnyOf => "anyOf",
        }
    }

    /// A short name for reports: `required`, `required_parameter`, `type`...
    pub fn name(&self) -> &'static str {
        match self {
            Rule::RequiredParameter => "required_parameter",
            other => other.keyword(),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One mutation: the rule, where in the value (a JSON pointer), and what was done.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mutation {
    pub rule: Rule,
    pub pointer: String,
    pub description: String,
}

/// A candidate invalid value with the mutation that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Negative {
    pub value: Value,
    pub mutation: Mutation,
}

/// Lists every single-point mutation of `value` that `schema` should reject.
pub fn candidates(
    g: &mut ValueGen<'_, '_>,
    doc: usize,
    schema: &Value,
    value: &Value,
) -> Result<Vec<Negative>, CannotGenerate> {
    let mut out = Vec::new();
    walk(g, doc, schema, value, value, "", 0, &mut out)?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    g: &mut ValueGen<'_, '_>,
    doc: usize,
    schema: &Value,
    root: &Value,
    here: &Value,
    pointer: &str,
    depth: usize,
    out: &mut Vec<Negative>,
) -> Result<(), CannotGenerate> {
    if depth > super::SOFT_DEPTH {
        return Ok(());
    }
    let (doc, flat) = g.resolver.flatten(doc, schema, depth)?;
    let Some(map) = flat.as_object() else {
        return Ok(());
    };
    let mut push = |rule: Rule, replacement: Option<Value>, description: String| {
        let mut value = root.clone();
        let ok = match replacement {
            Some(r) => set_at(&mut value, pointer, r),
            None => false,
        };
        if ok {
            out.push(Negative {
                value,
                mutation: Mutation {
                    rule,
                    pointer: pointer.to_string(),
                    description,
                },
            });
        }
    };
    let types = types_of(map);
    let declared = map.contains_key("type");
    if declared && let Some(wrong) = wrong_type(&types) {
        push(
            Rule::Type,
            Some(wrong.clone()),
            format!("{} instead of {}", kind(&wrong), types.join(" or ")),
        );
    }
    if let Some(Value::Array(options)) = map.get("enum")
        && let Some(outside) = outside_enum(options)
    {
        push(Rule::Enum, Some(outside), "a value outside the enum".into());
    }
    if let Some(c) = map.get("const") {
        push(
            Rule::Const,
            Some(outside_enum(std::slice::from_ref(c)).unwrap_or(Value::Null)),
            "a value other than the const".into(),
        );
    }
    match here {
        Value::String(_) => strings(g, map, &mut push),
        Value::Number(_) => numbers(map, &mut push),
        _ => {}
    }
    if let Value::Object(obj) = here {
        objects(g, doc, map, root, obj, pointer, depth, out)?;
    }
    if let Value::Array(items) = here {
        arrays(g, doc, map, root, items, pointer, depth, out)?;
    }
    Ok(())
}

fn strings(
    g: &mut ValueGen<'_, '_>,
    map: &Map<String, Value>,
    push: &mut impl FnMut(Rule, Option<Value>, String),
) {
    if let Some(max) = map.get("maxLength").and_then(Value::as_u64) {
        let n = max as usize + 1;
        push(
            Rule::MaxLength,
            Some(Value::String(g.text(n))),
            format!("{n} characters, maxLength is {max}"),
        );
    }
    if let Some(min) = map
        .get("minLength")
        .and_then(Value::as_u64)
        .filter(|m| *m > 0)
    {
        let n = min as usize - 1;
        push(
            Rule::MinLength,
            Some(Value::String(g.text(n))),
            format!("{n} characters, minLength is {min}"),
        );
    }
    if let Some(Value::String(f)) = map.get("format")
        && let Some(bad) = format::invalid(f)
    {
        push(
            Rule::Format,
            Some(Value::String(bad.into())),
            format!("not a valid `{f}`"),
        );
    }
    if let Some(Value::String(p)) = map.get("pattern")
        && let Ok(re) = regex::Regex::new(p)
    {
        let tries = [
            "",
            "~",
            "!!",
            "0",
            "a",
            " ",
            "A-Z",
            "not matching ~ pattern",
        ];
        if let Some(s) = tries.iter().find(|s| !re.is_match(s)) {
            push(
                Rule::Pattern,
                Some(Value::String((*s).into())),
                format!("{s:?} does not match `{p}`"),
            );
        }
    }
}

fn numbers(map: &Map<String, Value>, push: &mut impl FnMut(Rule, Option<Value>, String)) {
    let integer = types_of(map).contains(&"integer");
    let at = |x: f64| {
        if integer || x.fract() == 0.0 {
            Some(Value::from(x as i64))
        } else {
            serde_json::Number::from_f64(x).map(Value::Number)
        }
    };
    let (lo, hi, _, _) = num_bounds(map);
    if let Some(min) = map.get("minimum").and_then(Value::as_f64) {
        push(
            Rule::Minimum,
            at(min - 1.0),
            format!("below the minimum {min}"),
        );
    }
    if let Some(max) = map.get("maximum").and_then(Value::as_f64) {
        push(
            Rule::Maximum,
            at(max + 1.0),
            format!("above the maximum {max}"),
        );
    }
    if let Some(x) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        push(
            Rule::ExclusiveMinimum,
            at(x),
            format!("equal to the exclusive minimum {x}"),
        );
    }
    if let Some(x) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
        push(
            Rule::ExclusiveMaximum,
            at(x),
            format!("equal to the exclusive maximum {x}"),
        );
    }
    if let Some(m) = map.get("multipleOf").and_then(Value::as_f64)
        && let Ok((lo_i, _)) = int_bounds(map)
    {
        let base = if integer { lo_i as f64 } else { lo };
        let off = base + m / 2.0;
        if off <= hi {
            push(
                Rule::MultipleOf,
                at(if integer && m >= 2.0 {
                    (base / m).ceil() * m + 1.0
                } else {
                    off
                }),
                format!("not a multiple of {m}"),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn objects(
    g: &mut ValueGen<'_, '_>,
    doc: usize,
    map: &Map<String, Value>,
    root: &Value,
    obj: &Map<String, Value>,
    pointer: &str,
    depth: usize,
    out: &mut Vec<Negative>,
) -> Result<(), CannotGenerate> {
    if let Some(Value::Array(required)) = map.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if obj.contains_key(name) {
                let mut value = root.clone();
                if remove_at(&mut value, pointer, name) {
                    out.push(Negative {
                        value,
                        mutation: Mutation {
                            rule: Rule::Required,
                            pointer: format!("{pointer}/{}", crate::spec::escape_token(name)),
                            description: format!("required property `{name}` left out"),
                        },
                    });
                }
            }
        }
    }
    if let Some(n) = no_alternative(g, doc, map, root, obj, pointer, depth) {
        out.push(n);
    }
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        let mut extra = "unexpectedProperty".to_string();
        while obj.contains_key(&extra) {
            extra.push('_');
        }
        let mut value = root.clone();
        let target = if pointer.is_empty() {
            Some(&mut value)
        } else {
            value.pointer_mut(pointer)
        };
        if let Some(Value::Object(m)) = target {
            m.insert(extra.clone(), Value::String("x".into()));
            out.push(Negative {
                value,
                mutation: Mutation {
                    rule: Rule::AdditionalProperties,
                    pointer: format!("{pointer}/{extra}"),
                    description: format!(
                        "extra property `{extra}` where additionalProperties is false"
                    ),
                },
            });
        }
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, sub) in props {
            if let Some(child) = obj.get(name) {
                let p = format!("{pointer}/{}", crate::spec::escape_token(name));
                walk(g, doc, sub, root, child, &p, depth + 1, out)?;
            }
        }
    }
    Ok(())
}

/// An object's `anyOf` whose every alternative requires members (`at
/// least one of a, b, c`): all those members left out, so no alternative
/// holds. Not when one of them is required by the object itself (that
/// would break `required` too); the validator confirms the rule broken.
fn no_alternative(
    g: &ValueGen<'_, '_>,
    doc: usize,
    map: &Map<String, Value>,
    root: &Value,
    obj: &Map<String, Value>,
    pointer: &str,
    depth: usize,
) -> Option<Negative> {
    let Some(Value::Array(branches)) = map.get("anyOf") else {
        return None;
    };
    let own: Vec<&str> = match map.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut names: Vec<String> = Vec::new();
    for b in branches {
        let (_, flat) = g.resolver.flatten(doc, b, depth + 1).ok()?;
        let required: Vec<&str> = match flat.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if required.is_empty() || required.iter().any(|r| own.contains(r)) {
            return None;
        }
        names.extend(required.iter().map(|r| r.to_string()));
    }
    names.dedup();
    let mut value = root.clone();
    let mut removed = Vec::new();
    for name in names.iter().filter(|n| obj.contains_key(n.as_str())) {
        if remove_at(&mut value, pointer, name) {
            removed.push(format!("`{name}`"));
        }
    }
    if removed.is_empty() {
        return None;
    }
    Some(Negative {
        value,
        mutation: Mutation {
            rule: Rule::AnyOf,
            pointer: pointer.to_string(),
            description: format!(
                "no alternative of anyOf holds: {} left out",
                removed.join(", ")
            ),
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn arrays(
    g: &mut ValueGen<'_, '_>,
    doc: usize,
    map: &Map<String, Value>,
    root: &Value,
    items: &[Value],
    pointer: &str,
    depth: usize,
    out: &mut Vec<Negative>,
) -> Result<(), CannotGenerate> {
    let mut replace = |rule: Rule, list: Vec<Value>, description: String| {
        let mut value = root.clone();
        if set_at(&mut value, pointer, Value::Array(list)) {
            out.push(Negative {
                value,
                mutation: Mutation {
                    rule,
                    pointer: pointer.to_string(),
                    description,
                },
            });
        }
    };
    if let Some(max) = map.get("maxItems").and_then(Value::as_u64)
        && let Some(first) = items.first()
        && max < 64
    {
        let mut list = items.to_vec();
        while list.len() as u64 <= max {
            list.push(first.clone());
        }
        replace(
            Rule::MaxItems,
            list,
            format!("{} items, maxItems is {max}", max + 1),
        );
    }
    if let Some(min) = map
        .get("minItems")
        .and_then(Value::as_u64)
        .filter(|m| *m > 0)
    {
        let list: Vec<Value> = items.iter().take(min as usize - 1).cloned().collect();
        replace(
            Rule::MinItems,
            list,
            format!("{} items, minItems is {min}", min - 1),
        );
    }
    if map.get("uniqueItems") == Some(&Value::Bool(true))
        && let Some(first) = items.first()
    {
        let mut list = items.to_vec();
        list.push(first.clone());
        replace(
            Rule::UniqueItems,
            list,
            "a repeated item where uniqueItems is true".into(),
        );
    }
    if let (Some(item_schema), Some(_)) = (map.get("items"), items.first()) {
        let p = format!("{pointer}/0");
        walk(g, doc, item_schema, root, &items[0], &p, depth + 1, out)?;
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value of a JSON type the schema does not allow.
fn wrong_type(types: &[&str]) -> Option<Value> {
    let allows = |t: &str| types.contains(&t) || (t == "integer" && types.contains(&"number"));
    let candidates = [
        ("string", Value::String("not-a-number".into())),
        ("integer", Value::from(12345)),
        ("boolean", Value::Bool(true)),
        ("object", Value::Object(Map::new())),
        ("array", Value::Array(Vec::new())),
        ("null", Value::Null),
    ];
    candidates
        .into_iter()
        .find(|(t, v)| !(allows(t) || v.is_i64() && allows("number")))
        .map(|(_, v)| v)
}

/// A value of the same JSON type as the enum's members, but not among them.
fn outside_enum(options: &[Value]) -> Option<Value> {
    let sample = options.iter().find(|v| !v.is_null())?;
    let candidate = match sample {
        Value::String(_) => {
            let mut s = "not-in-enum".to_string();
            while options.contains(&Value::String(s.clone())) {
                s.push('x');
            }
            Value::String(s)
        }
        Value::Number(_) => {
            let max = options
                .iter()
                .filter_map(Value::as_f64)
                .fold(f64::MIN, f64::max);
            Value::from(max as i64 + 1)
        }
        Value::Bool(b) => Value::Bool(!b),
        _ => Value::String("not-in-enum".into()),
    };
    (!options.contains(&candidate)).then_some(candidate)
}

/// Replaces the value at `pointer` (`""` is the root).
fn set_at(root: &mut Value, pointer: &str, new: Value) -> bool {
    match if pointer.is_empty() {
        Some(root)
    } else {
        root.pointer_mut(pointer)
    } {
        Some(slot) => {
            *slot = new;
            true
        }
        None => false,
    }
}

fn remove_at(root: &mut Value, pointer: &str, name: &str) -> bool {
    match if pointer.is_empty() {
        Some(root)
    } else {
        root.pointer_mut(pointer)
    } {
        Some(Value::Object(m)) => m.remove(name).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_really_wrong() {
        assert_eq!(wrong_type(&["string"]), Some(Value::from(12345)));
        assert_eq!(
            wrong_type(&["number"]),
            Some(Value::String("not-a-number".into()))
        );
        assert_eq!(wrong_type(&["integer", "string"]), Some(Value::Bool(true)));
    }

    #[test]
    fn enum_outsiders_keep_the_type() {
        assert_eq!(
            outside_enum(&[Value::from("a")]),
            Some(Value::from("not-in-enum"))
        );
        assert_eq!(
            outside_enum(&[Value::from(1), Value::from(3)]),
            Some(Value::from(4))
        );
        assert_eq!(outside_enum(&[Value::Null]), None);
    }
}
