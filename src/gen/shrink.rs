//! Shrinking a failing input: greedy, one edit at a time (drop a member or
//! an item, shorten a string, move a number toward zero), keeping an edit
//! only while the caller's predicate says the input still fails.

use serde_json::Value;

use super::plan::{GeneratedRequest, Phase};
use super::{Carrier, Generator};

/// Most predicate calls one shrink makes (each may be an HTTP request).
pub const DEFAULT_BUDGET: usize = 200;

/// The smallest value reachable from `value` for which `still_fails` holds,
/// within `budget` predicate calls. `value` itself is assumed to fail.
pub fn shrink_value(
    value: &Value,
    still_fails: &mut dyn FnMut(&Value) -> bool,
    budget: usize,
) -> Value {
    let mut current = value.clone();
    let mut calls = 0;
    'outer: loop {
        for candidate in simpler(&current) {
            if calls >= budget {
                break 'outer;
            }
            calls += 1;
            if still_fails(&candidate) {
                current = candidate;
                continue 'outer;
            }
        }
        break;
    }
    current
}

/// Shrinks a request: its body, then its optional query parameters and
/// headers, one at a time (path parameters are needed to reach the route).
pub fn shrink_request(
    request: &GeneratedRequest,
    still_fails: &mut dyn FnMut(&GeneratedRequest) -> bool,
    budget: usize,
) -> GeneratedRequest {
    let mut current = request.clone();
    let mut calls = 0usize;
    for name in request.query.keys() {
        if calls >= budget {
            return current;
        }
        let mut candidate = current.clone();
        candidate.query.remove(name);
        calls += 1;
        if still_fails(&candidate) {
            current = candidate;
        }
    }
    for name in request.headers.keys() {
        if calls >= budget {
            return current;
        }
        let mut candidate = current.clone();
        candidate.headers.remove(name);
        calls += 1;
        if still_fails(&candidate) {
            current = candidate;
        }
    }
    if let Some(body) = current.body.clone() {
        let base = current.clone();
        let mut body_fails = |b: &Value| {
            let mut candidate = base.clone();
            candidate.body = Some(b.clone());
            still_fails(&candidate)
        };
        let small = shrink_value(&body, &mut body_fails, budget.saturating_sub(calls));
        current.body = Some(small);
    }
    current
}

