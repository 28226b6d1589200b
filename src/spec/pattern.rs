//! `pattern` dialects. JSON Schema says patterns are ECMA-262, but many
//! published descriptions (AWS's above all) were written for Java, .NET,
//! PCRE or Ruby. Read as ECMA-262, `\p{XDigit}` or `[a-z]{1-70}` would
//! either not compile or reject every valid value, so we follow the author's
//! evident dialect: what has an exact equivalent is rewritten, and a pattern
//! that still cannot run is dropped from its schema with a warning (the spec
//! itself always loads).
//!
//! The validator (jsonschema) decides what it accepts; [`Patterns::accepts`]
//! asks it, so a rewrite is only kept when the validator takes it.

use std::collections::HashMap;

/// What became of one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Accepted as written.
    Kept,
    /// Rewritten to an equivalent the validator accepts.
    Translated(String),
    /// Cannot be run: the pattern is not enforced.
    Dropped,
}

/// Decides, once per distinct pattern, whether it runs as is, translated, or
/// not at all.
#[derive(Default)]
pub struct Patterns {
    seen: HashMap<String, Fate>,
}

impl Patterns {
    /// Whether the validator compiles `pattern` (as the `pattern` keyword).
    pub fn accepts(pattern: &str) -> bool {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&serde_json::json!({ "pattern": pattern }))
            .is_ok()
    }

    /// The fate of one pattern (cached: large specs repeat patterns a lot).
    pub fn fate(&mut self, pattern: &str) -> Fate {
        if let Some(f) = self.seen.get(pattern) {
            return f.clone();
        }
        // `[[:alpha:]]` compiles as ECMA-262 but means a literal `[:alph`
        // set there: a POSIX bracket is always the author's dialect.
        let posix = pattern.contains("[:") && pattern.contains(":]");
        let fate = if !posix && Self::accepts(pattern) {
            Fate::Kept
        } else {
            match translate(pattern) {
                Some(t) if t != pattern && Self::accepts(&t) => Fate::Translated(t),
                _ => Fate::Dropped,
            }
        };
        self.seen.insert(pattern.to_string(), fate.clone());
        fate
    }
}

/// The body of a character class equivalent to a Java/POSIX/.NET named
/// class (`\p{Alpha}`, `[:alpha:]`), or `None` for names the validator
/// already knows (Unicode categories and scripts) or nobody defines.
fn named_class(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix("Is").unwrap_or(name);
    Some(match name {
        "Lower" | "lower" | "javaLowerCase" => "a-z",
        "Upper" | "upper" | "javaUpperCase" => "A-Z",
        "ASCII" | "ascii" => r"\x00-\x7F",
        "Alpha" | "alpha" => "a-zA-Z",
        "Digit" | "digit" => "0-9",
        "Alnum" | "alnum" => "a-zA-Z0-9",
        "Punct" | "punct" => r"!-/:-@\[-`{-~",
        "Graph" | "graph" => "!-~",
        "Print" | "print" => " -~",
        "Blank" | "blank" => r" \t",
        "Cntrl" | "cntrl" => r"\x00-\x1F\x7F",
        "XDigit" | "xdigit" => "0-9a-fA-F",
        "Space" | "space" | "javaWhitespace" => r" \t\n\x0B\f\r",
        "all" | "Any" => r"\s\S",
        "LD" | "javaLetterOrDigit" => r"\p{L}\p{Nd}",
        "javaLetter" => r"\p{L}",
        "javaDigit" => r"\p{Nd}",
        "word" => r"\w",
        _ => return None,
    })
}

fn is_high_surrogate(c: u32) -> bool {
    (0xD800..=0xDBFF).contains(&c)
}

fn is_surrogate(c: u32) -> bool {
    (0xD800..=0xDFFF).contains(&c)
}

/// One lexical token of a pattern, as far as translation cares.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Text copied as is (an escape, a literal, an operator).
    Raw(String),
    /// A code unit written `\uXXXX`.
    Unit(u32),
    /// A class escape such as `\w`, `\d`, or a translated named class body.
    ClassEscape(String),
}

