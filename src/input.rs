//! Bounded reads of input files (specs, suites, vars files). A path such as
//! `/dev/zero`, a FIFO fed forever or a runaway generated file must end in a
//! clear error, not in gigabytes of memory; so every input read stops one
//! byte past a process-wide limit.
//!
//! The limit defaults to [`DEFAULT_MAX_INPUT_SIZE`] (far above the largest
//! real-world specs) and is set from `--max-input-size` or
//! `APICONFORM_MAX_INPUT_SIZE` by the CLI via [`set_limit`].

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// 256 MiB.
pub const DEFAULT_MAX_INPUT_SIZE: u64 = 256 * 1024 * 1024;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_MAX_INPUT_SIZE);

/// Sets the limit for every later read (the CLI does this once, at start).
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The current limit in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Reads a whole file, failing with [`std::io::ErrorKind::FileTooLarge`]
/// once it passes the limit. A drop-in for `std::fs::read`.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    read_from(std::fs::File::open(path)?, limit())
}

/// Reads a whole UTF-8 file under the limit; a drop-in for
/// `std::fs::read_to_string`.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "file is not UTF-8 text"))
}

/// Reads any reader (a file, a response body) up to `max` bytes.
pub fn read_from(reader: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

fn too_large(max: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "larger than the input limit of {} (raise it with --max-input-size or APICONFORM_MAX_INPUT_SIZE)",
            human(max)
        ),
    )
}

/// `256 MiB`, `10 KiB`, `12 bytes`.
pub fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size: plain bytes or with a unit (`512K`, `10MiB`, `1G`, `2GB`;
/// K/M/G are binary multiples, as in `--max-body-size` style tools).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 1048576, 512K, 256MiB or 1G"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}`: unknown unit (use K, M or G)")),
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if bytes == 0 {
        return Err(format!("`{s}`: a size must be at least 1 byte"));
    }
    Ok(bytes)
}

/// [`parse_size`] for in-memory limits (`--max-body-size`).
pub fn parse_memory_size(s: &str) -> Result<usize, String> {
    let bytes = parse_size(s)?;
    usize::try_from(bytes).map_err(|_| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_one_byte_past_the_limit() {
        assert_eq!(read_from(&b"abcd"[..], 4).unwrap(), b"abcd");
        let e = read_from(&b"abcde"[..], 4).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("4 bytes"), "{e}");
        // An endless reader ends too.
        let e = read_from(std::io::repeat(0), 1024).unwrap_err();
        assert!(e.to_string().contains("1 KiB"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("256MiB"), Ok(DEFAULT_MAX_INPUT_SIZE));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1 G"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert_eq!(parse_memory_size("10MiB"), Ok(10 << 20));
        assert!(
            parse_memory_size("0")
                .unwrap_err()
                .contains("at least 1 byte")
        );
    }
}
