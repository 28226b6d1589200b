//! Reference servers for the two bundled Sharing APIs.
//!
//! They give the bundled suites something correct to pass against, and with
//! `--fault NAME` something subtly wrong to fail against, which is how the
//! suites themselves are tested. `/shares...` is EnableNow Sharing API v1,
//! `/v1/shares...` is mycloud Shares v1; the paths do not clash, so `all`
//! serves both on one address.
//!
//! Storage is SQLite: a `--db` file in WAL mode with `synchronous=FULL`,
//! committed before each answer so acknowledged writes survive `kill -9`; or,
//! by default, a private `:memory:` database behind the single connection,
//! which lives exactly as long as the server and leaves no file behind.

mod auth;
mod body;
pub mod cli;
mod datetime;
mod enablenow;
mod error;
mod fault;
mod mycloud;
mod store;
mod variant;
mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use cli::{ServeArgs, run_cli};
pub use error::ServeError;
pub use fault::{Fault, faults};
pub use store::StoreError;
pub use variant::{Variant, variants};

use auth::Caller;
use fault::FaultId;
use store::Store;
use variant::VariantId;
use webhook::Webhooks;

/// How long [`RunningServer::shutdown`] waits for in-flight requests.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Which API a server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Api {
    /// EnableNow Sharing API v1 (`/shares`).
    #[value(name = "enablenow")]
    EnableNow,
    /// mycloud Shares v1 (`/v1/shares`).
    #[value(name = "mycloud")]
    MyCloud,
    /// Both, on one address.
    #[value(name = "all")]
    All,
}

impl Api {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Api::EnableNow => "enablenow",
            Api::MyCloud => "mycloud",
            Api::All => "all",
        }
    }

    fn serves(self, api: Api) -> bool {
        self == Api::All || self == api
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Development tokens used when no `--token` is given.
///
/// One map serves both APIs; the identity is the calling app's EnableNow
/// clientId or the calling mycloud userId:
///
/// | token | identity |
/// |---|---|
/// | `enablenow-dev-token` | `en-app-ref-001` |
/// | `enablenow-other-token` | `en-app-ref-099` |
/// | `mycloud-dev-token` | `user-1001` |
/// | `mycloud-other-token` | `user-2002` |
///
/// The second token of each API exists so suites can check tenant isolation.
pub const DEFAULT_TOKENS: &[(&str, &str)] = &[
    ("enablenow-dev-token", "en-app-ref-001"),
    ("enablenow-other-token", "en-app-ref-099"),
    ("mycloud-dev-token", "user-1001"),
    ("mycloud-other-token", "user-2002"),
];

/// How to run a reference server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub api: Api,
    pub addr: SocketAddr,
    /// SQLite file (WAL); `None` keeps shares in memory for the server's lifetime.
    pub db: Option<PathBuf>,
    /// Token -> identity; empty means [`DEFAULT_TOKENS`].
    pub tokens: Vec<(String, String)>,
    /// EnableNow clientId -> URL receiving `databridge.share.created` events.
    pub webhooks: Vec<(String, String)>,
    /// A [`Fault`] name to switch on.
    pub fault: Option<String>,
    /// A [`Variant`] name to switch on (another reading of an open decision).
    pub variant: Option<String>,
}

impl ServeConfig {
    /// 127.0.0.1 on a free port, in-memory database, default tokens, no webhooks, no fault.
    pub fn new(api: Api) -> Self {
        ServeConfig {
            api,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: None,
            tokens: Vec::new(),
            webhooks: Vec::new(),
            fault: None,
            variant: None,
        }
    }
}

/// A server started by [`start`].
///
/// Dropping it also stops the server (without waiting); call
/// [`RunningServer::shutdown`] to wait until it has stopped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), ServeError>>,
}

impl RunningServer {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, then returns.
    ///
    /// Requests still running after [`SHUTDOWN_GRACE`] are dropped, so a
    /// stalled client cannot keep the server alive.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let RunningServer {
            shutdown,
            mut handle,
            ..
        } = self;
        // An error only means the server already stopped by itself.
        let _ = shutdown.send(());
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut handle).await {
            Ok(joined) => joined?,
            Err(_) => {
                handle.abort();
                Ok(())
            }
        }
    }
}

