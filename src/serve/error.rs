//! Errors of the reference servers.

use std::net::SocketAddr;

/// Why the reference server could not start or stop cleanly.
///
/// Request handling never produces these: a failing request is answered in
/// the API's own error format instead.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--fault` named no known fault.
    #[error("unknown fault `{0}` (see `apiconform serve --list-faults`)")]
    UnknownFault(String),
    /// `--variant` named no known variant.
    #[error("unknown variant `{0}` (see `apiconform serve --list-variants`)")]
    UnknownVariant(String),
    /// The variant belongs to the other API, so it would silently do nothing.
    #[error("variant `{variant}` belongs to the {variant_api} API, but the server serves {served}")]
    VariantNotServed {
        variant: String,
        variant_api: &'static str,
        served: &'static str,
    },
    /// The fault belongs to the other API, so it would silently do nothing.
    #[error("fault `{fault}` belongs to the {fault_api} API, but the server serves {served}")]
    FaultNotServed {
        fault: String,
        fault_api: &'static str,
        served: &'static str,
    },
    /// The CLI was called without an API and without `--list-faults`.
    #[error("name the API to serve: enablenow, mycloud or all")]
    MissingApi,
    /// A `--webhook` URL did not parse or is not http(s).
    #[error("invalid webhook URL `{url}` for client `{client_id}`: {reason}")]
    InvalidWebhook {
        client_id: String,
        url: String,
        reason: String,
    },
    /// The HTTP client for webhook delivery could not be built.
    #[error("cannot build the webhook HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Opening or preparing the share database failed.
    #[error("share database: {0}")]
    Store(#[from] crate::serve::store::StoreError),
    /// The server loop ended with an I/O error.
    #[error("server error: {0}")]
    Server(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Waiting for Ctrl-C or SIGTERM failed.
    #[error("cannot wait for the shutdown signal: {0}")]
    Signal(#[source] std::io::Error),
}
