//! Shrinking a failing input: greedy, one edit at a time (drop a member or
//! an item, shorten a string, move a number toward zero), keeping an edit
//! only while the caller's predicate says the input still fails.

use serde_json::Value;

use super::plan::GeneratedRequest;

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
