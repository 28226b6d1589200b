//! Schema-valid values (the positive phase). Each draw follows one
//! [`Shape`]: the smallest value (lower bounds, required members only), the
//! largest (upper bounds, every optional member) or a random one in between,
//! so boundaries are always among the first values tried.

use serde_json::{Map, Number, Value};

use super::resolve::Resolver;
use super::{CannotGenerate, format, regex};

pub use super::{HARD_DEPTH, SOFT_DEPTH};

/// Largest value, in JSON nodes, one draw may build.
const MAX_NODES: usize = 5_000;
/// Longest string drawn when a schema sets no (or a huge) `maxLength`.
const LONG: usize = 40;

/// Which end of a schema's range a draw aims for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Smallest,
    Largest,
    Random,
}

impl Shape {
    /// Draw `i` of a series: smallest, largest, then random.
    pub fn nth(i: usize) -> Shape {
        match i {
            0 => Shape::Smallest,
            1 => Shape::Largest,
            _ => Shape::Random,
        }
    }
}

/// One value generator: a resolver, a seeded random source and limits.
pub struct ValueGen<'r, 's> {
    pub(crate) resolver: &'r Resolver<'s>,
    pub(crate) rng: fastrand::Rng,
    shape: Shape,
    nodes: usize,
}

impl<'r, 's> ValueGen<'r, 's> {
    pub fn new(resolver: &'r Resolver<'s>, seed: u64, shape: Shape) -> Self {
        ValueGen {
            resolver,
            rng: fastrand::Rng::with_seed(seed),
            shape,
            nodes: 0,
        }
    }

    /// A value valid against `schema` (in document `doc`), or why none can be made.
    pub fn generate(&mut self, doc: usize, schema: &Value) -> Result<Value, CannotGenerate> {
        self.nodes = 0;
        self.value(doc, schema, 0)
    }

    fn shape_at(&self, depth: usize) -> Shape {
        if depth > SOFT_DEPTH {
            Shape::Smallest
        } else {
            self.shape
        }
    }

