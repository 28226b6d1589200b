//! OAuth2 client-credentials tokens (RFC 6749 4.4), shared by the whole run.
//!
//! Each distinct `oauth2:` configuration (token URL, client, secret, scopes,
//! audience) gets one [`TokenSource`] per run, whatever the number of suites
//! or jobs naming it. Its token sits behind an async mutex, so when four jobs
//! start at once one of them fetches and the others wait for that token.
//! A token is renewed before it expires (see [`Token::usable`]): with its
//! refresh token (`grant_type=refresh_token`) when the server gave one,
//! else with a new client-credentials request. A request answered 401 with
//! `WWW-Authenticate: ... invalid_token` renews once through
//! [`TokenSource::after_rejection`] (concurrent rejections of the same token
//! renew it once).
//!
//! The protocol itself (form encoding, client authentication, the token
//! and error responses) is the `oauth2` crate's; it runs over the run's
//! pooled reqwest client through [`send_token_request`], so the run's TLS,
//! timeout and body-size settings apply to the token endpoint too.
//!
//! Every secret involved joins the redactors: the client secret (and the
//! Basic `id:secret` pair in both its plain and form-encoded forms) when the
//! suite context is built, and the tokens a step sent plus the latest ones
//! issued when a step uses the credential ([`TokenSource::redact_into`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use serde_json::Value;
use tokio::time::Instant;

use crate::suite::OAuth2Credential;
use crate::suite::template::RenderError;
use crate::suite::vars::Redactor;

/// Longest margin before expiry at which a token is renewed.
const MAX_MARGIN: Duration = Duration::from_secs(30);

/// How long a failed fetch is served to later steps before the endpoint is
/// asked again (so a down endpoint costs one timeout, not one per step).
const FAILURE_HOLD: Duration = Duration::from_secs(5);

/// Latest issued tokens (access and refresh) added to a step's redactor.
const RECENT: usize = 8;

/// Bytes of an error body quoted in a step's reason.
const BODY_QUOTE: usize = 200;

/// An `oauth2:` credential with its templates rendered: the cache key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct OAuthConfig {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub secret_in_body: bool,
}

impl OAuthConfig {
    /// Renders a credential's templates against the suite's variables.
    pub fn render(
        c: &OAuth2Credential,
        globals: &HashMap<String, Value>,
    ) -> Result<OAuthConfig, RenderError> {
        Ok(OAuthConfig {
            token_url: c.token_url.render_string(globals)?,
            client_id: c.client_id.render_string(globals)?,
            client_secret: c.client_secret.render_string(globals)?,
            scopes: c
                .scopes
                .iter()
                .map(|s| s.render_string(globals))
                .collect::<Result<_, _>>()?,
            audience: c
                .audience
                .as_ref()
                .map(|a| a.render_string(globals))
                .transpose()?,
            secret_in_body: c.secret_in_body,
        })
    }

    /// The client secret in every form it leaves the tool: alone, as the
    /// `id:secret` pair, and form-encoded as the Basic header carries it.
    pub fn redact_into(&self, redactor: &mut Redactor) {
        redactor.add(&self.client_secret);
        redactor.add_pair(&self.client_id, &self.client_secret);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        redactor.add_pair(&enc(&self.client_id), &enc(&self.client_secret));
        redactor.add(&enc(&self.client_secret));
    }
}

/// Why no token could be had; the text names the token URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("oauth2: token_url `{url}` is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("oauth2: token endpoint {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("oauth2: token endpoint {url} answered {status}: {detail}")]
    Refused {
        url: String,
        status: String,
        detail: String,
    },
    #[error("oauth2: token endpoint {url} sent no usable token: {reason}")]
    BadResponse { url: String, reason: String },
}

/// What the token endpoint gave.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access: String,
    pub refresh: Option<String>,
    pub expires_in: Option<Duration>,
}

/// Which grant to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    ClientCredentials,
    Refresh(String),
}

/// A token held by a source.
#[derive(Debug, Clone)]
struct Token {
    access: String,
    refresh: Option<String>,
    obtained: Instant,
    lifetime: Option<Duration>,
}

