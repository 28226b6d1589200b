//! Automatic conformance checks: each is one small function with one
//! signature, kept in [`REGISTRY`], on by default and switchable by name per
//! suite, case, step or from the command line.

mod content_type;
mod ensure_resource_availability;
mod headers;
mod ignored_auth;
mod negative_data_rejection;
mod not_a_server_error;
mod positive_data_acceptance;
mod resource_isolation;
mod schema;
mod status;
pub mod stored_values;
mod unsupported_method;
mod use_after_free;

pub use schema::validate as validate_schema;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::generate::Rule;
use crate::generate::plan::{ChainRole, Phase};
use crate::spec::{MediaType, Operation, Response, Spec};

/// What a check sees: the operation, the request it sent, the response.
pub struct Exchange<'a> {
    pub spec: &'a Spec,
    pub operation: &'a Operation,
    /// The JSON request body sent, if any.
    pub request_body: Option<&'a Value>,
    /// The loader already validated this exact body (a case file's body
    /// without templates) against this operation's request schema, and it
    /// conformed.
    pub request_body_valid: bool,
    /// Whether the case expects this request to succeed (no expected status,
    /// or only 1xx-3xx): deliberate bad requests are not schema-checked.
    pub expects_success: bool,
    pub status: u16,
    pub headers: &'a HeaderMap,
    /// The response body parsed as JSON (`None` when empty).
    pub json: Option<&'a Result<Value, String>>,
    /// Set only for requests from a generated phase; `None` for hand-written
    /// cases, where the generated-only checks skip.
    pub generated: Option<&'a Generated<'a>>,
    /// What several checks look up in the spec, found once per exchange
    /// (construct with `Default::default()`).
    pub looked_up: LookedUp<'a>,
}

/// The documented response for an exchange's status and the media type its
/// `Content-Type` selects: found on first use and kept, since the status,
/// content-type, schema and header checks each need them.
#[derive(Default)]
pub struct LookedUp<'a> {
    response: std::cell::OnceCell<Option<&'a Response>>,
    media: std::cell::OnceCell<Option<&'a MediaType>>,
}

/// What a generated phase adds to an exchange: the phase, the method really
/// sent, the rule a negative request breaks, and, for stateful chains, the
/// step's role and the earlier exchanges of its chain. This is the whole
/// extension the stateful checks need: they stay pure functions of the
/// exchange plus its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated<'a> {
    pub phase: Phase,
    /// Upper-case method sent (differs from the operation's in the methods phase).
    pub method: &'a str,
    pub rule: Option<Rule>,
    pub role: Option<ChainRole>,
    /// Earlier steps of the same chain, oldest first.
    pub history: &'a [Prior],
}

/// One earlier exchange of a stateful chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    pub role: ChainRole,
    /// Operation label.
    pub operation: String,
    pub status: u16,
    /// The JSON body it sent, if any (what a later read should give back).
    pub body: Option<Value>,
    /// The values its response gave to later steps (a create's ids).
    pub ids: Vec<Value>,
}

impl Generated<'_> {
    /// The status of the last earlier step with this role.
    pub fn status_of(&self, role: ChainRole) -> Option<u16> {
        self.history
            .iter()
            .rev()
            .find(|p| p.role == role)
            .map(|p| p.status)
    }
}

/// The generated context, or the skip every generated-only check gives.
fn generated<'x>(x: &'x Exchange<'_>) -> Result<&'x Generated<'x>, Outcome> {
    x.generated
        .ok_or_else(|| Outcome::Skip("only for generated requests".into()))
}

impl<'a> Exchange<'a> {
    pub fn content_type(&self) -> Option<&'a str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The response documented for the status (exact, range or `default`).
    pub fn documented(&self) -> Option<&'a Response> {
        *self
            .looked_up
            .response
            .get_or_init(|| self.operation.response_for(self.status))
    }

    /// The documented media type of the response: the one its
    /// `Content-Type` names, or the first documented when it sends none.
    pub fn documented_media(&self) -> Option<&'a MediaType> {
        *self.looked_up.media.get_or_init(|| {
            let response = self.documented()?;
            match self.content_type() {
                Some(ct) => response.media_type(ct),
                None => response.content.first(),
            }
        })
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
    /// Not applicable here (e.g. no schema documented), with the reason
    /// (most are fixed texts, which cost no allocation).
    Skip(std::borrow::Cow<'static, str>),
}

