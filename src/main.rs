//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;

/// mimalloc instead of the system allocator: a plan builds and drops hundreds of thousands of
/// small attribute maps and strings, and glibc's malloc and free were a third of its profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
