//! EnableNow Sharing API v1: `/shares`.
//!
//! Errors are ASP.NET Core problem details, as the real service (an ASP.NET
//! application) sends them.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State, rejection::PathRejection};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::Caller;
use super::body::{BodyError, read_body};
use super::datetime::Stamp;
use super::fault::FaultId;
use super::store::{EnListQuery, EnShare, StoreError};
use super::variant::VariantId;
use super::{AppState, Shared};

const DEFAULT_PAGE_SIZE: i32 = 50;
const MAX_PAGE_SIZE: i32 = 100;
const ID_LISTS: [&str; 3] = ["consentIds", "accountIds", "analysisIds"];

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/shares", any(collection))
        .route("/shares/{shareId}", any(item))
}

/// Field name -> messages, as in ASP.NET's `errors` member.
type FieldErrors = BTreeMap<String, Vec<String>>;

/// Every way an EnableNow request can fail.
#[derive(Debug)]
enum EnError {
    Unauthorized,
    NotFound,
    Invalid(FieldErrors),
    TooLarge,
    MethodNotAllowed(&'static str),
    Internal,
}

impl From<StoreError> for EnError {
    fn from(e: StoreError) -> Self {
        eprintln!("enablenow: storage failed: {e}");
        EnError::Internal
    }
}

impl From<BodyError> for EnError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => EnError::TooLarge,
            BodyError::Read => invalid("$", "The request body could not be read."),
        }
    }
}

fn invalid(field: &str, message: &str) -> EnError {
    let mut errors = FieldErrors::new();
    errors.insert(field.to_owned(), vec![message.to_owned()]);
    EnError::Invalid(errors)
}

impl EnError {
    fn render(self, state: &AppState) -> Response {
        let (status, kind, title) = match &self {
            EnError::Invalid(_) => (
                StatusCode::BAD_REQUEST,
                "15.5.1",
                "One or more validation errors occurred.",
            ),
            EnError::Unauthorized => (StatusCode::UNAUTHORIZED, "15.5.2", "Unauthorized"),
            EnError::NotFound => (StatusCode::NOT_FOUND, "15.5.5", "Not Found"),
            EnError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "15.5.6",
                "Method Not Allowed",
            ),
            EnError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "15.5.14",
                "Content Too Large",
            ),
            EnError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "15.6.1",
                "An error occurred while processing your request.",
            ),
        };
        let mut body = json!({
            "type": format!("https://tools.ietf.org/html/rfc9110#section-{kind}"),
            "title": title,
            "status": status.as_u16(),
            "traceId": trace_id(),
        });
        let mut content_type = "application/problem+json";
        if let EnError::Invalid(errors) = &self {
            if state.fault(FaultId::EnValidationPlainJson) {
                let first = errors
                    .iter()
                    .flat_map(|(field, msgs)| msgs.iter().map(move |m| format!("{field}: {m}")))
                    .next()
                    .unwrap_or_else(|| title.to_owned());
                body = json!({ "message": first });
                content_type = "application/json";
            } else {
                body["errors"] = json!(error_keys(state, errors));
            }
        }
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        match self {
            EnError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            EnError::MethodNotAllowed(allow) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            EnError::TooLarge => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

/// The `errors` member as sent: the field names as they are, or in the
/// spelling a variant reads [E28] as allowing.
fn error_keys(state: &AppState, errors: &FieldErrors) -> FieldErrors {
    if state.variant(VariantId::EnErrorsUnderRequestKey) {
        let all = errors.values().flatten().cloned().collect();
        return FieldErrors::from([("request".to_owned(), all)]);
    }
    if state.variant(VariantId::EnErrorKeysJsonPath) {
        return errors
            .iter()
            .map(|(k, v)| {
                let key = if k.starts_with('$') {
                    k.clone()
                } else {
                    format!("$.{k}")
                };
                (key, v.clone())
            })
            .collect();
    }
    errors.clone()
}

/// A W3C trace-context id, the form ASP.NET puts in `traceId`.
fn trace_id() -> String {
    let a = Uuid::new_v4().simple().to_string();
    let b = Uuid::new_v4().simple().to_string();
    format!("00-{a}-{}-00", &b[..16])
}

/// 404 for paths no route matches.
pub(crate) fn route_not_found(state: &AppState) -> Response {
    EnError::NotFound.render(state)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The calling app's clientId, or 401.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<String, EnError> {
    match state.identify(headers) {
        Caller::Known(id) => Ok(id),
        Caller::Anonymous if state.fault(FaultId::EnMissingAuthAccepted) => {
            state.first_identity.clone().ok_or(EnError::Unauthorized)
        }
        Caller::Anonymous | Caller::Invalid => Err(EnError::Unauthorized),
    }
}

async fn collection(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = match method {
        Method::GET | Method::HEAD => list(&state, &headers, &uri).await,
        Method::POST => create(&state, &headers, body).await,
        _ => Err(EnError::MethodNotAllowed("GET, POST")),
    };
    result.unwrap_or_else(|e| e.render(&state))
}

async fn item(
    State(state): State<Shared>,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    let result = async {
        if !matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE
        ) {
            return Err(EnError::MethodNotAllowed("GET, PUT, DELETE"));
        }
        let caller = authenticate(&state, &headers)?;
        let id = path.ok().and_then(|Path(raw)| canonical_uuid(&raw));
        if state.variant(VariantId::EnIdCheckedBeforeBody) {
            // The other reading of [E31]: the share is looked up first.
            let found = match &id {
                Some(id) => state.store.get_en(id, Some(&caller)).await?.is_some(),
                None => false,
            };
            if !found {
                return Err(EnError::NotFound);
            }
        }
        // The body is checked before the id: a 400 outranks a 404 [E31].
        let new_expiration = if method == Method::PUT {
            Some(update_body(&state, &headers, body).await?)
        } else {
            None
        };
        let id = match id {
            Some(id) => id,
            None if method == Method::GET && state.fault(FaultId::EnGetMalformedId400) => {
                return Err(invalid("shareId", "The value is not a valid GUID."));
            }
            None => return Err(EnError::NotFound),
        };
        if state.variant(VariantId::EnExpiredHiddenById) {
            // The other reading of [E18]: an expired share is gone by id.
            let expired = state
                .store
                .get_en(&id, Some(&caller))
                .await?
                .is_some_and(|s| is_past(&s.expiration));
            if expired {
                return Err(EnError::NotFound);
            }
        }
        match (method, new_expiration) {
            (_, Some(expiration)) => update(&state, &caller, &id, expiration).await,
            (Method::DELETE, _) => delete(&state, &caller, &id).await,
            _ => get(&state, &caller, &id).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| e.render(&state))
}

/// Whether an instant is at or before now [E6].
fn is_past(stamp: &Stamp) -> bool {
    let now = Stamp::now();
    (stamp.secs, stamp.nanos) <= (now.secs, now.nanos)
}

/// Properties a create body may have; others are ignored [E26], or refused
/// under the `unknown-properties-rejected` variant.
const CREATE_FIELDS: [&str; 6] = [
    "clientId",
    "reference",
    "expirationDateUtc",
    "consentIds",
    "accountIds",
    "analysisIds",
];

/// Under the `unknown-properties-rejected` variant, one error per unknown property.
fn reject_unknown(
    state: &AppState,
    obj: &Map<String, Value>,
    known: &[&str],
    errors: &mut FieldErrors,
) {
    if !state.variant(VariantId::EnUnknownPropertiesRejected) {
        return;
    }
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        add(errors, key, format!("The property '{key}' is not allowed."));
    }
}

