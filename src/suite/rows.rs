//! Data-driven cases: a case's `rows:` (inline, or a YAML or CSV file)
//! expand at load time into one case per row. Row fields are the case
//! variables `row.FIELD`; the case name is a template over them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model;
use super::node::{Node, Sp};
use super::template::Template;
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// One row of a data-driven case.
pub struct Row {
    /// 1-based, for the requirement id suffix (`EN-CREATE-05.2`).
    pub number: usize,
    /// The case name rendered with this row.
    pub name: String,
    /// `row.FIELD` -> value (templates allowed), in the row's order.
    pub values: Vec<(String, Sp<Node>)>,
}

impl Row {
    /// The row's fields as plain values (templates unrendered), for the
    /// case name, description and requirement.
    pub fn scope(&self) -> HashMap<String, Value> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.value.to_value()))
            .collect()
    }

    /// `text` rendered over the row's fields (unchanged when it names none
    /// or does not parse: the case's own checks report that).
    pub fn render(&self, text: &str) -> String {
        Template::parse(text)
            .ok()
            .and_then(|t| t.render_string(&self.scope()).ok())
            .unwrap_or_else(|| text.to_string())
    }

    /// The requirement id for this row: the id template rendered when it
    /// names a row field (`MC-ERR-{{ row.id }}`), else the id with the row
    /// number as suffix (`EN-CREATE-05.2`).
    pub fn requirement_id(&self, id: &str) -> String {
        let names_row = Template::parse(id)
            .map(|t| t.variables().any(|v| v.starts_with("row.")))
            .unwrap_or(false);
        if names_row {
            self.render(id)
        } else {
            format!("{id}.{}", self.number)
        }
    }
}

/// The rows of a case, `None` when it has no `rows:`. Problems (a missing
/// file, a row that is not a mapping, a name without a row field) are
/// diagnostics at the `rows:` or the name.
pub fn expand(file: &Path, case: &model::Case, diagnostics: &mut Diagnostics) -> Option<Vec<Row>> {
    let rows = case.rows.as_ref()?;
    let tables = match &rows.value {
        Node::Seq(items) => inline(file, items, diagnostics),
        Node::String(path) => from_file(file, path, rows.pos, diagnostics),
        _ => {
            diagnostics.push(Diagnostic::new(
                file,
                rows.pos,
                "`rows:` is a list of mappings, or the path of a YAML or CSV file",
            ));
            return Some(Vec::new());
        }
    };
    if tables.is_empty() && diagnostics.is_empty() {
        diagnostics.push(Diagnostic::new(file, rows.pos, "`rows:` has no rows"));
    }
    let name = match Template::parse(&case.name.value) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                file,
                case.name.pos,
                format!("bad template: {}", e.message),
            ));
            return Some(Vec::new());
        }
    };
    let vars: Vec<&str> = name.variables().collect();
    if !vars.iter().any(|v| v.starts_with("row.")) {
        diagnostics.push(Diagnostic::new(
            file,
            case.name.pos,
            "a case with `rows:` names each row's case: put a row field in the name, e.g. `create with {{ row.kind }}`",
        ));
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    for (i, table) in tables.into_iter().enumerate() {
        let mut row = Row {
            number: i + 1,
            name: String::new(),
            values: table
                .into_iter()
                .map(|(k, v)| (format!("row.{k}"), v))
                .collect(),
        };
        match name.render_string(&row.scope()) {
            Ok(rendered) => {
                row.name = rendered;
                out.push(row);
            }
            Err(e) => diagnostics.push(Diagnostic::new(
                file,
                case.name.pos,
                format!("row {}: case name: {e}", i + 1),
            )),
        }
    }
    Some(out)
}

type Table = Vec<(String, Sp<Node>)>;

fn inline(file: &Path, items: &[Sp<Node>], diagnostics: &mut Diagnostics) -> Vec<Table> {
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            Node::Map(entries) => out.push(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => diagnostics.push(Diagnostic::new(
                file,
                item.pos,
                "a row is a mapping of field names to values",
            )),
        }
    }
    out
}

