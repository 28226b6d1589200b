//! Where a spec's bytes come from: a file or an `http(s)://` URL, each read
//! with a size limit ([`MAX_INPUT_BYTES`] unless told otherwise), URLs with a
//! timeout. A URL spec is named by its URL wherever a file name would go (a
//! `PathBuf` holding the URL text), so diagnostics name it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default limit for one input file or download: 256 MiB. Large enough for
/// the largest public descriptions (Microsoft Graph's is under 50 MB), small
/// enough that a wrong path (a disk image, `/dev/zero`) fails fast.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// How long one spec download may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "larger than the input limit of {} (raise it with --max-input-size or APICONFORM_MAX_INPUT_SIZE)",
        crate::input::human(*.0)
    )]
    TooLarge(u64),
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
}

/// Whether a spec reference is a URL rather than a file path.
pub fn is_url(reference: &str) -> bool {
    let lower = reference.get(..8).unwrap_or(reference).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The URL a path-like spec name holds, if it holds one.
pub fn as_url(path: &Path) -> Option<url::Url> {
    let text = path.to_str()?;
    if !is_url(text) {
        return None;
    }
    url::Url::parse(text).ok()
}

/// Reads a whole file, refusing one larger than `limit` bytes (checked on
/// the bytes read, so a growing file or a device cannot get past it).
pub fn read_bounded_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    // Sized from the metadata: growing a 50 MB buffer by doubling copies it
    // and faults its pages in several times.
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).saturating_add(1));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Downloads a URL (GET, redirects followed), refusing a body larger than
/// `limit` bytes and giving up after `timeout`. Runs its own small runtime
/// on a separate thread, so it works whether or not the caller is async.
pub fn fetch_bounded(url: &url::Url, limit: u64, timeout: Duration) -> Result<Vec<u8>, ReadError> {
    let url = url.clone();
    let fail = {
        let url = url.to_string();
        move |reason: String| ReadError::Fetch {
            url: url.clone(),
            reason,
        }
    };
    let worker_fail = fail.clone();
    let handle = std::thread::spawn(move || -> Result<Vec<u8>, ReadError> {
        let fail = worker_fail;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        runtime.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!("apiconform/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| fail(e.to_string()))?;
            let mut response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| fail(describe(&e, timeout)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(fail(format!("the server answered {status}")));
            }
            if response.content_length().is_some_and(|n| n > limit) {
                return Err(ReadError::TooLarge(limit));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| fail(describe(&e, timeout)))?
            {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > limit {
                    return Err(ReadError::TooLarge(limit));
                }
            }
            Ok(bytes)
        })
    });
    handle
        .join()
        .unwrap_or_else(|_| Err(fail("the download thread stopped".into())))
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        if timeout.subsec_millis() == 0 {
            format!("no complete answer within {} s", timeout.as_secs())
        } else {
            format!("no complete answer within {} ms", timeout.as_millis())
        }
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
}

/// Reads a spec document named by a path or a URL.
pub fn read_spec_bytes(name: &Path) -> Result<Vec<u8>, ReadError> {
    match as_url(name) {
        Some(url) => fetch_bounded(&url, crate::input::limit(), FETCH_TIMEOUT),
        None => read_bounded_file(name, crate::input::limit()),
    }
}

/// Where a `$ref` to another document (`file` part, percent-encoded) from
/// the document named `base` points: a URL for URL documents, a path
/// (not yet canonical) for files.
pub fn join_reference(base: &Path, file: &str) -> PathBuf {
    if let Some(base_url) = as_url(base) {
        return match base_url.join(file) {
            Ok(u) => PathBuf::from(u.to_string()),
            Err(_) => PathBuf::from(file),
        };
    }
    if is_url(file) {
        return PathBuf::from(file);
    }
    let decoded = percent_encoding::percent_decode_str(file)
        .decode_utf8_lossy()
        .to_string();
    base.parent().unwrap_or(Path::new("")).join(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_reads_stop_at_the_limit() {
        let dir = std::env::temp_dir().join(format!("apiconform-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("big.json");
        std::fs::write(&file, vec![b' '; 2048]).expect("write");
        assert_eq!(read_bounded_file(&file, 4096).expect("fits").len(), 2048);
        let err = read_bounded_file(&file, 1024).expect_err("too large");
        assert!(matches!(err, ReadError::TooLarge(1024)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn references_resolve_against_files_and_urls() {
        assert_eq!(
            join_reference(Path::new("/a/b/spec.yaml"), "common%20parts.yaml"),
            PathBuf::from("/a/b/common parts.yaml")
        );
        assert_eq!(
            join_reference(
                Path::new("http://127.0.0.1:9/v1/spec.yaml"),
                "../common.yaml"
            ),
            PathBuf::from("http://127.0.0.1:9/common.yaml")
        );
        assert!(as_url(Path::new("HTTPS://example.test/x")).is_some());
        assert!(as_url(Path::new("specs/x.yaml")).is_none());
    }
}
