//! mycloud Shares v1: `/v1/shares`.
//!
//! Every error uses the envelope
//! `{"data": null, "message": M, "error": {"label": L, "message": M}}`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State, rejection::PathRejection};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::Caller;
use super::body::{BodyError, MAX_BODY_BYTES, read_body};
use super::datetime::Stamp;
use super::fault::FaultId;
use super::store::{McShare, StoreError};
use super::variant::VariantId;
use super::{AppState, Shared};

const CORRELATION_ID: HeaderName = HeaderName::from_static("correlationid");
const SHARE_URL: &str = "https://mycloud.com/#/action/share/";
const CACHE_URL: &str = "https://cache.mycloud.com/cache";
/// URL-safe alphabet for share tokens (64 symbols, so a byte maps without bias).
const TOKEN_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const TOKEN_LEN: usize = 128;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/shares", any(collection))
        .route("/v1/shares/{shareId}", any(item))
}

/// A mycloud error answer.
#[derive(Debug)]
struct McError {
    status: StatusCode,
    label: &'static str,
    message: String,
    /// The `Allow` header of a 405.
    allow: Option<&'static str>,
}

impl McError {
    fn new(status: StatusCode, label: &'static str, message: impl Into<String>) -> Self {
        McError {
            status,
            label,
            message: message.into(),
            allow: None,
        }
    }

    fn render(self, state: &AppState) -> Response {
        let mut body = Map::new();
        if !state.fault(FaultId::McErrorEnvelopeMissingData) {
            body.insert("data".into(), Value::Null);
        }
        body.insert("message".into(), json!(self.message));
        body.insert(
            "error".into(),
            json!({"label": self.label, "message": self.message}),
        );
        let mut response = json_response(self.status, &Value::Object(body));
        let headers = response.headers_mut();
        if let Some(allow) = self.allow
            && !state.fault(FaultId::McNoAllowHeader)
        {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<StoreError> for McError {
    fn from(e: StoreError) -> Self {
        eprintln!("mycloud: storage failed: {e}");
        unknown_error()
    }
}

fn unknown_error() -> McError {
    McError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "GENERAL_UNKNOWN",
        "500 Internal Server Error An unexpected error occurred",
    )
}

fn invalid_token() -> McError {
    McError::new(
        StatusCode::UNAUTHORIZED,
        "GENERAL_INVALID_TOKEN",
        "401 Not Authorized User token is invalid",
    )
}

fn share_not_found() -> McError {
    McError::new(
        StatusCode::NOT_FOUND,
        "SHARE_NOT_FOUND",
        "404 Not Found Could not find share",
    )
}

/// A required parameter is missing, invalid or empty.
fn insufficient(state: &AppState, name: &str) -> McError {
    let label = if state.fault(FaultId::McWrongLabelMissingParam) {
        "GENERAL_INVALID_PARAMETER"
    } else {
        "GENERAL_INSUFFICIENT_PARAMETERS"
    };
    McError::new(
        StatusCode::BAD_REQUEST,
        label,
        format!("400 Bad Request Required parameter {name} not present, invalid or empty"),
    )
}

fn invalid_list(name: &str) -> McError {
    McError::new(
        StatusCode::BAD_REQUEST,
        "GENERAL_INVALID_PARAMETER_LIST",
        format!("400 Bad Request Required parameter {name} is not a list, invalid, or empty"),
    )
}

fn method_not_allowed(method: &Method, allow: &'static str) -> McError {
    McError {
        allow: Some(allow),
        ..McError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "GENERAL_METHOD_NOT_ALLOWED",
            format!("405 Method Not Allowed {method} not allowed for this resource"),
        )
    }
}

/// 404 for paths no route matches.
pub(crate) fn route_not_found(state: &AppState) -> Response {
    McError::new(
        StatusCode::NOT_FOUND,
        "GENERAL_NOT_FOUND",
        "404 Not Found Could not find resource",
    )
    .render(state)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The success envelope; `message` only where the API sends one (create).
fn success(state: &AppState, status: StatusCode, data: Value, message: Option<&str>) -> Response {
    let mut body = Map::new();
    body.insert("data".into(), data);
    if let Some(message) = message {
        body.insert("message".into(), json!(message));
    }
    let error = if state.fault(FaultId::McCreateErrorNotNull) {
        json!({})
    } else {
        Value::Null
    };
    body.insert("error".into(), error);
    json_response(status, &Value::Object(body))
}

/// Adds the headers every mycloud answer carries, errors and 404s included:
/// `Access-Control-Allow-Origin: *` and the echoed `correlationID`.
pub(crate) async fn response_headers(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if !state.is_mycloud_path(request.uri().path()) {
        return next.run(request).await;
    }
    let correlation = request.headers().get(&CORRELATION_ID).cloned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Some(value) = correlation
        && !state.fault(FaultId::McCorrelationIdNotEchoed)
    {
        headers.insert(CORRELATION_ID, value);
    }
    response
}

async fn collection(
    State(state): State<Shared>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = match method {
        Method::POST => create(&state, &headers, body).await,
        _ => Err(method_not_allowed(&method, "POST")),
    };
    result.unwrap_or_else(|e| e.render(&state))
}

async fn item(
    State(state): State<Shared>,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let readable = matches!(method, Method::GET | Method::HEAD)
        || (method == Method::PUT && state.fault(FaultId::McPutAllowed));
    let result = if readable {
        match path {
            Ok(Path(id)) => get(&state, &headers, &id).await,
            Err(_) => Err(share_not_found()),
        }
    } else if state.variant(VariantId::McMethodNotAllowedAfterAuth)
        && !matches!(state.identify(&headers), Caller::Known(_))
    {
        // The other reading of M20: the token is checked before the method.
        Err(invalid_token())
    } else {
        Err(method_not_allowed(&method, "GET"))
    };
    result.unwrap_or_else(|e| e.render(&state))
}

/// The body properties of a create; others are ignored (M26).
const CREATE_FIELDS: [&str; 6] = [
    "deviceId", "fileIds", "metadata", "ownerId", "useCache", "userIds",
];

fn owner_mismatch() -> McError {
    McError::new(
        StatusCode::BAD_REQUEST,
        "SHARES_AUTH_OWNER_MISMATCH",
        "400 Bad Request The authorized user id is not the same as the owner id",
    )
}

/// A string parameter that must be present and non-empty.
fn required_string(
    state: &AppState,
    obj: &Map<String, Value>,
    name: &str,
) -> Result<String, McError> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(insufficient(state, name)),
    }
}