/// The file a case's `rows:` names, if it names one (relative to `file`).
pub fn file_of(file: &Path, case: &model::Case) -> Option<PathBuf> {
    match &case.rows.as_ref()?.value {
        Node::String(rel) => Some(rows_path(file, rel)),
        _ => None,
    }
}

fn rows_path(file: &Path, rel: &str) -> PathBuf {
    file.parent().unwrap_or(Path::new(".")).join(rel)
}

/// Rows from a `.yaml`/`.yml`/`.json` file (a list of mappings) or a
/// `.csv` file (a header line of field names; every value a string).
fn from_file(file: &Path, rel: &str, pos: Pos, diagnostics: &mut Diagnostics) -> Vec<Table> {
    let path = rows_path(file, rel);
    let text = match crate::input::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                diagnostics.push(Diagnostic::new(
                    &path,
                    Pos::UNKNOWN,
                    "file is not UTF-8 text",
                ));
                return Vec::new();
            }
        },
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                file,
                pos,
                format!("cannot read rows file {}: {e}", path.display()),
            ));
            return Vec::new();
        }
    };
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        return match csv_rows(&text) {
            Ok(rows) => rows
                .into_iter()
                .map(|(line, fields)| {
                    let pos = Pos { line, column: 1 };
                    fields
                        .into_iter()
                        .map(|(k, v)| {
                            (
                                k,
                                Sp {
                                    value: Node::String(v),
                                    pos,
                                },
                            )
                        })
                        .collect()
                })
                .collect(),
            Err((line, message)) => {
                diagnostics.push(Diagnostic::new(&path, Pos { line, column: 1 }, message));
                Vec::new()
            }
        };
    }
    match crate::yaml::from_str::<Vec<Sp<Node>>>(&path, &text) {
        Ok(items) => inline(&path, &items, diagnostics),
        Err(d) => {
            diagnostics.push(d);
            Vec::new()
        }
    }
}

/// Parses CSV (RFC 4180: commas, double-quoted fields with `""` escapes
/// and line breaks) into rows keyed by the header. Blank lines are skipped;
/// a row with more or fewer fields than the header is an error at its line.
pub fn csv_rows(text: &str) -> Result<Vec<CsvRow>, CsvError> {
    let records = csv_records(text)?;
    let mut it = records.into_iter();
    let Some((_, header)) = it.next() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (line, fields) in it {
        if fields.len() != header.len() {
            return Err((
                line,
                format!(
                    "row has {} fields, the header has {}",
                    fields.len(),
                    header.len()
                ),
            ));
        }
        out.push((line, header.iter().cloned().zip(fields).collect()));
    }
    Ok(out)
}

/// A CSV problem: the line and what is wrong.
pub type CsvError = (u32, String);

/// A CSV row: its line and (field, value) pairs.
pub type CsvRow = (u32, Vec<(String, String)>);

/// CSV records with the line each starts on.
fn csv_records(text: &str) -> Result<Vec<(u32, Vec<String>)>, CsvError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1u32;
    let mut start = 1u32;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => {
                quoted = true;
                any = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            (false, '\r') => {}
            (false, '\n') => {
                if any || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push((start, std::mem::take(&mut fields)));
                }
                any = false;
                line += 1;
                start = line;
            }
            (false, c) => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err((start, "unclosed `\"` in a CSV field".into()));
    }
    if any || !field.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_follow_the_header_with_quotes_and_blank_lines() {
        let rows = csv_rows("kind,note\nfile,\"a, \"\"b\"\"\"\n\nurl,plain\n").expect("csv");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1[0], ("kind".into(), "file".into()));
        assert_eq!(rows[0].1[1], ("note".into(), "a, \"b\"".into()));
        assert_eq!(rows[1].0, 4);
        assert_eq!(rows[1].1[1], ("note".into(), "plain".into()));
    }

    #[test]
    fn csv_rows_reject_a_short_row_at_its_line() {
        let err = csv_rows("a,b\n1,2\n3\n").expect_err("short row");
        assert_eq!(err.0, 3);
        assert!(err.1.contains("1 fields, the header has 2"), "{}", err.1);
    }

    #[test]
    fn csv_rows_reject_an_unclosed_quote() {
        assert!(csv_rows("a\n\"open\n").is_err());
    }
}
