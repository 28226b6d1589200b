//! apiconform: an API conformance test harness.
//!
//! The pipeline is plain data all the way: [`spec`] loads an OpenAPI document,
//! [`suite`] loads case files, [`run`] executes them and emits
//! [`event::Event`]s, [`check`] holds the automatic conformance checks, and
//! reporters in [`report`] render the events. See ARCHITECTURE.md. [`testing`] turns cases into
//! `cargo test` trials.

pub mod baseline;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod diag;
pub mod event;
/// Generated requests from the spec (in `src/gen/`; `gen` is a reserved word in Rust 2024).
#[path = "gen/mod.rs"]
pub mod generate;
pub mod input;
pub mod redact;
pub mod report;
pub mod result;
pub mod run;
pub mod serve;
pub mod snapshot;
pub mod spec;
pub mod suite;
pub mod testing;
pub mod tls;
pub mod yaml;

/// Names of the bundled reference servers (`server:` in a suite file).
pub fn serve_names() -> &'static [&'static str] {
    &["enablenow", "mycloud"]
}
