//! Compiled value assertions (`equals`, `type`, `regex`, ...), used for body
//! JSON paths, headers and webhook bodies.

use std::sync::Arc;

use regex::Regex;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::JsonType;
use super::template::{RenderError, Scope, ValueTemplate};
use crate::diag::Pos;

/// One compiled matcher; every given condition must hold.
#[derive(Debug, Default)]
pub struct Matcher {
    pub pos: Pos,
    /// `pos` as `file:line:column`, formatted once at load for every
    /// result of this matcher (`None` for matchers built in code).
    pub at: Option<Arc<str>>,
    pub equals: Option<ValueTemplate>,
    pub not_equals: Option<ValueTemplate>,
    pub one_of: Option<Vec<ValueTemplate>>,
    pub type_: Option<JsonType>,
    pub regex: Option<RegexExpr>,
    /// Some key of an object matches.
    pub key_regex: Option<Regex>,
    pub uuid: Option<bool>,
    pub date_time: Option<bool>,
    pub length: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub contains: Option<ValueTemplate>,
    pub not_contains: Option<ValueTemplate>,
    /// `Some(true)`: must select something; `Some(false)`: must select nothing.
    pub present: Option<bool>,
    pub gt: Option<ValueTemplate>,
    pub gte: Option<ValueTemplate>,
    pub lt: Option<ValueTemplate>,
    pub lte: Option<ValueTemplate>,
    pub each: bool,
}

/// A regex, compiled at load time unless it contains templates.
#[derive(Debug)]
pub enum RegexExpr {
    Static(Regex),
    /// Compiled per use, after rendering (e.g. `^{{ base }}/shares/`).
    Templated(super::template::Template),
}

impl RegexExpr {
    fn get(&self, scope: &dyn Scope) -> Result<std::borrow::Cow<'_, Regex>, Failure> {
        match self {
            RegexExpr::Static(r) => Ok(std::borrow::Cow::Borrowed(r)),
            RegexExpr::Templated(t) => {
                let text = t.render_string(scope).map_err(|e| e.to_string())?;
                Regex::new(&text)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|e| format!("regex `{text}`: {e}"))
            }
        }
    }
}

/// Why an assertion failed (or could not be evaluated).
pub type Failure = String;

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn render(t: &ValueTemplate, scope: &dyn Scope) -> Result<Value, Failure> {
    t.render(scope).map_err(|e: RenderError| e.to_string())
}

/// JSON equality where 1 and 1.0 are equal.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `needle` is in `hay`: substring, array element, or object subset.
fn contains(hay: &Value, needle: &Value) -> Option<bool> {
    match (hay, needle) {
        (Value::String(h), Value::String(n)) => Some(h.contains(n.as_str())),
        (Value::Array(items), n) => Some(items.iter().any(|i| json_eq(i, n) || subset(n, i))),
        (Value::Object(_), Value::Object(_)) => Some(subset(needle, hay)),
        _ => None,
    }
}

/// Every member of `part` is in `whole` (recursively for objects).
fn subset(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|wv| subset(v, wv) || json_eq(v, wv))),
        _ => json_eq(part, whole),
    }
}

fn has_type(v: &Value, t: JsonType) -> bool {
    match t {
        JsonType::Number => v.is_number(),
        JsonType::Integer => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => crate::spec::json_type(v) == other.name(),
    }
}

fn length(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

fn parse_time(v: &Value) -> Option<OffsetDateTime> {
    v.as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

/// Orders numbers numerically and RFC 3339 date-times chronologically.
fn compare(actual: &Value, expected: &Value) -> Option<std::cmp::Ordering> {
    if let (Some(a), Some(b)) = (actual.as_f64(), expected.as_f64()) {
        return a.partial_cmp(&b);
    }
    if let (Some(a), Some(b)) = (parse_time(actual), parse_time(expected)) {
        return Some(a.cmp(&b));
    }
    None
}

pub fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 36 && uuid::Uuid::try_parse(s).is_ok())
}

