//! The fault catalogue: enough faults, unique names, and each one observable.
//!
//! Every fault has a probe here: a short request sequence that reports a
//! deviation. A probe must fire against a server with its fault on and stay
//! quiet against a clean one, so each fault provably changes behaviour.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use apiconform::serve::{Api, ServeConfig, ServeError, faults, start};
use axum::Router;
use axum::http::StatusCode as AxumStatus;
use axum::routing::post;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const EN: &str = "enablenow-dev-token";
const EN_OTHER: &str = "enablenow-other-token";
const MC: &str = "mycloud-dev-token";
const MC_OTHER: &str = "mycloud-other-token";
const CONSENT: &str = "af86536d-34e3-4ebc-6c64-08db56ccef25";

#[test]
fn catalogue_has_enough_unique_faults() {
    let all = faults();
    let names: HashSet<&str> = all.iter().map(|f| f.name).collect();
    assert_eq!(names.len(), all.len(), "duplicate fault names");
    for api in [Api::EnableNow, Api::MyCloud] {
        let n = all.iter().filter(|f| f.api == api).count();
        assert!(n >= 12, "{api}: only {n} faults");
    }
    for f in all {
        assert!(matches!(f.api, Api::EnableNow | Api::MyCloud), "{}", f.name);
        assert!(
            f.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}",
            f.name
        );
        assert!(!f.description.is_empty() && !f.description.contains('\n'));
    }
}

#[tokio::test]
async fn fault_names_are_checked_at_start() {
    let mut config = ServeConfig::new(Api::EnableNow);
    config.fault = Some("no-such-fault".into());
    assert!(matches!(
        start(config).await,
        Err(ServeError::UnknownFault(_))
    ));
    let mut config = ServeConfig::new(Api::EnableNow);
    config.fault = Some("put-allowed".into());
    assert!(matches!(
        start(config).await,
        Err(ServeError::FaultNotServed { .. })
    ));
    for fault in faults() {
        let mut config = ServeConfig::new(Api::All);
        config.fault = Some(fault.name.into());
        let server = start(config).await.expect(fault.name);
        server.shutdown().await.expect("shutdown");
    }
}

