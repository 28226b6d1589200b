//! mycloud reference server: create, get, visibility, envelopes, headers.

use apiconform::serve::{Api, RunningServer, ServeConfig, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const OWNER: &str = "mycloud-dev-token"; // user-1001
const OTHER: &str = "mycloud-other-token"; // user-2002

async fn server() -> RunningServer {
    start(ServeConfig::new(Api::MyCloud))
        .await
        .expect("server starts")
}

fn client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

struct Reply {
    status: StatusCode,
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
    correlation: Option<&str>,
) -> Reply {
    let mut req = c.request(method, format!("{}{path}", s.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    if let Some(id) = correlation {
        req = req.header("correlationID", id);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let raw = resp.text().await.expect("body");
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

async fn post(c: &Client, s: &RunningServer, token: Option<&str>, body: &Value) -> Reply {
    call(c, s, Method::POST, "/v1/shares", token, Some(body), None).await
}

async fn get(c: &Client, s: &RunningServer, id: &str, token: Option<&str>) -> Reply {
    call(
        c,
        s,
        Method::GET,
        &format!("/v1/shares/{id}"),
        token,
        None,
        None,
    )
    .await
}

fn share(user_ids: Option<Value>) -> Value {
    let mut b = json!({"ownerId": "user-1001", "deviceId": "xyz", "fileIds": ["123", "456"]});
    if let Some(u) = user_ids {
        b["userIds"] = u;
    }
    b
}

async fn create(c: &Client, s: &RunningServer, body: &Value) -> String {
    let r = post(c, s, Some(OWNER), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
    r.body["data"]["shareId"]
        .as_str()
        .expect("shareId")
        .to_owned()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

/// Checks the error envelope, its label, and that both messages agree.
fn assert_error(r: &Reply, status: u16, label: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.raw);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(keys(&r.body), ["data", "error", "message"], "{}", r.raw);
    assert_eq!(r.body["data"], Value::Null);
    assert_eq!(keys(&r.body["error"]), ["label", "message"]);
    assert_eq!(r.body["error"]["label"], label, "{}", r.raw);
    let message = r.body["message"].as_str().expect("message");
    assert_eq!(r.body["error"]["message"], message);
    assert!(message.starts_with(&status.to_string()), "{message}");
}

#[tokio::test]
async fn create_answers_201_with_the_share() {
    let (s, c) = (server().await, client());
    let body = json!({
        "ownerId": "user-1001", "deviceId": "xyz", "useCache": true,
        "fileIds": ["123", "456", "789"], "metadata": {"k": "v"}, "extra": 1,
    });
    let r = post(&c, &s, Some(OWNER), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(keys(&r.body), ["data", "error", "message"]);
    assert_eq!(r.body["message"], "Share created successfully");
    assert_eq!(r.body["error"], Value::Null);
    let data = &r.body["data"];
    assert_eq!(
        keys(data),
        ["authId", "deviceId", "fileIds", "ownerId", "shareId", "url"]
    );
    let id = data["shareId"].as_str().expect("shareId");
    uuid::Uuid::parse_str(id).expect("uuid");
    assert_eq!(data["deviceId"], "xyz");
    assert_eq!(data["ownerId"], "user-1001");
    assert_eq!(data["fileIds"], json!(["123", "456", "789"]));
    assert_eq!(
        data["url"],
        format!("https://mycloud.com/#/action/share/{id}")
    );
    let auth = data["authId"].as_str().expect("authId");
    assert!(!auth.is_empty() && auth.bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn get_returns_the_stored_share() {
    let (s, c) = (server().await, client());
    let before = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let created = post(&c, &s, Some(OWNER), &share(None)).await;
    let data = &created.body["data"];
    let id = data["shareId"].as_str().expect("id");
    let r = get(&c, &s, id, Some(OWNER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(keys(&r.body), ["data", "error"]);
    assert_eq!(r.body["error"], Value::Null);
    let got = &r.body["data"];
    assert_eq!(
        keys(got),
        [
            "authId",
            "cacheUrl",
            "dateCreated",
            "device",
            "deviceId",
            "fileIds",
            "lastModified",
            "ownerId",
            "shareId",
            "shareToken",
            "url",
            "useCache"
        ]
    );
    for k in ["deviceId", "shareId", "fileIds", "ownerId", "authId", "url"] {
        assert_eq!(got[k], data[k], "{k}");
    }
    assert_eq!(got["useCache"], json!(false));
    assert_eq!(got["cacheUrl"], Value::Null);
    assert_eq!(got["device"], json!({}));
    let created_ms = got["dateCreated"].as_i64().expect("epoch ms");
    assert!(created_ms >= before && created_ms < before + 600_000);
    assert_eq!(got["lastModified"], got["dateCreated"]);
    let token = got["shareToken"].as_str().expect("token");
    assert!(token.len() >= 32);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );

    let cached = create(
        &c,
        &s,
        &json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"], "useCache": true}),
    )
    .await;
    let r = get(&c, &s, &cached, None).await;
    assert_eq!(r.body["data"]["useCache"], json!(true));
    assert!(r.body["data"]["cacheUrl"].is_string());
}

#[tokio::test]
async fn public_shares_are_readable_by_anyone() {
    let (s, c) = (server().await, client());
    for users in [None, Some(json!([])), Some(Value::Null)] {
        let id = create(&c, &s, &share(users)).await;
        // An invalid token on a public share is treated as anonymous.
        for token in [None, Some(OWNER), Some(OTHER), Some("not-a-token")] {
            let r = get(&c, &s, &id, token).await;
            assert_eq!(r.status, StatusCode::OK, "{token:?}: {}", r.raw);
        }
    }
}

#[tokio::test]
async fn private_shares_are_for_the_owner_and_listed_users() {
    let (s, c) = (server().await, client());
    let id = create(&c, &s, &share(Some(json!(["user-2002"])))).await;
    assert_eq!(get(&c, &s, &id, Some(OWNER)).await.status, StatusCode::OK);
    assert_eq!(get(&c, &s, &id, Some(OTHER)).await.status, StatusCode::OK);
    for token in [None, Some("not-a-token")] {
        assert_error(&get(&c, &s, &id, token).await, 401, "GENERAL_INVALID_TOKEN");
    }
    // A third user sees nothing, not even that the share exists.
    let only_owner = create(&c, &s, &share(Some(json!(["user-3003"])))).await;
    assert_eq!(
        get(&c, &s, &only_owner, Some(OWNER)).await.status,
        StatusCode::OK
    );
    assert_error(
        &get(&c, &s, &only_owner, Some(OTHER)).await,
        404,
        "SHARE_NOT_FOUND",
    );
    assert_error(
        &get(&c, &s, &only_owner, None).await,
        401,
        "GENERAL_INVALID_TOKEN",
    );
}

#[tokio::test]
async fn unknown_shares_are_404() {
    let (s, c) = (server().await, client());
    for id in [uuid::Uuid::new_v4().to_string(), "12345".to_owned()] {
        for token in [None, Some(OWNER)] {
            let r = get(&c, &s, &id, token).await;
            assert_error(&r, 404, "SHARE_NOT_FOUND");
            assert_eq!(r.body["message"], "404 Not Found Could not find share");
        }
    }
}

#[tokio::test]
async fn create_checks_token_then_parameters_then_lists_then_owner() {
    let (s, c) = (server().await, client());
    let ok = share(None);
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
    const MISSING: &str = "GENERAL_INSUFFICIENT_PARAMETERS";
    const LIST: &str = "GENERAL_INVALID_PARAMETER_LIST";
    const OWNER_MISMATCH: &str = "SHARES_AUTH_OWNER_MISMATCH";
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (without("deviceId"), 400, MISSING, "deviceId"),
        (with("deviceId", json!("")), 400, MISSING, "deviceId"),
        (with("deviceId", json!(5)), 400, MISSING, "deviceId"),
        (without("ownerId"), 400, MISSING, "ownerId"),
        (with("ownerId", json!(null)), 400, MISSING, "ownerId"),
        (without("fileIds"), 400, MISSING, "fileIds"),
        (with("fileIds", json!(null)), 400, MISSING, "fileIds"),
        (with("useCache", json!("yes")), 400, MISSING, "useCache"),
        (with("metadata", json!([])), 400, MISSING, "metadata"),
        (with("fileIds", json!([])), 400, LIST, "fileIds"),
        (with("fileIds", json!("123")), 400, LIST, "fileIds"),
        (with("fileIds", json!([1, 2])), 400, LIST, "fileIds"),
        (with("userIds", json!("user-2002")), 400, LIST, "userIds"),
        (with("userIds", json!([7])), 400, LIST, "userIds"),
        (with("ownerId", json!("user-2002")), 400, OWNER_MISMATCH, ""),
        (json!([ok.clone()]), 400, MISSING, ""),
        // Order: missing parameters before lists, lists before the owner.
        (
            json!({"ownerId": "user-1001", "fileIds": []}),
            400,
            MISSING,
            "deviceId",
        ),
        (
            json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": [], "useCache": 1}),
            400,
            MISSING,
            "useCache",
        ),
        (
            json!({"ownerId": "user-2002", "deviceId": "d", "fileIds": []}),
            400,
            LIST,
            "fileIds",
        ),
    ];
    for (body, status, label, param) in cases {
        let r = post(&c, &s, Some(OWNER), &body).await;
        assert_error(&r, status, label);
        let message = r.body["message"].as_str().unwrap_or("");
        assert!(message.contains(param), "{message} should name {param}");
    }
    let r = post(&c, &s, Some(OWNER), &with("ownerId", json!("user-2002"))).await;
    assert_eq!(
        r.body["message"],
        "400 Bad Request The authorized user id is not the same as the owner id"
    );
    let r = post(&c, &s, Some(OWNER), &without("deviceId")).await;
    assert_eq!(
        r.body["message"],
        "400 Bad Request Required parameter deviceId not present, invalid or empty"
    );
    // The token comes first, even before a broken body.
    for token in [None, Some("nope")] {
        let r = post(&c, &s, token, &json!({})).await;
        assert_error(&r, 401, "GENERAL_INVALID_TOKEN");
        assert_eq!(
            r.body["message"],
            "401 Not Authorized User token is invalid"
        );
    }
    let r = c
        .post(format!("{}/v1/shares", s.base_url()))
        .bearer_auth(OWNER)
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["label"], MISSING);
}

#[tokio::test]
async fn share_item_allows_only_get() {
    let (s, c) = (server().await, client());
    let id = create(&c, &s, &share(None)).await;
    let path = format!("/v1/shares/{id}");
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        // No token needed: the method is refused first.
        for token in [None, Some(OWNER)] {
            let r = call(&c, &s, method.clone(), &path, token, Some(&json!({})), None).await;
            assert_error(&r, 405, "GENERAL_METHOD_NOT_ALLOWED");
            assert_eq!(r.headers["allow"], "GET");
            assert_eq!(
                r.body["message"],
                format!("405 Method Not Allowed {method} not allowed for this resource")
            );
        }
    }
    assert_eq!(get(&c, &s, &id, None).await.status, StatusCode::OK);
    let r = call(&c, &s, Method::GET, "/v1/shares", Some(OWNER), None, None).await;
    assert_error(&r, 405, "GENERAL_METHOD_NOT_ALLOWED");
    assert_eq!(r.headers["allow"], "POST");
}

#[tokio::test]
async fn correlation_id_and_cors_on_every_answer() {
    let (s, c) = (server().await, client());
    let body = share(None);
    let unknown = format!("/v1/shares/{}", uuid::Uuid::new_v4());
    let created = call(
        &c,
        &s,
        Method::POST,
        "/v1/shares",
        Some(OWNER),
        Some(&body),
        Some("c-1"),
    )
    .await;
    let id = created.body["data"]["shareId"]
        .as_str()
        .expect("id")
        .to_owned();
    let replies = [
        created,
        call(
            &c,
            &s,
            Method::POST,
            "/v1/shares",
            None,
            Some(&body),
            Some("c-2"),
        )
        .await,
        call(
            &c,
            &s,
            Method::GET,
            &format!("/v1/shares/{id}"),
            None,
            None,
            Some("c-3"),
        )
        .await,
        call(&c, &s, Method::GET, &unknown, None, None, Some("c-4")).await,
        call(
            &c,
            &s,
            Method::GET,
            "/v1/elsewhere",
            None,
            None,
            Some("c-5"),
        )
        .await,
    ];
    for (i, r) in replies.iter().enumerate() {
        let want = format!("c-{}", i + 1);
        assert_eq!(r.headers["correlationid"], want.as_str(), "{}", r.raw);
        assert_eq!(r.headers["access-control-allow-origin"], "*");
    }
    let r = get(&c, &s, &id, None).await;
    assert!(r.headers.get("correlationid").is_none());
}

#[tokio::test]
async fn unknown_routes_use_the_mycloud_envelope() {
    let (s, c) = (server().await, client());
    for path in ["/", "/v1", "/v1/shares/a/b", "/shares"] {
        let r = call(&c, &s, Method::GET, path, None, None, None).await;
        assert_error(&r, 404, "GENERAL_NOT_FOUND");
    }
}

#[tokio::test]
async fn bodies_over_one_mib_are_413() {
    let (s, c) = (server().await, client());
    let limit = 1usize << 20;
    let mut body = share(None);
    body["metadata"] = json!({"pad": ""});
    let pad = limit - body.to_string().len();
    body["metadata"]["pad"] = json!("x".repeat(pad));
    assert_eq!(body.to_string().len(), limit);
    assert_eq!(
        post(&c, &s, Some(OWNER), &body).await.status,
        StatusCode::CREATED
    );
    body["metadata"]["pad"] = json!("x".repeat(pad + 1));
    let r = post(&c, &s, Some(OWNER), &body).await;
    assert_error(&r, 413, "GENERAL_PAYLOAD_TOO_LARGE");
}