/// Reads `\p{Name}` / `\P{Name}` starting after the backslash; returns the
/// negation flag, the name and the characters consumed.
fn read_property(chars: &[char], i: usize) -> Option<(bool, String, usize)> {
    let negated = match chars.get(i) {
        Some('p') => false,
        Some('P') => true,
        _ => return None,
    };
    if chars.get(i + 1) != Some(&'{') {
        return None;
    }
    let close = chars[i + 2..].iter().position(|&c| c == '}')? + i + 2;
    let name: String = chars[i + 2..close].iter().collect();
    Some((negated, name, close + 1 - i))
}

fn read_hex4(chars: &[char], i: usize) -> Option<u32> {
    let s: String = chars.get(i..i + 4)?.iter().collect();
    if s.chars().all(|c| c.is_ascii_hexdigit()) {
        u32::from_str_radix(&s, 16).ok()
    } else {
        None
    }
}

/// Translates a Java/.NET/PCRE/Ruby-flavoured pattern into one the
/// validator reads with the same meaning; `None` when a construct has no
/// equivalent (back-references, lone surrogates...).
pub fn translate(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut last_was_surrogate_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let (text, used) = translate_escape(&chars, i, false)?;
                if let Tok::Unit(u) = text {
                    // A surrogate pair written as two escapes is one character.
                    if is_high_surrogate(u)
                        && chars.get(i + 6) == Some(&'\\')
                        && chars.get(i + 7) == Some(&'u')
                        && let Some(low) = read_hex4(&chars, i + 8)
                        && (0xDC00..=0xDFFF).contains(&low)
                    {
                        let scalar = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
                        out.push_str(&format!("\\u{{{scalar:X}}}"));
                        i += 12;
                        continue;
                    }
                    if is_surrogate(u) {
                        return None;
                    }
                    out.push_str(&format!("\\u{{{u:X}}}"));
                } else {
                    match text {
                        Tok::ClassEscape(body) => out.push_str(&body),
                        Tok::Raw(r) => out.push_str(&r),
                        Tok::Unit(_) => {}
                    }
                }
                i += used;
                last_was_surrogate_class = false;
            }
            '[' => {
                let (class, used, surrogates) = translate_class(&chars, i)?;
                match surrogates {
                    ClassSurrogates::OnlyLow if last_was_surrogate_class => {}
                    _ => out.push_str(&class),
                }
                last_was_surrogate_class = matches!(
                    surrogates,
                    ClassSurrogates::OnlyHigh | ClassSurrogates::Some
                );
                i += used;
            }
            '{' => {
                // `{1-70}` (a typo for `{1,70}` that Java rejects too, but whose
                // intent is plain).
                let close = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
                match close {
                    Some(close) => {
                        let inner: String = chars[i + 1..close].iter().collect();
                        let fixed = match inner.split_once('-') {
                            Some((a, b))
                                if !a.is_empty()
                                    && a.chars().all(|c| c.is_ascii_digit())
                                    && b.chars().all(|c| c.is_ascii_digit()) =>
                            {
                                format!("{{{a},{b}}}")
                            }
                            _ => format!("{{{inner}}}"),
                        };
                        out.push_str(&fixed);
                        i = close + 1;
                    }
                    None => {
                        out.push_str("\\{");
                        i += 1;
                    }
                }
                last_was_surrogate_class = false;
            }
            '(' if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) == Some(&'>') => {
                // Atomic group: no backtracking into it. Matching a whole
                // string, a plain group accepts the same values in all but
                // contrived patterns.
                out.push_str("(?:");
                i += 3;
                last_was_surrogate_class = false;
            }
            _ => {
                out.push(c);
                i += 1;
                last_was_surrogate_class = false;
            }
        }
    }
    Some(out)
}

