//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;

/// mimalloc instead of the system allocator: a plan builds and drops hundreds of thousands of
/// small attribute maps and strings, and glibc's malloc and free were a third of its profile.
/// Transparent huge pages allowed (mimalloc asks for them on its arenas, where the host enables
/// them for `madvise`): a 10,000-resource plan takes about 3,000 page faults instead of 21,000,
/// which on a virtual machine whose every first touch of a page is dear saves a sixth of its
/// time, for about 15 MB more peak memory (91 instead of 76 MB; 30 instead of 19 MB at 1,000).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option `purge_delay` (its place in `mi_option_e`, `mimalloc.h`, in both the v2
/// and the v3 sources the `libmimalloc-sys` version in `Cargo.lock` builds).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// How long freed memory stays with the process before mimalloc returns it, in milliseconds.
/// mimalloc v3 waits a second, longer than a whole plan: the state file's text, the parsed TOML
/// and the read-ahead's scratch were all still counted at the plan's peak (about 100 MB instead
/// of 86 MB for 10,000 resources). 10 ms is v2's default, at no measurable cost in time.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

unsafe extern "C" {
    /// Sets one of mimalloc's options (`mimalloc.h`), here taken from the library the
    /// `mimalloc` crate links in.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

fn main() -> std::process::ExitCode {
    // SAFETY: `mi_option_set` only stores the value in mimalloc's option table; mimalloc reads
    // the purge delay each time it considers purging, so setting it after start-up applies.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    cli::main()
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
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                // v3's default purge delay, and no other option's: the index is right.
                assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            }
            mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), PURGE_DELAY_MS);
        }
    }
}
