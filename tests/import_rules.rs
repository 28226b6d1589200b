//! The module layering of ARCHITECTURE.md, checked by reading the sources:
//! every `crate::…` and `super::…` path in src/ is an edge, and the rules
//! below say which edges may not exist. A failure names the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One reference from a source file to another module.
struct Edge {
    file: String,
    line: usize,
    /// Module path of the referencing file (`["run", "exec"]`).
    from: Vec<String>,
    /// Module path referenced (`["report", "console"]`), as far as it names modules.
    to: Vec<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("src/ is readable");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/run/exec.rs` -> `["run", "exec"]`; `src/run/mod.rs` -> `["run"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src/")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The leading lowercase segments of a path (`a::b::Type` -> `[a, b]`).
fn module_segments(path: &str) -> Vec<String> {
    path.split("::")
        .take_while(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

fn edges() -> Vec<Edge> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source is UTF-8");
        let from = module_of(&src, &file);
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (prefix, absolute) in [("crate::", true), ("super::", false)] {
                let mut rest = code;
                while let Some(at) = rest.find(prefix) {
                    let after = &rest[at + prefix.len()..];
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                        .unwrap_or(after.len());
                    let segments = module_segments(&after[..end]);
                    rest = &after[end..];
                    let to = if absolute {
                        segments
                    } else {
                        // `super::x` in module `a::b` (a/b.rs or a/b/mod.rs) is `a::x`.
                        let mut base = from.clone();
                        base.pop();
                        base.extend(segments);
                        base
                    };
                    // Keep the longest prefix that is a module file (drops items).
                    let to = (0..=to.len())
                        .rev()
                        .map(|n| to[..n].to_vec())
                        .find(|p| known.contains(p))
                        .unwrap_or_default();
                    if !to.is_empty() {
                        out.push(Edge {
                            file: file.display().to_string(),
                            line: i + 1,
                            from: from.clone(),
                            to,
                        });
                    }
                }
            }
        }
    }
    out
}

fn starts(path: &[String], prefix: &[&str]) -> bool {
    path.len() >= prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Module paths, as segments.
type Modules = &'static [&'static [&'static str]];

/// (modules the rule applies to, modules they must not import, why).
const RULES: &[(Modules, Modules, &str)] = &[
    (
        &[&["run"]],
        &[&["cli"], &["report"]],
        "the engine knows no CLI and no report format",
    ),
    (
        &[&["check"]],
        &[&["run"], &["report"], &["cli"]],
        "a check is a pure function of its exchange",
    ),
    (
        &[&["result"], &["diag"], &["coverage"], &["event"]],
        &[&["run"], &["report"], &["cli"]],
        "plain-data modules depend on no engine, format or CLI",
    ),
    (
        &[&["testing"]],
        &[&["cli"]],
        "testing.rs calls into run/ only",
    ),
    (
        &[&["serve"]],
        &[&["run"], &["suite"], &["cli"]],
        "reference servers are independent of the harness",
    ),
];

#[test]
fn layering_rules_hold() {
    let mut broken = Vec::new();
    for e in edges() {
        for (modules, forbidden, why) in RULES {
            let applies = modules.iter().any(|m| starts(&e.from, m));
            let hits = forbidden.iter().any(|f| starts(&e.to, f));
            if applies && hits {
                broken.push(format!(
                    "{}:{}: {} imports {} ({why})",
                    e.file,
                    e.line,
                    e.from.join("::"),
                    e.to.join("::")
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "import rules broken:\n{}",
        broken.join("\n")
    );
}

/// Depth-first search for a cycle; returns it as a path of nodes.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_cycles_between_top_level_modules() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in edges() {
        let (Some(a), Some(b)) = (e.from.first(), e.to.first()) else {
            continue;
        };
        if a != b {
            graph.entry(a.clone()).or_default().insert(b.clone());
        }
    }
    assert_eq!(find_cycle(&graph), None, "modules import each other");
}

#[test]
fn no_cycles_between_sibling_files() {
    // Within one folder: `cli::certify` -> `cli::commands` -> `cli::certify` is a cycle;
    // a file using its parent module's items (`super::EXIT_OK`) is not.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in edges() {
        if e.from.len() < 2 || e.to.len() < e.from.len() {
            continue;
        }
        let parent = &e.from[..e.from.len() - 1];
        if starts(
            &e.to,
            &parent.iter().map(String::as_str).collect::<Vec<_>>(),
        ) {
            let a = e.from.join("::");
            let b = e.to[..e.from.len()].join("::");
            if a != b {
                graph.entry(a).or_default().insert(b);
            }
        }
    }
    assert_eq!(
        find_cycle(&graph),
        None,
        "files in one folder import each other"
    );
}

#[test]
fn the_scanner_sees_edges() {
    // Guards the guard: the rules above pass vacuously if nothing is found.
    let all = edges();
    assert!(
        all.iter()
            .any(|e| starts(&e.from, &["run"]) && starts(&e.to, &["suite"]))
    );
    assert!(
        all.iter()
            .any(|e| starts(&e.from, &["cli", "certify"]) && starts(&e.to, &["cli", "common"]))
    );
}
