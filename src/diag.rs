//! Diagnostics for bad input: every problem in a spec or case file carries
//! the file and, where known, the line and column, so users can jump to it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based position in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// One input problem, rendered as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    /// Extra lines (a source snippet, a hint) printed under the message.
    pub detail: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            pos,
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `file:line:column` (or just `file` when the position is unknown).
    pub fn location(&self) -> String {
        location(&self.file, self.pos)
    }
}

/// Why a header value cannot be sent (HTTP forbids CR, LF and NUL in
/// one), naming the header; `None` when it can.
pub fn header_value_flaw(name: &str, value: &str) -> Option<String> {
    let what = if value.contains(['\r', '\n']) {
        "a line break (CR or LF)"
    } else if value.contains('\0') {
        "a NUL character"
    } else {
        return None;
    };
    Some(format!(
        "header `{name}`: the value holds {what}, which HTTP does not allow in a header value"
    ))
}

/// The source lines around a position, a caret under its column: up to two
/// lines before it, long lines cropped to a window that keeps the column
/// in view (so the caret always sits under the reported column).
pub fn snippet(text: &str, at: Pos) -> Option<String> {
    /// Characters shown of a long line.
    const WIDTH: usize = 100;
    if !at.is_known() {
        return None;
    }
    let index = at.line as usize - 1;
    let lines: Vec<&str> = text.lines().collect();
    let target = lines.get(index)?;
    let column = (at.column.max(1) as usize) - 1;
    let len = target.chars().count();
    // The window: start so that the column sits 2/3 of the way in.
    let start = if len <= WIDTH || column < WIDTH * 2 / 3 {
        0
    } else {
        column - WIDTH * 2 / 3
    };
    let crop = |line: &str, context: bool| -> String {
        let count = line.chars().count();
        if context && count <= WIDTH {
            return line.replace('\t', " ");
        }
        let body: String = line.chars().skip(start).take(WIDTH).collect();
        let head = if start > 0 { "…" } else { "" };
        let tail = if count > start + WIDTH { "…" } else { "" };
        format!("{head}{body}{tail}").replace('\t', " ")
    };
    let width = (index + 1).to_string().len();
    let mut out = String::new();
    let first = index.saturating_sub(2);
    for (i, line) in lines.iter().enumerate().take(index + 1).skip(first) {
        out.push_str(&format!("{:>width$} | {}\n", i + 1, crop(line, i != index)));
    }
    let caret = column - start + usize::from(start > 0);
    out.push_str(&format!("{:>width$} | {}^", "", " ".repeat(caret)));
    Some(out)
}

/// Text from a target (a body, a header) without terminal escape sequences
/// (`ESC [ ... m` colours, `ESC ] ... BEL` titles) or other control
/// characters but line breaks and tabs: reports show what was sent, and a
/// hostile body cannot repaint a terminal or a page.
pub fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    let keep = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(keep) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ESC + backslash.
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
        } else if keep(c) {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A step names a credential the suite does not define.
pub fn unknown_credential(name: &str, known: &[&str]) -> String {
    let mut known = known.to_vec();
    known.sort_unstable();
    if known.is_empty() {
        format!(
            "unknown credential `{name}`: this suite defines no `credentials` (use `credential: none` for an anonymous request)"
        )
    } else {
        format!(
            "unknown credential `{name}` (defined: {}; or `none` for an anonymous request)",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// `1 suite`, `2 suites`: a count and a noun that agrees with it (nouns
/// whose plural is `+s`).
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Formats a source location the way compilers and editors expect.
/// [`location`] for a file already shown as text (`Suite::file_display`):
/// the runner calls it for every check of every step, and showing a path
/// costs more than the rest of the line.
pub fn location_in(file: &str, pos: Pos) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(file.len() + 12);
    out.push_str(file);
    if pos.is_known() {
        let _ = write!(out, ":{}:{}", pos.line, pos.column);
    }
    out
}

pub fn location(file: &Path, pos: Pos) -> String {
    location_in(&file.display().to_string(), pos)
}

/// An error and each distinct cause under it, on one line (`a: b: c`).
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(detail) = &self.detail {
            for line in detail.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

/// A list of diagnostics, returned when input cannot be used.
#[derive(Debug, Clone, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(value)` when nothing was reported, the diagnostics otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl Diagnostics {
    /// The list rendered as warnings (`warning: file:line:col: message`),
    /// at most `limit` of them, then a line counting the rest.
    pub fn warnings_text(&self, limit: usize) -> String {
        let mut out = String::new();
        for (i, d) in self.0.iter().take(limit).enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("warning: {d}"));
        }
        let rest = self.0.len().saturating_sub(limit);
        if rest > 0 {
            out.push_str(&format!(
                "\n... and {rest} more warning{}",
                if rest == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_in_writes_what_location_writes() {
        let file = Path::new("cases/a b.yaml");
        let at = Pos {
            line: 12,
            column: 7,
        };
        let shown = file.display().to_string();
        assert_eq!(location_in(&shown, at), location(file, at));
        assert_eq!(location_in(&shown, at), "cases/a b.yaml:12:7");
        assert_eq!(
            location_in(&shown, Pos::UNKNOWN),
            location(file, Pos::UNKNOWN)
        );
    }

    #[test]
    fn header_values_with_line_breaks_are_named() {
        assert_eq!(
            header_value_flaw("X-Note", "a\r\nInjected: 1").as_deref(),
            Some(
                "header `X-Note`: the value holds a line break (CR or LF), which HTTP does not allow in a header value"
            )
        );
        assert!(header_value_flaw("X-Note", "plain, with: punctuation").is_none());
    }

    #[test]
    fn terminal_sequences_and_controls_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[31;1mred\u{1b}[0m \u{1b}]0;title\u{7}ok\u{8}\n\tend"),
            "red ok\n\tend"
        );
        assert!(matches!(
            strip_ansi("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn unknown_credentials_list_what_is_defined() {
        assert_eq!(
            unknown_credential("admin", &[]),
            "unknown credential `admin`: this suite defines no `credentials` (use `credential: none` for an anonymous request)"
        );
        assert_eq!(
            unknown_credential("admin", &["user", "owner"]),
            "unknown credential `admin` (defined: `owner`, `user`; or `none` for an anonymous request)"
        );
    }

    #[test]
    fn snippet_caret_sits_under_the_column_of_long_lines() {
        let long = format!("key: {}X rest", "a".repeat(300));
        let text = format!("one\ntwo\n{long}\n");
        let s = snippet(
            &text,
            Pos {
                line: 3,
                column: 306,
            },
        )
        .expect("snippet");
        let lines: Vec<&str> = s.lines().collect();
        let shown = lines[2].split_once(" | ").expect("gutter").1;
        let caret = lines[3].split_once(" | ").expect("gutter").1;
        assert_eq!(shown.chars().nth(caret.len() - 1), Some('X'), "{s}");
        assert!(shown.starts_with('…'));
        assert_eq!(lines[0], "1 | one");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(plural(1, "suite"), "1 suite");
        assert_eq!(plural(0, "report"), "0 reports");
        assert_eq!(plural(3, "more line"), "3 more lines");
    }

    #[test]
    fn warnings_are_capped_with_a_count() {
        let d = Diagnostics(
            (1..=3)
                .map(|i| Diagnostic::new("s.yaml", Pos { line: i, column: 2 }, format!("w{i}")))
                .collect(),
        );
        assert_eq!(
            d.warnings_text(2),
            "warning: s.yaml:1:2: w1\nwarning: s.yaml:2:2: w2\n... and 1 more warning"
        );
    }
}
