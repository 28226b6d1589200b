//! The embedded default target: without `--base-url`, a suite that names a
//! bundled `server:` runs against that reference server, started in-process
//! on 127.0.0.1:0. For EnableNow a webhook listener is started too, and the
//! server delivers the partner app's `databridge.share.created` events to it.

use std::net::SocketAddr;

use super::Target;
use super::webhook::{self, Listener};
use crate::serve::{self, Api, RunningServer, ServeConfig};
use crate::suite::Suite;
use crate::suite::vars::{ExternalVars, resolve_globals};

/// The variable naming the app whose webhook the EnableNow suite expects.
const ENABLENOW_PARTNER_VARIABLE: &str = "enablenow_partner_client_id";

/// Why a suite has no embedded target.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("{0}: no --base-url given and the suite names no bundled `server:` to run against")]
    NoServer(String),
    #[error("unknown reference server `{0}`")]
    Unknown(String),
    #[error("{file}: {source}")]
    Variables {
        file: String,
        source: crate::suite::template::RenderError,
    },
    #[error("cannot start the webhook listener: {0}")]
    Listener(std::io::Error),
    #[error("cannot start the embedded {name} server: {message}")]
    Start { name: String, message: String },
}

/// Reference servers started for this run, one per bundled API.
#[derive(Default)]
pub struct Embedded {
    servers: Vec<(String, RunningServer)>,
}

impl Embedded {
    /// The target for a suite, starting its reference server on first use.
    pub async fn target_for(
        &mut self,
        suite: &Suite,
        external: &ExternalVars,
        listener: &mut Option<Listener>,
    ) -> Result<Target, EmbeddedError> {
        let Some(name) = &suite.server else {
            return Err(EmbeddedError::NoServer(suite.file.display().to_string()));
        };
        let note = Some(format!("embedded {name} reference server"));
        if let Some((_, s)) = self.servers.iter().find(|(n, _)| n == name) {
            return Ok(Target {
                base_url: s.base_url(),
                note,
            });
        }
        let api = match name.as_str() {
            "enablenow" => Api::EnableNow,
            "mycloud" => Api::MyCloud,
            other => return Err(EmbeddedError::Unknown(other.to_string())),
        };
        let mut config = ServeConfig::new(api);
        if api == Api::EnableNow {
            let globals =
                resolve_globals(suite, external).map_err(|source| EmbeddedError::Variables {
                    file: suite.file.display().to_string(),
                    source,
                })?;
            if let Some(partner) = globals
                .get(ENABLENOW_PARTNER_VARIABLE)
                .and_then(|v| v.as_str())
            {
                if listener.is_none() {
                    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
                    *listener = Some(
                        webhook::listen(any_port)
                            .await
                            .map_err(EmbeddedError::Listener)?,
                    );
                }
                if let Some(l) = listener {
                    config
                        .webhooks
                        .push((partner.to_string(), l.url("/enablenow")));
                }
            }
        }
        let server = serve::start(config)
            .await
            .map_err(|e| EmbeddedError::Start {
                name: name.clone(),
                message: e.to_string(),
            })?;
        let target = Target {
            base_url: server.base_url(),
            note,
        };
        self.servers.push((name.clone(), server));
        Ok(target)
    }

    /// Stops every embedded server.
    pub async fn shutdown(self) {
        for (_, server) in self.servers {
            let _ = server.shutdown().await;
        }
    }
}
