//! `apiconform scaffold`: writes a starting suite from a spec (one case per
//! operation x documented status not yet covered), checks that it loads,
//! and only then puts it in place (temporary file + rename), so a failure
//! never leaves a half-written or clobbered file behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::EXIT_OK;
use super::args::ScaffoldArgs;
use super::common::{external_vars, out, usage_error};
use crate::coverage::{PairState, SpecCoverage};
use crate::generate::plan::Pin;
use crate::generate::scaffold::{self, Options};
use crate::spec::Spec;
use crate::suite::{self, LoadOptions};

/// What a bundled reference server needs in a scaffolded suite: its name,
/// the variable prefix its bundled suites use, its development token
/// (public), and the values its business rules fix.
struct Bundled {
    server: &'static str,
    prefix: &'static str,
    token: &'static str,
    variables: &'static [(&'static str, &'static str)],
    pins: &'static [&'static str],
}

const BUNDLED: &[(&str, Bundled)] = &[
    (
        "EnableNow Sharing API",
        Bundled {
            server: "enablenow",
            prefix: "enablenow",
            token: "enablenow-dev-token",
            variables: &[],
            pins: &[],
        },
    ),
    (
        "mycloud Shares API",
        Bundled {
            server: "mycloud",
            prefix: "mycloud",
            token: "mycloud-dev-token",
            // A share's ownerId must be the caller [M9].
            variables: &[("mycloud_user_id", "user-1001")],
            pins: &["body.ownerId={{ mycloud_user_id }}"],
        },
    ),
];

pub fn scaffold_command(args: ScaffoldArgs) -> u8 {
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Usage(e)) => usage_error(&e),
        Err(Failure::Input(d)) => {
            eprintln!("{d}");
            eprintln!(
                "{}; nothing was written",
                crate::diag::plural(d.len(), "problem")
            );
            super::EXIT_INPUT
        }
    }
}

enum Failure {
    Usage(String),
    Input(crate::diag::Diagnostics),
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Usage(e)
    }
}

fn run(args: &ScaffoldArgs) -> Result<u8, Failure> {
    check_out(&args.out, args.force)?;
    let spec = crate::spec::load(&args.spec).map_err(Failure::Input)?;
    // Even with --force, the suite never replaces what it is made from.
    let mut inputs: Vec<std::path::PathBuf> =
        spec.documents.iter().map(|d| d.file.clone()).collect();
    inputs.extend(args.coverage_json.clone());
    super::reports::refuse_overwriting_inputs(&[("--out", &args.out)], &inputs)?;
    let bundled = bundled_of(&spec, args.server.as_deref())?;
    let covered = match &args.coverage_json {
        Some(path) => covered_pairs(path, &spec)?,
        None => BTreeSet::new(),
    };
    let mut pins = Vec::new();
    for s in &args.set {
        pins.push(Pin::parse(s).map_err(|e| format!("--set: {e}"))?);
    }
    let mut variables = Vec::new();
    if let Some(b) = bundled {
        for default in b.pins {
            let pin = Pin::parse(default).map_err(|e| e.to_string())?;
            if !pins.iter().any(|p| p.target == pin.target) {
                pins.push(pin);
            }
        }
        variables.extend(
            b.variables
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string())),
        );
    }
    let options = Options {
        spec_ref: spec_reference(&args.spec, &args.out)?,
        name: format!("{}-scaffold", slug(&spec.title)),
        server: bundled.map(|b| b.server.to_string()),
        covered,
        coverage_source: args.coverage_json.as_ref().map(|p| p.display().to_string()),
        seed: args.seed,
        pins,
        variable_prefix: bundled.map(|b| b.prefix.to_string()),
        token_default: bundled.map(|b| b.token.to_string()),
        variables,
    };
    let written = scaffold::scaffold(&spec, &options).map_err(|e| e.to_string())?;
    let pinned = !args.set.is_empty();
    if written.runnable + written.todo == 0 {
        out(&format!(
            "nothing to scaffold: every documented status of {} is covered in {}; {} not written",
            spec.title,
            options.coverage_source.as_deref().unwrap_or("the coverage"),
            args.out.display()
        ));
        return Ok(EXIT_OK);
    }
    put_in_place(&args.out, &written.yaml, pinned)?;
    out(&format!(
        "wrote {}: {} ({} runnable, {} TODO{})",
        args.out.display(),
        crate::diag::plural(written.runnable + written.todo, "case"),
        written.runnable,
        written.todo,
        if args.coverage_json.is_some() {
            format!(
                "; {} already covered",
                crate::diag::plural(written.covered, "pair")
            )
        } else {
            String::new()
        }
    ));
    let run_hint = if options.server.is_some() {
        format!("apiconform run {}", args.out.display())
    } else {
        format!("apiconform run {} --base-url URL", args.out.display())
    };
    out(&format!("next: {run_hint}"));
    Ok(EXIT_OK)
}