struct Ctx {
    c: Client,
    base: String,
    events: mpsc::UnboundedReceiver<Value>,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Ctx {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.c.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req = req.header("correlationID", "probe");
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Creates an EnableNow share as `token`; returns its id.
    async fn en_share(&self, token: &str, extra: Value) -> String {
        let mut body =
            json!({"clientId": "en-app-ref-002", "reference": "r", "consentIds": [CONSENT]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self
            .call(Method::POST, "/shares", Some(token), Some(body))
            .await;
        let data = &r.body["data"];
        data.as_str()
            .or_else(|| data["id"].as_str())
            .expect("share id")
            .to_owned()
    }

    async fn en_get(&self, id: &str, token: &str) -> Reply {
        self.call(Method::GET, &format!("/shares/{id}"), Some(token), None)
            .await
    }

    async fn en_list(&self, query: &str, token: &str) -> Value {
        self.call(Method::GET, &format!("/shares{query}"), Some(token), None)
            .await
            .body
    }

    /// Creates a mycloud share (private when `users` is non-empty).
    async fn mc_share(&self, users: Value, extra: Value) -> (Reply, String) {
        let mut body =
            json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"], "userIds": users});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self
            .call(Method::POST, "/v1/shares", Some(MC), Some(body))
            .await;
        let id = r.body["data"]["shareId"].as_str().unwrap_or("").to_owned();
        (r, id)
    }

    async fn mc_get(&self, id: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, &format!("/v1/shares/{id}"), token, None)
            .await
    }

    /// The next webhook event, if one comes within 5 s (generous: a loaded
    /// 2-core CI machine once took longer than 2 s to deliver one).
    async fn event(&mut self) -> Option<Value> {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .ok()
            .flatten()
    }
}

/// Runs the probe for `fault`; true when the deviation was observed.
async fn probe(fault: &str, cx: &mut Ctx) -> bool {
    let unknown = uuid::Uuid::new_v4().to_string();
    match fault {
        "create-returns-201" => {
            let body = json!({"clientId": "x", "consentIds": [CONSENT]});
            cx.call(Method::POST, "/shares", Some(EN), Some(body))
                .await
                .status
                != StatusCode::OK
        }
        "create-data-object" => {
            let body = json!({"clientId": "x", "consentIds": [CONSENT]});
            !cx.call(Method::POST, "/shares", Some(EN), Some(body))
                .await
                .body["data"]
                .is_string()
        }
        "create-accepts-no-ids" => {
            let body = json!({"clientId": "x", "consentIds": []});
            cx.call(Method::POST, "/shares", Some(EN), Some(body))
                .await
                .status
                != StatusCode::BAD_REQUEST
        }
        "no-default-expiration" => {
            cx.en_share(EN, json!({})).await;
            cx.en_list("?isExpired=false", EN).await["_pagination"]["totalCount"] != json!(1)
        }
        "list-ignores-isexpired" => {
            cx.en_share(EN, json!({"expirationDateUtc": "2001-01-01T00:00:00Z"}))
                .await;
            cx.en_list("?isExpired=false", EN).await["_pagination"]["totalCount"] != json!(0)
        }
        "list-wrong-totalpages" => {
            for _ in 0..3 {
                cx.en_share(EN, json!({})).await;
            }
            cx.en_list("?pageSize=2", EN).await["_pagination"]["totalPages"] != json!(2)
        }
        "list-size-not-echoed" => {
            cx.en_share(EN, json!({})).await;
            cx.en_list("?pageSize=10", EN).await["_pagination"]["size"] != json!(10)
        }
        "list-sorted-newest-first" => {
            cx.en_share(EN, json!({"reference": "first"})).await;
            cx.en_share(EN, json!({"reference": "second"})).await;
            cx.en_list("", EN).await["data"][0]["reference"] != json!("first")
        }
        "list-tenant-leak" => {
            cx.en_share(EN, json!({})).await;
            cx.en_list("", EN_OTHER).await["_pagination"]["totalCount"] != json!(0)
        }
        "get-tenant-leak" => {
            let id = cx.en_share(EN, json!({})).await;
            cx.en_get(&id, EN_OTHER).await.status != StatusCode::NOT_FOUND
        }
        "get-malformed-id-400" => cx.en_get("not-a-guid", EN).await.status != StatusCode::NOT_FOUND,
        "update-lost" => {
            let id = cx.en_share(EN, json!({})).await;
            let put = json!({"expirationDateUtc": "2030-01-01T00:00:00Z"});
            cx.call(Method::PUT, &format!("/shares/{id}"), Some(EN), Some(put))
                .await;
            cx.en_get(&id, EN).await.body["data"]["expirationDateUtc"]
                != json!("2030-01-01T00:00:00Z")
        }
        "delete-noop" => {
            let id = cx.en_share(EN, json!({})).await;
            cx.call(Method::DELETE, &format!("/shares/{id}"), Some(EN), None)
                .await;
            cx.en_get(&id, EN).await.status != StatusCode::NOT_FOUND
        }
        "reference-omitted-when-null" => {
            let id = cx.en_share(EN, json!({"reference": null})).await;
            cx.en_get(&id, EN).await.body["data"]
                .get("reference")
                .is_none()
        }
        "expiration-not-utc" => {
            let id = cx.en_share(EN, json!({})).await;
            let r = cx.en_get(&id, EN).await;
            !r.body["data"]["expirationDateUtc"]
                .as_str()
                .is_some_and(|d| d.ends_with('Z'))
        }
        "empty-ids-as-null" => {
            let id = cx.en_share(EN, json!({})).await;
            cx.en_get(&id, EN).await.body["data"]["accountIds"] != json!([])
        }
        "missing-auth-accepted" => {
            cx.call(Method::GET, "/shares", None, None).await.status != StatusCode::UNAUTHORIZED
        }
        "validation-error-plain-json" => {
            let r = cx
                .call(Method::POST, "/shares", Some(EN), Some(json!({})))
                .await;
            r.headers["content-type"] != "application/problem+json"
        }
        "webhook-not-sent" => {
            cx.en_share(EN, json!({})).await;
            cx.event().await.is_none()
        }
        "webhook-wrong-event" => {
            cx.en_share(EN, json!({})).await;
            cx.event()
                .await
                .is_some_and(|e| e["event"] != json!("databridge.share.created"))
        }

        "create-returns-200" => {
            cx.mc_share(json!([]), json!({})).await.0.status != StatusCode::CREATED
        }
        "create-error-not-null" => {
            !cx.mc_share(json!([]), json!({})).await.0.body["error"].is_null()
        }
        "missing-shareid-in-create" => cx.mc_share(json!([]), json!({})).await.1.is_empty(),
        "owner-mismatch-accepted" => {
            let r = cx
                .mc_share(json!([]), json!({"ownerId": "user-2002"}))
                .await
                .0;
            r.status != StatusCode::BAD_REQUEST
        }
        "empty-fileids-accepted" => {
            let r = cx.mc_share(json!([]), json!({"fileIds": []})).await.0;
            r.status != StatusCode::BAD_REQUEST
        }
        "wrong-label-missing-param" => {
            let r = cx.mc_share(json!([]), json!({"deviceId": null})).await.0;
            r.body["error"]["label"] != json!("GENERAL_INSUFFICIENT_PARAMETERS")
        }
        "use-cache-ignored" => {
            let (r, _) = cx.mc_share(json!([]), json!({"useCache": true})).await;
            // The id is in the create answer unless another fault hides it.
            let id = r.body["data"]["shareId"].as_str().unwrap_or("").to_owned();
            cx.mc_get(&id, None).await.body["data"]["useCache"] != json!(true)
        }
        "private-share-public" | "private-share-other-user-403" => {
            let (_, id) = cx.mc_share(json!(["user-3003"]), json!({})).await;
            cx.mc_get(&id, Some(MC_OTHER)).await.status != StatusCode::NOT_FOUND
        }
        "no-token-private-404" => {
            let (_, id) = cx.mc_share(json!(["user-2002"]), json!({})).await;
            cx.mc_get(&id, None).await.status != StatusCode::UNAUTHORIZED
        }
        "unknown-share-500" => cx.mc_get(&unknown, None).await.status != StatusCode::NOT_FOUND,
        "times-as-iso-strings" => {
            let (_, id) = cx.mc_share(json!([]), json!({})).await;
            !cx.mc_get(&id, None).await.body["data"]["dateCreated"].is_i64()
        }
        "correlation-id-not-echoed" => cx
            .mc_get(&unknown, None)
            .await
            .headers
            .get("correlationid")
            .is_none(),
        "public-share-needs-token" => {
            let (_, id) = cx.mc_share(json!([]), json!({})).await;
            cx.mc_get(&id, None).await.status == StatusCode::UNAUTHORIZED
        }
        "put-allowed" => {
            let (_, id) = cx.mc_share(json!([]), json!({})).await;
            let r = cx
                .call(Method::PUT, &format!("/v1/shares/{id}"), Some(MC), None)
                .await;
            r.status != StatusCode::METHOD_NOT_ALLOWED
        }
        "method-not-allowed-no-allow-header" => {
            let r = cx
                .call(Method::DELETE, &format!("/v1/shares/{unknown}"), None, None)
                .await;
            r.headers.get("allow").is_none_or(|v| v != "GET")
        }
        "error-envelope-missing-data" => cx.mc_get(&unknown, None).await.body.get("data").is_none(),
        other => panic!("no probe for fault `{other}`: add one"),
    }
}

/// A webhook receiver on 127.0.0.1 forwarding every event body.
async fn receiver() -> (SocketAddr, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |body: String| {
            let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::Null));
            async { AxumStatus::OK }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, rx)
}

/// Starts a fresh server (with or without the fault) and runs the probe.
async fn observe(api: Api, fault_name: &str, with_fault: bool) -> bool {
    let (addr, events) = receiver().await;
    let mut config = ServeConfig::new(api);
    config.webhooks = vec![("en-app-ref-002".into(), format!("http://{addr}/hook"))];
    config.fault = with_fault.then(|| fault_name.to_owned());
    let server = start(config).await.expect("start");
    let mut cx = Ctx {
        c: Client::builder().no_proxy().build().expect("client"),
        base: server.base_url(),
        events,
    };
    let seen = probe(fault_name, &mut cx).await;
    server.shutdown().await.expect("shutdown");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_observable_and_absent_without_it() {
    let mut tasks = Vec::new();
    for fault in faults() {
        tasks.push(tokio::spawn(async move {
            let with = observe(fault.api, fault.name, true).await;
            let without = observe(fault.api, fault.name, false).await;
            (fault.name, with, without)
        }));
    }
    let mut problems = Vec::new();
    for t in tasks {
        let (name, with, without) = t.await.expect("probe task");
        if !with {
            problems.push(format!("{name}: probe saw nothing with the fault on"));
        }
        if without {
            problems.push(format!("{name}: probe fired on the clean server"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
