//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
