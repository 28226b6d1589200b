//! The TLS and proxy flags `run`, `certify` and `fuzz` share, turned into
//! the run's [`Network`] settings: PEM files read and checked, proxies
//! resolved from the flags and the environment, before anything is sent.

use std::path::PathBuf;

use clap::Args;

use crate::run::http::Network;
use crate::run::proxy::ProxySettings;

/// `--cacert`, `--cert`/`--key`, `--insecure`, `--proxy`, `--no-proxy`.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "TLS and proxies")]
pub struct NetArgs {
    /// Also trust the CA certificates in FILE (PEM, one or more; repeatable),
    /// besides the system's roots.
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Client certificate for mutual TLS (PEM, leaf first; needs --key).
    /// A step whose credential has its own `tls:` presents that one instead.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not verify server certificates. Only when asked: every run's
    /// header line and report then say so.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Send every request through this proxy (http:// or https://; a
    /// `user:password@` in it is a secret, never shown), loopback targets
    /// included, except hosts matched by --no-proxy or NO_PROXY. Without
    /// it, http_proxy/HTTP_PROXY, https_proxy/HTTPS_PROXY and
    /// all_proxy/ALL_PROXY apply, but never to localhost, 127.0.0.0/8 or
    /// ::1. `--proxy ''` turns every proxy off. Embedded reference
    /// servers are never proxied.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Hosts never proxied, replacing NO_PROXY: comma-separated names (with
    /// their subdomains), IP addresses, CIDR networks, or `*` for all.
    #[arg(long, value_name = "LIST")]
    pub no_proxy: Option<String>,
}

/// The run's network settings, or a message for exit 2 naming the flag,
/// variable or file at fault.
pub(crate) fn network(args: &NetArgs) -> Result<Network, String> {
    let mut roots = Vec::new();
    for file in &args.cacert {
        roots.extend(crate::tls::load_roots(file).map_err(|e| format!("--cacert: {e}"))?);
    }
    let client_cert = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(
            crate::tls::load_client_cert(cert, key).map_err(|e| format!("--cert/--key: {e}"))?,
        ),
        (None, None) => None,
        _ => return Err("--cert and --key go together: give both".into()),
    };
    let proxy = ProxySettings::resolve(args.proxy.as_deref(), args.no_proxy.as_deref(), |name| {
        std::env::var(name).ok()
    })
    .map_err(|e| e.to_string())?;
    Ok(Network {
        roots,
        client_cert,
        insecure: args.insecure,
        proxy,
        cacert_files: args.cacert.clone(),
    })
}
