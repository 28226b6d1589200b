//! JSON pointer -> line and column in the source text, so a spec diagnostic
//! says `file:line:column` (with the pointer beside it). One pass over the
//! text for all the pointers of a file: JSON with a small scanner that skips
//! what no pointer needs, YAML through the parser's event stream.
//! A pointer that does not exist in the source (a schema made by the
//! Swagger 2.0 conversion) gets the position of its deepest existing parent.

use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{Event, Parser};

use crate::diag::Pos;

/// Positions of the pointers in `wanted` (keys present only when found).
/// A member is placed at its key; an array item at its first character.
pub fn positions(text: &str, json: bool, wanted: &[String]) -> HashMap<String, Pos> {
    let mut prefixes: HashSet<String> = HashSet::new();
    for p in wanted {
        let mut at = 0;
        while let Some(i) = p[at..].find('/') {
            prefixes.insert(p[..at + i].to_string());
            at += i + 1;
        }
        prefixes.insert(p.clone());
    }
    let found = if json {
        json_positions(text, &prefixes)
    } else {
        yaml_positions(text, &prefixes)
    };
    let mut out = HashMap::new();
    for p in wanted {
        let mut candidate = p.as_str();
        loop {
            if let Some(pos) = found.get(candidate) {
                out.insert(p.clone(), *pos);
                break;
            }
            match candidate.rfind('/') {
                Some(i) if i > 0 => candidate = &candidate[..i],
                _ => break,
            }
        }
    }
    out
}

enum Frame {
    Map {
        pointer: String,
        key: Option<String>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

fn yaml_positions(text: &str, wanted: &HashSet<String>) -> HashMap<String, Pos> {
    let mut found = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // A node whose subtree nobody wants is skipped by depth counting.
    let mut skipping = 0usize;
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let pos = Pos {
            line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
            column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
        };
        let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let is_end = matches!(event, Event::MappingEnd | Event::SequenceEnd);
        if skipping > 0 {
            if is_start {
                skipping += 1;
            } else if is_end {
                skipping -= 1;
                if skipping == 0 {
                    value_done(&mut stack);
                }
            }
            continue;
        }
        let is_node = is_start || matches!(event, Event::Scalar(..) | Event::Alias(..));
        if is_end {
            stack.pop();
            value_done(&mut stack);
            continue;
        }
        if !is_node {
            continue;
        }
        // A mapping key?
        if let Some(Frame::Map { key, pointer }) = stack.last_mut()
            && key.is_none()
        {
            let name = match &event {
                Event::Scalar(v, ..) => v.to_string(),
                _ => String::new(),
            };
            let child = format!("{pointer}/{}", super::escape_token(&name));
            if wanted.contains(&child) {
                found.entry(child).or_insert(pos);
            }
            *key = Some(name);
            if is_start {
                // A complex key: nobody points into it.
                skipping = 1;
            }
            continue;
        }
        let pointer = match stack.last() {
            None => String::new(),
            Some(Frame::Map { pointer, key }) => {
                format!(
                    "{pointer}/{}",
                    super::escape_token(key.as_deref().unwrap_or(""))
                )
            }
            Some(Frame::Seq { pointer, index }) => format!("{pointer}/{index}"),
        };
        if !pointer.is_empty() && wanted.contains(&pointer) {
            found.entry(pointer.clone()).or_insert(pos);
        }
        match event {
            Event::MappingStart(..) if pointer.is_empty() || wanted.contains(&pointer) => {
                stack.push(Frame::Map { pointer, key: None })
            }
            Event::SequenceStart(..) if pointer.is_empty() || wanted.contains(&pointer) => {
                stack.push(Frame::Seq { pointer, index: 0 })
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => skipping = 1,
            _ => value_done(&mut stack),
        }
    }
    found
}

/// After a value: the mapping expects a key again, the sequence moves on.
fn value_done(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

/// A byte cursor over JSON text that tracks line and column.
struct Cursor<'t> {
    bytes: &'t [u8],
    at: usize,
    line: u32,
    line_start: usize,
}

impl Cursor<'_> {
    fn pos(&self) -> Pos {
        let column = String::from_utf8_lossy(&self.bytes[self.line_start..self.at])
            .chars()
            .count();
        Pos {
            line: self.line,
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.at;
        }
        Some(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Reads a string (cursor on its opening quote), unescaped.
    fn string(&mut self) -> Option<String> {
        self.bump();
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.bump()? {
                b'\\' => {
                    escaped = true;
                    self.bump()?;
                }
                b'"' => break,
                _ => {}
            }
        }
        let raw = std::str::from_utf8(&self.bytes[start..self.at - 1]).ok()?;
        if !escaped {
            return Some(raw.to_string());
        }
        serde_json::from_str(&format!("\"{raw}\"")).ok()
    }

    /// Skips one value of any kind.
    fn skip(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.bump();
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
            }
            _ => {
                while !matches!(self.peek(), None | Some(b',' | b'}' | b']')) {
                    self.bump();
                }
            }
        }
        Some(())
    }

