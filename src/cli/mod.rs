//! The command line: parses arguments, turns library errors into
//! diagnostics, and maps outcomes to exit codes (0 passed, 1 a case failed,
//! 2 usage or input error).

mod args;
mod certify;
mod commands;
mod common;
mod findings;
mod fuzz;
mod net;
mod reports;
mod scaffold;
mod workflow;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit code: every case passed (or nothing to do).
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one case failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or bad input (spec, case file, variables).
pub const EXIT_INPUT: u8 = 2;

/// Entry point of the `apiconform` binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    if let Some(limit) = cli.max_input_size {
        crate::input::set_limit(limit);
    }
    ExitCode::from(commands::dispatch(cli))
}
