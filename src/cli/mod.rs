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
mod profile;
mod reports;
mod scaffold;
mod shrink;
mod workflow;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use args::Cli;
pub use profile::schema_json as profile_schema_json;

/// Exit code: every case passed (or nothing to do).
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one case failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or bad input (spec, case file, variables).
pub const EXIT_INPUT: u8 = 2;

/// Entry point of the `apiconform` binary.
pub fn main() -> ExitCode {
    // The matches are kept: they tell a flag the user gave from a
    // built-in default, which a profile may replace.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    crate::spec::skip_teardown();
    if let Some(limit) = cli.max_input_size {
        crate::input::set_limit(limit);
    }
    if let Err(e) = profile::apply(&mut cli.command, &matches) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_INPUT);
    }
    ExitCode::from(commands::dispatch(cli))
}