/// Shrinks a failing generated request without changing what it tests: a
/// candidate counts only if it still fails *and* keeps its phase's meaning:
/// a negative request still breaks its named rule (body mutations), every
/// other request keeps a schema-valid body. This is the entry point the
/// phases call for findings.
pub fn shrink_finding(
    g: &Generator<'_>,
    request: &GeneratedRequest,
    still_fails: &mut dyn FnMut(&GeneratedRequest) -> bool,
    budget: usize,
) -> GeneratedRequest {
    let spec = g.spec();
    let schema = spec.operations.get(request.operation).and_then(|op| {
        let body = op.request_body.as_ref()?;
        body.content.iter().find(|m| m.json).and_then(|m| m.schema)
    });
    let meaning = |candidate: &GeneratedRequest| -> bool {
        let (Some(schema), Some(body)) = (schema, candidate.body.as_ref()) else {
            return candidate.body.is_none() == request.body.is_none();
        };
        match (&request.phase, &request.mutation) {
            (Phase::Negative, Some(m)) if m.pointer.starts_with('/') => {
                g.breaks_rule(schema, body, m.rule, Carrier::Json)
            }
            (Phase::Negative, _) => true,
            _ => g.is_valid(schema, body, Carrier::Json),
        }
    };
    let required: Vec<String> = spec
        .operations
        .get(request.operation)
        .map(|op| {
            op.parameters
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut guarded = |candidate: &GeneratedRequest| {
        let kept =
            |before: &std::collections::BTreeMap<String, serde_json::Value>,
             after: &std::collections::BTreeMap<String, serde_json::Value>,
             name: &str| !before.contains_key(name) || after.contains_key(name);
        let keeps_required = required.iter().all(|name| {
            kept(&request.query, &candidate.query, name)
                && kept(&request.headers, &candidate.headers, name)
        });
        keeps_required && meaning(candidate) && still_fails(candidate)
    };
    shrink_request(request, &mut guarded, budget)
}

/// One-edit simplifications of `value`, biggest reductions first.
fn simpler(value: &Value) -> Vec<Value> {
    let mut pointers = Vec::new();
    collect(value, String::new(), &mut pointers);
    let mut out = Vec::new();
    // Removals first: they shrink the most.
    for p in pointers.iter().filter(|p| !p.is_empty()) {
        let mut v = value.clone();
        if remove(&mut v, p) {
            out.push(v);
        }
    }
    for p in &pointers {
        let Some(node) = value.pointer(p) else {
            continue;
        };
        for smaller in scalar_steps(node) {
            let mut v = value.clone();
            if let Some(slot) = v.pointer_mut(p) {
                *slot = smaller;
                out.push(v);
            }
        }
    }
    out
}

fn collect(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                collect(
                    v,
                    format!("{pointer}/{}", crate::spec::escape_token(k)),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(pointer);
}

fn remove(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = crate::spec::unescape_token(last);
    let target = if parent.is_empty() {
        Some(value)
    } else {
        value.pointer_mut(parent)
    };
    match target {
        Some(Value::Object(m)) => m.remove(&key).is_some(),
        Some(Value::Array(items)) => match key.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn scalar_steps(node: &Value) -> Vec<Value> {
    match node {
        Value::String(s) if !s.is_empty() => {
            let chars: Vec<char> = s.chars().collect();
            let mut steps = vec![Value::String(String::new())];
            if chars.len() > 2 {
                steps.push(Value::String(chars[..chars.len() / 2].iter().collect()));
            }
            if chars.len() > 1 {
                steps.push(Value::String(chars[..1].iter().collect()));
            }
            steps
        }
        Value::Number(n) => {
            let mut steps = Vec::new();
            if let Some(i) = n.as_i64() {
                if i != 0 {
                    steps.push(Value::from(0));
                    if i / 2 != 0 {
                        steps.push(Value::from(i / 2));
                    }
                }
            } else if let Some(f) = n.as_f64()
                && f != 0.0
            {
                steps.push(Value::from(0));
                steps.push(Value::from(f.trunc() as i64));
            }
            steps
        }
        Value::Bool(true) => vec![Value::Bool(false)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shrinks_to_the_part_that_fails() {
        let big = json!({"name": "a long name here", "tags": ["x", "y", "z"], "age": 9001,
            "nested": {"deep": true, "bad": "needle"}});
        // "Fails" whenever the string "needle" is present anywhere.
        let mut fails = |v: &Value| v.to_string().contains("needle");
        let small = shrink_value(&big, &mut fails, DEFAULT_BUDGET);
        assert_eq!(small, json!({"nested": {"bad": "needle"}}));
    }

    #[test]
    fn numbers_move_toward_the_boundary_that_fails() {
        let mut fails = |v: &Value| v["n"].as_i64().is_some_and(|n| n > 10);
        let small = shrink_value(&json!({"n": 1000, "x": 1}), &mut fails, DEFAULT_BUDGET);
        assert_eq!(small["x"], Value::Null);
        let n = small["n"].as_i64().unwrap_or(0);
        assert!(n > 10 && n < 30, "{small}");
    }

    #[test]
    fn findings_shrink_without_losing_their_meaning() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mycloud-shares-v1.yaml");
        let spec = crate::spec::load(&path).expect("bundled spec");
        let g = Generator::new(&spec);
        let config = crate::generate::plan::PlanConfig {
            seed: 4,
            ..Default::default()
        };
        let plan = crate::generate::plan::plan(&spec, &config);
        let op = spec
            .operation_index_by_id("createShare")
            .expect("createShare");
        let requests = &plan
            .operations
            .iter()
            .find(|o| o.operation == op)
            .expect("planned")
            .requests;
        // A positive request whose "failure" is any body at all: shrinks to
        // the smallest *valid* body, not to `{}`.
        let positive = requests
            .iter()
            .find(|r| {
                r.phase == Phase::Positive
                    && r.body
                        .as_ref()
                        .is_some_and(|b| b.as_object().is_some_and(|m| m.len() > 3))
            })
            .expect("a large positive body");
        let small = shrink_finding(&g, positive, &mut |_| true, DEFAULT_BUDGET);
        let body = small.body.as_ref().expect("body kept");
        let schema = spec.operations[op]
            .request_body
            .as_ref()
            .and_then(|b| b.content[0].schema)
            .expect("schema");
        assert!(g.is_valid(schema, body, Carrier::Json), "{body}");
        assert!(
            body.as_object().is_some_and(|m| m.len()
                < positive
                    .body
                    .as_ref()
                    .and_then(|b| b.as_object())
                    .map_or(0, |m| m.len())),
            "{body}"
        );
        // A negative request keeps breaking its rule.
        let negative = requests
            .iter()
            .find(|r| {
                r.phase == Phase::Negative
                    && r.mutation
                        .as_ref()
                        .is_some_and(|m| m.pointer.starts_with('/'))
            })
            .expect("a body mutation");
        let rule = negative.mutation.as_ref().map(|m| m.rule).expect("rule");
        let small = shrink_finding(&g, negative, &mut |_| true, DEFAULT_BUDGET);
        assert!(g.breaks_rule(
            schema,
            small.body.as_ref().expect("body"),
            rule,
            Carrier::Json
        ));
    }

    #[test]
    fn the_budget_bounds_predicate_calls() {
        let mut calls = 0;
        let mut fails = |_: &Value| {
            calls += 1;
            false
        };
        shrink_value(&json!({"a": [1, 2, 3, 4, 5, 6]}), &mut fails, 3);
        assert_eq!(calls, 3);
    }
}
