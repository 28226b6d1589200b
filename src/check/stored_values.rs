//! A resource read back gives the values it was created (or updated) with.
//!
//! Compared: the properties the request body schema and the read's response
//! schema both declare under the same name, for values the request sent
//! (null means "absent" to many APIs and is left out). What a correct server
//! may legitimately change is not compared: readOnly and writeOnly
//! properties, properties whose response schema declares a default,
//! secret-like names (stored hashed), URIs (normalised), values of another
//! type than the response declares. Values compare by meaning: date-times
//! as instants (to the second; one sent without a zone within the widest
//! zone offset), numbers numerically, identifiers and e-mail addresses
//! without case, strings without surrounding blanks, lists of plain values
//! as sets.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{Exchange, Finding, Outcome, Prior, generated, pointer_to_path};
use crate::generate::plan::ChainRole;
use crate::generate::resolve::Resolver;
use crate::spec::{Operation, Spec};

/// How deep nested objects are compared.
const MAX_DEPTH: usize = 4;

/// A schema node with the document its `$ref`s are relative to.
type Node<'v> = (usize, Cow<'v, Value>);

/// The read after a create (or an update) returns the values it sent.
pub fn stored_values(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    let source = match g.role {
        Some(ChainRole::Read) => ChainRole::Create,
        Some(ChainRole::ReadAfterUpdate) => ChainRole::Update,
        _ => return Outcome::Skip("not a read after a create or an update".into()),
    };
    let Some(prior) = g.history.iter().rev().find(|p| p.role == source) else {
        return Outcome::Skip("nothing earlier in the chain wrote the resource".into());
    };
    if !(200..300).contains(&prior.status) {
        return Outcome::Skip(format!("the write did not succeed ({})", prior.status).into());
    }
    let Some(Value::Object(sent)) = &prior.body else {
        return Outcome::Skip("the write sent no JSON object".into());
    };
    if !(200..300).contains(&x.status) {
        return Outcome::Skip(format!("the read answered {}", x.status).into());
    }
    let Some(Ok(body)) = x.json else {
        return Outcome::Skip("the read gave no JSON body".into());
    };
    match compare(x, prior, sent, body) {
        Ok(findings) if findings.is_empty() => Outcome::Pass,
        Ok(findings) => Outcome::Fail(findings),
        Err(reason) => Outcome::Skip(reason.into()),
    }
}

/// The findings of comparing what `prior` sent with the read's body, or why
/// nothing could be compared.
fn compare(
    x: &Exchange<'_>,
    prior: &Prior,
    sent: &Map<String, Value>,
    body: &Value,
) -> Result<Vec<Finding>, String> {
    let writer = x
        .spec
        .operations
        .iter()
        .find(|o| o.label() == prior.operation)
        .ok_or("the write's operation is not in the spec")?;
    let r = Resolver::new(x.spec);
    let request =
        request_schema(&r, x.spec, writer).ok_or("the write documents no JSON body schema")?;
    let response = response_schema(&r, x).ok_or("the read documents no JSON response schema")?;
    let (pointer, resource) = resource_schema(&r, &response, sent)
        .ok_or("the read's schema declares none of the properties sent")?;
    let Some(Value::Object(got)) = body.pointer(&pointer) else {
        return Err(format!(
            "no object at {} in the read",
            pointer_to_path(&pointer)
        ));
    };
    let mut cx = Comparison {
        r: &r,
        writer: writer.label(),
        findings: Vec::new(),
        compared: 0,
    };
    cx.objects(&request, &resource, sent, got, &pointer, 0);
    if cx.compared == 0 {
        return Err("no property sent is one the read can be held to".into());
    }
    Ok(cx.findings)
}

/// The flattened JSON request body schema of an operation.
fn request_schema<'s>(r: &Resolver<'s>, spec: &'s Spec, op: &Operation) -> Option<Node<'s>> {
    let media = op.request_body.as_ref()?.content.iter().find(|m| m.json)?;
    let (doc, schema) = spec.schema_source(media.schema?)?;
    r.flatten(doc, schema, 0).ok()
}

