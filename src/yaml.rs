//! YAML (and JSON, a subset) parsing with the options every input file gets:
//! YAML 1.2 booleans only, leading-zero numbers kept as strings, and errors
//! that carry a line and column.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Pos};

/// Default limit on the YAML nodes (keys, values, list items) of one case
/// or variables file: far beyond any hand-written suite, small enough that a
/// generated or hostile file fails fast. `APICONFORM_MAX_YAML_NODES` raises it.
pub const DEFAULT_MAX_YAML_NODES: usize = 250_000;

/// How deep values may nest in a case file (the parser's limit).
pub const MAX_YAML_DEPTH: usize = 64;

/// The node limit in force (`APICONFORM_MAX_YAML_NODES` or the default).
pub fn max_yaml_nodes() -> usize {
    std::env::var("APICONFORM_MAX_YAML_NODES")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_YAML_NODES)
}

/// Options for every YAML document we read (see crates.md §6: without them
/// `NO` becomes `false` and `0755` a number).
pub fn options() -> serde_saphyr::Options {
    let nodes = max_yaml_nodes();
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = nodes;
    budget.max_events = nodes.saturating_mul(4).max(budget.max_events);
    budget.max_depth = MAX_YAML_DEPTH;
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: Some(budget),
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

fn diagnostic(file: &Path, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let mut position = err.location().map(|l| pos(&l)).unwrap_or(Pos::UNKNOWN);
    let rendered = err.to_string();
    // serde-saphyr renders "line L column C: message" plus a snippet of its
    // own (cropped so that its caret and our column disagree on long
    // lines): keep the message, draw the snippet ourselves.
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let raw = strip_position_prefix(first);
    let raw = raw.split(" at line ").next().unwrap_or(raw);
    if raw.contains("found a tab") {
        // The scanner reports where the token started; the tab is later.
        if let Some(tab) = find_tab(text, position) {
            position = tab;
        }
    }
    let message = friendly(raw, text, position);
    let d = Diagnostic::new(file, position, message);
    match crate::diag::snippet(text, position) {
        Some(s) => d.with_detail(s),
        None => d,
    }
}

/// The first tab at or after a position (1-based line and column).
fn find_tab(text: &str, from: Pos) -> Option<Pos> {
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(from.line.saturating_sub(1) as usize)
    {
        let line_no = u32::try_from(i + 1).ok()?;
        let start = if line_no == from.line {
            from.column.saturating_sub(1) as usize
        } else {
            0
        };
        if let Some(col) = line.chars().skip(start).position(|c| c == '\t') {
            let column = u32::try_from(start + col + 1).ok()?;
            return Some(Pos {
                line: line_no,
                column,
            });
        }
    }
    None
}

/// The scalar written at a position (for messages that need the value).
fn token_at(text: &str, at: Pos) -> Option<String> {
    let line = text.lines().nth(at.line.checked_sub(1)? as usize)?;
    let rest: String = line
        .chars()
        .skip(at.column.saturating_sub(1) as usize)
        .collect();
    let token: String = rest
        .chars()
        .take_while(|c| !matches!(c, ',' | '}' | ']' | '#') && *c != '\n')
        .collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// Parser wording turned into a sentence about the user's file.
fn friendly(raw: &str, text: &str, at: Pos) -> String {
    if raw.starts_with("budget breached: Nodes") {
        return format!(
            "the file has more than {} YAML nodes (keys, values and list items), the limit for one file; split it, or raise the limit with APICONFORM_MAX_YAML_NODES",
            max_yaml_nodes()
        );
    }
    if raw.starts_with("budget breached: Depth") {
        return format!(
            "values nest more than {MAX_YAML_DEPTH} levels deep here, the limit for one file"
        );
    }
    if raw.starts_with("budget breached") {
        return format!("the file is too large or too repetitive to read ({raw})");
    }
    if raw.contains("recursive references require weak recursion types") {
        return "this alias (`*name`) is inside the node its anchor (`&name`) marks: the value would contain itself".into();
    }
    if let Some(rest) = raw.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("`{key}` appears twice in this mapping (this is the second one); keep one");
    }
    if let Some(kind) = raw.strip_prefix("invalid ") {
        let whole = matches!(kind, "u8" | "u16" | "u32" | "u64" | "usize");
        let signed = matches!(kind, "i8" | "i16" | "i32" | "i64" | "isize");
        if whole || signed {
            let found = token_at(text, at)
                .map(|t| format!(", found `{t}`"))
                .unwrap_or_default();
            let what = if whole {
                "a whole number of 0 or more"
            } else {
                "a whole number"
            };
            return format!("expected {what} here{found}");
        }
    }
    if raw.contains("found a tab") {
        return "a tab character: YAML indentation and separation must use spaces".into();
    }
    if raw.contains("did not find expected '-' indicator") {
        return "this line is at the indentation of a list's items but does not start with `- `: indent it further to belong to the item above, or start a new item with `- `".into();
    }
    if raw.contains("did not find expected key") || raw.contains("expected mapping start") {
        return "this line's indentation does not fit the mapping above: a key must line up with its sibling keys, and a value nested under a key must be indented further than that key".into();
    }
    raw.to_string()
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
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| diagnostic(file, text, &e))
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
        .map_err(|e| diagnostic(file, text, &e))
}

/// Reads a file, turning I/O errors into diagnostics.
pub fn read(file: &Path) -> Result<String, Diagnostic> {
    crate::input::read_to_string(file)
        .map_err(|e| Diagnostic::new(file, Pos::UNKNOWN, format!("cannot read file: {e}")))
}
