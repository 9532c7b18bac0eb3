//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;

/// mimalloc instead of the system allocator: a plan builds and drops hundreds of thousands of
/// small attribute maps and strings, and glibc's malloc and free were a third of its profile.
/// Its version 2 (the `v2` feature), not 3: measured on the same 10,000-resource stack, version
/// 3 committed three times the memory the heap used (79 MB for a validate whose heap peaks at
/// 26 MB), and on a virtual machine every page first touched is dear. With version 2 that plan
/// takes about a fifth less time (median of 20 interleaved runs 0.081 against 0.104 s) at less
/// peak memory (89 against 94 MB), and a validate 0.044 against 0.054 s. Its defaults are kept:
/// transparent huge pages where the host enables them for `madvise` (a seventh of the page
/// faults), and freed memory returned after 10 ms.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