/// Refuses an existing `--out` (unless `--force`) and a folder that does
/// not exist, before anything is generated.
fn check_out(path: &Path, force: bool) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "--out {}: is a folder; give a file name",
            path.display()
        ));
    }
    if path.exists() && !force {
        return Err(format!(
            "--out {}: the file exists (pass --force to replace it)",
            path.display()
        ));
    }
    let parent = parent_of(path);
    if !parent.is_dir() {
        return Err(format!(
            "--out {}: folder {} does not exist",
            path.display(),
            parent.display()
        ));
    }
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The bundled server a spec belongs to: `--server`, else by its title.
fn bundled_of(spec: &Spec, server: Option<&str>) -> Result<Option<&'static Bundled>, String> {
    if let Some(name) = server {
        return BUNDLED
            .iter()
            .map(|(_, b)| b)
            .find(|b| b.server == name)
            .map(Some)
            .ok_or_else(|| {
                let known: Vec<&str> = BUNDLED.iter().map(|(_, b)| b.server).collect();
                format!(
                    "--server: unknown reference server `{name}` (known: {})",
                    known.join(", ")
                )
            });
    }
    Ok(BUNDLED
        .iter()
        .find(|(title, _)| *title == spec.title)
        .map(|(_, b)| b))
}

/// The covered `(METHOD /path, status)` pairs of this spec in a previous
/// run's coverage: a `--coverage-json` file or a `--json` report.
fn covered_pairs(path: &Path, spec: &Spec) -> Result<BTreeSet<(String, String)>, String> {
    let bad = |why: String| format!("--coverage-json {}: {why}", path.display());
    let text = crate::input::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "not JSON ({}:{}:{}: {e})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    // A report also has a top-level `specs` (the spec files): its table
    // is under `coverage`.
    let specs = value
        .pointer("/coverage/specs")
        .or_else(|| value.get("specs"))
        .cloned()
        .ok_or_else(|| {
            bad("no coverage table (expected `specs`, as --coverage-json writes, or a --json report's `coverage`)".into())
        })?;
    let tables: Vec<SpecCoverage> =
        serde_json::from_value(specs).map_err(|e| bad(format!("not a coverage table: {e}")))?;
    let mine = std::fs::canonicalize(&spec.path).ok();
    let matching: Vec<&SpecCoverage> = tables
        .iter()
        .filter(|t| {
            t.title == spec.title
                || (mine.is_some() && std::fs::canonicalize(&t.spec_file).ok() == mine)
        })
        .collect();
    if matching.is_empty() {
        let seen: Vec<&str> = tables.iter().map(|t| t.title.as_str()).collect();
        return Err(bad(format!(
            "has no coverage of `{}` (it covers: {})",
            spec.title,
            if seen.is_empty() {
                "nothing".to_string()
            } else {
                seen.join(", ")
            }
        )));
    }
    Ok(matching
        .iter()
        .flat_map(|t| &t.rows)
        .filter(|r| r.state == PairState::Covered)
        .map(|r| (r.method_path.clone(), r.status.clone()))
        .collect())
}

/// The spec's path relative to the folder of the suite file.
fn spec_reference(spec: &Path, out: &Path) -> Result<String, String> {
    let is_url = spec.to_str().is_some_and(crate::spec::source::is_url);
    if is_url {
        return Ok(spec.display().to_string());
    }
    let spec_abs =
        std::fs::canonicalize(spec).map_err(|e| format!("--spec {}: {e}", spec.display()))?;
    let dir = std::fs::canonicalize(parent_of(out))
        .map_err(|e| format!("--out {}: {e}", out.display()))?;
    let rel = relative(&spec_abs, &dir);
    Ok(rel.to_string_lossy().replace('\\', "/"))
}

/// `target` relative to folder `base` (both absolute).
fn relative(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Writes beside `out`, loads the result as a suite (it must pass the
/// same checks as `apiconform check`), then renames it over `out`. On any
/// failure the temporary file is removed and `out` is untouched.
fn put_in_place(out: &Path, yaml: &str, pinned: bool) -> Result<(), Failure> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scaffold.yaml".into());
    let temp = parent_of(out).join(format!(".{name}.{}.tmp.yaml", std::process::id()));
    let result = write_checked(&temp, out, yaml, pinned);
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn write_checked(temp: &Path, out: &Path, yaml: &str, pinned: bool) -> Result<(), Failure> {
    std::fs::write(temp, yaml).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    let external = external_vars(&[], &[], &[]).map_err(Failure::Input)?;
    if let Err(d) = suite::load_paths(
        &[temp.to_path_buf()],
        &LoadOptions {
            external,
            outline_specs: false,
        },
    ) {
        let why = if pinned {
            "check the --set values"
        } else {
            "an internal error, please report it"
        };
        return Err(Failure::Usage(format!(
            "the scaffolded suite does not load ({why}); nothing was written:\n{d}"
        )));
    }
    std::fs::rename(temp, out).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(())
}

/// `EnableNow Sharing API` -> `enablenow-sharing-api`.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "api".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_slugs() {
        assert_eq!(
            relative(Path::new("/a/specs/x.yaml"), Path::new("/a/cases/new")),
            PathBuf::from("../../specs/x.yaml")
        );
        assert_eq!(
            relative(Path::new("/a/x.yaml"), Path::new("/a")),
            PathBuf::from("x.yaml")
        );
        assert_eq!(slug("EnableNow Sharing API"), "enablenow-sharing-api");
        assert_eq!(slug("  "), "api");
    }
}