pub type CheckFn = fn(&Exchange<'_>) -> Outcome;

/// What a check looks at. A request step's exchange is the response to
/// the request it sent; a webhook step's is the delivery the target sent
/// (its body in [`Exchange::request_body`], the webhook as the operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Response,
    Webhook,
}

/// A registered check.
pub struct CheckDef {
    pub name: &'static str,
    pub description: &'static str,
    pub subject: Subject,
    pub run: CheckFn,
    /// Whether it judges only generated requests (it then skips on
    /// hand-written cases and is not in the default [`CheckSet::all`]).
    pub generated_only: bool,
}

/// A check's identity: its position in [`REGISTRY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckId(usize);

impl CheckId {
    /// The check registered under `name`.
    pub fn of(name: &str) -> Option<CheckId> {
        index_of(name).map(CheckId)
    }

    pub fn index(self) -> usize {
        self.0
    }

    pub fn def(self) -> &'static CheckDef {
        &REGISTRY[self.0]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }
}

/// Every check, in the order they run.
pub static REGISTRY: &[CheckDef] = &[
    CheckDef {
        name: "status_conformance",
        subject: Subject::Response,
        description: "the status code is documented for the operation (or a range/default response exists)",
        run: status::status_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "content_type_conformance",
        subject: Subject::Response,
        description: "the Content-Type is one of the media types documented for that status",
        run: content_type::content_type_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "response_schema_conformance",
        subject: Subject::Response,
        description: "the body validates against the schema documented for that status and media type",
        run: schema::response_schema_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "response_headers_conformance",
        subject: Subject::Response,
        description: "documented required response headers are present and match their schemas",
        run: headers::response_headers_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "request_schema_conformance",
        subject: Subject::Response,
        description: "a request the case expects to succeed has a body valid against the request schema (catches wrong cases)",
        run: schema::request_schema_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "not_a_server_error",
        subject: Subject::Response,
        description: "a generated request gets no 5xx",
        run: not_a_server_error::not_a_server_error,
        generated_only: true,
    },
    CheckDef {
        name: "negative_data_rejection",
        subject: Subject::Response,
        description: "a schema-invalid generated request is rejected with a 4xx",
        run: negative_data_rejection::negative_data_rejection,
        generated_only: true,
    },
    CheckDef {
        name: "positive_data_acceptance",
        subject: Subject::Response,
        description: "a schema-valid generated request gets no 4xx other than 401, 403, 404 or 409",
        run: positive_data_acceptance::positive_data_acceptance,
        generated_only: true,
    },
    CheckDef {
        name: "ignored_auth",
        subject: Subject::Response,
        description: "a secured operation called without or with an invalid credential answers 401 or 403",
        run: ignored_auth::ignored_auth,
        generated_only: true,
    },
    CheckDef {
        name: "unsupported_method",
        subject: Subject::Response,
        description: "an undocumented method answers 405 with an Allow header listing the documented methods",
        run: unsupported_method::unsupported_method,
        generated_only: true,
    },
    CheckDef {
        name: "use_after_free",
        subject: Subject::Response,
        description: "a resource read after a successful delete answers 404 (or 410)",
        run: use_after_free::use_after_free,
        generated_only: true,
    },
    CheckDef {
        name: "ensure_resource_availability",
        subject: Subject::Response,
        description: "a resource a generated create made can be read back",
        run: ensure_resource_availability::ensure_resource_availability,
        generated_only: true,
    },
    CheckDef {
        name: "webhook_schema_conformance",
        subject: Subject::Webhook,
        description: "a webhook delivery's body validates against the schema the spec documents for that webhook",
        run: schema::webhook_schema_conformance,
        generated_only: false,
    },
    CheckDef {
        name: "stored_values",
        subject: Subject::Response,
        description: "a resource read back after a generated create or update has the values it sent (properties both schemas declare)",
        run: stored_values::stored_values,
        generated_only: true,
    },
    CheckDef {
        name: "resource_isolation",
        subject: Subject::Response,
        description: "what a generated create made is not readable (401, 403 or 404) nor listed by the run's second identity (other_credential)",
        run: resource_isolation::resource_isolation,
        generated_only: true,
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
    /// The default set: every check that judges hand-written cases
    /// (generated-only checks left out, so case reports do not change).
    pub fn all() -> CheckSet {
        REGISTRY
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.generated_only)
            .fold(CheckSet::none(), |set, (i, _)| set.with(i, true))
    }

    /// Every registered check, for generated phases.
    pub fn with_generated() -> CheckSet {
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

    /// The checks in both sets.
    pub fn and(self, other: CheckSet) -> CheckSet {
        CheckSet(self.0 & other.0)
    }

    /// How many checks the set holds.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Registry indices of the checks in the set, in registry order.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let i = bits.trailing_zeros();
            (bits != 0).then(|| {
                bits &= bits - 1;
                i as usize
            })
        })
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

