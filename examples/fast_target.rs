//! A minimal, storage-free EnableNow target for side-by-side benchmarks
//! (benches/hurl/run.sh): `POST /shares` answers a fixed id, `GET
//! /shares/{id}` a valid share with that id. It binds 127.0.0.1 only, prints
//! its base URL on the first line of stdout, and serves until killed.
//!
//!     cargo run --release --example fast_target -- 127.0.0.1:0

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::routing::{get, post};

const SHARE_ID: &str = "3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a";

fn app() -> Router {
    Router::new()
        .route(
            "/shares",
            post(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    format!("{{\"data\":\"{SHARE_ID}\"}}"),
                )
            }),
        )
        .route(
            "/shares/{id}",
            get(|Path(id): Path<String>| async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    format!(
                        "{{\"data\":{{\"id\":\"{id}\",\"clientId\":\"en-app-ref-002\",\"reference\":null,\
                         \"expirationDateUtc\":\"2099-04-30T12:00:00Z\",\"consentIds\":[\"{SHARE_ID}\"],\
                         \"accountIds\":[],\"analysisIds\":[]}}}}"
                    ),
                )
            }),
        )
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let ip_ok = addr.starts_with("127.") || addr.starts_with("localhost:");
    if !ip_ok {
        eprintln!("fast_target binds loopback only; got {addr}");
        std::process::exit(2);
    }
    // One thread: the benchmark machine has two cores, and the tools under
    // test need the other one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("http://{}", listener.local_addr()?);
        axum::serve(listener, app()).await
    })
}
