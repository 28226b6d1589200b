//! `apiconform serve`: the reference servers from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Api, ServeConfig, ServeError, faults, start, variants};

/// Flags of `apiconform serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Which API to serve: enablenow (/shares), mycloud (/v1/shares) or all.
    #[arg(value_enum, required_unless_present_any = ["list_faults", "list_variants"])]
    pub api: Option<Api>,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// SQLite database file (WAL mode) keeping shares across restarts; by
    /// default shares live in memory until the server stops.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Accept bearer TOKEN as IDENTITY (EnableNow clientId or mycloud
    /// userId); repeatable; replaces the development tokens.
    #[arg(long = "token", value_name = "TOKEN=IDENTITY", value_parser = parse_pair)]
    pub tokens: Vec<(String, String)>,

    /// Deliver databridge.share.created events for shares sent to CLIENTID
    /// to URL; repeatable.
    #[arg(long = "webhook", value_name = "CLIENTID=URL", value_parser = parse_pair)]
    pub webhooks: Vec<(String, String)>,

    /// Switch on one deliberate deviation (see --list-faults).
    #[arg(long, value_name = "NAME")]
    pub fault: Option<String>,

    /// Print the known faults ("NAME  API  description") and exit.
    #[arg(long)]
    pub list_faults: bool,

    /// Switch on one variant: another reasonable reading of a decision the
    /// documents leave open, which a certificate must still accept (see
    /// --list-variants).
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,

    /// Print the known variants ("NAME  API  DECISION  description") and exit.
    #[arg(long)]
    pub list_variants: bool,
}

/// Splits `KEY=VALUE`; both sides must be non-empty.
fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// The `--list-faults` lines, limited to the faults `api` can serve.
fn fault_lines(api: Option<Api>) -> Vec<String> {
    let shown: Vec<_> = faults()
        .iter()
        .filter(|f| api.is_none_or(|a| a.serves(f.api)))
        .collect();
    let width = shown.iter().map(|f| f.name.len()).max().unwrap_or(0);
    shown
        .iter()
        .map(|f| format!("{:width$}  {:9}  {}", f.name, f.api.name(), f.description))
        .collect()
}

/// The `--list-variants` lines, limited to the variants `api` can serve.
fn variant_lines(api: Option<Api>) -> Vec<String> {
    let shown: Vec<_> = variants()
        .iter()
        .filter(|v| api.is_none_or(|a| a.serves(v.api)))
        .collect();
    let width = shown.iter().map(|v| v.name.len()).max().unwrap_or(0);
    shown
        .iter()
        .map(|v| {
            format!(
                "{:width$}  {:9}  {:4}  {}",
                v.name,
                v.api.name(),
                v.decision,
                v.description
            )
        })
        .collect()
}

/// Prints lines to stdout; a closed stdout (e.g. `| head`) is not worth an error.
fn print_lines(lines: Vec<String>) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
}

/// Runs `apiconform serve`: prints `listening on http://ADDR`, then serves
/// until Ctrl-C (or SIGTERM) and shuts down cleanly.
pub async fn run_cli(args: ServeArgs) -> Result<(), ServeError> {
    if args.list_faults || args.list_variants {
        if args.list_faults {
            print_lines(fault_lines(args.api));
        }
        if args.list_variants {
            print_lines(variant_lines(args.api));
        }
        return Ok(());
    }
    let api = args.api.ok_or(ServeError::MissingApi)?;
    let config = ServeConfig {
        api,
        addr: args.addr,
        db: args.db,
        tokens: args.tokens,
        webhooks: args.webhooks,
        fault: args.fault,
        variant: args.variant,
    };
    let server = start(config).await?;
    {
        let mut out = std::io::stdout().lock();
        // Flushed at once: scripts and tests wait for this line.
        let _ = writeln!(out, "listening on {}", server.base_url());
        let _ = out.flush();
    }
    let signal = wait_for_signal().await;
    let stopped = server.shutdown().await;
    signal.and(stopped)
}

#[cfg(unix)]
async fn wait_for_signal() -> Result<(), ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(ServeError::Signal),
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Result<(), ServeError> {
    tokio::signal::ctrl_c().await.map_err(ServeError::Signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_on_first_equals() {
        assert_eq!(
            parse_pair("tok=a=b"),
            Ok(("tok".to_owned(), "a=b".to_owned()))
        );
        assert!(parse_pair("novalue").is_err());
        assert!(parse_pair("=x").is_err());
    }

    #[test]
    fn fault_lines_filter_by_api() {
        let en = fault_lines(Some(Api::EnableNow));
        assert!(en.iter().all(|l| l.contains("  enablenow  ")));
        assert_eq!(fault_lines(None).len(), faults().len());
    }

    #[test]
    fn variant_lines_filter_by_api_and_name_the_decision() {
        let mc = variant_lines(Some(Api::MyCloud));
        assert!(!mc.is_empty());
        assert!(mc.iter().all(|l| l.contains("  mycloud  ")));
        assert!(mc.iter().any(|l| l.contains("  M8  ")));
        assert_eq!(variant_lines(None).len(), variants().len());
    }
}