    pub(crate) fn value(
        &mut self,
        doc: usize,
        schema: &Value,
        depth: usize,
    ) -> Result<Value, CannotGenerate> {
        if depth > HARD_DEPTH {
            return Err(CannotGenerate::new(format!(
                "recursive schema: every value nests deeper than {HARD_DEPTH} levels"
            )));
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(CannotGenerate::new(format!(
                "the smallest value has more than {MAX_NODES} nodes"
            )));
        }
        let (doc, flat) = self.resolver.flatten(doc, schema, depth)?;
        let map = match flat.as_ref() {
            Value::Bool(true) => return Ok(Value::String("any".into())),
            Value::Bool(false) => {
                return Err(CannotGenerate::new("the `false` schema accepts nothing"));
            }
            Value::Object(m) => m,
            _ => return Ok(Value::String("any".into())),
        };
        if let Some(Value::Array(residue)) = map.get("allOf") {
            // Residual allOf from merging (two oneOfs, two `items`): apply
            // the first, keep the others for the validator to arbitrate.
            let mut rest = map.clone();
            rest.remove("allOf");
            let mut combined = rest;
            for r in residue {
                if let Value::Object(r) = r {
                    for (k, v) in r {
                        combined.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            return self.value(doc, &Value::Object(combined), depth + 1);
        }
        if let Some(c) = map.get("const") {
            return Ok(c.clone());
        }
        if let Some(Value::Array(options)) = map.get("enum") {
            return self.pick_enum(options);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                return self.branch(doc, map, key, branches, depth);
            }
        }
        let types = types_of(map);
        if types.is_empty() {
            return Err(CannotGenerate::new(
                "no JSON type satisfies every combined schema",
            ));
        }
        let shape = self.shape_at(depth);
        let ty = self.pick_type(&types, shape);
        match ty {
            "null" => Ok(Value::Null),
            "boolean" => Ok(Value::Bool(match shape {
                Shape::Smallest => false,
                Shape::Largest => true,
                Shape::Random => self.rng.bool(),
            })),
            "integer" => self.integer(map, shape),
            "number" => self.number(map, shape),
            "string" => self.string(map, shape),
            "array" => self.array(doc, map, depth, shape),
            "object" => self.object(doc, map, depth, shape),
            other => Err(CannotGenerate::new(format!("unknown type `{other}`"))),
        }
    }

    fn pick_enum(&mut self, options: &[Value]) -> Result<Value, CannotGenerate> {
        if options.is_empty() {
            return Err(CannotGenerate::new("empty enum: no value is allowed"));
        }
        let i = match self.shape {
            Shape::Smallest => 0,
            Shape::Largest => options.len() - 1,
            Shape::Random => self.rng.usize(..options.len()),
        };
        Ok(options[i].clone())
    }

    fn branch(
        &mut self,
        doc: usize,
        parent: &Map<String, Value>,
        key: &str,
        branches: &[Value],
        depth: usize,
    ) -> Result<Value, CannotGenerate> {
        if branches.is_empty() {
            return Err(CannotGenerate::new(format!("empty {key}")));
        }
        let mut rest = super::resolve::constraints(parent);
        rest.remove(key);
        let start = match self.shape_at(depth) {
            Shape::Smallest => 0,
            Shape::Largest => branches.len() - 1,
            Shape::Random => self.rng.usize(..branches.len()),
        };
        let mut last = None;
        // A branch that cannot be generated (recursion, `false`) is skipped.
        for k in 0..branches.len() {
            let b = &branches[(start + k) % branches.len()];
            let both = serde_json::json!({ "allOf": [Value::Object(rest.clone()), b] });
            match self.value(doc, &both, depth + 1) {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| CannotGenerate::new(format!("no {key} branch can be generated"))))
    }

    fn pick_type<'t>(&mut self, types: &[&'t str], shape: Shape) -> &'t str {
        if types.is_empty() {
            return "string";
        }
        if shape == Shape::Smallest && types.contains(&"null") {
            return "null";
        }
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if non_null.is_empty() {
            return "null";
        }
        match shape {
            Shape::Smallest => non_null[0],
            Shape::Largest => non_null[non_null.len() - 1],
            Shape::Random => {
                if types.contains(&"null") && self.rng.u8(..8) == 0 {
                    "null"
                } else {
                    non_null[self.rng.usize(..non_null.len())]
                }
            }
        }
    }

    fn integer(&mut self, map: &Map<String, Value>, shape: Shape) -> Result<Value, CannotGenerate> {
        let (lo, hi) = int_bounds(map)?;
        let step = map
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m >= 1.0 && m.fract() == 0.0)
            .map(|m| m as i64);
        let pick = |lo: i64, hi: i64, rng: &mut fastrand::Rng| match shape {
            Shape::Smallest => lo,
            Shape::Largest => hi,
            Shape::Random => rng.i64(lo..=hi),
        };
        let value = match step {
            None => pick(lo, hi, &mut self.rng),
            Some(m) => {
                let first = lo.div_euclid(m) + i64::from(lo.rem_euclid(m) != 0);
                let last = hi.div_euclid(m);
                if first > last {
                    return Err(CannotGenerate::new(format!(
                        "no multiple of {m} between {lo} and {hi}"
                    )));
                }
                pick(first, last, &mut self.rng).saturating_mul(m)
            }
        };
        Ok(Value::from(value))
    }

    fn number(&mut self, map: &Map<String, Value>, shape: Shape) -> Result<Value, CannotGenerate> {
        if map.get("multipleOf").is_some() {
            return self.integer(map, shape);
        }
        let (lo, hi, lo_open, hi_open) = num_bounds(map);
        if lo > hi || (lo == hi && (lo_open || hi_open)) {
            return Err(CannotGenerate::new(format!(
                "no number between {lo} and {hi}"
            )));
        }
        let span = hi - lo;
        let inset = (span / 1000.0).min(0.5);
        let x = match shape {
            Shape::Smallest if lo_open => lo + inset,
            Shape::Smallest => lo,
            Shape::Largest if hi_open => hi - inset,
            Shape::Largest => hi,
            Shape::Random => {
                let x = lo + self.rng.f64() * span;
                (x * 100.0).round() / 100.0
            }
        };
        let x = x.clamp(lo, hi);
        let x = if (lo_open && x <= lo) || (hi_open && x >= hi) {
            lo + span / 2.0
        } else {
            x
        };
        Ok(Number::from_f64(x).map_or(Value::from(0), Value::Number))
    }

    fn string(&mut self, map: &Map<String, Value>, shape: Shape) -> Result<Value, CannotGenerate> {
        let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        if max.is_some_and(|m| m < min) {
            return Err(CannotGenerate::new(format!(
                "minLength {min} is above maxLength {}",
                max.unwrap_or(0)
            )));
        }
        let fits = |s: &str| {
            let n = s.chars().count();
            n >= min && max.is_none_or(|m| n <= m)
        };
        if let Some(Value::String(f)) = map.get("format")
            && let Some(s) = format::generate(f, &mut self.rng, shape)
        {
            if fits(&s) {
                return Ok(Value::String(s));
            }
            if max.is_some_and(|m| s.chars().count() > m) {
                return Err(CannotGenerate::new(format!(
                    "maxLength {} is too short for format `{f}`",
                    max.unwrap_or(0)
                )));
            }
        }
        if let Some(Value::String(p)) = map.get("pattern") {
            let mut last = String::new();
            for attempt in 0..16 {
                let cap = if shape == Shape::Largest && attempt == 0 {
                    8
                } else {
                    3
                };
                let s = regex::generate(p, &mut self.rng, cap)?;
                if fits(&s) {
                    return Ok(Value::String(s));
                }
                last = s;
            }
            return Err(CannotGenerate::new(format!(
                "no string matching `{p}` within lengths {min}..{} (last tried {last:?})",
                max.map_or("".into(), |m| m.to_string())
            )));
        }
        let upper = max.unwrap_or(LONG).min(min.max(LONG));
        let len = match shape {
            Shape::Smallest => min,
            Shape::Largest => upper,
            Shape::Random => self.rng.usize(min..=upper.max(min)),
        };
        Ok(Value::String(self.text(len)))
    }

    /// Plain text of `len` characters: letters and digits, never `{`.
    pub(crate) fn text(&mut self, len: usize) -> String {
        (0..len).map(|_| self.rng.alphanumeric()).collect()
    }

    fn array(
        &mut self,
        doc: usize,
        map: &Map<String, Value>,
        depth: usize,
        shape: Shape,
    ) -> Result<Value, CannotGenerate> {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        if max.is_some_and(|m| m < min) {
            return Err(CannotGenerate::new("minItems is above maxItems"));
        }
        let upper = max.unwrap_or(min + 3).min(min + 3);
        let len = match shape {
            Shape::Smallest => min,
            Shape::Largest => upper,
            Shape::Random => self.rng.usize(min..=upper),
        };
        let prefix: &[Value] = match map.get("prefixItems") {
            Some(Value::Array(p)) => p,
            _ => &[],
        };
        let any = Value::Bool(true);
        let items = map.get("items").unwrap_or(&any);
        let unique = map.get("uniqueItems") == Some(&Value::Bool(true));
        let mut out: Vec<Value> = Vec::with_capacity(len);
        let mut tries = 0;
        while out.len() < len {
            tries += 1;
            if tries > len * 8 + 8 {
                return Err(CannotGenerate::new(format!(
                    "cannot draw {len} distinct items (uniqueItems)"
                )));
            }
            let schema = prefix.get(out.len()).unwrap_or(items);
            let v = self.value(doc, schema, depth + 1)?;
            if unique && out.contains(&v) {
                continue;
            }
            out.push(v);
        }
        if let Some(contains) = map.get("contains")
            && (max.is_none_or(|m| out.len() < m) || out.is_empty())
        {
            let v = self.value(doc, contains, depth + 1)?;
            if !(unique && out.contains(&v)) {
                if max.is_some_and(|m| out.len() >= m) {
                    out.pop();
                }
                out.push(v);
            }
        }
        Ok(Value::Array(out))
    }

    fn object(
        &mut self,
        doc: usize,
        map: &Map<String, Value>,
        depth: usize,
        shape: Shape,
    ) -> Result<Value, CannotGenerate> {
        let empty = Map::new();
        let props = map
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        for (name, schema) in props {
            let is_required = required.contains(&name.as_str());
            if self.is_read_only(doc, schema) {
                // The server sets it; requests leave it out (the request
                // validator does not require readOnly properties).
                continue;
            }
            let include = is_required
                || match shape {
                    Shape::Smallest => false,
                    Shape::Largest => true,
                    Shape::Random => self.rng.bool(),
                };
            if include {
                out.insert(name.clone(), self.value(doc, schema, depth + 1)?);
            }
        }
        let extra_schema = map
            .get("additionalProperties")
            .cloned()
            .unwrap_or(Value::Bool(true));
        for name in &required {
            if !out.contains_key(*name) && !props.contains_key(*name) {
                if extra_schema == Value::Bool(false) {
                    return Err(CannotGenerate::new(format!(
                        "`{name}` is required but not a property, and additionalProperties is false"
                    )));
                }
                out.insert(
                    (*name).to_string(),
                    self.value(doc, &extra_schema, depth + 1)?,
                );
            }
        }
        if let Some(Value::Object(deps)) = map.get("dependentRequired") {
            for (trigger, needed) in deps {
                if out.contains_key(trigger)
                    && let Value::Array(needed) = needed
                {
                    for n in needed.iter().filter_map(Value::as_str) {
                        if !out.contains_key(n) {
                            let s = props.get(n).cloned().unwrap_or(extra_schema.clone());
                            out.insert(n.to_string(), self.value(doc, &s, depth + 1)?);
                        }
                    }
                }
            }
        }
        let min = map
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let mut k = 0;
        while out.len() < min {
            let missing = props.iter().find(|(n, _)| !out.contains_key(*n));
            if let Some((n, s)) = missing {
                out.insert(n.clone(), self.value(doc, s, depth + 1)?);
            } else if extra_schema != Value::Bool(false) {
                k += 1;
                out.insert(
                    format!("extra{k}"),
                    self.value(doc, &extra_schema, depth + 1)?,
                );
            } else {
                return Err(CannotGenerate::new("minProperties cannot be reached"));
            }
        }
        Ok(Value::Object(out))
    }

    fn is_read_only(&self, doc: usize, schema: &Value) -> bool {
        if schema.get("readOnly") == Some(&Value::Bool(true)) {
            return true;
        }
        self.resolver
            .follow(doc, schema)
            .is_ok_and(|(_, s)| s.get("readOnly") == Some(&Value::Bool(true)))
    }
}