/// Translates the escape at `chars[i] == '\\'`; returns the token and the
/// characters consumed.
fn translate_escape(chars: &[char], i: usize, in_class: bool) -> Option<(Tok, usize)> {
    let next = *chars.get(i + 1)?;
    match next {
        'p' | 'P' => {
            let (negated, name, used) = read_property(chars, i + 1)?;
            match named_class(&name) {
                Some(body) if in_class && !negated => {
                    Some((Tok::ClassEscape(body.into()), used + 1))
                }
                Some(body) if in_class => Some((Tok::ClassEscape(format!("[^{body}]")), used + 1)),
                Some(body) => {
                    let open = if negated { "[^" } else { "[" };
                    Some((Tok::Raw(format!("{open}{body}]")), used + 1))
                }
                None => {
                    let text: String = chars[i..i + 1 + used].iter().collect();
                    Some((Tok::ClassEscape(text), used + 1))
                }
            }
        }
        'u' => match read_hex4(chars, i + 2) {
            Some(u) => Some((Tok::Unit(u), 6)),
            None => Some((Tok::Raw(format!("\\{next}")), 2)),
        },
        'Z' if !in_class => Some((Tok::Raw("$".into()), 2)),
        'h' => Some((
            Tok::ClassEscape(if in_class { r" \t" } else { r"[ \t]" }.into()),
            2,
        )),
        'Q' => {
            let rest: String = chars[i + 2..].iter().collect();
            let (lit, used) = match rest.find("\\E") {
                Some(end) => (&rest[..end], end + 4),
                None => (rest.as_str(), rest.chars().count() + 2),
            };
            let used_chars = if rest.contains("\\E") {
                lit.chars().count() + 4
            } else {
                used
            };
            Some((Tok::Raw(escape_literal(lit)), used_chars))
        }
        'w' | 'W' | 'd' | 'D' | 's' | 'S' => Some((Tok::ClassEscape(format!("\\{next}")), 2)),
        _ => Some((Tok::Raw(format!("\\{next}")), 2)),
    }
}

fn escape_literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\^$.|?*+()[]{}/-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

enum ClassSurrogates {
    None,
    OnlyHigh,
    OnlyLow,
    Some,
}

/// One item of a class: a single character (or unit) or a class escape.
#[derive(Debug)]
enum Item {
    Char(u32, String),
    Escape(String),
    Dash,
}