/// The flattened schema documented for the read's status and media type.
fn response_schema<'s>(r: &Resolver<'s>, x: &Exchange<'s>) -> Option<Node<'s>> {
    let media = x.documented_media()?;
    if !media.json {
        return None;
    }
    let (doc, schema) = x.spec.schema_source(media.schema?)?;
    r.flatten(doc, schema, 0).ok()
}

/// Where the resource sits in the read's schema: the top object or one
/// envelope member (`{"data": {...}}`), whichever declares most of the
/// properties sent.
fn resource_schema<'v>(
    r: &Resolver<'v>,
    top: &Node<'v>,
    sent: &Map<String, Value>,
) -> Option<(String, Node<'v>)> {
    let overlap = |s: &Value| {
        s.get("properties")
            .and_then(Value::as_object)
            .map_or(0, |p| sent.keys().filter(|k| p.contains_key(*k)).count())
    };
    let mut best: Option<(usize, String, Node<'v>)> = None;
    let mut consider = |n: usize, pointer: String, node: Node<'v>| {
        if n > 0 && best.as_ref().is_none_or(|(m, _, _)| n > *m) {
            best = Some((n, pointer, node));
        }
    };
    consider(overlap(&top.1), String::new(), top.clone());
    if let Some(Value::Object(props)) = top.1.get("properties") {
        for (name, sub) in props {
            if let Ok((doc, flat)) = r.flatten(top.0, sub, 1) {
                let flat = Cow::Owned(flat.into_owned());
                let n = overlap(&flat);
                let pointer = format!("/{}", crate::spec::escape_token(name));
                consider(n, pointer, (doc, flat));
            }
        }
    }
    best.map(|(_, p, node)| (p, node))
}

/// The running comparison: findings so far and how many values were held
/// to the read.
struct Comparison<'r, 's> {
    r: &'r Resolver<'s>,
    writer: String,
    findings: Vec<Finding>,
    compared: usize,
}

impl Comparison<'_, '_> {
    /// Compares the properties both object schemas declare.
    fn objects(
        &mut self,
        request: &Node<'_>,
        response: &Node<'_>,
        sent: &Map<String, Value>,
        got: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) {
        let (Some(Value::Object(req_props)), Some(Value::Object(resp_props))) =
            (request.1.get("properties"), response.1.get("properties"))
        else {
            return;
        };
        for (name, value) in sent {
            if value.is_null() || is_secret_like(name) {
                continue;
            }
            let (Some(rq), Some(rs), Some(back)) =
                (req_props.get(name), resp_props.get(name), got.get(name))
            else {
                continue;
            };
            let (Ok(rq), Ok(rs)) = (
                self.r.flatten(request.0, rq, 1),
                self.r.flatten(response.0, rs, 1),
            ) else {
                continue;
            };
            if !comparable(&rq.1) || !comparable(&rs.1) || rs.1.get("default").is_some() {
                continue;
            }
            let at = format!("{pointer}/{}", crate::spec::escape_token(name));
            match (value, back) {
                (Value::Object(a), Value::Object(b)) if depth < MAX_DEPTH => {
                    self.objects(&rq, &rs, a, b, &at, depth + 1);
                }
                _ => self.value(&rs, value, back, &at),
            }
        }
    }

    fn value(&mut self, schema: &Node<'_>, sent: &Value, back: &Value, at: &str) {
        match same(self.r, schema, sent, back) {
            None => {}
            Some(true) => self.compared += 1,
            Some(false) => {
                self.compared += 1;
                let path = pointer_to_path(at);
                let mut f = Finding::new(format!(
                    "{} sent {} but the resource reads back {} at {path}",
                    self.writer,
                    short(sent),
                    short(back)
                ));
                f.json_path = Some(path);
                self.findings.push(f);
            }
        }
    }
}

/// Whether a property may be held to its stored value at all.
fn comparable(schema: &Value) -> bool {
    let flag = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
    !flag("readOnly") && !flag("writeOnly")
}

