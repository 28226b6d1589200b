//! Minimal entry point carrying only `serve` until the real CLI lands.

use clap::Parser;

use apiconform::serve::{ServeArgs, run_cli};

#[derive(Parser)]
#[command(name = "apiconform", version, about)]
enum Cmd {
    /// Run a reference server for a bundled API.
    Serve(ServeArgs),
}

fn main() -> std::process::ExitCode {
    let Cmd::Serve(args) = Cmd::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_cli(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