/// Accepts only the hyphenated 36-character form (what System.Text.Json
/// reads as a Guid) and lower-cases it.
fn canonical_uuid(raw: &str) -> Option<String> {
    if raw.len() != 36 {
        return None;
    }
    Uuid::try_parse(raw)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Parses a JSON object body; anything else is a `$` error.
fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, EnError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("$", "A non-empty request body is required."));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("$", "The JSON value must be an object.")),
        Err(e) => Err(invalid("$", &format!("The JSON is invalid: {e}."))),
    }
}

fn add(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.into());
}

/// An optional list of UUIDs; `null` or absent is empty.
fn id_list(
    value: Option<&Value>,
    field: &str,
    indexed: bool,
    errors: &mut FieldErrors,
) -> Vec<String> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            add(
                errors,
                field,
                format!("{field} must be an array of UUIDs or null."),
            );
            return Vec::new();
        }
    };
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // Kept as sent (case, order, duplicates): the contract echoes the arrays.
        match item.as_str().filter(|s| canonical_uuid(s).is_some()) {
            Some(id) => ids.push(id.to_owned()),
            None if indexed => {
                let key = format!("{field}[{i}]");
                add(
                    errors,
                    &key,
                    format!("The value at {key} is not a valid UUID."),
                );
            }
            None => add(errors, field, format!("{field}[{i}] is not a valid UUID.")),
        }
    }
    ids
}

/// `expirationDateUtc` when present: `Ok(None)` for absent or null.
fn expiration(state: &AppState, value: Option<&Value>, errors: &mut FieldErrors) -> Option<Stamp> {
    const FIELD: &str = "expirationDateUtc";
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let parsed = if state.variant(VariantId::EnImpossibleDatesRollOver) {
                Stamp::parse_rolling(s)
            } else {
                Stamp::parse(s)
            };
            if parsed.is_none() {
                add(
                    errors,
                    FIELD,
                    format!("The value '{s}' is not a valid date-time."),
                );
            }
            parsed
        }
        Some(_) => {
            add(
                errors,
                FIELD,
                "expirationDateUtc must be a date-time string or null.",
            );
            None
        }
    }
}