    fn value(
        &mut self,
        pointer: &mut String,
        wanted: &HashSet<String>,
        found: &mut HashMap<String, Pos>,
    ) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'{' => {
                self.bump();
                loop {
                    self.ws();
                    match self.peek()? {
                        b'}' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    let pos = self.pos();
                    let key = self.string()?;
                    self.ws();
                    self.bump(); // ':'
                    let len = pointer.len();
                    super::push_token(pointer, &key);
                    if wanted.contains(pointer.as_str()) {
                        found.entry(pointer.clone()).or_insert(pos);
                        self.value(pointer, wanted, found)?;
                    } else {
                        self.skip()?;
                    }
                    pointer.truncate(len);
                }
            }
            b'[' => {
                self.bump();
                let mut index = 0usize;
                loop {
                    self.ws();
                    match self.peek()? {
                        b']' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                    if wanted.contains(pointer.as_str()) {
                        found.entry(pointer.clone()).or_insert(self.pos());
                        self.value(pointer, wanted, found)?;
                    } else {
                        self.skip()?;
                    }
                    pointer.truncate(len);
                    index += 1;
                }
            }
            _ => self.skip(),
        }
    }
}

fn json_positions(text: &str, wanted: &HashSet<String>) -> HashMap<String, Pos> {
    let mut found = HashMap::new();
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
    };
    let _ = cursor.value(&mut String::new(), wanted, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(map: &HashMap<String, Pos>, p: &str) -> (u32, u32) {
        let pos = map
            .get(p)
            .unwrap_or_else(|| panic!("{p} not found in {map:?}"));
        (pos.line, pos.column)
    }

    #[test]
    fn yaml_block_and_flow_positions() {
        let text = "openapi: 3.0.3\npaths:\n  /a/{b}:\n    get:\n      parameters:\n        - {name: x, in: query}\n        - name: y\n          schema: {type: string, pattern: '(x'}\n";
        let wanted = vec![
            "/paths/~1a~1{b}/get".to_string(),
            "/paths/~1a~1{b}/get/parameters/1/schema/pattern".to_string(),
            "/paths/~1a~1{b}/get/parameters/0/schema".to_string(),
        ];
        let map = positions(text, false, &wanted);
        assert_eq!(at(&map, &wanted[0]), (4, 5));
        assert_eq!(at(&map, &wanted[1]), (8, 34));
        // Not in the source: its deepest existing parent.
        assert_eq!(at(&map, &wanted[2]), (6, 11));
    }

    #[test]
    fn json_positions_with_escapes_and_arrays() {
        let text = "{\n  \"paths\": {\"/x\\\"y\": {\"get\": {\"tags\": [\"a\", {\"b\": 1}]}}},\n  \"components\": {\"schemas\": {\"A\": {\"pattern\": \"(x\"}}}\n}";
        let wanted = vec![
            "/components/schemas/A/pattern".to_string(),
            "/paths/~1x\"y/get/tags/1/b".to_string(),
        ];
        let map = positions(text, true, &wanted);
        assert_eq!(at(&map, &wanted[0]), (3, 36));
        assert_eq!(at(&map, &wanted[1]), (2, 46));
    }
}
