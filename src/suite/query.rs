//! A body JSON path compiled once at load. Most paths in case files are a
//! chain of member names (`$.data.id`); those are walked directly, which
//! costs a few map lookups per step instead of a general RFC 9535 query.
//! Every other path goes through `serde_json_path`.

use serde_json::Value;
use serde_json_path::{JsonPath, ParseError};

#[derive(Debug)]
pub struct BodyPath {
    path: JsonPath,
    /// The member names of a `$.a.b` path; `None` for any other form.
    members: Option<Vec<String>>,
}

impl BodyPath {
    pub fn parse(text: &str) -> Result<BodyPath, ParseError> {
        let path = JsonPath::parse(text)?;
        Ok(BodyPath {
            path,
            members: member_chain(text),
        })
    }

    /// The nodes the path selects in `value`, in document order.
    pub fn select<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        let Some(members) = &self.members else {
            return self.path.query(value).all();
        };
        // A name selector selects the member of an object and nothing in
        // any other value (RFC 9535 2.3.1.2).
        let mut node = value;
        for name in members {
            match node.as_object().and_then(|o| o.get(name)) {
                Some(next) => node = next,
                None => return Vec::new(),
            }
        }
        vec![node]
    }
}

/// `$.a.b_2` -> `["a", "b_2"]`; `None` unless the whole path is `$`
/// followed by dot-names of ASCII letters, digits and `_` (not starting
/// with a digit), the shorthand whose meaning is a plain member lookup.
fn member_chain(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.strip_prefix('.')?
        .split('.')
        .map(|name| is_shorthand_name(name).then(|| name.to_string()))
        .collect()
}

fn is_shorthand_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Asserts `text` takes (or not) the direct walk and selects in
    /// `body` exactly what `serde_json_path` itself selects.
    fn selects_as_the_general_query(text: &str, body: &Value, direct: bool) {
        let p = BodyPath::parse(text).expect("parses");
        assert_eq!(p.members.is_some(), direct, "{text}: direct walk");
        let general = JsonPath::parse(text).expect("path").query(body).all();
        assert_eq!(p.select(body), general, "{text}");
    }

    #[test]
    fn member_chains_select_what_the_general_query_selects() {
        let body =
            json!({"data": {"id": "x", "n": [1, 2], "inner": {"a_1": null}}, "list": [{"id": 1}]});
        for text in [
            "$",
            "$.data",
            "$.data.id",
            "$.data.n",
            "$.data.inner.a_1",
            "$.missing",
            "$.data.id.deeper",
            "$.list.id",
        ] {
            selects_as_the_general_query(text, &body, true);
        }
    }

    #[test]
    fn other_forms_use_the_general_query() {
        let body = json!({"data": [{"id": 1}, {"id": 2}], "a b": 3});
        for text in [
            "$.data[*].id",
            "$.data[0]",
            "$['a b']",
            "$..id",
            "$.data[?@.id == 2]",
        ] {
            selects_as_the_general_query(text, &body, false);
        }
        assert!(BodyPath::parse("$.").is_err());
        assert!(BodyPath::parse("data.id").is_err());
    }
}
