//! `apiconform serve` as a real process: kill -9 durability, clean shutdown, exit codes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_apiconform");
const CONSENT: &str = "af86536d-34e3-4ebc-6c64-08db56ccef25";

/// A server process, killed when dropped so a failing test leaves nothing behind.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `apiconform serve ARGS` and waits for its `listening on` line.
fn spawn(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn apiconform");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line {line:?}")
        })
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    Server { child, base }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiconform-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

fn serve_db(db: &Path) -> Server {
    spawn(&[
        "all",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().expect("utf-8 path"),
    ])
}

#[tokio::test]
async fn acknowledged_shares_survive_kill_9() {
    let dir = temp_dir("serve-kill9");
    let db = dir.join("shares.sqlite");
    let c = client();
    let mut server = serve_db(&db);
    let mut en_ids = Vec::new();
    let mut mc_ids = Vec::new();
    for i in 0..25 {
        let r = c
            .post(format!("{}/shares", server.base))
            .bearer_auth("enablenow-dev-token")
            .json(&json!({"clientId": "en-app-ref-002", "reference": format!("r{i}"), "consentIds": [CONSENT]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        en_ids.push(v["data"].as_str().expect("id").to_owned());
        let r = c
            .post(format!("{}/v1/shares", server.base))
            .bearer_auth("mycloud-dev-token")
            .json(&json!({"ownerId": "user-1001", "deviceId": "d", "fileIds": [format!("f{i}")]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let v: Value = r.json().await.expect("json");
        mc_ids.push(v["data"]["shareId"].as_str().expect("id").to_owned());
    }
    // A PUT acknowledged with 204 is durable too.
    let r = c
        .put(format!("{}/shares/{}", server.base, en_ids[0]))
        .bearer_auth("enablenow-dev-token")
        .json(&json!({"expirationDateUtc": "2001-02-03T04:05:06Z"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
    server.child.kill().expect("kill -9"); // SIGKILL on Unix
    let _ = server.child.wait();
    drop(server);

    let server = serve_db(&db);
    let v: Value = c
        .get(format!("{}/shares?pageSize=100", server.base))
        .bearer_auth("enablenow-dev-token")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let listed: Vec<&str> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(listed, en_ids);
    assert_eq!(v["data"][0]["expirationDateUtc"], "2001-02-03T04:05:06Z");
    for (i, id) in mc_ids.iter().enumerate() {
        let r = c
            .get(format!("{}/v1/shares/{id}", server.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["data"]["fileIds"], json!([format!("f{i}")]));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sigint_and_sigterm_shut_down_cleanly() {
    for signal in ["-INT", "-TERM"] {
        let mut server = spawn(&["enablenow", "--addr", "127.0.0.1:0"]);
        let r = client()
            .get(format!("{}/shares", server.base))
            .bearer_auth("enablenow-dev-token")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let status = Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let exit = loop {
            if let Some(exit) = server.child.try_wait().expect("wait") {
                break exit;
            }
            assert!(Instant::now() < deadline, "no exit after {signal}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(exit.success(), "{signal}: {exit}");
    }
}

#[test]
fn bad_faults_exit_2() {
    for (api, fault) in [("enablenow", "no-such-fault"), ("enablenow", "put-allowed")] {
        let out = Command::new(BIN)
            .args(["serve", api, "--addr", "127.0.0.1:0", "--fault", fault])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{fault}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(fault), "{err}");
    }
}

#[test]
fn list_faults_prints_name_api_description() {
    let out = Command::new(BIN)
        .args(["serve", "--list-faults"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), apiconform::serve::faults().len());
    for (line, fault) in lines.iter().zip(apiconform::serve::faults()) {
        let cols: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cols[0], fault.name);
        assert_eq!(cols[1], fault.api.to_string());
        assert_eq!(cols[2..].join("  "), fault.description);
    }
    let out = Command::new(BIN)
        .args(["serve", "mycloud", "--list-faults"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().all(|l| l.contains("  mycloud  ")));
}

#[test]
fn token_and_webhook_flags_are_checked() {
    for args in [
        vec!["serve", "enablenow", "--token", "no-equals"],
        vec!["serve", "enablenow", "--webhook", "=http://127.0.0.1:1/"],
        vec!["serve"],
    ] {
        let out = Command::new(BIN).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[tokio::test]
async fn token_flags_replace_the_defaults() {
    let server = spawn(&["enablenow", "--addr", "127.0.0.1:0", "--token", "t1=app-a"]);
    let c = client();
    let get = |token: &'static str| {
        c.get(format!("{}/shares", server.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        get("t1").await.expect("send").status(),
        reqwest::StatusCode::OK
    );
    assert_eq!(
        get("enablenow-dev-token").await.expect("send").status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
}