impl Matcher {
    /// Checks the nodes a JSON path (or header) selected. `what` names the
    /// target in messages, e.g. `$.data.id`.
    pub fn check_selection(
        &self,
        what: &str,
        selected: &[&Value],
        scope: &dyn Scope,
    ) -> Result<(), Failure> {
        match self.present {
            Some(true) if selected.is_empty() => return Err(format!("{what} is missing")),
            Some(false) if !selected.is_empty() => {
                return Err(format!(
                    "{what} should be absent, found {}",
                    show(selected[0])
                ));
            }
            Some(false) => return Ok(()),
            _ => {}
        }
        if selected.is_empty() {
            // `each` holds vacuously, and so do purely negative conditions.
            if self.each || !self.has_positive_conditions() {
                return Ok(());
            }
            return Err(format!("{what} is missing"));
        }
        if self.each {
            for (i, v) in selected.iter().enumerate() {
                self.check_value(&format!("{what} (match {i})"), v, scope)?;
            }
            return Ok(());
        }
        if let [one] = selected {
            return self.check_value(what, one, scope);
        }
        let all = Value::Array(selected.iter().map(|v| (*v).clone()).collect());
        self.check_value(what, &all, scope)
    }

    /// Conditions that need a value to hold (all but `not_equals`/`not_contains`).
    fn has_positive_conditions(&self) -> bool {
        self.equals.is_some()
            || self.one_of.is_some()
            || self.type_.is_some()
            || self.regex.is_some()
            || self.key_regex.is_some()
            || self.uuid.is_some()
            || self.date_time.is_some()
            || self.length.is_some()
            || self.min_length.is_some()
            || self.max_length.is_some()
            || self.contains.is_some()
            || self.gt.is_some()
            || self.gte.is_some()
            || self.lt.is_some()
            || self.lte.is_some()
    }