impl Token {
    /// Whether the token can still be sent at `now`: it is renewed once
    /// less than 10% of its lifetime (at most 30 s) remains, so a request
    /// never leaves with a token about to expire in flight. A token without
    /// `expires_in` is kept until the server rejects it.
    fn usable(&self, now: Instant) -> bool {
        let Some(lifetime) = self.lifetime else {
            return true;
        };
        let margin = (lifetime / 10).min(MAX_MARGIN);
        now.saturating_duration_since(self.obtained) + margin < lifetime
    }
}

/// The state behind a source's lock.
enum Slot {
    Empty,
    Ready(Token),
    Failed { error: TokenError, at: Instant },
}

/// The token of one `oauth2:` configuration for the whole run.
pub(crate) struct TokenSource {
    config: OAuthConfig,
    slot: tokio::sync::Mutex<Slot>,
    /// Every access and refresh token issued so far, for the redactors.
    issued: Mutex<Vec<String>>,
}

impl TokenSource {
    pub fn new(config: OAuthConfig) -> TokenSource {
        TokenSource {
            config,
            slot: tokio::sync::Mutex::new(Slot::Empty),
            issued: Mutex::new(Vec::new()),
        }
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The current token, fetched or renewed first when needed.
    pub async fn current<F, Fut>(&self, fetch: F) -> Result<String, TokenError>
    where
        F: Fn(Grant) -> Fut,
        Fut: Future<Output = Result<Issued, TokenError>>,
    {
        let mut slot = self.slot.lock().await;
        match &*slot {
            Slot::Ready(t) if t.usable(Instant::now()) => return Ok(t.access.clone()),
            Slot::Failed { error, at } if at.elapsed() < FAILURE_HOLD => {
                return Err(error.clone());
            }
            _ => {}
        }
        self.renew(&mut slot, &fetch).await
    }

    /// A token to resend with after the server rejected `rejected`: a newer
    /// one if another job already renewed it, else a renewed one.
    pub async fn after_rejection<F, Fut>(
        &self,
        rejected: &str,
        fetch: F,
    ) -> Result<String, TokenError>
    where
        F: Fn(Grant) -> Fut,
        Fut: Future<Output = Result<Issued, TokenError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Slot::Ready(t) = &*slot
            && t.access != rejected
            && t.usable(Instant::now())
        {
            return Ok(t.access.clone());
        }
        self.renew(&mut slot, &fetch).await
    }

    /// Renews with the refresh token when there is one (falling back to a
    /// new client-credentials grant if the server refuses it), else asks
    /// for a new token; a failure is held for [`FAILURE_HOLD`].
    async fn renew<F, Fut>(&self, slot: &mut Slot, fetch: &F) -> Result<String, TokenError>
    where
        F: Fn(Grant) -> Fut,
        Fut: Future<Output = Result<Issued, TokenError>>,
    {
        let refresh = match &*slot {
            Slot::Ready(t) => t.refresh.clone(),
            _ => None,
        };
        let issued = match &refresh {
            Some(r) => match fetch(Grant::Refresh(r.clone())).await {
                Ok(i) => Ok(i),
                Err(_) => fetch(Grant::ClientCredentials).await,
            },
            None => fetch(Grant::ClientCredentials).await,
        };
        match issued {
            Ok(i) => {
                self.remember(&i);
                let token = Token {
                    access: i.access.clone(),
                    // A refresh response may leave the refresh token out:
                    // the old one stays valid (RFC 6749 6).
                    refresh: i.refresh.or(refresh),
                    obtained: Instant::now(),
                    lifetime: i.expires_in,
                };
                *slot = Slot::Ready(token);
                Ok(i.access)
            }
            Err(error) => {
                *slot = Slot::Failed {
                    error: error.clone(),
                    at: Instant::now(),
                };
                Err(error)
            }
        }
    }

    fn remember(&self, i: &Issued) {
        if let Ok(mut issued) = self.issued.lock() {
            issued.push(i.access.clone());
            issued.extend(i.refresh.clone());
        }
    }

