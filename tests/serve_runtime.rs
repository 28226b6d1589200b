//! Reference server under load, webhook delivery, and restarts on one database.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apiconform::serve::{Api, RunningServer, ServeConfig, start};
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const TOKEN: &str = "enablenow-dev-token";
const CONSENT: &str = "af86536d-34e3-4ebc-6c64-08db56ccef25";

fn client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

fn share_body(reference: &str) -> Value {
    json!({"clientId": "en-app-ref-002", "reference": reference, "consentIds": [CONSENT]})
}

async fn create(c: &Client, base: &str, body: &Value) -> String {
    let r = c
        .post(format!("{base}/shares"))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["data"].as_str().expect("id").to_owned()
}

async fn list_page(c: &Client, base: &str, page: u32) -> Value {
    let r = c
        .get(format!("{base}/shares?page={page}&pageSize=100"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_creates_are_all_listed_once() {
    let server = start(ServeConfig::new(Api::EnableNow))
        .await
        .expect("start");
    let base = server.base_url();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..50 {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            // One client per worker: 50 separate connection pools.
            let c = client();
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(create(&c, &base, &share_body(&format!("w{worker}-{i}"))).await);
            }
            (worker, ids)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        created.push(t.await.expect("worker"));
    }
    let c = client();
    let mut listed = Vec::new();
    for page in 1..=11 {
        let v = list_page(&c, &base, page).await;
        assert_eq!(v["_pagination"]["totalCount"], json!(1000));
        assert_eq!(v["_pagination"]["totalPages"], json!(10));
        let data = v["data"].as_array().expect("data");
        assert_eq!(data.len(), if page <= 10 { 100 } else { 0 });
        listed.extend(data.iter().map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_owned(),
                s["reference"].as_str().unwrap_or("").to_owned(),
            )
        }));
    }
    let ids: HashSet<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1000, "duplicates in the listing");
    for (worker, worker_ids) in &created {
        assert_eq!(worker_ids.len(), 20);
        // Each worker's shares appear, in the order it created them.
        let positions: Vec<usize> = worker_ids
            .iter()
            .map(|id| {
                listed
                    .iter()
                    .position(|(l, _)| l == id)
                    .unwrap_or_else(|| panic!("share {id} of worker {worker} lost"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "worker {worker} out of order"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(25));
    server.shutdown().await.expect("shutdown");
}

/// A webhook receiver on 127.0.0.1 that fails the first `fail_first` calls.
async fn receiver(
    fail_first: usize,
) -> (
    SocketAddr,
    mpsc::UnboundedReceiver<(String, Value)>,
    Arc<AtomicUsize>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let _ = tx.send((ct, serde_json::from_str(&body).unwrap_or(Value::Null)));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, rx, calls)
}

async fn server_with_hook(addr: SocketAddr) -> RunningServer {
    let mut config = ServeConfig::new(Api::EnableNow);
    config.webhooks = vec![("en-app-ref-002".into(), format!("http://{addr}/hook"))];
    start(config).await.expect("start")
}

#[tokio::test]
async fn webhook_is_delivered_after_create() {
    let (addr, mut events, _) = receiver(0).await;
    let server = server_with_hook(addr).await;
    let c = client();
    let id = create(&c, &server.base_url(), &share_body("hooked")).await;
    let (ct, event) = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("event within 5 s")
        .expect("event");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(
        event,
        json!({"event": "databridge.share.created", "data": {"id": id, "clientId": "en-app-ref-002"}})
    );
    // Shares for apps without a webhook send nothing.
    let other = json!({"clientId": "en-app-ref-003", "consentIds": [CONSENT]});
    create(&c, &server.base_url(), &other).await;
    let none = tokio::time::timeout(Duration::from_millis(300), events.recv()).await;
    assert!(none.is_err(), "unexpected event {none:?}");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn webhook_is_retried_after_a_failure() {
    let (addr, mut events, calls) = receiver(1).await;
    let server = server_with_hook(addr).await;
    let id = create(&client(), &server.base_url(), &share_body("retry")).await;
    let (_, event) = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("event within 5 s")
        .expect("event");
    assert_eq!(event["data"]["id"], json!(id));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn webhook_gives_up_and_never_blocks_the_response() {
    let (addr, mut events, calls) = receiver(usize::MAX).await;
    let server = server_with_hook(addr).await;
    let started = Instant::now();
    create(&client(), &server.base_url(), &share_body("failing")).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    // 3 attempts with 200 ms and 400 ms pauses, then nothing more.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(events.try_recv().is_err());
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn invalid_webhook_urls_are_refused() {
    for url in ["not a url", "ftp://127.0.0.1/x"] {
        let mut config = ServeConfig::new(Api::EnableNow);
        config.webhooks = vec![("app".into(), url.into())];
        assert!(start(config).await.is_err(), "{url}");
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiconform-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn restart_on_the_same_db_keeps_shares() {
    let dir = temp_dir("serve-restart");
    let db = dir.join("shares.sqlite");
    let config = || {
        let mut config = ServeConfig::new(Api::All);
        config.db = Some(db.clone());
        config
    };
    let c = client();
    let first = start(config()).await.expect("start");
    let en = create(&c, &first.base_url(), &share_body("kept")).await;
    let mc: Value = c
        .post(format!("{}/v1/shares", first.base_url()))
        .bearer_auth("mycloud-dev-token")
        .json(&json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": ["1"], "userIds": ["user-2002"], "metadata": {"a": 1}}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let mc_id = mc["data"]["shareId"].as_str().expect("id").to_owned();
    let before: Value = c
        .get(format!("{}/v1/shares/{mc_id}", first.base_url()))
        .bearer_auth("mycloud-other-token")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    first.shutdown().await.expect("shutdown");
    assert!(db.exists());

    let second = start(config()).await.expect("restart");
    let r: Value = c
        .get(format!("{}/shares/{en}", second.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["data"]["reference"], "kept");
    let after: Value = c
        .get(format!("{}/v1/shares/{mc_id}", second.base_url()))
        .bearer_auth("mycloud-other-token")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(after, before);
    second.shutdown().await.expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = start(ServeConfig::new(Api::EnableNow))
        .await
        .expect("start");
    let addr = server.addr();
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still listening");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