/// A list of strings; `None` when it is not one.
fn string_list(items: &[Value]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

async fn create(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Response, McError> {
    let Caller::Known(caller) = state.identify(headers) else {
        return Err(invalid_token());
    };
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return Err(McError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "GENERAL_PAYLOAD_TOO_LARGE",
                format!("413 Payload Too Large Request body exceeds {MAX_BODY_BYTES} bytes"),
            ));
        }
        Err(BodyError::Read) => return Err(insufficient(state, "body")),
    };
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(insufficient(state, "body"));
    };
    if state.variant(VariantId::McUnknownPropertiesRejected)
        && let Some(key) = obj.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str()))
    {
        // The other reading of M26: an unknown property is an invalid parameter.
        return Err(insufficient(state, key));
    }

    // Every "not present, invalid or empty" check comes before every list
    // check, and both before the owner check.
    let device_id = required_string(state, &obj, "deviceId")?;
    let owner_id = required_string(state, &obj, "ownerId")?;
    let file_ids = match obj.get("fileIds") {
        // The other reading of M7: null "is not a list".
        Some(Value::Null) if state.variant(VariantId::McNullFileIdsNotAList) => {
            return Err(invalid_list("fileIds"));
        }
        None | Some(Value::Null) => return Err(insufficient(state, "fileIds")),
        Some(value) => value,
    };
    let use_cache = match obj.get("useCache") {
        // The other reading of M17: the cache is on unless switched off.
        None | Some(Value::Null) if state.variant(VariantId::McUseCacheDefaultsTrue) => true,
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(insufficient(state, "useCache")),
    };
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) => Some(m.clone()),
        Some(_) => return Err(insufficient(state, "metadata")),
    };
    // The other reading of M8: the owner is checked before the lists.
    if state.variant(VariantId::McOwnerCheckedBeforeList) && owner_id != caller {
        return Err(owner_mismatch());
    }
    let file_ids = match file_ids {
        Value::Array(items)
            if !items.is_empty() || state.fault(FaultId::McEmptyFileIdsAccepted) =>
        {
            string_list(items).ok_or_else(|| invalid_list("fileIds"))?
        }
        _ => return Err(invalid_list("fileIds")),
    };
    let user_ids = match obj.get("userIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => string_list(items).ok_or_else(|| invalid_list("userIds"))?,
        Some(_) => return Err(invalid_list("userIds")),
    };
    if owner_id != caller && !state.fault(FaultId::McOwnerMismatchAccepted) {
        return Err(owner_mismatch());
    }

    let now = Stamp::now().epoch_millis();
    let share = McShare {
        share_id: Uuid::new_v4().to_string(),
        owner_id,
        device_id,
        file_ids,
        user_ids,
        use_cache: use_cache && !state.fault(FaultId::McUseCacheIgnored),
        metadata,
        auth_id: auth_id(),
        share_token: share_token(),
        date_created: now,
        last_modified: now,
    };
    state.store.insert_mc(share.clone()).await.map_err(|e| {
        eprintln!("mycloud: storing a share failed: {e}");
        McError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL_NOT_CREATED",
            "500 Internal Server Error Could not create share",
        )
    })?;

    let mut data = Map::new();
    data.insert("deviceId".into(), json!(share.device_id));
    if !state.fault(FaultId::McMissingShareId) {
        data.insert("shareId".into(), json!(share.share_id));
    }
    data.insert("authId".into(), json!(share.auth_id));
    data.insert("fileIds".into(), json!(share.file_ids));
    data.insert("ownerId".into(), json!(share.owner_id));
    data.insert(
        "url".into(),
        json!(format!("{SHARE_URL}{}", share.share_id)),
    );
    let status = if state.fault(FaultId::McCreateReturns200) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(success(
        state,
        status,
        Value::Object(data),
        Some("Share created successfully"),
    ))
}