async fn create(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Response, EnError> {
    let owner = authenticate(state, headers)?;
    let bytes = read_body(headers, body).await?;
    let obj = parse_object(&bytes)?;
    let mut errors = FieldErrors::new();

    let client_id = match obj.get("clientId") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            add(&mut errors, "clientId", "The clientId field is required.");
            None
        }
        Some(_) => {
            add(&mut errors, "clientId", "clientId must be a string.");
            None
        }
    };
    let reference = match obj.get("reference") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            add(
                &mut errors,
                "reference",
                "reference must be a string or null.",
            );
            None
        }
    };
    let expiration = expiration(state, obj.get("expirationDateUtc"), &mut errors);
    if state.variant(VariantId::EnPastExpirationRejected)
        && expiration.as_ref().is_some_and(is_past)
    {
        add(
            &mut errors,
            "expirationDateUtc",
            "The expiration date must be in the future.",
        );
    }
    reject_unknown(state, &obj, &CREATE_FIELDS, &mut errors);
    let indexed = state.variant(VariantId::EnErrorKeysJsonPath);
    let [mut consent_ids, mut account_ids, mut analysis_ids] =
        ID_LISTS.map(|field| id_list(obj.get(field), field, indexed, &mut errors));
    if state.variant(VariantId::EnIdListsSortedUnique) {
        for ids in [&mut consent_ids, &mut account_ids, &mut analysis_ids] {
            ids.sort();
            ids.dedup();
        }
    }
    let lists_ok = ID_LISTS
        .iter()
        .all(|f| !errors.keys().any(|k| k.starts_with(f)));
    let no_ids = consent_ids.is_empty() && account_ids.is_empty() && analysis_ids.is_empty();
    if lists_ok && no_ids && !state.fault(FaultId::EnCreateAcceptsNoIds) {
        for field in ID_LISTS {
            add(
                &mut errors,
                field,
                "At least one of consentIds, accountIds or analysisIds must contain an identifier.",
            );
        }
    }
    let (Some(client_id), true) = (client_id, errors.is_empty()) else {
        return Err(EnError::Invalid(errors));
    };
    let expiration = match expiration {
        Some(stamp) => stamp,
        None if state.fault(FaultId::EnNoDefaultExpiration) => Stamp::now_whole(),
        None => Stamp::days_from_now(1),
    };

    let share = EnShare {
        id: Uuid::new_v4().to_string(),
        owner,
        client_id,
        reference,
        expiration,
        consent_ids,
        account_ids,
        analysis_ids,
        created_ns: created_ns(),
    };
    let (id, target) = (share.id.clone(), share.client_id.clone());
    state.store.insert_en(share).await?;

    if !state.fault(FaultId::EnWebhookNotSent) {
        let event = if state.fault(FaultId::EnWebhookWrongEvent) {
            "share.created"
        } else {
            "databridge.share.created"
        };
        let payload = json!({"event": event, "data": {"id": id, "clientId": target}});
        state.webhooks.deliver(&target, payload);
    }

    let status = if state.fault(FaultId::EnCreateReturns201) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let data = if state.fault(FaultId::EnCreateDataObject) {
        json!({ "id": id })
    } else {
        json!(id)
    };
    Ok(json_response(status, &json!({ "data": data })))
}

/// Creation time in epoch nanoseconds, the list's sort key.
fn created_ns() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(now).unwrap_or(i64::MAX)
}

/// The list's query parameters, checked like ASP.NET model binding does
/// (names case-insensitive, the first occurrence wins).
struct ListParams {
    page: i32,
    page_size: i32,
    is_expired: Option<bool>,
}

