//! The bundled suites as `cargo test` trials, one per case, named
//! `suite::case name`:
//!
//! ```text
//! cargo test --test conformance -- --list
//! cargo test --test conformance -- lifecycle --test-threads 4
//! APICONFORM_BASE_URL=https://staging.example.com cargo test --test conformance
//! ```
//!
//! Suites come from `APICONFORM_SUITES` (default `cases`); the target from
//! `APICONFORM_BASE_URL`, else each suite's embedded reference server. See
//! [`apiconform::testing`].

fn main() -> std::process::ExitCode {
    apiconform::testing::main()
}