/// Everything a handler needs; shared by all requests.
pub(crate) struct AppState {
    pub api: Api,
    pub store: Store,
    tokens: HashMap<String, String>,
    /// The first configured identity: who an unauthenticated request becomes
    /// under the `missing-auth-accepted` fault.
    pub first_identity: Option<String>,
    pub webhooks: Webhooks,
    fault: Option<FaultId>,
    variant: Option<VariantId>,
}

pub(crate) type Shared = Arc<AppState>;

impl AppState {
    /// Whether `fault` is switched on.
    pub fn fault(&self, fault: FaultId) -> bool {
        self.fault == Some(fault)
    }

    /// Whether `variant` is switched on.
    pub fn variant(&self, variant: VariantId) -> bool {
        self.variant == Some(variant)
    }

    pub fn identify(&self, headers: &HeaderMap) -> Caller {
        auth::identify(&self.tokens, headers)
    }

    /// Whether `path` belongs to mycloud, which decides the error format.
    pub fn is_mycloud_path(&self, path: &str) -> bool {
        match self.api {
            Api::EnableNow => false,
            Api::MyCloud => true,
            Api::All => path == "/v1" || path.starts_with("/v1/"),
        }
    }
}

/// Checks the fault name and that the server serves its API.
fn resolve_fault(api: Api, name: Option<&str>) -> Result<Option<FaultId>, ServeError> {
    let Some(name) = name else {
        return Ok(None);
    };
    let (id, fault) = fault::lookup(name).ok_or_else(|| ServeError::UnknownFault(name.into()))?;
    if !api.serves(fault.api) {
        return Err(ServeError::FaultNotServed {
            fault: name.into(),
            fault_api: fault.api.name(),
            served: api.name(),
        });
    }
    Ok(Some(id))
}

/// Checks the variant name and that the server serves its API.
fn resolve_variant(api: Api, name: Option<&str>) -> Result<Option<VariantId>, ServeError> {
    let Some(name) = name else {
        return Ok(None);
    };
    let (id, variant) =
        variant::lookup(name).ok_or_else(|| ServeError::UnknownVariant(name.into()))?;
    if !api.serves(variant.api) {
        return Err(ServeError::VariantNotServed {
            variant: name.into(),
            variant_api: variant.api.name(),
            served: api.name(),
        });
    }
    Ok(Some(id))
}

/// Binds, opens the database and starts serving; returns once the socket listens.
pub async fn start(config: ServeConfig) -> Result<RunningServer, ServeError> {
    let fault = resolve_fault(config.api, config.fault.as_deref())?;
    let variant = resolve_variant(config.api, config.variant.as_deref())?;
    let tokens: Vec<(String, String)> = if config.tokens.is_empty() {
        DEFAULT_TOKENS
            .iter()
            .map(|(t, i)| ((*t).to_owned(), (*i).to_owned()))
            .collect()
    } else {
        config.tokens
    };
    let first_identity = tokens.first().map(|(_, identity)| identity.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let webhooks = Webhooks::new(&config.webhooks, stop_rx)?;
    let db = config.db;
    let store = tokio::task::spawn_blocking(move || Store::open(db.as_deref())).await??;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.addr,
        source,
    })?;
    let state = Arc::new(AppState {
        api: config.api,
        store,
        tokens: tokens.into_iter().collect(),
        first_identity,
        webhooks,
        fault,
        variant,
    });
    let app = router(state);
    let (shutdown, signal) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                // Either an explicit shutdown or a dropped RunningServer.
                let _ = signal.await;
            })
            .await;
        // Abandon webhook retries still pending.
        let _ = stop_tx.send(true);
        result.map_err(ServeError::Server)
    });
    Ok(RunningServer {
        addr,
        shutdown,
        handle,
    })
}

fn router(state: Shared) -> Router {
    let mut app = Router::new();
    if state.api.serves(Api::EnableNow) {
        app = app.merge(enablenow::routes());
    }
    if state.api.serves(Api::MyCloud) {
        app = app.merge(mycloud::routes());
    }
    app.fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            mycloud::response_headers,
        ))
        .with_state(state)
}

/// Unknown routes: 404 in the format of the API that owns the path.
async fn not_found(State(state): State<Shared>, uri: Uri) -> Response {
    if state.is_mycloud_path(uri.path()) {
        mycloud::route_not_found(&state)
    } else {
        enablenow::route_not_found(&state)
    }
}
