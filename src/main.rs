fn main() -> std::process::ExitCode {
    apiconform::cli::main()
}
