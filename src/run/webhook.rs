//! The webhook receiver: accepts JSON POSTs on any path while the run goes,
//! and lets a webhook step wait for the delivery that belongs to its case.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::Value;
use tokio::sync::Notify;

pub use crate::result::RECEIVER_STATUS;

/// One received delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: String,
    pub body: Value,
    claimed: bool,
}

/// Deliveries received so far.
#[derive(Default)]
pub struct Inbox {
    deliveries: Mutex<Vec<Delivery>>,
    notify: Notify,
}

/// A running receiver.
pub struct Listener {
    pub inbox: Arc<Inbox>,
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Listener {
    /// The URL the API should deliver to (any path works).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a receiver on `addr` (port 0 picks a free port).
pub async fn listen(addr: SocketAddr) -> std::io::Result<Listener> {
    let inbox = Arc::new(Inbox::default());
    let app = Router::new().fallback(receive).with_state(inbox.clone());
    let socket = tokio::net::TcpListener::bind(addr).await?;
    let addr = socket.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(socket, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Listener {
        inbox,
        addr,
        shutdown: Some(tx),
    })
}

async fn receive(State(inbox): State<Arc<Inbox>>, uri: Uri, body: Bytes) -> StatusCode {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    inbox.push(uri.path().to_string(), value);
    StatusCode::from_u16(RECEIVER_STATUS).unwrap_or(StatusCode::NO_CONTENT)
}

impl Inbox {
    pub fn push(&self, path: String, body: Value) {
        if let Ok(mut d) = self.deliveries.lock() {
            d.push(Delivery {
                path,
                body,
                claimed: false,
            });
        }
        self.notify.notify_waiters();
    }

    /// Claims the first unclaimed delivery accepted by `matches`, waiting up
    /// to `timeout` for it to arrive.
    pub async fn wait_for(
        &self,
        matches: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            if let Some(d) = self.claim(&matches) {
                return Some(d);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.claim(&matches);
            }
        }
    }

    fn claim(&self, matches: &impl Fn(&Value) -> bool) -> Option<Delivery> {
        let mut deliveries = self.deliveries.lock().ok()?;
        let d = deliveries
            .iter_mut()
            .find(|d| !d.claimed && matches(&d.body))?;
        d.claimed = true;
        Some(d.clone())
    }

    /// Number of deliveries received (for diagnostics).
    pub fn len(&self) -> usize {
        self.deliveries.lock().map(|d| d.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