/// Translates the class starting at `chars[start] == '['`; returns it, the
/// characters consumed and which surrogates it held.
fn translate_class(chars: &[char], start: usize) -> Option<(String, usize, ClassSurrogates)> {
    let mut i = start + 1;
    let mut head = String::from("[");
    if chars.get(i) == Some(&'^') {
        head.push('^');
        i += 1;
    }
    let mut items: Vec<Item> = Vec::new();
    // A `]` right after `[` or `[^` is a literal in Java and PCRE.
    if chars.get(i) == Some(&']') {
        items.push(Item::Char(']' as u32, "\\]".into()));
        i += 1;
    }
    loop {
        let c = *chars.get(i)?;
        match c {
            ']' => {
                i += 1;
                break;
            }
            '\\' => {
                let (tok, used) = translate_escape(chars, i, true)?;
                items.push(match tok {
                    Tok::Unit(u) => Item::Char(u, format!("\\u{{{u:X}}}")),
                    Tok::ClassEscape(e) => Item::Escape(e),
                    Tok::Raw(r) => {
                        let ch = r.chars().nth(1).map_or(0, |c| c as u32);
                        Item::Char(ch, r)
                    }
                });
                i += used;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                let rest: String = chars[i + 2..].iter().collect();
                let end = rest.find(":]")?;
                let body = named_class(&rest[..end])?;
                items.push(Item::Escape(body.into()));
                i += 2 + rest[..end].chars().count() + 2;
            }
            '[' => {
                // A nested class (Java union) or a literal `[`.
                items.push(Item::Char('[' as u32, "\\[".into()));
                i += 1;
            }
            '-' => {
                items.push(Item::Dash);
                i += 1;
            }
            _ => {
                let raw = if c == '/' {
                    "\\/".to_string()
                } else {
                    c.to_string()
                };
                items.push(Item::Char(c as u32, raw));
                i += 1;
            }
        }
    }
    let mut body = String::new();
    let mut high = false;
    let mut low = false;
    let mut other = false;
    let mut k = 0;
    while k < items.len() {
        match &items[k] {
            Item::Char(a, raw_a) => {
                let range_end = match (items.get(k + 1), items.get(k + 2)) {
                    (Some(Item::Dash), Some(Item::Char(b, raw_b))) => Some((*b, raw_b.clone())),
                    _ => None,
                };
                let (lo, hi, raw_hi) = match &range_end {
                    Some((b, raw_b)) => (*a, *b, Some(raw_b.clone())),
                    None => (*a, *a, None),
                };
                if lo <= 0xDFFF && hi >= 0xD800 {
                    // The part of the range outside the surrogate block stays.
                    if lo < 0xD800 {
                        body.push_str(&format!("\\u{{{lo:X}}}-\\u{{D7FF}}"));
                        other = true;
                    }
                    if hi > 0xDFFF {
                        body.push_str(&format!("\\u{{E000}}-\\u{{{hi:X}}}"));
                        other = true;
                    }
                    high |= lo <= 0xDBFF;
                    low |= hi >= 0xDC00;
                } else {
                    body.push_str(raw_a);
                    if let Some(raw_hi) = raw_hi {
                        body.push('-');
                        body.push_str(&raw_hi);
                    }
                    other = true;
                }
                k += if range_end.is_some() { 3 } else { 1 };
            }
            Item::Escape(e) => {
                body.push_str(e);
                other = true;
                // A `-` next to a class escape is a literal.
                if matches!(items.get(k + 1), Some(Item::Dash)) {
                    body.push_str("\\-");
                    k += 1;
                }
                k += 1;
            }
            Item::Dash => {
                body.push_str("\\-");
                other = true;
                k += 1;
            }
        }
    }
    let kind = match (high, low, other) {
        (false, false, _) => ClassSurrogates::None,
        (true, false, false) => ClassSurrogates::OnlyHigh,
        (false, true, false) => ClassSurrogates::OnlyLow,
        _ => ClassSurrogates::Some,
    };
    if high || low {
        // Surrogate code units in a class can only mean characters beyond
        // the Basic Multilingual Plane (a string holds no lone surrogates).
        body.push_str("\\u{10000}-\\u{10FFFF}");
    }
    Some((format!("{head}{body}]"), i - start, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn matches(pattern: &str, text: &str) -> bool {
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&serde_json::json!({ "pattern": pattern }))
            .expect("compiles");
        v.is_valid(&Value::String(text.into()))
    }

    /// The pattern the validator runs (as written or translated).
    fn translated(p: &str) -> String {
        match Patterns::default().fate(p) {
            Fate::Translated(t) => t,
            Fate::Kept => p.to_string(),
            Fate::Dropped => panic!("{p} dropped"),
        }
    }

    /// Real patterns from published descriptions (AWS above all), with a
    /// value each should accept and one it should refuse.
    #[test]
    fn real_world_dialect_patterns_translate_with_their_meaning() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r"^\p{XDigit}{8}-\p{XDigit}{4}$",
                "0a1B2c3D-beef",
                "0a1B2c3D-xyz1",
            ),
            (r"^[\p{all}]+$", "any thing\n at all", ""),
            (r"^(\p{LD}|\p{Punct}| )+$", "Hello, World 42!", "tab\there"),
            (r"^[\w-.+]+@[\w-.+]+$", "a.b-c+d@x-y.com", "a b@c"),
            (r"^[a-zA-Z]{1-70}$", "abc", "abc1"),
            (r"\A[a-z]+\Z", "abc", "Abc"),
            (
                r"^[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDBFF-\uDC00\uDFFF]*$",
                "plain text and \u{1F600}",
                "bell\u{7}",
            ),
            (r"^[\uD800-\uDBFF][\uDC00-\uDFFF]$", "\u{1F600}", "ab"),
            (r"^\uD83D\uDE00$", "\u{1F600}", "x"),
            (r"^[[:alpha:]]+$", "abc", "ab1"),
            (r"^(?>ab)+$", "abab", "aba"),
            (r"^\h+$", " \t", "\n"),
            (r"^\Qa.b\E$", "a.b", "axb"),
            (r"^\P{Digit}+$", "abc", "a1"),
        ];
        for (pattern, good, bad) in cases {
            let t = translated(pattern);
            assert!(matches(&t, good), "{pattern} -> {t} should accept {good:?}");
            assert!(!matches(&t, bad), "{pattern} -> {t} should refuse {bad:?}");
        }
        assert!(matches(&translated(r"^[\p{all}]+$"), "\u{0}x\u{10FFFF}"));
    }

    #[test]
    fn accepted_patterns_are_kept_and_untranslatable_ones_dropped() {
        let mut p = Patterns::default();
        assert_eq!(p.fate(r"^[a-z]+(?=x)"), Fate::Kept);
        assert_eq!(p.fate(r"^\p{L}+$"), Fate::Kept);
        assert_eq!(p.fate(r"(?<n>a)\k<n>"), Fate::Dropped);
        assert_eq!(p.fate(r"^\uD800$"), Fate::Dropped);
        assert_eq!(p.fate("(unclosed"), Fate::Dropped);
    }
}
