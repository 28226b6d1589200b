//! TLS material read from PEM files: extra trusted roots (`--cacert`) and
//! client certificates for mutual TLS (`--cert`/`--key`, or `tls:` on a
//! suite credential). Read and checked once, before anything is sent, so
//! a bad file is an input error naming it, never a failure per request.
//! Plain data for `run` (which builds the clients), `suite` (per-credential
//! certificates) and `cli` (the flags).

use std::path::{Path, PathBuf};

/// Why a TLS file cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no PEM certificate (`-----BEGIN CERTIFICATE-----`) in the file", file.display())]
    NoCertificate { file: PathBuf },
    #[error("{}: not valid PEM certificates: {message}", file.display())]
    BadCertificate { file: PathBuf, message: String },
    #[error("{}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in the file", file.display())]
    NoKey { file: PathBuf },
    #[error("client certificate {} with key {}: {message}", cert.display(), key.display())]
    BadIdentity {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
}

/// A client certificate and its private key, loaded and checked. Its
/// `Debug` shows the paths only: the key is a secret.
#[derive(Clone)]
pub struct ClientCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub identity: reqwest::Identity,
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCert")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ClientCert {
    /// What tells two identities apart when pooling clients: the files,
    /// as canonical paths where they resolve.
    pub fn pool_key(&self) -> (PathBuf, PathBuf) {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        (canon(&self.cert), canon(&self.key))
    }
}

fn read(file: &Path) -> Result<Vec<u8>, TlsError> {
    crate::input::read(file).map_err(|source| TlsError::Read {
        file: file.to_path_buf(),
        source,
    })
}

/// The PEM section labels of a file, in order (`CERTIFICATE`, `PRIVATE
/// KEY`...), so a file with no certificate is told apart from a bad one.
fn pem_labels(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
                .map(str::to_string)
        })
        .collect()
}

/// One or more PEM certificates to trust besides the system's roots.
pub fn load_roots(file: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let bytes = read(file)?;
    if !pem_labels(&bytes).iter().any(|l| l == "CERTIFICATE") {
        return Err(TlsError::NoCertificate {
            file: file.to_path_buf(),
        });
    }
    let certs =
        reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| TlsError::BadCertificate {
            file: file.to_path_buf(),
            message: error_text(&e),
        })?;
    // The verifier parses the DER only when a client is built: build one
    // now so a corrupt certificate is reported against its file.
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge(certs.clone())
        .build()
        .map_err(|e| TlsError::BadCertificate {
            file: file.to_path_buf(),
            message: error_text(&e),
        })?;
    Ok(certs)
}

/// A client certificate (PEM, the leaf first, then any intermediates)
/// and its private key (PEM), checked to form a usable identity.
pub fn load_client_cert(cert: &Path, key: &Path) -> Result<ClientCert, TlsError> {
    let cert_bytes = read(cert)?;
    let key_bytes = read(key)?;
    if !pem_labels(&cert_bytes).iter().any(|l| l == "CERTIFICATE") {
        return Err(TlsError::NoCertificate {
            file: cert.to_path_buf(),
        });
    }
    let key_labels = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
    if !pem_labels(&key_bytes)
        .iter()
        .any(|l| key_labels.contains(&l.as_str()))
    {
        return Err(TlsError::NoKey {
            file: key.to_path_buf(),
        });
    }
    let bad = |message: String| TlsError::BadIdentity {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        message,
    };
    // Only the certificate and key sections: anything else in the files
    // (e.g. `EC PARAMETERS`) would make the PEM reader give up.
    let mut pem = pem_sections(&cert_bytes, &["CERTIFICATE"]);
    pem.push('\n');
    pem.push_str(&pem_sections(&key_bytes, &key_labels));
    let identity = reqwest::Identity::from_pem(pem.as_bytes()).map_err(|e| bad(error_text(&e)))?;
    // A key that is not the certificate's, or of an unsupported kind,
    // shows when the TLS configuration is built.
    reqwest::Client::builder()
        .no_proxy()
        .identity(identity.clone())
        .build()
        .map_err(|e| bad(error_text(&e)))?;
    Ok(ClientCert {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        identity,
    })
}

/// The PEM sections of `bytes` whose label is one of `labels`, as text.
fn pem_sections(bytes: &[u8], labels: &[&str]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut inside: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if inside.is_none()
            && let Some(label) = line
                .strip_prefix("-----BEGIN ")
                .and_then(|r| r.strip_suffix("-----"))
            && labels.contains(&label)
        {
            inside = Some(format!("-----END {label}-----"));
        }
        if let Some(end) = &inside {
            out.push_str(line);
            out.push('\n');
            if line == end {
                inside = None;
            }
        }
    }
    out
}

/// A reqwest error with its causes, on one line.
fn error_text(e: &reqwest::Error) -> String {
    crate::diag::with_causes(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("apiconform-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn missing_and_empty_files_name_the_file() {
        let e = load_roots(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let p = temp("empty.pem", "not a certificate\n");
        let e = load_roots(&p).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
        assert!(e.to_string().contains("empty.pem"), "{e}");
    }

    #[test]
    fn a_corrupt_certificate_is_an_error_not_a_panic() {
        let p = temp(
            "corrupt.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let e = load_roots(&p).unwrap_err();
        assert!(e.to_string().contains("corrupt.pem"), "{e}");
    }

    #[test]
    fn a_key_file_without_a_key_is_named() {
        let cert = temp(
            "c.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let key = temp("k.pem", "nothing here\n");
        let e = load_client_cert(&cert, &key).unwrap_err();
        assert!(matches!(e, TlsError::NoKey { .. }), "{e}");
    }

    #[test]
    fn sections_are_picked_by_label() {
        let text = "-----BEGIN EC PARAMETERS-----\nx\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\ny\n-----END EC PRIVATE KEY-----\n";
        let got = pem_sections(text.as_bytes(), &["EC PRIVATE KEY"]);
        assert_eq!(
            got,
            "-----BEGIN EC PRIVATE KEY-----\ny\n-----END EC PRIVATE KEY-----\n"
        );
    }
}