    /// Checks one value.
    pub fn check_value(&self, what: &str, v: &Value, scope: &dyn Scope) -> Result<(), Failure> {
        if let Some(t) = &self.equals {
            let expected = render(t, scope)?;
            if !json_eq(v, &expected) {
                return Err(format!(
                    "{what}: expected {}, got {}",
                    show(&expected),
                    show(v)
                ));
            }
        }
        if let Some(t) = &self.not_equals {
            let unexpected = render(t, scope)?;
            if json_eq(v, &unexpected) {
                return Err(format!(
                    "{what}: expected anything but {}",
                    show(&unexpected)
                ));
            }
        }
        if let Some(options) = &self.one_of {
            let values: Vec<Value> = options
                .iter()
                .map(|t| render(t, scope))
                .collect::<Result<_, _>>()?;
            if !values.iter().any(|e| json_eq(v, e)) {
                return Err(format!(
                    "{what}: expected one of {}, got {}",
                    show(&Value::Array(values)),
                    show(v)
                ));
            }
        }
        if let Some(t) = self.type_
            && !has_type(v, t)
        {
            return Err(format!(
                "{what}: expected a {}, got {} {}",
                t.name(),
                crate::spec::json_type(v),
                show(v)
            ));
        }
        if let Some(re) = &self.regex {
            let re = re.get(scope)?;
            match v.as_str() {
                Some(s) if re.is_match(s) => {}
                Some(_) => {
                    return Err(format!(
                        "{what}: {} does not match /{}/",
                        show(v),
                        re.as_str()
                    ));
                }
                None => {
                    return Err(format!(
                        "{what}: expected a string matching /{}/, got {}",
                        re.as_str(),
                        show(v)
                    ));
                }
            }
        }
        if let Some(re) = &self.key_regex {
            match v.as_object() {
                Some(o) if o.keys().any(|k| re.is_match(k)) => {}
                Some(o) => {
                    let keys: Vec<&str> = o.keys().map(String::as_str).collect();
                    return Err(format!(
                        "{what}: no key matches /{}/ (keys: {})",
                        re.as_str(),
                        keys.join(", ")
                    ));
                }
                None => {
                    return Err(format!(
                        "{what}: expected an object with a key matching /{}/, got {}",
                        re.as_str(),
                        show(v)
                    ));
                }
            }
        }
        if let Some(want) = self.uuid
            && is_uuid(v) != want
        {
            return Err(format!(
                "{what}: expected {}a UUID, got {}",
                if want { "" } else { "not " },
                show(v)
            ));
        }
        if let Some(want) = self.date_time
            && parse_time(v).is_some() != want
        {
            return Err(format!(
                "{what}: expected {}an RFC 3339 date-time, got {}",
                if want { "" } else { "not " },
                show(v)
            ));
        }
        if self.length.is_some() || self.min_length.is_some() || self.max_length.is_some() {
            let Some(len) = length(v) else {
                return Err(format!(
                    "{what}: expected a string, array or object, got {}",
                    show(v)
                ));
            };
            if self.length.is_some_and(|n| n != len) {
                return Err(format!(
                    "{what}: expected length {}, got {len}",
                    self.length.unwrap_or_default()
                ));
            }
            if self.min_length.is_some_and(|n| len < n) {
                return Err(format!(
                    "{what}: expected length >= {}, got {len}",
                    self.min_length.unwrap_or_default()
                ));
            }
            if self.max_length.is_some_and(|n| len > n) {
                return Err(format!(
                    "{what}: expected length <= {}, got {len}",
                    self.max_length.unwrap_or_default()
                ));
            }
        }
        if let Some(t) = &self.contains {
            let needle = render(t, scope)?;
            match contains(v, &needle) {
                Some(true) => {}
                Some(false) => {
                    return Err(format!(
                        "{what}: {} does not contain {}",
                        show(v),
                        show(&needle)
                    ));
                }
                None => {
                    return Err(format!(
                        "{what}: cannot look for {} in {}",
                        show(&needle),
                        show(v)
                    ));
                }
            }
        }
        if let Some(t) = &self.not_contains {
            let needle = render(t, scope)?;
            if contains(v, &needle) == Some(true) {
                return Err(format!(
                    "{what}: {} should not contain {}",
                    show(v),
                    show(&needle)
                ));
            }
        }
        use std::cmp::Ordering::{Equal, Greater, Less};
        let comparisons: [(&Option<ValueTemplate>, &str, &[std::cmp::Ordering]); 4] = [
            (&self.gt, ">", &[Greater]),
            (&self.gte, ">=", &[Greater, Equal]),
            (&self.lt, "<", &[Less]),
            (&self.lte, "<=", &[Less, Equal]),
        ];
        for (bound, op, allowed) in comparisons {
            let Some(t) = bound else { continue };
            let limit = render(t, scope)?;
            match compare(v, &limit) {
                Some(ord) if allowed.contains(&ord) => {}
                Some(_) => {
                    return Err(format!(
                        "{what}: expected {op} {}, got {}",
                        show(&limit),
                        show(v)
                    ));
                }
                None => {
                    return Err(format!(
                        "{what}: cannot compare {} with {}",
                        show(v),
                        show(&limit)
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Matcher {
    /// Every variable the matcher's templates reference, so the runner can
    /// tell whether a step needs a value an earlier step failed to capture.
    pub fn variables(&self, out: &mut Vec<String>) {
        let singles = [
            &self.equals,
            &self.not_equals,
            &self.contains,
            &self.not_contains,
            &self.gt,
            &self.gte,
            &self.lt,
            &self.lte,
        ];
        for vt in singles.into_iter().flatten() {
            vt.variables(out);
        }
        for vt in self.one_of.iter().flatten() {
            vt.variables(out);
        }
        if let Some(RegexExpr::Templated(t)) = &self.regex {
            out.extend(t.variables().map(str::to_string));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn st(v: Value) -> Option<ValueTemplate> {
        Some(ValueTemplate::Static(v))
    }

    fn scope() -> HashMap<String, Value> {
        HashMap::from([("id".to_string(), json!("abc"))])
    }

    #[test]
    fn equality_including_captured_values() {
        let m = Matcher {
            equals: Some(ValueTemplate::Text(
                super::super::template::Template::parse("{{ id }}").unwrap(),
            )),
            ..Default::default()
        };
        assert!(m.check_value("$.id", &json!("abc"), &scope()).is_ok());
        let err = m.check_value("$.id", &json!("abd"), &scope()).unwrap_err();
        assert_eq!(err, r#"$.id: expected "abc", got "abd""#);
        let m = Matcher {
            equals: st(json!(1)),
            ..Default::default()
        };
        assert!(m.check_value("$", &json!(1.0), &scope()).is_ok());
    }

    #[test]
    fn type_regex_uuid_datetime() {
        let s = scope();
        let m = Matcher {
            type_: Some(JsonType::Integer),
            ..Default::default()
        };
        assert!(m.check_value("x", &json!(3), &s).is_ok());
        assert!(m.check_value("x", &json!("3"), &s).is_err());
        let m = Matcher {
            regex: Some(RegexExpr::Static(Regex::new("^a.c$").unwrap())),
            ..Default::default()
        };
        assert!(m.check_value("x", &json!("abc"), &s).is_ok());
        assert!(m.check_value("x", &json!("abcd"), &s).is_err());
        let m = Matcher {
            uuid: Some(true),
            ..Default::default()
        };
        assert!(
            m.check_value("x", &json!("53520156-8459-425b-3370-08de95423420"), &s)
                .is_ok()
        );
        assert!(m.check_value("x", &json!("53520156"), &s).is_err());
        let m = Matcher {
            date_time: Some(true),
            ..Default::default()
        };
        assert!(
            m.check_value("x", &json!("2026-04-30T12:00:00Z"), &s)
                .is_ok()
        );
        assert!(
            m.check_value("x", &json!("2026-04-30T12:00:00"), &s)
                .is_err()
        );
    }

    #[test]
    fn length_contains_and_comparisons() {
        let s = scope();
        let m = Matcher {
            length: Some(2),
            contains: st(json!({"a": 1})),
            ..Default::default()
        };
        assert!(
            m.check_value("x", &json!([{"a": 1, "b": 2}, {"a": 3}]), &s)
                .is_ok()
        );
        assert!(
            m.check_value("x", &json!([{"a": 2}, {"a": 3}]), &s)
                .is_err()
        );
        let m = Matcher {
            gte: st(json!(1)),
            lt: st(json!(10)),
            ..Default::default()
        };
        assert!(m.check_value("x", &json!(1), &s).is_ok());
        assert!(m.check_value("x", &json!(10), &s).is_err());
        let m = Matcher {
            gt: st(json!("2026-01-01T00:00:00Z")),
            ..Default::default()
        };
        assert!(
            m.check_value("x", &json!("2026-01-01T00:00:01+00:00"), &s)
                .is_ok()
        );
        assert!(
            m.check_value("x", &json!("abc"), &s)
                .unwrap_err()
                .contains("cannot compare")
        );
    }

    #[test]
    fn presence() {
        let s = scope();
        let v = json!(1);
        let present = Matcher {
            present: Some(true),
            ..Default::default()
        };
        assert!(present.check_selection("$.a", &[], &s).is_err());
        assert!(present.check_selection("$.a", &[&v], &s).is_ok());
        let absent = Matcher {
            present: Some(false),
            ..Default::default()
        };
        assert!(absent.check_selection("$.a", &[&v], &s).is_err());
        assert!(absent.check_selection("$.a", &[], &s).is_ok());
        let typed = Matcher {
            type_: Some(JsonType::Integer),
            ..Default::default()
        };
        assert_eq!(
            typed.check_selection("$.a", &[], &s).unwrap_err(),
            "$.a is missing"
        );
        let each = Matcher {
            each: true,
            type_: Some(JsonType::Integer),
            ..Default::default()
        };
        let w = json!("x");
        assert!(each.check_selection("$.a[*]", &[&v, &w], &s).is_err());
    }

    #[test]
    fn key_regex_needs_one_matching_key_of_an_object() {
        let s = scope();
        let m = Matcher {
            key_regex: Some(Regex::new(r"(?i)^(\$\.)?consentIds(\[\d+\])?$").unwrap()),
            ..Default::default()
        };
        for ok in [
            json!({"consentIds": ["x"]}),
            json!({"ConsentIds[0]": ["x"]}),
            json!({"$.consentIds[0]": ["x"]}),
        ] {
            assert!(m.check_value("$.errors", &ok, &s).is_ok(), "{ok}");
        }
        let err = m
            .check_value("$.errors", &json!({"clientId": []}), &s)
            .unwrap_err();
        assert!(err.contains("keys: clientId"), "{err}");
        assert!(
            m.check_value("$.errors", &json!(["consentIds"]), &s)
                .is_err()
        );
    }
}
