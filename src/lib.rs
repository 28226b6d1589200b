//! apiconform: an API conformance test harness.
//!
//! The pipeline is plain data all the way: [`spec`] loads an OpenAPI document,
//! [`suite`] loads case files, [`run`] executes them and emits
//! [`event::Event`]s, [`check`] holds the automatic conformance checks, and
//! reporters in [`report`] render the events. See ARCHITECTURE.md. [`testing`] turns cases into
//! `cargo test` trials.

// `println!` and `eprintln!` panic when their stream is gone (`apiconform
// run ... 2>&1 | head`): the panic then exits 101 and can skip cleanup.
// These shadow the std macros in every module of the crate; a write to a
// closed stream is dropped, and the run goes on to write its reports and
// exit with its own code.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

pub mod alloc;
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
