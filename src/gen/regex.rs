//! Strings matching a `pattern`, drawn by walking the pattern's syntax tree
//! (regex-syntax, the parser behind the `regex` crate). ASCII is preferred
//! inside classes so values survive headers and URLs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use regex_syntax::hir::{Class, Hir, HirKind};

use super::CannotGenerate;

/// Largest output a pattern may produce (unbounded repeats are capped too).
const MAX_LEN: usize = 256;

/// A string matching `pattern`; `extra` caps how far past its minimum an
/// unbounded repetition (`*`, `+`, `{n,}`) goes.
pub fn generate(
    pattern: &str,
    rng: &mut fastrand::Rng,
    extra: u32,
) -> Result<String, CannotGenerate> {
    let hir = parsed(pattern)?;
    let mut out = String::new();
    emit(&hir, rng, extra, &mut out)?;
    Ok(out)
}

/// Patterns parsed so far on this thread. A positive phase draws a pattern
/// once per value, and parsing (a date-time pattern of 300 bytes) costs far
/// more than walking the tree, so each distinct pattern is parsed once.
type Parsed = Result<Rc<Hir>, CannotGenerate>;

thread_local! {
    static PARSED: RefCell<HashMap<String, Parsed>> = RefCell::new(HashMap::new());
}

/// Most patterns kept per thread (a spec has a few dozen; the bound only
/// guards a run over a huge document).
const MAX_CACHED: usize = 4096;

fn parsed(pattern: &str) -> Parsed {
    if let Some(hit) = PARSED.with(|c| c.borrow().get(pattern).cloned()) {
        return hit;
    }
    let result = parse(pattern).map(Rc::new);
    PARSED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(pattern.to_string(), result.clone());
    });
    result
}

fn parse(pattern: &str) -> Result<Hir, CannotGenerate> {
    regex_syntax::ParserBuilder::new()
        .utf8(true)
        .build()
        .parse(pattern)
        .map_err(|e| {
            CannotGenerate::new(format!(
                "pattern `{pattern}` is not supported: {}",
                e.to_string().lines().last().unwrap_or("syntax error")
            ))
        })
}

fn emit(
    hir: &Hir,
    rng: &mut fastrand::Rng,
    extra: u32,
    out: &mut String,
) -> Result<(), CannotGenerate> {
    if out.len() > MAX_LEN {
        return Err(CannotGenerate::new(
            "pattern needs a string longer than 256 bytes",
        ));
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(class) => out.push(pick_char(class, rng)?),
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min.saturating_add(extra));
            let max = max
                .min(rep.min.saturating_add(extra.max(1) * 4))
                .max(rep.min);
            let n = rng.u32(rep.min..=max);
            for _ in 0..n {
                emit(&rep.sub, rng, extra, out)?;
            }
        }
        HirKind::Capture(cap) => emit(&cap.sub, rng, extra, out)?,
        HirKind::Concat(parts) => {
            for p in parts {
                emit(p, rng, extra, out)?;
            }
        }
        HirKind::Alternation(alts) => {
            if let Some(alt) = alts.get(rng.usize(..alts.len().max(1))) {
                emit(alt, rng, extra, out)?;
            }
        }
    }
    Ok(())
}

fn pick_char(class: &Class, rng: &mut fastrand::Rng) -> Result<char, CannotGenerate> {
    let none = || CannotGenerate::new("pattern has a character class that matches nothing");
    match class {
        Class::Unicode(c) => {
            let ranges = c.ranges();
            let ascii: Vec<(char, char)> = ranges
                .iter()
                .filter(|r| r.start().is_ascii_graphic() || r.end().is_ascii_graphic())
                .map(|r| {
                    let lo = r.start().max('!');
                    let hi = r.end().min('~');
                    (lo, hi)
                })
                .filter(|(lo, hi)| lo <= hi)
                .collect();
            if let Some(&(lo, hi)) = ascii.get(rng.usize(..ascii.len().max(1))) {
                return Ok(rng.char(lo..=hi));
            }
            let r = ranges
                .get(rng.usize(..ranges.len().max(1)))
                .ok_or_else(none)?;
            Ok(rng.char(r.start()..=r.end()))
        }
        Class::Bytes(c) => {
            let r = c.ranges().first().ok_or_else(none)?;
            let b = rng.u8(r.start()..=r.end());
            Ok(char::from(b.min(0x7f)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_strings_match_their_pattern() {
        let mut rng = fastrand::Rng::with_seed(1);
        for p in [
            r"^[a-z]{3,5}-\d{2}$",
            r"^(auth0|google)\|[0-9a-f]{24}$",
            r"^\w+@\w+\.com$",
            r"^[A-Z][a-z]*( [A-Z][a-z]*)*$",
        ] {
            let re = regex::Regex::new(p).expect("test pattern");
            for _ in 0..50 {
                let s = generate(p, &mut rng, 3).expect("generates");
                assert!(re.is_match(&s), "{s:?} does not match {p}");
            }
        }
    }

    #[test]
    fn unsupported_patterns_say_so() {
        let mut rng = fastrand::Rng::with_seed(1);
        let e = generate(r"^(?!x)a$", &mut rng, 3).expect_err("lookahead");
        assert!(e.reason.contains("not supported"), "{e}");
    }
}
