//! Snapshot assertions: the redacted response body compared with a stored
//! file in insta's `.snap` format (`snapshots/<suite>/<name>.snap`), so
//! `cargo insta review` / `accept` work on them.
//!
//! Without `--update-snapshots` nothing is written: a missing or different
//! snapshot fails the step. With it, a pending `<name>.snap.new` is written
//! for review (an accepted `.snap` is never overwritten) unless
//! `--accept-snapshots` is also given. Under `CI=true` nothing is ever
//! written and a missing snapshot is a failure.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::result::CheckResult;
use crate::suite::template::Scope;
use crate::suite::vars::Redactor;
use crate::suite::{SnapshotSpec, Step, Suite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// Compare only.
    No,
    /// Write `.snap.new` files for missing or changed snapshots.
    Pending,
    /// Write `.snap` files directly (explicit `--accept-snapshots`).
    Accept,
}

#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    /// Root folder from `--snapshot-dir`; `None` finds it from each suite
    /// (see [`suite_snapshot_dir`]).
    pub dir: Option<PathBuf>,
    pub mode: UpdateMode,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            dir: None,
            mode: UpdateMode::No,
        }
    }
}

impl SnapshotConfig {
    /// Applies the CI rule: under `CI=true` nothing is written.
    pub fn new(dir: Option<PathBuf>, update: bool, accept: bool) -> SnapshotConfig {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        let mode = match (ci, update || accept, accept) {
            (true, _, _) | (false, false, _) => UpdateMode::No,
            (false, true, false) => UpdateMode::Pending,
            (false, true, true) => UpdateMode::Accept,
        };
        SnapshotConfig { dir, mode }
    }
}

/// `<snapshot folder>/<suite>/<name>.snap`.
pub fn snapshot_path(config: &SnapshotConfig, suite: &Suite, name: &str) -> PathBuf {
    let root = match &config.dir {
        Some(dir) => dir.clone(),
        None => suite_snapshot_dir(&suite.file),
    };
    root.join(slug(&suite.name))
        .join(format!("{}.snap", slug(name)))
}

/// The snapshot folder of a suite file, found from the suite and never from
/// the current directory: the nearest existing `snapshots/` folder in the
/// suite's folder or a folder above it, stopping at the project root (a
/// folder holding `.git` or `apiconform.toml`); when there is none, a new
/// `snapshots/` beside the suite file.
pub fn suite_snapshot_dir(suite_file: &Path) -> PathBuf {
    let start = suite_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for dir in start.ancestors() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let candidate = dir.join("snapshots");
        if candidate.is_dir() {
            return candidate;
        }
        if dir.join(".git").exists() || dir.join("apiconform.toml").is_file() {
            break;
        }
    }
    start.join("snapshots")
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Replaces redacted paths with placeholders. A placeholder that is a lone
/// variable (`{{ share_id }}`) replaces the value only when it equals that
/// variable, and shows as `[share_id]`, so the snapshot still proves the
/// response echoed the right id.
pub fn redact(spec: &SnapshotSpec, body: &Value, scope: &dyn Scope, redactor: &Redactor) -> Value {
    let mut out = body.clone();
    for (_, path, placeholder) in &spec.redact {
        let pointers: Vec<String> = path
            .query_located(body)
            .locations()
            .map(|loc| loc.to_json_pointer())
            .collect();
        let vars: Vec<&str> = placeholder.variables().collect();
        for pointer in pointers {
            let Some(slot) = out.pointer_mut(&pointer) else {
                continue;
            };
            let replacement = match vars.as_slice() {
                [var] if placeholder.render_value(scope).is_ok_and(|v| v == *slot) => {
                    Value::String(format!("[{var}]"))
                }
                [_] => continue, // differs from the capture: keep it, the diff shows it
                _ => Value::String(placeholder.render_string(scope).unwrap_or_default()),
            };
            *slot = replacement;
        }
    }
    redactor.redact_value(&mut out);
    out
}

/// Pretty JSON with object keys sorted, for stable snapshots.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&sorted(value)).unwrap_or_default()
}

/// Reads an accepted snapshot's contents through insta (so the format is
/// exactly insta's).
pub fn read(path: &Path) -> Option<String> {
    let snap = insta::Snapshot::from_file(path).ok()?;
    snap.contents().as_text().map(|t| t.to_string())
}