/// Public shares (no `userIds`) are readable by anyone; an invalid token on
/// a public share is ignored (the caller is treated as anonymous) because
/// the token is not needed to read it. Private shares need the owner's or a
/// listed user's token: no valid token is 401, any other user is 404 so
/// the share's existence does not leak.
async fn get(state: &AppState, headers: &HeaderMap, share_id: &str) -> Result<Response, McError> {
    let Some(share) = state.store.get_mc(share_id).await? else {
        if state.fault(FaultId::McUnknownShare500) {
            return Err(unknown_error());
        }
        return Err(share_not_found());
    };
    let private = !share.user_ids.is_empty() && !state.fault(FaultId::McPrivateSharePublic);
    // The other reading of M11: a token that is sent must be valid, even
    // where none is needed.
    if !private
        && state.variant(VariantId::McInvalidTokenRejectedOnPublic)
        && matches!(state.identify(headers), Caller::Invalid)
    {
        return Err(invalid_token());
    }
    if !private
        && state.fault(FaultId::McPublicNeedsToken)
        && matches!(state.identify(headers), Caller::Anonymous)
    {
        return Err(invalid_token());
    }
    if private {
        match state.identify(headers) {
            Caller::Known(user) if user == share.owner_id || share.user_ids.contains(&user) => {}
            Caller::Known(_) if state.fault(FaultId::McPrivateOtherUser403) => {
                return Err(McError::new(
                    StatusCode::FORBIDDEN,
                    "GENERAL_FORBIDDEN",
                    "403 Forbidden User may not read this share",
                ));
            }
            Caller::Known(_) => return Err(share_not_found()),
            Caller::Anonymous | Caller::Invalid => {
                if state.fault(FaultId::McNoTokenPrivate404) {
                    return Err(share_not_found());
                }
                return Err(invalid_token());
            }
        }
    }
    let time = |ms: i64| {
        if state.fault(FaultId::McTimesAsIsoStrings) {
            json!(Stamp::from_epoch_millis(ms).format(0))
        } else {
            json!(ms)
        }
    };
    let data = json!({
        "lastModified": time(share.last_modified),
        "deviceId": share.device_id,
        "shareId": share.share_id,
        "fileIds": share.file_ids,
        "authId": share.auth_id,
        "useCache": share.use_cache,
        "cacheUrl": if share.use_cache { json!(CACHE_URL) } else { Value::Null },
        "url": format!("{SHARE_URL}{}", share.share_id),
        "ownerId": share.owner_id,
        "shareToken": share.share_token,
        "dateCreated": time(share.date_created),
        "device": {},
    });
    Ok(success(state, StatusCode::OK, data, None))
}

/// `n` random bytes from the OS generator (via UUID v4), skipping the two
/// bytes whose bits UUID v4 fixes.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        let uuid = Uuid::new_v4();
        let bytes = uuid.as_bytes();
        out.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 6 && *i != 8)
                .map(|(_, b)| *b),
        );
    }
    out.truncate(n);
    out
}

/// A 19-digit decimal id, like the real service's.
fn auth_id() -> String {
    let mut word = [0u8; 8];
    word.copy_from_slice(&random_bytes(8));
    format!(
        "{:019}",
        u64::from_le_bytes(word) % 10_000_000_000_000_000_000
    )
}

/// An opaque URL-safe token.
fn share_token() -> String {
    random_bytes(TOKEN_LEN)
        .into_iter()
        .map(|b| char::from(TOKEN_ALPHABET[usize::from(b & 63)]))
        .collect()
}
