//! Background webhook delivery with bounded retries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::watch;

use super::ServeError;

/// Attempts per event, including the first.
const ATTEMPTS: u32 = 3;
/// Wait before the second attempt; doubles after each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Per-attempt limit, so a hanging receiver costs seconds, not a task forever.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where events go (per EnableNow clientId) and how they are sent.
#[derive(Clone)]
pub(crate) struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    targets: HashMap<String, Url>,
    /// Flips to true on shutdown; pending deliveries then stop.
    stop: watch::Receiver<bool>,
}

impl Webhooks {
    /// Validates the `CLIENTID=URL` targets and builds the client.
    pub fn new(
        targets: &[(String, String)],
        stop: watch::Receiver<bool>,
    ) -> Result<Webhooks, ServeError> {
        let mut map = HashMap::new();
        for (client_id, url) in targets {
            let invalid = |reason: String| ServeError::InvalidWebhook {
                client_id: client_id.clone(),
                url: url.clone(),
                reason,
            };
            let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("only http and https are supported".into()));
            }
            map.insert(client_id.clone(), parsed);
        }
        // Receivers are usually local test servers, so go direct rather than
        // through a proxy from the environment.
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(ServeError::HttpClient)?;
        Ok(Webhooks {
            inner: Arc::new(Inner {
                client,
                targets: map,
                stop,
            }),
        })
    }

    /// Queues `payload` for the target of `client_id`, if one is configured.
    /// Returns at once: delivery never delays the API response.
    pub fn deliver(&self, client_id: &str, payload: serde_json::Value) {
        let Some(url) = self.inner.targets.get(client_id).cloned() else {
            return;
        };
        let client = self.inner.client.clone();
        let mut stop = self.inner.stop.clone();
        tokio::spawn(async move {
            let stopped = async move {
                while !*stop.borrow_and_update() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                _ = stopped => {}
                _ = send_with_retry(&client, &url, &payload) => {}
            }
        });
    }
}

/// Posts until a 2xx answer or [`ATTEMPTS`] failures, backing off between tries.
async fn send_with_retry(client: &reqwest::Client, url: &Url, payload: &serde_json::Value) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let outcome = client.post(url.clone()).json(payload).send().await;
        let failure = match outcome {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => format!("HTTP {}", resp.status()),
            Err(e) => e.to_string(),
        };
        if attempt == ATTEMPTS {
            eprintln!("webhook to {url} failed after {ATTEMPTS} attempts: {failure}");
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}