/// The JSON types a schema allows, declared or implied by its keywords.
pub fn types_of(map: &Map<String, Value>) -> Vec<&str> {
    match map.get("type") {
        Some(Value::String(t)) => return vec![t.as_str()],
        Some(Value::Array(ts)) => return ts.iter().filter_map(Value::as_str).collect(),
        _ => {}
    }
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&[
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
    ]) {
        vec!["object"]
    } else if has(&[
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
    ]) {
        vec!["array"]
    } else if has(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        vec!["number"]
    } else {
        vec!["string"]
    }
}

/// Inclusive integer bounds, kept within ±1e9 when the schema sets none.
pub fn int_bounds(map: &Map<String, Value>) -> Result<(i64, i64), CannotGenerate> {
    let (lo, hi, lo_open, hi_open) = num_bounds(map);
    let lo_i = if lo_open { lo.floor() + 1.0 } else { lo.ceil() };
    let hi_i = if hi_open { hi.ceil() - 1.0 } else { hi.floor() };
    if lo_i > hi_i {
        return Err(CannotGenerate::new(format!(
            "no integer between {lo} and {hi}"
        )));
    }
    Ok((lo_i as i64, hi_i as i64))
}

/// `(low, high, low exclusive, high exclusive)`; unbounded sides are clamped
/// near the bound that exists, so boundary draws stay realistic.
pub fn num_bounds(map: &Map<String, Value>) -> (f64, f64, bool, bool) {
    const WIDE: f64 = 1e9;
    let min = map.get("minimum").and_then(Value::as_f64);
    let xmin = map.get("exclusiveMinimum").and_then(Value::as_f64);
    let max = map.get("maximum").and_then(Value::as_f64);
    let xmax = map.get("exclusiveMaximum").and_then(Value::as_f64);
    let (lo, lo_open) = match (min, xmin) {
        (Some(a), Some(b)) if b >= a => (Some(b), true),
        (Some(a), _) => (Some(a), false),
        (None, Some(b)) => (Some(b), true),
        (None, None) => (None, false),
    };
    let (hi, hi_open) = match (max, xmax) {
        (Some(a), Some(b)) if b <= a => (Some(b), true),
        (Some(a), _) => (Some(a), false),
        (None, Some(b)) => (Some(b), true),
        (None, None) => (None, false),
    };
    let lo = lo.map(|l| l.max(-WIDE * 10.0));
    let hi = hi.map(|h| h.min(WIDE * 10.0));
    match (lo, hi) {
        (None, None) => (0.0, 100.0, false, false),
        (Some(lo), None) => (lo, lo + WIDE, lo_open, false),
        (None, Some(hi)) => (hi.min(0.0) - 100.0, hi, false, hi_open),
        (Some(lo), Some(hi)) => (lo, hi, lo_open, hi_open),
    }
}