    /// Adds to a case's redactor the tokens its step sent and the latest
    /// tokens issued (the newest access and refresh tokens, also those
    /// other jobs renewed meanwhile). Not every token of the run: a long run
    /// renewing short-lived tokens would make each step's redactor grow
    /// with the run.
    pub fn redact_into(&self, redactor: &mut Redactor, sent: &[String]) {
        for t in sent {
            redactor.add(t);
        }
        if let Ok(issued) = self.issued.lock() {
            for t in issued.iter().rev().take(RECENT) {
                redactor.add(t);
            }
        }
    }
}

/// One source per distinct configuration for the whole run.
#[derive(Default)]
pub(crate) struct Sources {
    by_config: HashMap<OAuthConfig, Arc<TokenSource>>,
}

impl Sources {
    /// The source of a credential (shared with every credential of the same
    /// configuration); its client secret joins `redactor`.
    pub fn source(
        &mut self,
        c: &OAuth2Credential,
        globals: &HashMap<String, Value>,
        redactor: &mut Redactor,
    ) -> Result<Arc<TokenSource>, RenderError> {
        let config = OAuthConfig::render(c, globals)?;
        config.redact_into(redactor);
        Ok(self
            .by_config
            .entry(config.clone())
            .or_insert_with(|| Arc::new(TokenSource::new(config)))
            .clone())
    }
}

/// Whether a 401 says its bearer token is no good (RFC 6750 3.1:
/// `WWW-Authenticate: Bearer error="invalid_token"`).
pub(crate) fn rejects_token(status: u16, headers: &reqwest::header::HeaderMap) -> bool {
    status == 401
        && headers
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.contains("invalid_token")))
}

/// A transport failure on the way to the token endpoint.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TransportError(String);

/// Asks the token endpoint for a grant over the run's client.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    config: &OAuthConfig,
    grant: Grant,
    timeout: Duration,
    max_body: usize,
) -> Result<Issued, TokenError> {
    let url = &config.token_url;
    let token_url = TokenUrl::new(url.clone()).map_err(|e| TokenError::BadUrl {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let auth = if config.secret_in_body {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    };
    let oauth = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(config.client_secret.clone()))
        .set_token_uri(token_url)
        .set_auth_type(auth);
    let http = RunClient {
        client,
        timeout,
        max_body,
        status: Mutex::new(None),
    };
    let scopes = config.scopes.iter().cloned().map(Scope::new);
    let result = match grant {
        Grant::ClientCredentials => {
            let mut r = oauth.exchange_client_credentials().add_scopes(scopes);
            if let Some(a) = &config.audience {
                r = r.add_extra_param("audience", a.as_str());
            }
            r.request_async(&http).await
        }
        Grant::Refresh(token) => {
            let token = RefreshToken::new(token);
            oauth
                .exchange_refresh_token(&token)
                .add_scopes(scopes)
                .request_async(&http)
                .await
        }
    };
    let status = http.status.lock().ok().and_then(|s| *s);
    match result {
        Ok(t) => Ok(Issued {
            access: t.access_token().secret().clone(),
            refresh: t.refresh_token().map(|r| r.secret().clone()),
            expires_in: t.expires_in(),
        }),
        Err(e) => Err(describe(url, status, e)),
    }
}

/// A token request failure as a step's reason.
fn describe<RE: std::error::Error>(
    url: &str,
    status: Option<u16>,
    e: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> TokenError {
    let url = url.to_string();
    let refused = |detail: String| TokenError::Refused {
        url: url.clone(),
        status: status.map_or_else(|| "an error".to_string(), |s| format!("HTTP {s}")),
        detail,
    };
    match e {
        RequestTokenError::Request(e) => TokenError::Unreachable {
            url,
            reason: e.to_string(),
        },
        RequestTokenError::ServerResponse(r) => refused(r.to_string()),
        RequestTokenError::Parse(e, _) if status == Some(200) => TokenError::BadResponse {
            url,
            reason: e.to_string(),
        },
        RequestTokenError::Parse(_, body) => refused(quote(&body)),
        RequestTokenError::Other(reason) if status == Some(200) => {
            TokenError::BadResponse { url, reason }
        }
        RequestTokenError::Other(reason) => refused(reason),
    }
}

/// The start of an error body, as text.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(BODY_QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < text.len() { "..." } else { "" };
    format!("{}{cut}", text[..end].trim())
}

/// The run's reqwest client as the `oauth2` crate's HTTP client (its own
/// reqwest integration pins reqwest 0.12; this project is on 0.13).
struct RunClient<'a> {
    client: &'a reqwest::Client,
    timeout: Duration,
    max_body: usize,
    /// The token endpoint's status, for the reason of a failure.
    status: Mutex<Option<u16>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for RunClient<'_> {
    type Error = TransportError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send_token_request(
            self.client,
            request,
            self.timeout,
            self.max_body,
            &self.status,
        ))
    }
}