/// Builds exchanges for the checks' unit tests.
#[cfg(test)]
pub(crate) mod testkit {
    use super::*;

    pub fn spec() -> Spec {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/petstore-31.yaml");
        crate::spec::load(&path).expect("fixture loads")
    }

    pub fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, reqwest::header::HeaderValue::from_static(v));
        }
        h
    }

    /// Runs `check` on a response to the operation `op`.
    pub fn judge(
        check: CheckFn,
        spec: &Spec,
        op: &str,
        status: u16,
        headers: &HeaderMap,
        generated: Option<&Generated<'_>>,
    ) -> Outcome {
        let operation = spec.operation_by_id(op).expect("operation in fixture");
        let x = Exchange {
            spec,
            operation,
            request_body: None,
            request_body_valid: false,
            expects_success: true,
            status,
            headers,
            json: None,
            generated,
            looked_up: Default::default(),
        };
        check(&x)
    }

    pub fn phase(phase: Phase) -> Generated<'static> {
        Generated {
            phase,
            method: "GET",
            rule: None,
            role: None,
            history: &[],
        }
    }
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
    fn a_set_lists_its_indices_in_order_and_intersects() {
        let a = CheckSet::none().with(0, true).with(3, true).with(14, true);
        let b = CheckSet::none().with(3, true).with(14, true).with(5, true);
        assert_eq!(a.indices().collect::<Vec<_>>(), vec![0, 3, 14]);
        assert_eq!(a.and(b).indices().collect::<Vec<_>>(), vec![3, 14]);
        assert_eq!(CheckSet::none().indices().count(), 0);
        assert!(CheckSet::none().is_empty());
        assert_eq!(a.len(), 3);
        let every = CheckSet::with_generated();
        assert_eq!(every.indices().count(), REGISTRY.len());
    }

    #[test]
    fn check_sets_switch_by_name() {
        let all = CheckSet::all();
        assert!(all.is_enabled("response_schema_conformance"));
        let i = index_of("response_schema_conformance").expect("registered");
        let less = all.with(i, false);
        assert!(!less.is_enabled("response_schema_conformance"));
        assert!(less.is_enabled("status_conformance"));
        assert_eq!(less.iter().count(), all.iter().count() - 1);
        assert!(!all.is_enabled("no_such_check"));
        // Generated-only checks are off for hand-written cases by default.
        assert!(!all.is_enabled("not_a_server_error"));
        assert!(CheckSet::with_generated().is_enabled("not_a_server_error"));
        assert_eq!(CheckSet::with_generated().iter().count(), REGISTRY.len());
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

#[cfg(test)]
mod fixture;
