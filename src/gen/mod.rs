//! Generated requests from the spec alone: the library behind the generated
//! phases (`apiconform fuzz` and a suite's `generate:` section).
//!
//! Everything here is plain data and pure functions; nothing sends traffic.
//! The phases call, in order:
//!
//! 1. [`plan::plan`]`(&spec, &`[`plan::PlanConfig`]`)` → a [`plan::Plan`]: per
//!    operation an [`plan::OperationPlan`] with its [`plan::GeneratedRequest`]s
//!    for each [`plan::Phase`] (examples, positive, negative, auth, methods),
//!    the operations that "cannot generate" (with the reason), and the
//!    stateful [`plan::Chain`]s (create, read, update, delete, read after
//!    delete) with what to capture and where to feed it. Filters
//!    ([`plan::Filter`]), read-only mode, destructive flags and pins
//!    ([`plan::Pin`], `body.ownerId=...`) are applied there. Deterministic for
//!    a seed; bounded by `max_examples` per operation and phase.
//! 2. Send each request (the runner applies [`plan::AuthMode`], renders
//!    templates in pinned values, serialises parameters with
//!    [`plan::GeneratedRequest::path_and_query`]).
//! 3. Judge each response with the checks in [`crate::check`], passing a
//!    [`crate::check::Generated`] context (phase, rule, chain history).
//! 4. On a failure (`apiconform fuzz`, after its run, per deduplicated
//!    finding), [`shrink::shrink_finding`] with a "still fails" predicate
//!    that re-sends each candidate through the run's runner and asks whether
//!    the same check fails with the same status class; then
//!    [`case::to_case_yaml`] (a regression case) and [`case::to_curl`] (a
//!    reproduction, secrets as `$NAME`) of the shrunk request.
//!
//! Values: [`Generator::positive`] draws schema-valid values (smallest,
//! largest, then random: boundaries first) and [`Generator::negative`]
//! schema-invalid ones, each with the [`Rule`] it breaks; both are checked
//! against the spec's compiled request validator before they are returned.
//!
//! Why hand-written generation rather than proptest strategies: proptest
//! (1.x) builds values from combinators whose shrinking keeps only the
//! constraints the combinators encode; JSON Schema's cross-keyword rules
//! (`allOf` with `required`, `oneOf` exclusivity, `uniqueItems`, formats)
//! would need `prop_filter`, which rejects locally and gives up on tight
//! schemas, and its runner is built for in-process assertions, not for a
//! predicate that sends an HTTP request. So values come from a seeded walk of
//! the schema, and shrinking ([`shrink`]) is greedy and predicate-driven, the
//! shape a phase can call. Patterns are drawn by walking the regex-syntax tree
//! (the parser already in the build through `regex`); `rand_regex` does the
//! same on top of `rand` 0.9, which would add a second `rand` to the build.

pub mod case;
mod format;
pub mod negative;
pub mod plan;
mod regex;
pub mod resolve;
pub mod scaffold;
pub mod shrink;
pub mod value;

use serde_json::Value;

pub use negative::{Mutation, Negative, Rule};
pub use value::Shape;

/// Past this schema depth only the smallest values are drawn (recursive
/// schemas then stop at their first optional or nullable member).
pub const SOFT_DEPTH: usize = 6;
/// Past this depth a schema is called unsatisfiably recursive.
pub const HARD_DEPTH: usize = 40;

use crate::spec::{SchemaId, Spec};

/// Why no value could be made for a schema (recursive without an exit,
/// unsatisfiable bounds, an unsupported pattern...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("cannot generate: {reason}")]
pub struct CannotGenerate {
    pub reason: String,
}

impl CannotGenerate {
    pub fn new(reason: impl Into<String>) -> Self {
        CannotGenerate {
            reason: reason.into(),
        }
    }
}

/// How a value travels: as JSON (a body), or as text (a parameter, where
/// `5` and `"5"` look the same to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Json,
    Text,
}

/// Value generation over one spec.
pub struct Generator<'s> {
    resolver: resolve::Resolver<'s>,
}