fn list_params(uri: &Uri) -> Result<ListParams, EnError> {
    let pairs = match Query::<Vec<(String, String)>>::try_from_uri(uri) {
        Ok(Query(pairs)) => pairs,
        Err(_) => return Err(invalid("$query", "The query string could not be parsed.")),
    };
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut errors = FieldErrors::new();
    let mut params = ListParams {
        page: 1,
        page_size: DEFAULT_PAGE_SIZE,
        is_expired: None,
    };
    if let Some(v) = first("page") {
        match v.trim().parse::<i32>() {
            Ok(n) if n >= 1 => params.page = n,
            _ => add(
                &mut errors,
                "page",
                format!(
                    "The value '{v}' is not valid for page; it must be an integer of 1 or more."
                ),
            ),
        }
    }
    if let Some(v) = first("pageSize") {
        match v.trim().parse::<i32>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => params.page_size = n,
            _ => add(
                &mut errors,
                "pageSize",
                format!(
                    "The value '{v}' is not valid for pageSize; it must be an integer from 1 to {MAX_PAGE_SIZE}."
                ),
            ),
        }
    }
    if let Some(v) = first("isExpired") {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" => params.is_expired = Some(true),
            "false" => params.is_expired = Some(false),
            _ => add(
                &mut errors,
                "isExpired",
                format!("The value '{v}' is not valid for isExpired; use true or false."),
            ),
        }
    }
    if errors.is_empty() {
        Ok(params)
    } else {
        Err(EnError::Invalid(errors))
    }
}

async fn list(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Response, EnError> {
    let caller = authenticate(state, headers)?;
    let params = list_params(uri)?;
    let size = i64::from(params.page_size);
    let query = EnListQuery {
        owner: (!state.fault(FaultId::EnListTenantLeak)).then_some(caller.as_str()),
        expired: params
            .is_expired
            .filter(|_| !state.fault(FaultId::EnListIgnoresIsExpired)),
        now: Stamp::now(),
        newest_first: state.fault(FaultId::EnListNewestFirst),
        limit: size,
        offset: (i64::from(params.page) - 1) * size,
    };
    let (total, shares) = state.store.list_en(query).await?;
    let total_pages = if state.fault(FaultId::EnListWrongTotalPages) {
        total / size
    } else {
        (total + size - 1) / size
    };
    let echoed_size = if state.fault(FaultId::EnListSizeNotEchoed) {
        shares.len() as i64
    } else {
        size
    };
    let data: Vec<Value> = shares.iter().map(|s| share_json(state, s)).collect();
    let body = json!({
        "_pagination": {
            "page": params.page,
            "size": echoed_size,
            "totalCount": total,
            "totalPages": total_pages,
        },
        "data": data,
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// A share as the API shows it.
fn share_json(state: &AppState, share: &EnShare) -> Value {
    let offset_minutes = if state.fault(FaultId::EnExpirationNotUtc) {
        120
    } else {
        0
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(share.id));
    m.insert("clientId".into(), json!(share.client_id));
    if share.reference.is_some() || !state.fault(FaultId::EnReferenceOmitted) {
        m.insert("reference".into(), json!(share.reference));
    }
    m.insert(
        "expirationDateUtc".into(),
        json!(share.expiration.format(offset_minutes)),
    );
    let lists = [&share.consent_ids, &share.account_ids, &share.analysis_ids];
    for (field, ids) in ID_LISTS.iter().zip(lists) {
        let value = if ids.is_empty() && state.fault(FaultId::EnEmptyIdsAsNull) {
            Value::Null
        } else {
            json!(ids)
        };
        m.insert((*field).into(), value);
    }
    Value::Object(m)
}

async fn get(state: &AppState, caller: &str, id: &str) -> Result<Response, EnError> {
    let owner = (!state.fault(FaultId::EnGetTenantLeak)).then_some(caller);
    let share = state
        .store
        .get_en(id, owner)
        .await?
        .ok_or(EnError::NotFound)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "data": share_json(state, &share) }),
    ))
}

/// The PUT body: a required, valid `expirationDateUtc`.
async fn update_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Stamp, EnError> {
    let bytes = read_body(headers, body).await?;
    let obj = parse_object(&bytes)?;
    let mut errors = FieldErrors::new();
    reject_unknown(state, &obj, &["expirationDateUtc"], &mut errors);
    let value = obj.get("expirationDateUtc");
    if value.is_none_or(Value::is_null) {
        add(
            &mut errors,
            "expirationDateUtc",
            "The expirationDateUtc field is required.",
        );
    }
    let stamp = expiration(state, value, &mut errors);
    stamp
        .filter(|_| errors.is_empty())
        .ok_or(EnError::Invalid(errors))
}

async fn update(
    state: &AppState,
    caller: &str,
    id: &str,
    stamp: Stamp,
) -> Result<Response, EnError> {
    let found = if state.fault(FaultId::EnUpdateLost) {
        state.store.get_en(id, Some(caller)).await?.is_some()
    } else {
        state.store.update_en_expiration(id, caller, stamp).await?
    };
    if found {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(EnError::NotFound)
    }
}

async fn delete(state: &AppState, caller: &str, id: &str) -> Result<Response, EnError> {
    let found = if state.fault(FaultId::EnDeleteNoop) {
        state.store.get_en(id, Some(caller)).await?.is_some()
    } else {
        state.store.delete_en(id, caller).await?
    };
    if found {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(EnError::NotFound)
    }
}
