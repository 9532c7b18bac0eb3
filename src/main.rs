//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;
mod medium;

/// mimalloc instead of the system allocator: a plan builds and drops hundreds of thousands of
/// small attribute maps and strings, and glibc's malloc and free were a third of its profile.
/// Its version 2 (the `v2` feature), not 3: measured on the same 10,000-resource stack, version
/// 3 committed three times the memory the heap used (79 MB for a validate whose heap peaks at
/// 26 MB), and on a virtual machine every page first touched is dear. With version 2 that plan
/// takes about a fifth less time (median of 20 interleaved runs 0.081 against 0.104 s) at less
/// peak memory (89 against 94 MB), and a validate 0.044 against 0.054 s. Its defaults are kept:
/// transparent huge pages where the host enables them for `madvise` (a seventh of the page
/// faults), and freed memory returned after 10 ms (but for the commands that end as soon as
/// they have printed: [`keep_freed_memory`]). Blocks of medium size are pooled in front of it
/// ([`medium`]).
#[global_allocator]
static ALLOCATOR: medium::Allocator = medium::Allocator;

/// mimalloc's option `purge_delay` (its place in `mi_option_e`, `mimalloc.h`, version 2).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    /// Sets one of mimalloc's options (`mimalloc.h`), here taken from the library the
    /// `mimalloc` crate links in.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Keeps freed memory in the process instead of returning it to the system after 10 ms, for a
/// command that ends as soon as its work is done and has no memory to spare for later: memory
/// returned and then allocated again is touched afresh, which on a virtual machine is dear.
/// A 10,000-resource validate takes about 6% less time (median of 20 interleaved runs 0.045
/// against 0.048 s) for 1 MB more peak memory, and a 10,000-resource plan about 7% (medians of
/// 30 and 40 interleaved runs 0.093 against 0.102 s and 0.116 against 0.124 s) for none.
pub(crate) fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores the value in mimalloc's option table; mimalloc reads
    // the purge delay each time it considers purging, so setting it after start-up applies.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() {
    let code = cli::main();
    // Everything the command does is done: its files are written and closed, its lock is
    // released, stderr is unbuffered, and stdout is flushed here. What exiting normally would
    // add is only cost (about 0.7 ms of a 1,000-resource plan): the runtime's threads woken to
    // stop, and mimalloc's exit handler walking every page of the heap to free it.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    // SAFETY: `_exit` ends the process at once; no Rust value is used after it.
    unsafe { libc::_exit(i32::from(code)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    }

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads and writes of mimalloc's option table.
        unsafe {
            let defaults = std::env::vars_os()
                .all(|(name, _)| !name.to_string_lossy().starts_with("MIMALLOC_"));
            if defaults {
                // Version 2's defaults around the index used: `eager_commit_delay` (1), then
                // `purge_delay` (10 ms), then `use_numa_nodes` (0). No other place in the
                // options holds that sequence, so the index is the purge delay's.
                let around = (MI_OPTION_PURGE_DELAY - 1..=MI_OPTION_PURGE_DELAY + 1)
                    .map(|option| mi_option_get(option))
                    .collect::<Vec<_>>();
                assert_eq!(around, [1, 10, 0]);
            }
            keep_freed_memory();
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), -1);
        }
    }
}