/// Attempts per wanted value before giving up on a schema.
const ATTEMPTS: usize = 6;
/// Valid draws in a row that gave nothing new, after which a schema's
/// values are taken as exhausted (a boolean or a small enum asked for 100
/// values would otherwise be drawn 600 times).
const STALE_DRAWS: usize = 32;

impl<'s> Generator<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        Generator {
            resolver: resolve::Resolver::new(spec),
        }
    }

    pub fn spec(&self) -> &'s Spec {
        self.resolver.spec()
    }

    fn source(&self, schema: SchemaId) -> Result<(usize, &'s Value), CannotGenerate> {
        self.spec()
            .schema_source(schema)
            .ok_or_else(|| CannotGenerate::new("schema not found in its document"))
    }

    fn validator(
        &self,
        schema: SchemaId,
    ) -> Result<crate::spec::SchemaValidator<'s>, CannotGenerate> {
        self.spec()
            .validator(schema)
            .map_err(|e| CannotGenerate::new(format!("the schema does not compile: {e}")))
    }

    /// Up to `count` distinct values valid against `schema`, boundaries
    /// first; an error only when not even one can be made.
    /// For [`Carrier::Text`], values must survive being sent as text (no
    /// `null`, no objects).
    pub fn positive(
        &self,
        schema: SchemaId,
        seed: u64,
        count: usize,
        carrier: Carrier,
    ) -> Result<Vec<Value>, CannotGenerate> {
        let (doc, raw) = self.source(schema)?;
        let validator = self.validator(schema)?;
        let mut out: Vec<Value> = Vec::new();
        let mut first_error = None;
        let mut stale = 0;
        for i in 0..count.max(1) * ATTEMPTS {
            if out.len() >= count || stale >= STALE_DRAWS {
                break;
            }
            let mut g = value::ValueGen::new(&self.resolver, mix(seed, i as u64), Shape::nth(i));
            match g.generate(doc, raw) {
                Ok(v) if validator.is_valid(&v) && sendable(&v, carrier) => {
                    if out.contains(&v) {
                        stale += 1;
                    } else {
                        stale = 0;
                        out.push(v);
                    }
                }
                Ok(v) => {
                    if first_error.is_none() {
                        let why = validator
                            .iter_errors(&v)
                            .next()
                            .map(|e| format!("{e} at {}", e.schema_path))
                            .unwrap_or_default();
                        first_error = Some(CannotGenerate::new(format!(
                            "drawn values break the schema ({why})"
                        )));
                    }
                }
                Err(e) => {
                    // Deterministic failures (recursion, bounds) repeat: stop early.
                    if i >= 2 && out.is_empty() {
                        return Err(first_error.unwrap_or(e));
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        if out.is_empty() {
            return Err(first_error.unwrap_or_else(|| CannotGenerate::new("no value drawn")));
        }
        Ok(out)
    }

    /// One unfiltered draw (not checked against the validator): what the
    /// property tests measure the walk itself by.
    pub fn draw(&self, schema: SchemaId, seed: u64, shape: Shape) -> Result<Value, CannotGenerate> {
        let (doc, raw) = self.source(schema)?;
        value::ValueGen::new(&self.resolver, seed, shape).generate(doc, raw)
    }

    /// Up to `count` invalid values, each breaking the rule it names (checked
    /// with the compiled validator; for [`Carrier::Text`], as the server
    /// would read the text). Rules are spread: one of each before repeats.
    pub fn negative(
        &self,
        schema: SchemaId,
        seed: u64,
        count: usize,
        carrier: Carrier,
    ) -> Result<Vec<Negative>, CannotGenerate> {
        let (doc, raw) = self.source(schema)?;
        let validator = self.validator(schema)?;
        let bases = self.positive(schema, seed, 2, carrier)?;
        let mut all: Vec<Negative> = Vec::new();
        for (i, base) in bases.iter().enumerate() {
            let mut g =
                value::ValueGen::new(&self.resolver, mix(seed, 1000 + i as u64), Shape::Random);
            for n in negative::candidates(&mut g, doc, raw, base)? {
                let dup = all.iter().any(|m| {
                    m.mutation.rule == n.mutation.rule && m.mutation.pointer == n.mutation.pointer
                });
                if !dup && breaks(&validator, &n.value, n.mutation.rule, carrier) {
                    all.push(n);
                }
            }
        }
        Ok(spread(all, count))
    }

    /// Whether `value` breaks `schema` for `rule` (the property tests' oracle).
    pub fn breaks_rule(
        &self,
        schema: SchemaId,
        value: &Value,
        rule: Rule,
        carrier: Carrier,
    ) -> bool {
        self.validator(schema)
            .is_ok_and(|v| breaks(&v, value, rule, carrier))
    }

    /// Whether `value` is valid against `schema` as carried.
    pub fn is_valid(&self, schema: SchemaId, value: &Value, carrier: Carrier) -> bool {
        self.validator(schema)
            .is_ok_and(|v| readings(value, carrier).iter().any(|r| v.is_valid(r)))
    }

    pub(crate) fn resolver(&self) -> &resolve::Resolver<'s> {
        &self.resolver
    }
}

/// Whether a value can travel as text and still be the same value.
fn sendable(value: &Value, carrier: Carrier) -> bool {
    match (carrier, value) {
        (Carrier::Json, _) => true,
        (Carrier::Text, Value::Null | Value::Object(_)) => false,
        (Carrier::Text, Value::Array(items)) => items
            .iter()
            .all(|i| !matches!(i, Value::Null | Value::Object(_) | Value::Array(_))),
        (Carrier::Text, _) => true,
    }
}

/// The ways a server may read a value: as is for JSON; for text, the string
/// and, when it parses so, the number or boolean it spells.
fn readings(value: &Value, carrier: Carrier) -> Vec<Value> {
    match carrier {
        Carrier::Json => vec![value.clone()],
        Carrier::Text => {
            let text = plan::text_of(value);
            let mut out = vec![Value::String(text.clone())];
            if let Ok(v) = serde_json::from_str::<Value>(&text)
                && (v.is_number() || v.is_boolean())
            {
                out.push(v);
            }
            if let Value::Array(items) = value {
                out.push(Value::Array(
                    items
                        .iter()
                        .map(|i| Value::String(plan::text_of(i)))
                        .collect(),
                ));
                out.push(value.clone());
            }
            out
        }
    }
}

fn breaks(
    validator: &crate::spec::SchemaValidator<'_>,
    value: &Value,
    rule: Rule,
    carrier: Carrier,
) -> bool {
    let readings = readings(value, carrier);
    readings.iter().all(|r| !validator.is_valid(r))
        && readings.iter().any(|r| {
            validator
                .iter_errors(r)
                .any(|e| e.keyword == rule.keyword())
        })
}

/// Keeps `count` values, taking one per rule before a second of any.
fn spread(all: Vec<Negative>, count: usize) -> Vec<Negative> {
    let mut chosen: Vec<Negative> = Vec::new();
    let mut rest: Vec<Negative> = Vec::new();
    for n in all {
        if chosen.iter().any(|c| c.mutation.rule == n.mutation.rule) {
            rest.push(n);
        } else {
            chosen.push(n);
        }
    }
    chosen.extend(rest);
    chosen.truncate(count);
    chosen
}

/// A per-draw seed from the run seed (splitmix64 step, so nearby draws differ).
pub fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: gen, version: "1"}
paths:
  /things:
    post:
      operationId: make
      parameters:
        - {name: tree, in: query, schema: {$ref: '#/components/schemas/Tree'}}
        - {name: endless, in: query, schema: {$ref: '#/components/schemas/Endless'}}
        - {name: impossible, in: query, schema: {type: integer, minimum: 10, maximum: 5}}
        - {name: choice, in: query, schema: {oneOf: [{type: string, minLength: 5, maxLength: 2}, {type: integer, minimum: 3, maximum: 3}]}}
        - {name: empty, in: query, schema: {type: string, enum: []}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses: {"200": {description: ok}}
components:
  schemas:
    Tree:
      type: object
      required: [children]
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Tree'}}
    Endless:
      type: object
      required: [next]
      properties:
        next: {$ref: '#/components/schemas/Endless'}
    Thing:
      type: object
      additionalProperties: false
      required: [id, name, secret, size]
      properties:
        id: {type: string, format: uuid, readOnly: true}
        name: {type: string, nullable: true, minLength: 2, maxLength: 8, pattern: '^[a-z]+$'}
        secret: {type: string, writeOnly: true}
        size: {type: integer, format: int32, minimum: 1, maximum: 9, multipleOf: 2}
        kind: {type: string, enum: [small, large]}
        when: {type: string, format: date-time}
"#;

    fn spec() -> Spec {
        let dir = std::env::temp_dir().join(format!("apiconform-gen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("spec.yaml");
        std::fs::write(&file, SPEC).expect("write spec");
        crate::spec::load(&file).expect("test spec loads")
    }

    fn param(spec: &Spec, name: &str) -> SchemaId {
        let op = spec.operation_by_id("make").expect("make");
        op.parameters
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.schema)
            .expect("parameter schema")
    }

    #[test]
    fn recursion_and_contradictions_report_cannot_generate() {
        let spec = spec();
        let g = Generator::new(&spec);
        let tree = g
            .positive(param(&spec, "tree"), 1, 3, Carrier::Json)
            .expect("a tree has leaves");
        assert_eq!(tree[0], json!({"children": []}));
        let endless = g
            .positive(param(&spec, "endless"), 1, 3, Carrier::Json)
            .expect_err("no end");
        assert!(endless.reason.contains("recursive"), "{endless}");
        let impossible = g
            .positive(param(&spec, "impossible"), 1, 3, Carrier::Text)
            .expect_err("no integer");
        assert!(
            impossible.reason.contains("no integer between 10 and 5"),
            "{impossible}"
        );
        let empty = g
            .positive(param(&spec, "empty"), 1, 3, Carrier::Text)
            .expect_err("empty enum");
        assert!(empty.reason.contains("empty enum"), "{empty}");
        // The impossible branch of a oneOf is skipped.
        let choice = g
            .positive(param(&spec, "choice"), 1, 3, Carrier::Text)
            .expect("the integer branch");
        assert!(choice.iter().all(|v| v == &json!(3)), "{choice:?}");
    }

    #[test]
    fn request_bodies_respect_read_only_write_only_and_bounds() {
        let spec = spec();
        let g = Generator::new(&spec);
        let op = spec.operation_by_id("make").expect("make");
        let schema = op
            .request_body
            .as_ref()
            .and_then(|b| b.content[0].schema)
            .expect("body");
        let values = g.positive(schema, 9, 6, Carrier::Json).expect("values");
        assert!(values.len() >= 4, "{values:?}");
        for v in &values {
            assert!(v.get("id").is_none(), "readOnly left out: {v}");
            assert!(
                v.get("secret").is_some(),
                "writeOnly required in requests: {v}"
            );
            let size = v["size"].as_i64().unwrap_or(0);
            assert!((2..=8).contains(&size) && size % 2 == 0, "{v}");
        }
        // Boundaries first: smallest then largest.
        assert_eq!(values[0]["size"], json!(2));
        assert_eq!(values[0]["name"], Value::Null, "nullable: smallest is null");
        assert_eq!(values[1]["size"], json!(8));
        assert_eq!(values[1]["kind"], json!("large"));
        assert!(
            values[1]["name"]
                .as_str()
                .is_some_and(|n| (2..=8).contains(&n.len())),
            "{}",
            values[1]
        );
        assert_eq!(
            values,
            g.positive(schema, 9, 6, Carrier::Json).expect("again"),
            "deterministic"
        );
        assert_ne!(
            values,
            g.positive(schema, 10, 6, Carrier::Json)
                .expect("other seed")
        );
        let negatives = g.negative(schema, 9, 40, Carrier::Json).expect("negatives");
        let rules: std::collections::BTreeSet<Rule> =
            negatives.iter().map(|n| n.mutation.rule).collect();
        for rule in [
            Rule::Required,
            Rule::Type,
            Rule::Minimum,
            Rule::Maximum,
            Rule::MultipleOf,
            Rule::MaxLength,
            Rule::MinLength,
            Rule::Pattern,
            Rule::Enum,
            Rule::Format,
            Rule::AdditionalProperties,
        ] {
            assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
        }
        for n in &negatives {
            assert!(
                g.breaks_rule(schema, &n.value, n.mutation.rule, Carrier::Json),
                "{n:?}"
            );
        }
    }
}
