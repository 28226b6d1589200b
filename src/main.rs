// mimalloc: allocations and cross-thread frees (results are built on runtime
// workers and dropped on the reporter thread) cost less than with glibc's
// allocator; measured in benches/throughput.rs.
#[global_allocator]
static GLOBAL: apiconform::alloc::MiMalloc = apiconform::alloc::MiMalloc;

fn main() -> std::process::ExitCode {
    apiconform::cli::main()
}
