//! The render stage: a request step's URL, headers and body with every
//! template filled in, and its credential header.

use std::borrow::Cow;
use std::collections::HashMap;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::Value;

use super::{CaseState, StepCx};
use crate::result::Phase;
use crate::suite::template::{RenderError, Scope, ValueTemplate};
use crate::suite::{Body, Credential, PathPart, RequestStep};

/// A step's request with every template rendered (public for benchmarks).
pub struct RenderedRequest<'a> {
    pub url: String,
    pub headers: Vec<(HeaderName, String)>,
    pub json_body: Option<Cow<'a, Value>>,
    /// The bytes on the wire and their content type (the step's own).
    pub body: Option<(bytes::Bytes, &'a str)>,
}

/// Why a request could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderRequestError {
    #[error(transparent)]
    Template(#[from] RenderError),
    #[error("the request body cannot be serialized: {0}")]
    Body(#[from] serde_json::Error),
    /// A rendered header value HTTP cannot carry (a capture or variable
    /// brought a line break or control character into it).
    #[error("{0}")]
    HeaderValue(String),
}

/// Why a credential could not be rendered (an input error at start-up).
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Template(#[from] RenderError),
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
    #[error("value is not a valid header value")]
    HeaderValue,
    /// An `oauth2` credential's header comes from its token source.
    #[error("an oauth2 credential's token is fetched when a step needs it")]
    FetchedAtRunTime,
}

/// Characters escaped in a path parameter value.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'|')
    .remove(b'@')
    .remove(b':');

/// The render stage: `None` when the step ended here. A variable left
/// undefined in cleanup means an earlier step did not capture it: the
/// cleanup step is skipped, not failed.
pub(super) fn stage<'r>(
    cx: &mut StepCx<'_>,
    req: &'r RequestStep,
    state: &CaseState,
) -> Option<RenderedRequest<'r>> {
    match render_request(&cx.ctx.target.base_url, req, &state.scope(cx.ctx)) {
        Ok(r) => Some(r),
        Err(RenderRequestError::Template(e @ RenderError::Undefined(_)))
            if cx.phase == Phase::Cleanup =>
        {
            cx.skip(format!("skipped: {e} (an earlier step did not capture it)"));
            None
        }
        Err(e) => {
            cx.fail(e.to_string());
            None
        }
    }
}

/// Renders a step's URL, headers and body against a scope.
pub fn render_request<'a>(
    base_url: &str,
    req: &'a RequestStep,
    scope: &dyn Scope,
) -> Result<RenderedRequest<'a>, RenderRequestError> {
    let url = render_url(base_url, req, scope)?;
    let mut headers = Vec::with_capacity(req.headers.len());
    for (name, vt) in &req.headers {
        let value = vt.render_string(scope)?;
        check_header_value(name, &value)?;
        headers.push((name.clone(), value));
    }
    let (json_body, body) = render_body(req.body.as_ref(), scope)?;
    Ok(RenderedRequest {
        url,
        headers,
        json_body,
        body,
    })
}

/// Refuses a rendered header value that cannot be sent, naming the header
/// (reqwest would only say "failed to parse header value").
fn check_header_value(name: &HeaderName, value: &str) -> Result<(), RenderRequestError> {
    if HeaderValue::from_str(value).is_ok() {
        return Ok(());
    }
    let why = crate::diag::header_value_flaw(name.as_str(), value).unwrap_or_else(|| {
        format!(
            "header `{name}`: the value holds a control character, which HTTP does not allow in a header value"
        )
    });
    Err(RenderRequestError::HeaderValue(format!(
        "{why} (after its templates were filled in)"
    )))
}

fn render_url(base_url: &str, req: &RequestStep, scope: &dyn Scope) -> Result<String, RenderError> {
    let mut url = String::with_capacity(base_url.len() + 64);
    url.push_str(base_url.trim_end_matches('/'));
    for part in &req.path {
        match part {
            PathPart::Literal(s) => url.push_str(s),
            PathPart::Param(_, vt) => {
                let v = vt.render_string(scope)?;
                url.extend(percent_encoding::utf8_percent_encode(&v, SEGMENT));
            }
        }
    }
    if req.query.is_empty() {
        return Ok(url);
    }
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (name, vt) in &req.query {
        match vt.render(scope)? {
            Value::Array(items) => {
                for item in items {
                    pairs.append_pair(name, &plain(&item));
                }
            }
            Value::Null => {}
            other => {
                pairs.append_pair(name, &plain(&other));
            }
        }
    }
    let q = pairs.finish();
    if !q.is_empty() {
        url.push('?');
        url.push_str(&q);
    }
    Ok(url)
}