/// Names a server stores hashed or never returns as sent.
fn is_secret_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// `Some(equal)` when the two values can be compared under `schema`.
fn same(r: &Resolver<'_>, schema: &Node<'_>, sent: &Value, back: &Value) -> Option<bool> {
    if !type_allows(&schema.1, sent) {
        return None;
    }
    let format = schema.1.get("format").and_then(Value::as_str).unwrap_or("");
    match (sent, back) {
        (Value::String(a), Value::String(b)) => strings(format, a, b),
        (Value::String(a), _) if format == "date-time" => instant(a).map(|_| false),
        (Value::Number(a), Value::Number(b)) => Some(numbers(a, b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a == b),
        (Value::Array(a), Value::Array(b)) => sets(r, schema, a, b),
        // A value lost (read back as null) differs; another type is a
        // schema matter, not this check's.
        (_, _) => Some(false).filter(|_| back.is_null()),
    }
}

/// Whether the schema's `type` (if any) admits the value sent: a value of
/// another type cannot have been stored as sent.
fn type_allows(schema: &Value, v: &Value) -> bool {
    let kind = crate::spec::json_type(v);
    let admits = |t: &str| t == kind || (t == "number" && kind == "integer");
    match schema.get("type") {
        None => true,
        Some(Value::String(t)) => admits(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(admits),
        Some(_) => true,
    }
}

fn strings(format: &str, a: &str, b: &str) -> Option<bool> {
    match format {
        "date-time" => date_times(a, b),
        "uuid" | "guid" | "email" | "idn-email" | "hostname" | "idn-hostname" => {
            Some(a.trim().eq_ignore_ascii_case(b.trim()))
        }
        "uri" | "uri-reference" | "iri" | "iri-reference" | "url" | "uri-template" => None,
        _ => Some(a.trim() == b.trim()),
    }
}

/// Date-times as instants, equal to the second. A naive one sent (no
/// zone: only prose can say which zone it is in) is the same instant in
/// some zone, so it differs only when no zone offset (at most 14 hours)
/// bridges the gap.
fn date_times(a: &str, b: &str) -> Option<bool> {
    let back = instant(b)?;
    if let Some(sent) = instant(a) {
        return Some((sent - back).num_milliseconds().abs() < 1000);
    }
    let gap = (naive(a)?.and_utc() - back.to_utc()).num_seconds().abs();
    Some(gap <= MAX_OFFSET_SECONDS + 1)
}

/// The case-file matcher that holds a read to `sent` the way this check
/// compares (for saved findings): booleans, numbers and plain strings with
/// `equals`; a date-time as the same instant to the second (`gte`/`lte`,
/// a naive one within [`MAX_OFFSET_SECONDS`]); `None` for what `equals`
/// would hold to more than the check does (padded strings, other values).
pub fn read_back_matcher(sent: &Value) -> Option<Value> {
    use chrono::SecondsFormat::Secs;
    let window = |at: chrono::DateTime<chrono::Utc>, slack: i64| {
        let slack = chrono::Duration::seconds(slack);
        serde_json::json!({
            "gte": (at - slack).to_rfc3339_opts(Secs, true),
            "lte": (at + slack).to_rfc3339_opts(Secs, true),
        })
    };
    match sent {
        Value::Bool(_) | Value::Number(_) => Some(serde_json::json!({ "equals": sent })),
        Value::String(s) => {
            if let Some(at) = instant(s) {
                return Some(window(at.to_utc(), 1));
            }
            if let Some(naive) = naive(s) {
                return Some(window(naive.and_utc(), MAX_OFFSET_SECONDS + 1));
            }
            (s.trim() == s).then(|| serde_json::json!({ "equals": sent }))
        }
        _ => None,
    }
}

/// A date-time without a zone.
fn naive(s: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// The widest UTC offset in use (UTC+14:00).
const MAX_OFFSET_SECONDS: i64 = 14 * 3600;

/// An RFC 3339 date-time with a zone.
fn instant(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok()
}

fn numbers(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// Lists of plain values compare as sets (a server may sort or drop
/// duplicates); lists of objects or lists are not compared.
fn sets(r: &Resolver<'_>, schema: &Node<'_>, a: &[Value], b: &[Value]) -> Option<bool> {
    let plain = |v: &Value| !v.is_object() && !v.is_array();
    if !a.iter().all(plain) || !b.iter().all(plain) {
        return None;
    }
    let items: Node<'_> = match schema.1.get("items") {
        Some(s) => {
            let (doc, flat) = r.flatten(schema.0, s, 1).ok()?;
            (doc, Cow::Owned(flat.into_owned()))
        }
        None => (schema.0, Cow::Owned(Value::Bool(true))),
    };
    let mut unknown = false;
    let mut within = |x: &[Value], y: &[Value]| {
        x.iter().all(|v| {
            y.iter().any(|w| match same(r, &items, v, w) {
                Some(eq) => eq,
                None => {
                    unknown = true;
                    true
                }
            })
        })
    };
    let equal = within(a, b) && within(b, a);
    if unknown { None } else { Some(equal) }
}

/// A value for a message, cut to 120 characters.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Generated;
    use crate::check::testkit::{headers, phase};
    use crate::generate::plan::Phase;
    use serde_json::json;

    #[test]
    fn read_back_matchers_hold_a_read_as_the_check_compares() {
        assert_eq!(
            read_back_matcher(&json!(true)),
            Some(json!({"equals": true}))
        );
        assert_eq!(
            read_back_matcher(&json!("2026-05-01T10:00:00+02:00")),
            Some(json!({"gte": "2026-05-01T07:59:59Z", "lte": "2026-05-01T08:00:01Z"}))
        );
        assert_eq!(
            read_back_matcher(&json!("2026-05-01T10:00:00")),
            Some(json!({"gte": "2026-04-30T19:59:59Z", "lte": "2026-05-02T00:00:01Z"}))
        );
        assert_eq!(read_back_matcher(&json!(" padded")), None);
        assert_eq!(read_back_matcher(&json!([1])), None);
    }

    fn bundled(name: &str) -> Spec {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("specs")
            .join(name);
        crate::spec::load(&path).expect("bundled spec loads")
    }

    fn prior(role: ChainRole, operation: &str, status: u16, body: Value) -> Prior {
        Prior {
            role,
            operation: operation.into(),
            status,
            body: Some(body),
            ids: Vec::new(),
        }
    }

    /// Runs the check on a read of `op` answering `status` with `body`.
    fn read(
        spec: &Spec,
        op: &str,
        role: ChainRole,
        history: &[Prior],
        status: u16,
        body: Value,
    ) -> Outcome {
        let h = headers(&[("content-type", "application/json")]);
        let json = Ok(body);
        let g = Generated {
            role: Some(role),
            history,
            ..phase(Phase::Stateful)
        };
        let x = Exchange {
            spec,
            operation: spec.operation_by_id(op).expect("operation"),
            request_body: None,
            request_body_valid: false,
            expects_success: true,
            status,
            headers: &h,
            json: Some(&json),
            generated: Some(&g),
            looked_up: Default::default(),
        };
        stored_values(&x)
    }

    fn share(expiration: &str, consents: Value) -> Value {
        json!({"data": {
            "id": "e50c460d-0e18-4846-41e9-08de94a79554",
            "clientId": "en-app-ref-002",
            "reference": "ref-1",
            "expirationDateUtc": expiration,
            "consentIds": consents,
            "accountIds": [],
            "analysisIds": []
        }})
    }

    const A: &str = "af86536d-34e3-4ebc-6c64-08db56ccef25";
    const B: &str = "af86536d-34e3-4ebc-6c64-08db56ccef42";

    #[test]
    fn values_read_back_by_meaning_pass() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let created = [prior(
            ChainRole::Create,
            "createShare",
            200,
            json!({"clientId": "en-app-ref-002", "reference": "ref-1",
                   "expirationDateUtc": "2026-04-30T14:00:00+02:00",
                   "consentIds": [A, B], "accountIds": null, "extra": 1}),
        )];
        // The same instant in UTC, the ids reordered and upper-cased.
        let back = share("2026-04-30T12:00:00Z", json!([B.to_uppercase(), A]));
        assert_eq!(
            read(&spec, "getShare", ChainRole::Read, &created, 200, back),
            Outcome::Pass
        );
    }

    #[test]
    fn a_value_not_stored_fails() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let history = [
            prior(
                ChainRole::Create,
                "createShare",
                200,
                json!({"clientId": "en-app-ref-002", "consentIds": [A]}),
            ),
            prior(
                ChainRole::Update,
                "updateShare",
                204,
                json!({"expirationDateUtc": "2031-01-01T00:00:00Z"}),
            ),
        ];
        let back = share("2026-04-30T12:00:00Z", json!([A]));
        let Outcome::Fail(findings) = read(
            &spec,
            "getShare",
            ChainRole::ReadAfterUpdate,
            &history,
            200,
            back.clone(),
        ) else {
            panic!("the update was lost")
        };
        assert_eq!(
            findings[0].json_path.as_deref(),
            Some("$.data.expirationDateUtc")
        );
        assert!(findings[0].message.contains("updateShare"), "{findings:?}");
        // After the create, the list it sent is missing an id.
        let Outcome::Fail(lost) = read(
            &spec,
            "getShare",
            ChainRole::Read,
            &[prior(
                ChainRole::Create,
                "createShare",
                200,
                json!({"clientId": "en-app-ref-002", "consentIds": [A, B]}),
            )],
            200,
            back,
        ) else {
            panic!("an id was dropped")
        };
        assert_eq!(lost[0].json_path.as_deref(), Some("$.data.consentIds"));
    }

    #[test]
    fn booleans_in_an_envelope_are_compared() {
        let spec = bundled("mycloud-shares-v1.yaml");
        let created = [prior(
            ChainRole::Create,
            "createShare",
            201,
            json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"], "useCache": true}),
        )];
        let back = |cache: bool| {
            json!({"data": {"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"],
                             "useCache": cache, "shareId": "s"}, "error": null})
        };
        assert_eq!(
            read(
                &spec,
                "getShare",
                ChainRole::Read,
                &created,
                200,
                back(true)
            ),
            Outcome::Pass
        );
        assert!(matches!(
            read(&spec, "getShare", ChainRole::Read, &created, 200, back(false)),
            Outcome::Fail(f) if f.len() == 1
        ));
    }

    #[test]
    fn nothing_comparable_skips() {
        let spec = bundled("enablenow-sharing-v1.yaml");
        let back = share("2026-04-30T12:00:00Z", json!([A]));
        // A naive date-time sent is some zone's wall clock: within 14
        // hours it may be the same instant, beyond that it is not.
        let naive = |at: &str| {
            [prior(
                ChainRole::Update,
                "updateShare",
                204,
                json!({ "expirationDateUtc": at }),
            )]
        };
        let skip = |o: Outcome| matches!(o, Outcome::Skip(_));
        let after = |h: &[Prior]| {
            read(
                &spec,
                "getShare",
                ChainRole::ReadAfterUpdate,
                h,
                200,
                back.clone(),
            )
        };
        assert_eq!(after(&naive("2026-04-30T23:59:00")), Outcome::Pass);
        assert!(matches!(
            after(&naive("2026-05-01T03:00:00")),
            Outcome::Fail(_)
        ));
        // Not a date-time at all: nothing to compare.
        assert!(skip(after(&naive("soon"))));
        let failed = [prior(
            ChainRole::Update,
            "updateShare",
            400,
            json!({"expirationDateUtc": "2031-01-01T00:00:00Z"}),
        )];
        assert!(skip(read(
            &spec,
            "getShare",
            ChainRole::ReadAfterUpdate,
            &failed,
            200,
            back.clone()
        )));
        assert!(skip(read(
            &spec,
            "getShare",
            ChainRole::ReadAfterDelete,
            &failed,
            404,
            back.clone()
        )));
        assert!(skip(read(
            &spec,
            "getShare",
            ChainRole::Read,
            &[],
            200,
            back
        )));
        assert!(is_secret_like("newPassword") && !is_secret_like("clientId"));
    }
}
