//! Spec loading: GitHub's REST API description (13 MB, 1,223 operations,
//! OpenAPI 3.0.3) loaded, indexed, and every request and response validator
//! compiled. Fetch the file first (it is never committed):
//!
//!     benches/fetch-github-spec.sh
//!     cargo bench --bench spec_load
//!
//! Prints the time of each phase and the peak RSS.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("benches/data/package/generated/api.github.com.json")
        });
    if !path.exists() {
        eprintln!(
            "{} is missing: run benches/fetch-github-spec.sh first",
            path.display()
        );
        std::process::exit(2);
    }
    let started = Instant::now();
    let spec = match apiconform::spec::load(&path) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            std::process::exit(1);
        }
    };
    let loaded = started.elapsed();
    let compile_started = Instant::now();
    let failures = spec.compile_all();
    let compiled = compile_started.elapsed();
    println!(
        "{}: OpenAPI {}, {} operations, {} schemas",
        path.display(),
        spec.version,
        spec.operations.len(),
        spec.schema_count()
    );
    println!(
        "load + index:        {:>7.1} ms",
        loaded.as_secs_f64() * 1000.0
    );
    println!(
        "compile validators:  {:>7.1} ms ({} failed)",
        compiled.as_secs_f64() * 1000.0,
        failures.len()
    );
    println!(
        "total:               {:>7.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    println!("peak RSS:            {:>7.1} MB", peak_rss_mb());
}