/// The `oauth2` crate's HTTP call over the run's reqwest client (with the
/// run's timeout and body-size limit); records the status for the reason.
async fn send_token_request(
    client: &reqwest::Client,
    request: oauth2::HttpRequest,
    timeout: Duration,
    max_body: usize,
    status: &Mutex<Option<u16>>,
) -> Result<oauth2::HttpResponse, TransportError> {
    let (parts, body) = request.into_parts();
    let builder = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body);
    let response = super::http::send(builder, timeout, max_body)
        .await
        .map_err(|e| TransportError(e.to_string()))?;
    if let Ok(mut s) = status.lock() {
        *s = Some(response.status);
    }
    let mut out = oauth2::http::Response::builder().status(response.status);
    if let Some(headers) = out.headers_mut() {
        *headers = response.headers;
    }
    out.body(response.body.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig {
            token_url: "http://127.0.0.1:1/token".into(),
            client_id: "cli ent".into(),
            client_secret: "s3cr&t+value".into(),
            scopes: vec![],
            audience: None,
            secret_in_body: false,
        }
    }

    fn issued(n: usize, refresh: bool, expires: Option<u64>) -> Issued {
        Issued {
            access: format!("access-{n}"),
            refresh: refresh.then(|| format!("refresh-{n}")),
            expires_in: expires.map(Duration::from_secs),
        }
    }

    #[test]
    fn usable_until_a_tenth_of_the_lifetime_at_most_30s_is_left() {
        let now = Instant::now();
        let token = |secs: u64| Token {
            access: String::new(),
            refresh: None,
            obtained: now,
            lifetime: Some(Duration::from_secs(secs)),
        };
        // 3600 s: renewed in its last 30 s.
        assert!(token(3600).usable(now + Duration::from_secs(3569)));
        assert!(!token(3600).usable(now + Duration::from_secs(3571)));
        // 10 s: renewed in its last second.
        assert!(token(10).usable(now + Duration::from_millis(8900)));
        assert!(!token(10).usable(now + Duration::from_millis(9100)));
        assert!(!token(0).usable(now));
        let forever = Token {
            lifetime: None,
            ..token(1)
        };
        assert!(forever.usable(now + Duration::from_secs(1_000_000)));
    }

    #[tokio::test]
    async fn one_fetch_when_many_jobs_ask_at_once() {
        let source = Arc::new(TokenSource::new(config()));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (source, calls) = (source.clone(), calls.clone());
            tasks.spawn(async move {
                source
                    .current(|_| {
                        let calls = calls.clone();
                        async move {
                            let n = calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(issued(n, false, Some(3600)))
                        }
                    })
                    .await
            });
        }
        while let Some(t) = tasks.join_next().await {
            assert_eq!(t.expect("task").as_deref(), Ok("access-0"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_expired_token_is_renewed_with_its_refresh_token() {
        let source = TokenSource::new(config());
        let grants = Mutex::new(Vec::new());
        let fetch = |g: Grant| {
            let n = {
                let mut v = grants.lock().expect("lock");
                v.push(g);
                v.len()
            };
            // Expires at once, so every call renews.
            async move { Ok(issued(n, n == 1, Some(0))) }
        };
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-1"));
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-2"));
        // The second response had no refresh token: the first one is kept.
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-3"));
        assert_eq!(
            *grants.lock().expect("lock"),
            vec![
                Grant::ClientCredentials,
                Grant::Refresh("refresh-1".into()),
                Grant::Refresh("refresh-1".into()),
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_refresh_falls_back_to_a_new_grant() {
        let source = TokenSource::new(config());
        let calls = AtomicUsize::new(0);
        let fetch = |g: Grant| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                match g {
                    Grant::Refresh(_) => Err(TokenError::Refused {
                        url: "u".into(),
                        status: "HTTP 400".into(),
                        detail: "invalid_grant".into(),
                    }),
                    Grant::ClientCredentials => Ok(issued(n, true, Some(0))),
                }
            }
        };
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-0"));
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-2"));
    }

    #[tokio::test]
    async fn a_rejected_token_is_renewed_once_for_everyone() {
        let source = TokenSource::new(config());
        let calls = AtomicUsize::new(0);
        let fetch = |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(issued(n, false, Some(3600))) }
        };
        assert_eq!(source.current(&fetch).await.as_deref(), Ok("access-0"));
        // Two jobs saw `access-0` rejected: one renewal serves both.
        let a = source.after_rejection("access-0", &fetch).await;
        let b = source.after_rejection("access-0", &fetch).await;
        assert_eq!(
            (a.as_deref(), b.as_deref()),
            (Ok("access-1"), Ok("access-1"))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failure_is_held_not_refetched_by_every_step() {
        let source = TokenSource::new(config());
        let calls = AtomicUsize::new(0);
        let fetch = |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err(TokenError::Unreachable {
                    url: "http://127.0.0.1:1/token".into(),
                    reason: "connection refused".into(),
                })
            }
        };
        let first = source.current(&fetch).await.expect_err("fails");
        let second = source.current(&fetch).await.expect_err("fails");
        assert_eq!(first, second);
        assert!(
            first.to_string().contains("http://127.0.0.1:1/token"),
            "{first}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn issued_tokens_and_the_secret_join_the_redactor() {
        use base64::Engine as _;
        let source = TokenSource::new(config());
        let fetch = |_| async { Ok(issued(7, true, None)) };
        source.current(&fetch).await.expect("token");
        let mut r = Redactor::default();
        source.config().redact_into(&mut r);
        source.redact_into(&mut r, &["sent-earlier".to_string()]);
        let basic = base64::engine::general_purpose::STANDARD.encode("cli+ent:s3cr%26t%2Bvalue");
        let text = format!("access-7 refresh-7 s3cr&t+value {basic} sent-earlier");
        assert_eq!(
            r.redact(&text),
            "[redacted] [redacted] [redacted] [redacted] [redacted]"
        );
    }

    #[test]
    fn one_source_per_distinct_configuration() {
        use crate::suite::template::Template;
        let t = |s: &str| Template::parse(s).expect("template");
        let cred = |secret: &str| OAuth2Credential {
            token_url: t("http://127.0.0.1:1/token"),
            client_id: t("id"),
            client_secret: t(secret),
            scopes: vec![t("a")],
            audience: None,
            secret_in_body: false,
        };
        let globals: HashMap<String, Value> =
            [("s".to_string(), Value::String("from-a-variable".into()))].into();
        let mut sources = Sources::default();
        let mut r = Redactor::default();
        let a = sources
            .source(&cred("{{ s }}"), &globals, &mut r)
            .expect("a");
        let b = sources
            .source(&cred("from-a-variable"), &globals, &mut r)
            .expect("b");
        let c = sources
            .source(&cred("another-secret"), &globals, &mut r)
            .expect("c");
        assert!(Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &c));
        assert_eq!(
            r.redact("from-a-variable another-secret"),
            "[redacted] [redacted]"
        );
        assert!(
            sources
                .source(&cred("{{ nope }}"), &globals, &mut r)
                .is_err()
        );
    }

    #[test]
    fn only_a_401_naming_invalid_token_is_a_rejection() {
        let mut h = reqwest::header::HeaderMap::new();
        assert!(!rejects_token(401, &h));
        h.insert(
            reqwest::header::WWW_AUTHENTICATE,
            reqwest::header::HeaderValue::from_static(
                r#"Bearer realm="api", error="invalid_token""#,
            ),
        );
        assert!(rejects_token(401, &h));
        assert!(!rejects_token(403, &h));
    }

    #[test]
    fn error_bodies_are_quoted_short() {
        let long = "x".repeat(500);
        assert_eq!(quote(long.as_bytes()).len(), BODY_QUOTE + 3);
        assert_eq!(quote(b" nope "), "nope");
    }
}
