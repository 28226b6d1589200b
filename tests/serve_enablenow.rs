//! EnableNow reference server: every operation, auth, tenant isolation, limits.

use apiconform::serve::{Api, RunningServer, ServeConfig, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "enablenow-dev-token";
const OTHER: &str = "enablenow-other-token";
const CONSENT: &str = "af86536d-34e3-4ebc-6c64-08db56ccef25";

async fn server() -> RunningServer {
    start(ServeConfig::new(Api::EnableNow))
        .await
        .expect("server starts")
}

fn client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

struct Reply {
    status: StatusCode,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
    raw: String,
}

async fn call(
    c: &Client,
    s: &RunningServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut req = c.request(method, format!("{}{path}", s.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let raw = resp.text().await.expect("body");
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        headers,
        body,
        raw,
    }
}

fn share_body(reference: &str) -> Value {
    json!({
        "clientId": "en-app-ref-002",
        "reference": reference,
        "expirationDateUtc": "2099-04-30T12:00:00",
        "consentIds": [CONSENT],
    })
}

async fn create(c: &Client, s: &RunningServer, token: &str, body: &Value) -> String {
    let r = call(c, s, Method::POST, "/shares", Some(token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    r.body["data"].as_str().expect("id string").to_owned()
}

/// Checks an ASP.NET problem details answer; `errors` only on 400.
fn assert_problem(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.raw);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.raw);
    let b = &r.body;
    assert!(
        b["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://")),
        "{}",
        r.raw
    );
    assert!(b["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(b["status"], json!(status));
    assert!(b["traceId"].as_str().is_some_and(|t| !t.is_empty()));
    if status == 400 {
        let errors = b["errors"].as_object().expect("errors object");
        assert!(!errors.is_empty());
        for msgs in errors.values() {
            let msgs = msgs.as_array().expect("messages array");
            assert!(!msgs.is_empty() && msgs.iter().all(Value::is_string));
        }
    } else {
        assert!(b.get("errors").is_none(), "{}", r.raw);
    }
}

fn assert_field_error(r: &Reply, field: &str) {
    assert_problem(r, 400);
    assert!(
        r.body["errors"].get(field).is_some(),
        "expected an error for {field}: {}",
        r.raw
    );
}

#[tokio::test]
async fn create_answers_200_with_a_new_uuid() {
    let (s, c) = (server().await, client());
    let r = call(
        &c,
        &s,
        Method::POST,
        "/shares",
        Some(TOKEN),
        Some(&share_body("a")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("application/json"));
    let obj = r.body.as_object().expect("object");
    assert_eq!(obj.len(), 1);
    let id = uuid::Uuid::parse_str(r.body["data"].as_str().expect("string")).expect("uuid");
    assert_eq!(id.get_version_num(), 4);
    let again = create(&c, &s, TOKEN, &share_body("a")).await;
    assert_ne!(again, id.to_string());
    s.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn get_returns_the_share_as_created() {
    let (s, c) = (server().await, client());
    let upper = "AF86536D-34E3-4EBC-6C64-08DB56CCEF42";
    let body = json!({
        "clientId": "en-app-ref-002",
        "reference": "my-internal-reference-001",
        "expirationDateUtc": "2026-04-30T14:00:00.50+02:00",
        "consentIds": [CONSENT, CONSENT],
        "accountIds": null,
        "analysisIds": [upper],
        "unknownProperty": true,
    });
    let id = create(&c, &s, TOKEN, &body).await;
    let r = call(
        &c,
        &s,
        Method::GET,
        &format!("/shares/{id}"),
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(
        r.body,
        json!({"data": {
            "id": id,
            "clientId": "en-app-ref-002",
            "reference": "my-internal-reference-001",
            "expirationDateUtc": "2026-04-30T12:00:00.50Z",
            "consentIds": [CONSENT, CONSENT],
            "accountIds": [],
            "analysisIds": [upper],
        }})
    );
    // Upper-case ids in the path find the same share.
    let path = format!("/shares/{}", id.to_uppercase());
    let r = call(&c, &s, Method::GET, &path, Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn create_defaults_reference_and_expiration() {
    let (s, c) = (server().await, client());
    let id = create(
        &c,
        &s,
        TOKEN,
        &json!({"clientId": "x", "accountIds": [CONSENT]}),
    )
    .await;
    let r = call(
        &c,
        &s,
        Method::GET,
        &format!("/shares/{id}"),
        Some(TOKEN),
        None,
    )
    .await;
    let share = &r.body["data"];
    assert_eq!(share["reference"], Value::Null);
    assert_eq!(share["consentIds"], json!([]));
    assert_eq!(share["analysisIds"], json!([]));
    let exp = share["expirationDateUtc"].as_str().expect("string");
    assert!(exp.ends_with('Z') && !exp.contains('.'), "{exp}");
    let when = time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339");
    let ahead = when - time::OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::hours(23) && ahead <= time::Duration::hours(24),
        "{ahead}"
    );
    // A null expiration is the same as none; a past one is allowed.
    let body = json!({"clientId": "x", "expirationDateUtc": null, "consentIds": [CONSENT]});
    create(&c, &s, TOKEN, &body).await;
    let body = json!({"clientId": "x", "expirationDateUtc": "2000-01-01T00:00:00Z", "consentIds": [CONSENT]});
    create(&c, &s, TOKEN, &body).await;
}

#[tokio::test]
async fn create_rejects_invalid_bodies() {
    let (s, c) = (server().await, client());
    let ok = share_body("r");
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().map(|o| o.remove(k));
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!([ok.clone()]), "$"),
        (json!("text"), "$"),
        (without("clientId"), "clientId"),
        (with("clientId", json!(null)), "clientId"),
        (with("clientId", json!("")), "clientId"),
        (with("clientId", json!(42)), "clientId"),
        (with("reference", json!(7)), "reference"),
        (
            with("expirationDateUtc", json!("tomorrow")),
            "expirationDateUtc",
        ),
        (
            with("expirationDateUtc", json!("2026-02-30T12:00:00")),
            "expirationDateUtc",
        ),
        (
            with("expirationDateUtc", json!("2026-04-30T24:00:00Z")),
            "expirationDateUtc",
        ),
        (
            with("expirationDateUtc", json!("2026-04-30")),
            "expirationDateUtc",
        ),
        (
            with("expirationDateUtc", json!(1_700_000_000)),
            "expirationDateUtc",
        ),
        (with("consentIds", json!(["not-a-uuid"])), "consentIds"),
        (
            with("consentIds", json!([CONSENT.replace('-', "")])),
            "consentIds",
        ),
        (with("consentIds", json!(CONSENT)), "consentIds"),
        (with("consentIds", json!([1])), "consentIds"),
        (with("consentIds", json!([])), "consentIds"),
        (with("consentIds", json!(null)), "consentIds"),
        (without("consentIds"), "accountIds"),
        (
            json!({"clientId": "x", "consentIds": [], "accountIds": null, "analysisIds": []}),
            "analysisIds",
        ),
    ];
    for (body, field) in cases {
        let r = call(&c, &s, Method::POST, "/shares", Some(TOKEN), Some(&body)).await;
        assert_field_error(&r, field);
    }
    for raw in ["{not json", "", "{\"clientId\": \"x\",}"] {
        let r = c
            .post(format!("{}/shares", s.base_url()))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{raw}"
        );
    }
    // Nothing invalid was stored.
    let r = call(&c, &s, Method::GET, "/shares", Some(TOKEN), None).await;
    assert_eq!(r.body["_pagination"]["totalCount"], json!(0));
}

#[tokio::test]
async fn every_operation_needs_a_valid_token() {
    let (s, c) = (server().await, client());
    let id = create(&c, &s, TOKEN, &share_body("r")).await;
    let item = format!("/shares/{id}");
    let put = json!({"expirationDateUtc": "2099-01-01T00:00:00Z"});
    let ops: [(Method, &str, Option<&Value>); 5] = [
        (Method::GET, "/shares", None),
        (Method::POST, "/shares", Some(&put)),
        (Method::GET, &item, None),
        (Method::PUT, &item, Some(&put)),
        (Method::DELETE, &item, None),
    ];
    for (method, path, body) in ops {
        for token in [None, Some("wrong-token")] {
            let r = call(&c, &s, method.clone(), path, token, body).await;
            assert_problem(&r, 401);
            assert_eq!(r.headers["www-authenticate"], "Bearer");
        }
        // A malformed scheme is as bad as no token.
        let r = c
            .request(method.clone(), format!("{}{path}", s.base_url()))
            .header("authorization", format!("Basic {TOKEN}"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The share is untouched.
    let r = call(&c, &s, Method::GET, &item, Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn list(c: &Client, s: &RunningServer, token: &str, query: &str) -> Reply {
    call(
        c,
        s,
        Method::GET,
        &format!("/shares{query}"),
        Some(token),
        None,
    )
    .await
}

fn refs(r: &Reply) -> Vec<String> {
    r.body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|s| s["reference"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn list_pages_oldest_first() {
    let (s, c) = (server().await, client());
    for i in 0..7 {
        create(&c, &s, TOKEN, &share_body(&format!("r{i}"))).await;
    }
    let r = list(&c, &s, TOKEN, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(
        r.body["_pagination"],
        json!({"page": 1, "size": 50, "totalCount": 7, "totalPages": 1})
    );
    assert_eq!(refs(&r), ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
    let pages = [
        (1, vec!["r0", "r1", "r2"]),
        (2, vec!["r3", "r4", "r5"]),
        (3, vec!["r6"]),
        (4, vec![]),
        (1000, vec![]),
    ];
    for (page, want) in pages {
        let r = list(&c, &s, TOKEN, &format!("?page={page}&pageSize=3")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.body["_pagination"],
            json!({"page": page, "size": 3, "totalCount": 7, "totalPages": 3})
        );
        assert_eq!(refs(&r), want, "page {page}");
    }
    let r = list(&c, &s, TOKEN, "?pageSize=100&PAGE=1").await;
    assert_eq!(r.body["_pagination"]["totalPages"], json!(1));
    let r = list(&c, &s, TOKEN, "?pageSize=1").await;
    assert_eq!(r.body["_pagination"]["totalPages"], json!(7));
    // Every listed share has exactly the seven properties.
    let first = &r.body["data"][0];
    let mut keys: Vec<_> = first.as_object().expect("share").keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "accountIds",
            "analysisIds",
            "clientId",
            "consentIds",
            "expirationDateUtc",
            "id",
            "reference"
        ]
    );
}

#[tokio::test]
async fn list_without_shares_has_zero_pages() {
    let (s, c) = (server().await, client());
    let r = list(&c, &s, OTHER, "?page=2").await;
    assert_eq!(
        r.body,
        json!({"_pagination": {"page": 2, "size": 50, "totalCount": 0, "totalPages": 0}, "data": []})
    );
}

#[tokio::test]
async fn list_filters_on_is_expired() {
    let (s, c) = (server().await, client());
    let mut past = share_body("past");
    past["expirationDateUtc"] = json!("2001-01-01T00:00:00Z");
    create(&c, &s, TOKEN, &past).await;
    create(&c, &s, TOKEN, &share_body("future")).await;
    let cases = [
        ("", vec!["past", "future"]),
        ("?isExpired=true", vec!["past"]),
        ("?isExpired=TRUE", vec!["past"]),
        ("?isExpired=false", vec!["future"]),
        ("?isExpired=False&pageSize=1", vec!["future"]),
    ];
    for (query, want) in cases {
        let r = list(&c, &s, TOKEN, query).await;
        assert_eq!(refs(&r), want, "{query}");
        assert_eq!(r.body["_pagination"]["totalCount"], json!(want.len()));
    }
}

#[tokio::test]
async fn list_rejects_bad_parameters() {
    let (s, c) = (server().await, client());
    let cases = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("page=2147483648", "page"),
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("pageSize=abc", "pageSize"),
        ("isExpired=maybe", "isExpired"),
        ("isExpired=1", "isExpired"),
        ("isExpired=", "isExpired"),
    ];
    for (query, field) in cases {
        let r = list(&c, &s, TOKEN, &format!("?{query}")).await;
        assert_field_error(&r, field);
    }
    let r = list(&c, &s, TOKEN, "?page=2147483647&pageSize=100").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn update_sets_the_expiration() {
    let (s, c) = (server().await, client());
    let id = create(&c, &s, TOKEN, &share_body("r")).await;
    let item = format!("/shares/{id}");
    let put = |d: &str| json!({"expirationDateUtc": d});
    let r = call(
        &c,
        &s,
        Method::PUT,
        &item,
        Some(TOKEN),
        Some(&put("2030-01-02T03:04:05+01:00")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.raw);
    assert!(r.raw.is_empty());
    let r = call(&c, &s, Method::GET, &item, Some(TOKEN), None).await;
    assert_eq!(r.body["data"]["expirationDateUtc"], "2030-01-02T02:04:05Z");
    // A past date expires the share.
    let r = call(
        &c,
        &s,
        Method::PUT,
        &item,
        Some(TOKEN),
        Some(&put("2020-01-01T00:00:00")),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = list(&c, &s, TOKEN, "?isExpired=true").await;
    assert_eq!(refs(&r), ["r"]);
    // Invalid bodies.
    for body in [
        json!({}),
        put("soon"),
        json!({"expirationDateUtc": null}),
        json!([]),
    ] {
        let r = call(&c, &s, Method::PUT, &item, Some(TOKEN), Some(&body)).await;
        assert_problem(&r, 400);
    }
    // Unknown and malformed ids; a bad body outranks the unknown id.
    let unknown = format!("/shares/{}", uuid::Uuid::new_v4());
    let r = call(
        &c,
        &s,
        Method::PUT,
        &unknown,
        Some(TOKEN),
        Some(&put("2030-01-01T00:00:00Z")),
    )
    .await;
    assert_problem(&r, 404);
    let r = call(
        &c,
        &s,
        Method::PUT,
        "/shares/nope",
        Some(TOKEN),
        Some(&put("2030-01-01T00:00:00Z")),
    )
    .await;
    assert_problem(&r, 404);
    let r = call(
        &c,
        &s,
        Method::PUT,
        "/shares/nope",
        Some(TOKEN),
        Some(&json!({})),
    )
    .await;
    assert_problem(&r, 400);
}

#[tokio::test]
async fn delete_removes_the_share() {
    let (s, c) = (server().await, client());
    let keep = create(&c, &s, TOKEN, &share_body("keep")).await;
    let id = create(&c, &s, TOKEN, &share_body("gone")).await;
    let item = format!("/shares/{id}");
    let r = call(&c, &s, Method::DELETE, &item, Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.raw.is_empty());
    for method in [Method::GET, Method::DELETE] {
        let r = call(&c, &s, method, &item, Some(TOKEN), None).await;
        assert_problem(&r, 404);
    }
    let put = json!({"expirationDateUtc": "2030-01-01T00:00:00Z"});
    let r = call(&c, &s, Method::PUT, &item, Some(TOKEN), Some(&put)).await;
    assert_problem(&r, 404);
    let r = list(&c, &s, TOKEN, "").await;
    assert_eq!(refs(&r), ["keep"]);
    let r = call(
        &c,
        &s,
        Method::GET,
        &format!("/shares/{keep}"),
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let (s, c) = (server().await, client());
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/shares/{unknown}"),
        "/shares/not-a-guid".to_owned(),
        format!("/shares/{}", unknown.simple()),
        "/shares/%ZZ".to_owned(),
    ] {
        let r = call(&c, &s, Method::GET, &path, Some(TOKEN), None).await;
        assert_problem(&r, 404);
        let r = call(&c, &s, Method::DELETE, &path, Some(TOKEN), None).await;
        assert_problem(&r, 404);
    }
}

#[tokio::test]
async fn apps_never_see_each_others_shares() {
    let (s, c) = (server().await, client());
    let mine = create(&c, &s, TOKEN, &share_body("mine")).await;
    let theirs = create(&c, &s, OTHER, &share_body("theirs")).await;
    assert_eq!(refs(&list(&c, &s, TOKEN, "").await), ["mine"]);
    assert_eq!(refs(&list(&c, &s, OTHER, "").await), ["theirs"]);
    let r = list(&c, &s, OTHER, "?isExpired=false").await;
    assert_eq!(r.body["_pagination"]["totalCount"], json!(1));
    for (owner, id, intruder) in [(TOKEN, &mine, OTHER), (OTHER, &theirs, TOKEN)] {
        let item = format!("/shares/{id}");
        let r = call(&c, &s, Method::GET, &item, Some(intruder), None).await;
        assert_problem(&r, 404);
        let put = json!({"expirationDateUtc": "2001-01-01T00:00:00Z"});
        let r = call(&c, &s, Method::PUT, &item, Some(intruder), Some(&put)).await;
        assert_problem(&r, 404);
        let r = call(&c, &s, Method::DELETE, &item, Some(intruder), None).await;
        assert_problem(&r, 404);
        // The owner's share is unchanged.
        let r = call(&c, &s, Method::GET, &item, Some(owner), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["data"]["expirationDateUtc"], "2099-04-30T12:00:00Z");
    }
}

#[tokio::test]
async fn bodies_over_one_mib_are_413() {
    let (s, c) = (server().await, client());
    let limit = 1 << 20;
    let skeleton = share_body("").to_string();
    let pad = limit - skeleton.len();
    let exact = share_body(&"x".repeat(pad)).to_string();
    assert_eq!(exact.len(), limit);
    let post = |body: String| {
        c.post(format!("{}/shares", s.base_url()))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post(exact).await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let over = share_body(&"x".repeat(pad + 1)).to_string();
    let r = post(over).await.expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = post("x".repeat(3 * limit)).await.expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Without Content-Length (chunked), the limit holds as the body streams in.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let r = c
        .post(format!("{}/shares", s.base_url()))
        .bearer_auth(TOKEN)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // PUT has the same limit.
    let id = create(&c, &s, TOKEN, &share_body("r")).await;
    let r = c
        .put(format!("{}/shares/{id}", s.base_url()))
        .bearer_auth(TOKEN)
        .body(" ".repeat(limit + 1))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let (s, c) = (server().await, client());
    for path in ["/", "/nope", "/shares/", "/shares/a/b", "/v1/shares"] {
        let r = call(&c, &s, Method::GET, path, Some(TOKEN), None).await;
        assert_problem(&r, 404);
    }
    let id = uuid::Uuid::new_v4();
    let cases = [
        (Method::PATCH, "/shares".to_owned(), "GET, POST"),
        (Method::DELETE, "/shares".to_owned(), "GET, POST"),
        (Method::POST, format!("/shares/{id}"), "GET, PUT, DELETE"),
        (Method::PATCH, format!("/shares/{id}"), "GET, PUT, DELETE"),
    ];
    for (method, path, allow) in cases {
        let r = call(&c, &s, method, &path, Some(TOKEN), None).await;
        assert_problem(&r, 405);
        assert_eq!(r.headers["allow"], allow);
    }
}

#[tokio::test]
async fn all_serves_both_apis_on_one_address() {
    let s = start(ServeConfig::new(Api::All)).await.expect("start");
    let c = client();
    create(&c, &s, TOKEN, &share_body("r")).await;
    let body = json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"]});
    let r = call(
        &c,
        &s,
        Method::POST,
        "/v1/shares",
        Some("mycloud-dev-token"),
        Some(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
    let r = call(&c, &s, Method::GET, "/v1/nope", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["label"], "GENERAL_NOT_FOUND");
    let r = call(&c, &s, Method::GET, "/nope", None, None).await;
    assert_problem(&r, 404);
    s.shutdown().await.expect("shutdown");
}
