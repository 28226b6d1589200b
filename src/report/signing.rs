//! Tamper evidence for certificates. A certificate carries a SHA-256
//! digest of its canonical content (every field but `digest` and
//! `signature`, keys sorted, compact JSON) and, when signed, an Ed25519
//! signature over the same bytes. The digest catches accidental and naive
//! edits (anyone can recompute it); only the signature, checked against the
//! vendor's public key, shows who issued the certificate.
//!
//! Keys are PEM: the private key PKCS#8 (`BEGIN PRIVATE KEY`), the public
//! key SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), as `openssl pkey` reads
//! and writes them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `digest` of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Always `sha256`.
    pub algorithm: String,
    /// Lowercase hex SHA-256 of the canonical content.
    pub value: String,
}

/// The `signature` of a signed certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    /// Always `ed25519`.
    pub algorithm: String,
    /// SHA-256 (hex, first 16 digits) of the public key's DER: names the
    /// key without being it.
    pub key_id: String,
    /// Base64 of the 64-byte signature over the canonical content.
    pub value: String,
}

/// Why signing or checking failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not an Ed25519 {what} in PEM ({reason})")]
    BadKey {
        path: String,
        what: &'static str,
        reason: String,
    },
    #[error("{0} already exists; not overwriting a key")]
    Exists(String),
    #[error("no system randomness: {0}")]
    Random(String),
    #[error("cannot encode the key: {0}")]
    Encode(String),
}

/// Names of the files `certify keygen` writes.
pub const PRIVATE_KEY_FILE: &str = "apiconform-signing-key.pem";
pub const PUBLIC_KEY_FILE: &str = "apiconform-signing-key.pub.pem";

/// The bytes that are digested and signed: the certificate without
/// `digest` and `signature`, object keys sorted, no whitespace.
pub fn canonical_bytes(certificate: &Value) -> Vec<u8> {
    let mut v = certificate.clone();
    if let Value::Object(map) = &mut v {
        map.remove("digest");
        map.remove("signature");
    }
    let mut out = Vec::new();
    write_canonical(&v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_string(k).unwrap_or_default().as_bytes());
                out.push(b':');
                if let Some(value) = map.get(k) {
                    write_canonical(value, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_string(scalar).unwrap_or_default().as_bytes()),
    }
}

/// The digest of a certificate's canonical content.
pub fn digest(certificate: &Value) -> Digest {
    Digest {
        algorithm: "sha256".into(),
        value: crate::spec::sha256_hex(&canonical_bytes(certificate)),
    }
}

/// Signs a certificate's canonical content.
pub fn sign(certificate: &Value, key: &SigningKey) -> SignatureRecord {
    let signature = key.sign(&canonical_bytes(certificate));
    SignatureRecord {
        algorithm: "ed25519".into(),
        key_id: key_id(&key.verifying_key()),
        value: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    }
}

/// Whether `record` is a valid signature of the certificate by `key`.
pub fn verify(certificate: &Value, record: &SignatureRecord, key: &VerifyingKey) -> bool {
    if record.algorithm != "ed25519" {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&record.value) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify(&canonical_bytes(certificate), &signature)
        .is_ok()
}

/// A short, stable name for a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_else(|_| key.as_bytes().to_vec());
    crate::spec::sha256_hex(&der)[..16].to_string()
}

fn read_text(path: &Path) -> Result<String, SigningError> {
    crate::input::read_to_string(path).map_err(|source| SigningError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a PKCS#8 PEM private key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, SigningError> {
    SigningKey::from_pkcs8_pem(&read_text(path)?).map_err(|e| SigningError::BadKey {
        path: path.display().to_string(),
        what: "private key (PKCS#8)",
        reason: e.to_string(),
    })
}

/// Reads a SubjectPublicKeyInfo PEM public key.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, SigningError> {
    VerifyingKey::from_public_key_pem(&read_text(path)?).map_err(|e| SigningError::BadKey {
        path: path.display().to_string(),
        what: "public key",
        reason: e.to_string(),
    })
}

/// Generates a key pair into `dir`; returns (private, public) paths. The
/// private key file is created new (never overwritten), mode 0600 on Unix.
pub fn keygen(dir: &Path) -> Result<(PathBuf, PathBuf), SigningError> {
    let private = dir.join(PRIVATE_KEY_FILE);
    let public = dir.join(PUBLIC_KEY_FILE);
    for p in [&private, &public] {
        if p.exists() {
            return Err(SigningError::Exists(p.display().to_string()));
        }
    }
    let write_err = |p: &Path| {
        let path = p.display().to_string();
        move |source| SigningError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| SigningError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| SigningError::Encode(e.to_string()))?;
    let pub_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| SigningError::Encode(e.to_string()))?;
    write_new(&private, pem.as_bytes(), true).map_err(write_err(&private))?;
    write_new(&public, pub_pem.as_bytes(), false).map_err(write_err(&public))?;
    Ok((private, public))
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_content_ignores_order_and_the_seals() {
        let a = json!({"b": 1, "a": [true, {"y": 2.5, "x": "é"}], "digest": {"value": "x"}});
        let b = json!({"a": [true, {"x": "é", "y": 2.5}], "b": 1, "signature": {}});
        assert_eq!(canonical_bytes(&a), canonical_bytes(&b));
        assert_eq!(
            String::from_utf8(canonical_bytes(&a)).unwrap(),
            r#"{"a":[true,{"x":"é","y":2.5}],"b":1}"#
        );
        assert_ne!(digest(&a), digest(&json!({"b": 2})));
    }

    #[test]
    fn signatures_fail_on_edits_and_other_keys() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let cert = json!({"verdict": "not_conformant", "n": 3});
        let sig = sign(&cert, &key);
        assert!(verify(&cert, &sig, &key.verifying_key()));
        assert!(!verify(&cert, &sig, &other.verifying_key()));
        let edited = json!({"verdict": "conformant", "n": 3});
        assert!(!verify(&edited, &sig, &key.verifying_key()));
        let mut bad = sig.clone();
        bad.value = "not base64!".into();
        assert!(!verify(&cert, &bad, &key.verifying_key()));
    }

    #[test]
    fn keys_round_trip_through_pem_files() {
        let dir = std::env::temp_dir().join(format!("apiconform-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (private, public) = keygen(&dir).unwrap();
        let sk = read_signing_key(&private).unwrap();
        let vk = read_verifying_key(&public).unwrap();
        assert_eq!(sk.verifying_key(), vk);
        assert!(
            std::fs::read_to_string(&private)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(matches!(keygen(&dir), Err(SigningError::Exists(_))));
        assert!(read_signing_key(&public).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "private key readable by others");
        }
    }
}