/// Writes a snapshot file in insta's format (insta has no public writer).
pub fn write(
    path: &Path,
    source: &str,
    line: u32,
    expression: &str,
    contents: &str,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // The header as insta writes it: plain scalars unquoted, and the
    // assertion line only in pending files (insta drops it on accept).
    let scalar = |v: &str| {
        let plain = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./- ".contains(c))
            && !v.starts_with([' ', '-'])
            && !v.ends_with(' ');
        if plain {
            v.to_string()
        } else {
            serde_json::Value::String(v.to_string()).to_string()
        }
    };
    let pending = path.extension().is_some_and(|e| e == "new");
    let line = if pending {
        format!("assertion_line: {line}\n")
    } else {
        String::new()
    };
    let header = format!(
        "---\nsource: {}\n{line}expression: {}\n---\n",
        scalar(source),
        scalar(expression)
    );
    std::fs::write(path, format!("{header}{contents}\n"))
}

/// Compares (and maybe writes) one snapshot.
pub fn check(
    config: &SnapshotConfig,
    suite: &Suite,
    step: &Step,
    spec: &SnapshotSpec,
    body: Option<&Value>,
    scope: &dyn Scope,
    redactor: &Redactor,
) -> CheckResult {
    let name = format!("snapshot {}", spec.name);
    let loc: Option<std::sync::Arc<str>> =
        Some(crate::diag::location(&suite.file, spec.pos).into());
    let Some(body) = body else {
        return CheckResult::failed(name, "the response body is not JSON; nothing to snapshot")
            .at(loc);
    };
    let actual = canonical_json(&redact(spec, body, scope, redactor));
    let path = snapshot_path(config, suite, &spec.name);
    let expected = read(&path);
    if expected.as_deref().map(str::trim_end) == Some(actual.trim_end()) {
        // A stale pending file would confuse `cargo insta review`.
        let _ = std::fs::remove_file(path.with_extension("snap.new"));
        return CheckResult::passed(name).at(loc);
    }
    let source = suite.file.display().to_string();
    let write_to = |p: &Path| write(p, &source, spec.pos.line, &step.name, &actual);
    let (outcome_pass, note) = match config.mode {
        UpdateMode::No => (
            false,
            "run with --update-snapshots to write it for review".to_string(),
        ),
        UpdateMode::Pending => {
            let pending = path.with_extension("snap.new");
            match write_to(&pending) {
                Ok(()) => (
                    false,
                    format!(
                        "wrote {} (review with `cargo insta review`)",
                        pending.display()
                    ),
                ),
                Err(e) => (false, format!("cannot write {}: {e}", pending.display())),
            }
        }
        UpdateMode::Accept => match write_to(&path) {
            Ok(()) => {
                let _ = std::fs::remove_file(path.with_extension("snap.new"));
                (true, format!("accepted into {}", path.display()))
            }
            Err(e) => (false, format!("cannot write {}: {e}", path.display())),
        },
    };
    if outcome_pass {
        let mut c = CheckResult::passed(name).at(loc);
        c.message = Some(note.into());
        return c;
    }
    let message = match expected {
        None => format!("no snapshot at {}; {note}", path.display()),
        Some(old) => format!(
            "differs from {}; {note}\n{}",
            path.display(),
            diff(&old, &actual)
        ),
    };
    CheckResult::failed(name, message).at(loc)
}

/// A unified line diff, cut to a readable length.
pub fn diff(old: &str, new: &str) -> String {
    let (old, new) = (
        format!("{}\n", old.trim_end()),
        format!("{}\n", new.trim_end()),
    );
    let text = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "response")
        .to_string();
    crate::check::truncate_text(&text, 60, 6000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_snapshots_read_back_through_insta() {
        let dir = std::env::temp_dir().join(format!("apiconform-snap-{}", std::process::id()));
        let path = dir.join("s").join("created.snap");
        let contents = canonical_json(&serde_json::json!({"b": 1, "a": {"d": [1, 2], "c": null}}));
        write(&path, "cases/x.yaml", 12, "create", &contents).expect("write");
        assert_eq!(
            read(&path).as_deref().map(str::trim_end),
            Some(contents.as_str())
        );
        assert!(
            contents.find("\"a\"") < contents.find("\"b\""),
            "keys sorted: {contents}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn diff_shows_changed_lines() {
        let d = diff("{\n  \"a\": 1\n}", "{\n  \"a\": 2\n}");
        assert!(
            d.contains("-  \"a\": 1") && d.contains("+  \"a\": 2"),
            "{d}"
        );
    }
}
