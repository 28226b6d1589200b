//! Spec loading: a generated description of Microsoft Graph's shape (about
//! 50 MB, 20,000 operations, 70,000 schemas; see `graph_shape.rs`) and
//! GitHub's REST API description (13 MB, 1,223 operations, OpenAPI 3.0.3),
//! each loaded, indexed, and every request and response validator compiled,
//! in a process of its own. GitHub's file is fetched, never committed:
//!
//!     benches/fetch-github-spec.sh      # optional
//!     cargo bench --bench spec_load     # or: cargo bench --bench spec_load -- FILE
//!
//! Prints the time of each phase and the peak RSS.

#[global_allocator]
static GLOBAL: apiconform::alloc::MiMalloc = apiconform::alloc::MiMalloc;

#[path = "support/graph_shape.rs"]
mod graph_shape;

use std::path::PathBuf;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// The specs measured when none is named: the generated Graph-shaped one
/// (written on first use) and GitHub's, if fetched.
fn default_specs() -> Vec<PathBuf> {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/data");
    let graph = data.join("graph-shaped.json");
    if !graph.exists() {
        let _ = std::fs::create_dir_all(&data);
        let started = Instant::now();
        if let Err(e) = graph_shape::generate(&graph) {
            eprintln!("cannot write {}: {e}", graph.display());
            std::process::exit(2);
        }
        eprintln!(
            "generated {} in {:.1} s",
            graph.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let mut specs = vec![graph];
    let github = data.join("package/generated/api.github.com.json");
    if github.exists() {
        specs.push(github);
    } else {
        eprintln!(
            "{} is missing: run benches/fetch-github-spec.sh to measure GitHub's description too",
            github.display()
        );
    }
    specs
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--generate FILE`: only write the Graph-shaped description.
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let Some(out) = args.get(i + 1) else {
            eprintln!("--generate needs a file name");
            std::process::exit(2);
        };
        if let Err(e) = graph_shape::generate(std::path::Path::new(out)) {
            eprintln!("cannot write {out}: {e}");
            std::process::exit(2);
        }
        return;
    }
    let named = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--for"))
        .map(|(_, a)| PathBuf::from(a));
    let Some(path) = named else {
        // One process per spec, so each peak RSS is its own.
        let Ok(exe) = std::env::current_exe() else {
            eprintln!("cannot find the benchmark executable");
            std::process::exit(2);
        };
        for spec in default_specs() {
            let mut runs = vec![vec![spec.as_os_str().to_owned()]];
            if let Some(id) = first_operation_id(&spec) {
                runs.push(vec!["--for".into(), id.into(), spec.as_os_str().to_owned()]);
            }
            for args in runs {
                let status = std::process::Command::new(&exe).args(&args).status();
                if !status.is_ok_and(|s| s.success()) {
                    std::process::exit(1);
                }
            }
        }
        return;
    };
    // `--for ID`: load the spec as `run` does for a suite naming only that
    // operation (`spec::load_for`: the others outlined).
    let wanted = args.iter().position(|a| a == "--for").map(|i| {
        let mut wanted = apiconform::spec::Wanted::default();
        wanted.ids.extend(args.get(i + 1).cloned());
        wanted
    });
    measure(&path, wanted.as_ref());
}

/// The first operationId of a JSON description (read outside the measured
/// process), for the `--for` run.
fn first_operation_id(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc.get("paths")?.as_object()?.values().find_map(|item| {
        item.as_object()?
            .values()
            .find_map(|op| Some(op.get("operationId")?.as_str()?.to_string()))
    })
}

fn measure(path: &std::path::Path, wanted: Option<&apiconform::spec::Wanted>) {
    if !path.exists() {
        eprintln!("{} is missing", path.display());
        std::process::exit(2);
    }
    let size_mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6);
    let started = Instant::now();
    let (spec, phases) = apiconform::spec::load_with_phases(path, wanted);
    let spec = match spec {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            std::process::exit(1);
        }
    };
    let loaded = started.elapsed();
    for (name, took) in &phases.0 {
        println!("  {name:<18} {:>8.1} ms", took.as_secs_f64() * 1000.0);
    }
    // What `run` needs for its first response: the validators of one
    // operation, focused on it as `run` focuses on its selected cases'.
    let first = match wanted {
        Some(w) => spec
            .operations
            .iter()
            .position(|o| o.id.as_ref().is_some_and(|id| w.ids.contains(id))),
        None => spec.operations.iter().position(|o| {
            o.responses
                .iter()
                .any(|r| r.content.iter().any(|m| m.schema.is_some()))
        }),
    };
    if let Some(index) = first {
        spec.focus(&[apiconform::spec::OperationId(index)]);
        let op = &spec.operations[index];
        for r in &op.responses {
            for m in &r.content {
                if let Some(id) = m.schema {
                    let _ = spec.validator(id);
                }
            }
        }
    }
    let first_ready = started.elapsed();
    let rss_first = peak_rss_mb();
    if let Some(id) = first.and_then(|i| spec.operations[i].id.as_ref())
        && wanted.is_some()
    {
        println!(
            "{} ({size_mb:.1} MB), loaded for `{id}` ({}):",
            path.display(),
            match spec.is_outline() {
                true => "the other operations outlined",
                false => "whole: it cannot be outlined",
            }
        );
        println!(
            "load + index:        {:>8.1} ms",
            loaded.as_secs_f64() * 1000.0
        );
        println!(
            "one operation ready: {:>8.1} ms (peak RSS {rss_first:.1} MB)",
            first_ready.as_secs_f64() * 1000.0
        );
        return;
    }
    let compile_started = Instant::now();
    let failures = spec.compile_all();
    let compiled = compile_started.elapsed();
    println!(
        "{} ({size_mb:.1} MB): OpenAPI {}, {} operations, {} schemas, {} warnings",
        path.display(),
        spec.version,
        spec.operations.len(),
        spec.schema_count(),
        spec.warnings.len()
    );
    println!(
        "load + index:        {:>8.1} ms",
        loaded.as_secs_f64() * 1000.0
    );
    println!(
        "one operation ready: {:>8.1} ms (peak RSS so far {rss_first:.1} MB)",
        first_ready.as_secs_f64() * 1000.0
    );
    println!(
        "compile validators:  {:>8.1} ms ({} failed)",
        compiled.as_secs_f64() * 1000.0,
        failures.len()
    );
    println!(
        "total:               {:>8.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    println!("peak RSS:            {:>8.1} MB", peak_rss_mb());
}