type RenderedBody<'a> = (Option<Cow<'a, Value>>, Option<(bytes::Bytes, &'a str)>);

/// The JSON value sent (for the request check) and the bytes on the wire;
/// a static body reuses the bytes serialized at load time.
fn render_body<'a>(
    body: Option<&'a Body>,
    scope: &dyn Scope,
) -> Result<RenderedBody<'a>, RenderRequestError> {
    Ok(match body {
        None => (None, None),
        Some(Body::Json(ValueTemplate::Static(v), ct, Some(prepared))) => (
            Some(Cow::Borrowed(v)),
            Some((prepared.bytes.clone(), ct.as_str())),
        ),
        Some(Body::Json(vt, ct, _)) => {
            let v = vt.render(scope)?;
            let bytes = bytes::Bytes::from(serde_json::to_vec(&v)?);
            (Some(Cow::Owned(v)), Some((bytes, ct.as_str())))
        }
        Some(Body::Raw(t, ct)) => (
            None,
            Some((
                bytes::Bytes::from(t.render_string(scope)?.into_bytes()),
                ct.as_str(),
            )),
        ),
    })
}

/// A JSON value as query/header text: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A credential as a header, and the secret in it (for the redactor).
pub(in crate::run) fn render_credential(
    cred: &Credential,
    globals: &HashMap<String, Value>,
) -> Result<(HeaderName, HeaderValue, String), CredentialError> {
    let (name, text, secret) = match cred {
        Credential::Bearer(t) => {
            let token = t.render_string(globals)?;
            (AUTHORIZATION, format!("Bearer {token}"), token)
        }
        Credential::Basic(u, p) => {
            let user = u.render_string(globals)?;
            let pass = p.render_string(globals)?;
            (
                AUTHORIZATION,
                crate::run::http::basic_auth(&user, &pass),
                pass,
            )
        }
        Credential::Header(h, t) => {
            let value = t.render_string(globals)?;
            let name = HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| CredentialError::HeaderName(h.clone()))?;
            (name, value.clone(), value)
        }
        Credential::OAuth2(_) => return Err(CredentialError::FetchedAtRunTime),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| CredentialError::HeaderValue)?;
    value.set_sensitive(true);
    Ok((name, value, secret))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::suite::{Step, StepKind};

    fn spec() -> crate::spec::Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mycloud-shares-v1.yaml");
        crate::spec::load(&path).expect("bundled spec loads")
    }

    #[test]
    fn a_step_built_in_code_renders_like_a_loaded_one() {
        let spec = spec();
        let i = spec.operation_index_by_id("getShare").expect("getShare");
        let step = Step::request(&spec, i, "get", &[("shareId", json!("a b/c"))])
            .expect("operation exists");
        let StepKind::Request(req) = &step.kind else {
            panic!("a request step")
        };
        let scope: HashMap<String, Value> = HashMap::new();
        let r = render_request("http://127.0.0.1:1/", req, &scope).expect("renders");
        assert_eq!(r.url, "http://127.0.0.1:1/v1/shares/a%20b%2Fc");
        assert!(r.body.is_none() && r.headers.is_empty());
        assert_eq!(step.operation_id, Some(crate::spec::OperationId(i)));
        assert!(Step::request(&spec, spec.operations.len(), "x", &[]).is_none());
    }

    #[test]
    fn credentials_render_to_sensitive_headers() {
        let globals: HashMap<String, Value> = [("t".to_string(), json!("tok"))].into();
        let bearer =
            Credential::Bearer(crate::suite::template::Template::parse("{{ t }}").expect("t"));
        let (name, value, secret) = render_credential(&bearer, &globals).expect("renders");
        assert_eq!((name, secret.as_str()), (AUTHORIZATION, "tok"));
        assert!(value.is_sensitive());
        let bad = Credential::Header(
            "bad name".into(),
            crate::suite::template::Template::parse("x").expect("t"),
        );
        assert!(matches!(
            render_credential(&bad, &globals),
            Err(CredentialError::HeaderName(_))
        ));
        let unset =
            Credential::Bearer(crate::suite::template::Template::parse("{{ nope }}").expect("t"));
        assert!(matches!(
            render_credential(&unset, &globals),
            Err(CredentialError::Template(RenderError::Undefined(_)))
        ));
    }

    #[test]
    fn a_rendered_header_value_with_a_line_break_names_the_header() {
        let spec = spec();
        let i = spec.operation_index_by_id("getShare").expect("getShare");
        let mut step = Step::request(&spec, i, "get", &[("shareId", json!("s1"))]).expect("op");
        let StepKind::Request(req) = &mut step.kind else {
            panic!("a request step")
        };
        let note = crate::suite::template::Template::parse("{{ v }}").expect("t");
        req.headers
            .push((HeaderName::from_static("x-note"), ValueTemplate::Text(note)));
        let scope: HashMap<String, Value> = [("v".to_string(), json!("a\r\nInjected: 1"))].into();
        let err = render_request("http://127.0.0.1:1/", req, &scope)
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "header `x-note`: the value holds a line break (CR or LF), which HTTP does not allow in a header value (after its templates were filled in)"
        );
        let scope: HashMap<String, Value> = [("v".to_string(), json!("a\u{7}b"))].into();
        let err = render_request("http://127.0.0.1:1/", req, &scope)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("control character"), "{err}");
        let scope: HashMap<String, Value> = [("v".to_string(), json!("fine"))].into();
        assert!(render_request("http://127.0.0.1:1/", req, &scope).is_ok());
    }
}
