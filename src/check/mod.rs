//! Automatic conformance checks: each is one small function with one
//! signature, kept in [`REGISTRY`], on by default and switchable by name per
//! suite, case, step or from the command line.

mod content_type;
mod headers;
mod schema;
mod status;

pub use schema::validate as validate_schema;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::spec::{Operation, Spec};

/// What a check sees: the operation, the request it sent, the response.
pub struct Exchange<'a> {
    pub spec: &'a Spec,
    pub operation: &'a Operation,
    /// The JSON request body sent, if any.
    pub request_body: Option<&'a Value>,
    /// Whether the case expects this request to succeed (no expected status,
    /// or only 1xx-3xx): deliberate bad requests are not schema-checked.
    pub expects_success: bool,
    pub status: u16,
    pub headers: &'a HeaderMap,
    /// The response body parsed as JSON (`None` when empty).
    pub json: Option<&'a Result<Value, String>>,
}

impl Exchange<'_> {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// One problem a check found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub message: String,
    /// Where in the body, as a JSON path (`$.data[0].id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// The schema rule broken: keyword and its pointer in the spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The relevant part of the response, truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

impl Finding {
    pub fn new(message: impl Into<String>) -> Self {
        Finding {
            message: message.into(),
            json_path: None,
            rule: None,
            excerpt: None,
        }
    }
}

/// The result of one check on one exchange.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Finding>),
    /// Not applicable here (e.g. no schema documented), with the reason.
    Skip(String),
}

pub type CheckFn = fn(&Exchange<'_>) -> Outcome;

/// A registered check.
pub struct CheckDef {
    pub name: &'static str,
    pub description: &'static str,
    pub run: CheckFn,
}

/// Every check, in the order they run.
pub static REGISTRY: &[CheckDef] = &[
    CheckDef {
        name: "status_conformance",
        description: "the status code is documented for the operation (or a range/default response exists)",
        run: status::status_conformance,
    },
    CheckDef {
        name: "content_type_conformance",
        description: "the Content-Type is one of the media types documented for that status",
        run: content_type::content_type_conformance,
    },
    CheckDef {
        name: "response_schema_conformance",
        description: "the body validates against the schema documented for that status and media type",
        run: schema::response_schema_conformance,
    },
    CheckDef {
        name: "response_headers_conformance",
        description: "documented required response headers are present and match their schemas",
        run: headers::response_headers_conformance,
    },
    CheckDef {
        name: "request_schema_conformance",
        description: "a request the case expects to succeed has a body valid against the request schema (catches wrong cases)",
        run: schema::request_schema_conformance,
    },
];

/// Looks a check up by name.
pub fn index_of(name: &str) -> Option<usize> {
    REGISTRY.iter().position(|c| c.name == name)
}

/// A set of enabled checks (a bit per registry entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSet(u32);

impl CheckSet {
    pub fn all() -> CheckSet {
        CheckSet((1u32 << REGISTRY.len()) - 1)
    }

    pub fn none() -> CheckSet {
        CheckSet(0)
    }

    pub fn contains(&self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    pub fn with(self, index: usize, on: bool) -> CheckSet {
        if on {
            CheckSet(self.0 | (1 << index))
        } else {
            CheckSet(self.0 & !(1 << index))
        }
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        index_of(name).is_some_and(|i| self.contains(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static CheckDef> + '_ {
        REGISTRY
            .iter()
            .enumerate()
            .filter(|(i, _)| self.contains(*i))
            .map(|(_, c)| c)
    }
}

/// `/data/0/id` -> `$.data[0].id` (JSON path for people).
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for token in pointer.split('/').skip(1) {
        let token = crate::spec::unescape_token(token);
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else if !token.is_empty()
            && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !token.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('.');
            out.push_str(&token);
        } else {
            out.push_str("['");
            out.push_str(&token.replace('\'', "\\'"));
            out.push_str("']");
        }
    }
    out
}

/// Pretty JSON cut to `max_lines` lines and `max_chars` characters.
pub fn excerpt(value: &Value, max_lines: usize, max_chars: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    truncate_text(&text, max_lines, max_chars)
}

/// Cuts text to a number of lines and characters, saying what was left out.
pub fn truncate_text(text: &str, max_lines: usize, max_chars: usize) -> String {
    let mut out = String::new();
    let total_lines = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        if i >= max_lines || out.len() + line.len() > max_chars {
            out.push_str(&format!(
                "… ({})",
                crate::diag::plural(total_lines - i, "more line")
            ));
            return out;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_paths_read_naturally() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/data/0/id"), "$.data[0].id");
        assert_eq!(
            pointer_to_path("/_pagination/total Count"),
            "$._pagination['total Count']"
        );
        assert_eq!(pointer_to_path("/a~1b"), "$['a/b']");
    }

    #[test]
    fn check_sets_switch_by_name() {
        let all = CheckSet::all();
        assert!(all.is_enabled("response_schema_conformance"));
        let i = index_of("response_schema_conformance").expect("registered");
        let less = all.with(i, false);
        assert!(!less.is_enabled("response_schema_conformance"));
        assert!(less.is_enabled("status_conformance"));
        assert_eq!(less.iter().count(), REGISTRY.len() - 1);
        assert!(!all.is_enabled("no_such_check"));
    }

    #[test]
    fn truncation_says_what_is_missing() {
        let text = (0..30)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let cut = truncate_text(&text, 3, 1000);
        assert!(cut.ends_with("… (27 more lines)"), "{cut}");
    }
}
