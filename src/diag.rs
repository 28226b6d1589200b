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

/// Formats a source location the way compilers and editors expect.
pub fn location(file: &Path, pos: Pos) -> String {
    if pos.is_known() {
        format!("{}:{}:{}", file.display(), pos.line, pos.column)
    } else {
        file.display().to_string()
    }
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
