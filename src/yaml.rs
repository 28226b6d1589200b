//! YAML (and JSON, a subset) parsing with the options every input file gets:
//! YAML 1.2 booleans only, leading-zero numbers kept as strings, and errors
//! that carry a line and column.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Pos};

/// Options for every YAML document we read (see crates.md §6: without them
/// `NO` becomes `false` and `0755` a number).
pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
    }
}

/// Options for large machine-written documents (e.g. a 13 MB OpenAPI file):
/// no node budget.
fn options_unbudgeted() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: None,
    }
}

/// Converts a serde-saphyr location into ours.
pub fn pos(loc: &serde_saphyr::Location) -> Pos {
    Pos {
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
        column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
    }
}

fn diagnostic(file: &Path, err: &serde_saphyr::Error) -> Diagnostic {
    let position = err.location().map(|l| pos(&l)).unwrap_or(Pos::UNKNOWN);
    let rendered = err.to_string();
    // serde-saphyr renders "line L column C: message" plus a snippet; keep the
    // first line as the message and the rest as detail.
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid YAML").trim().to_string();
    let message = strip_position_prefix(&first).to_string();
    let shown = file.display().to_string();
    let rest: Vec<String> = lines.map(|l| l.replace("<input>", &shown)).collect();
    let d = Diagnostic::new(file, position, message);
    if rest.iter().any(|l| !l.trim().is_empty()) {
        d.with_detail(rest.join("\n"))
    } else {
        d
    }
}

fn strip_position_prefix(s: &str) -> &str {
    // "line 6 column 13: unclosed quote" -> "unclosed quote"
    if let Some(rest) = s.strip_prefix("error: ") {
        return strip_position_prefix(rest);
    }
    if s.starts_with("line ")
        && let Some(idx) = s.find(": ")
    {
        return &s[idx + 2..];
    }
    s
}

/// Parses a typed document from YAML text.
pub fn from_str<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| diagnostic(file, &e))
}

/// Whether a document is read as JSON: a `.json` name or a leading `{`.
pub fn looks_json(file: &Path, text: &str) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

/// Parses any YAML or JSON document into a JSON value. JSON goes through
/// serde_json (faster and exact for large specs); YAML through serde-saphyr.
pub fn value_from_str(file: &Path, text: &str) -> Result<serde_json::Value, Diagnostic> {
    if looks_json(file, text) {
        return serde_json::from_str(text).map_err(|e| {
            Diagnostic::new(
                file,
                Pos {
                    line: u32::try_from(e.line()).unwrap_or(0),
                    column: u32::try_from(e.column()).unwrap_or(0),
                },
                format!("invalid JSON: {e}"),
            )
        });
    }
    serde_saphyr::from_str_with_options(text, options_unbudgeted())
        .map_err(|e| diagnostic(file, &e))
}

/// Reads a file, turning I/O errors into diagnostics.
pub fn read(file: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(file)
        .map_err(|e| Diagnostic::new(file, Pos::UNKNOWN, format!("cannot read file: {e}")))
}
