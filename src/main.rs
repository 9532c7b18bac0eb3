//! The `pedestal` binary: parse arguments, run one command, map the outcome to an exit code.

mod cli;

/// mimalloc instead of the system allocator: a plan builds and drops hundreds of thousands of
/// small attribute maps and strings, and glibc's malloc and free were a third of its profile.
/// Its version 2 (the `v2` feature), not 3: measured on the same 10,000-resource stack, version
/// 3 committed three times the memory the heap used (79 MB for a validate whose heap peaks at
/// 26 MB), and on a virtual machine every page first touched is dear. With version 2 that plan
/// takes about a fifth less time (median of 20 interleaved runs 0.081 against 0.104 s) at less
/// peak memory (89 against 94 MB), and a validate 0.044 against 0.054 s. It is built with
/// slices of 16 KiB instead of 64 KiB (`.cargo/config.toml`), so each size class of each thread
/// starts on a smaller page; its other defaults are kept:
/// transparent huge pages where the host enables them for `madvise` (a seventh of the page
/// faults), and freed memory returned after 10 ms (but for the commands that end as soon as
/// they have printed: [`keep_freed_memory`]). A pool for medium blocks in front of it cost
/// time with 16 KiB slices and was removed (`docs/performance.md` has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

    /// `mi_heap_area_t` (`mimalloc.h`, version 2): one page of blocks of one size. The layout
    /// is mimalloc's; the test reads two of its fields.
    #[repr(C)]
    #[allow(dead_code)]
    struct HeapArea {
        blocks: *mut std::ffi::c_void,
        reserved: usize,
        committed: usize,
        used: usize,
        block_size: usize,
        full_block_size: usize,
        heap_tag: std::ffi::c_int,
    }

    type Visitor = unsafe extern "C" fn(
        heap: *const std::ffi::c_void,
        area: *const HeapArea,
        block: *mut std::ffi::c_void,
        block_size: usize,
        arg: *mut std::ffi::c_void,
    ) -> bool;

    unsafe extern "C" {
        fn mi_heap_get_default() -> *mut std::ffi::c_void;
        fn mi_heap_visit_blocks(
            heap: *const std::ffi::c_void,
            visit_blocks: bool,
            visitor: Visitor,
            arg: *mut std::ffi::c_void,
        ) -> bool;
    }

    /// Records the block size and reserved bytes of each page visited.
    unsafe extern "C" fn record_area(
        _heap: *const std::ffi::c_void,
        area: *const HeapArea,
        _block: *mut std::ffi::c_void,
        _block_size: usize,
        arg: *mut std::ffi::c_void,
    ) -> bool {
        // SAFETY: mimalloc passes a valid area; `arg` is the vector the test lent it.
        unsafe {
            let pages = &mut *arg.cast::<Vec<(usize, usize)>>();
            if pages.len() == pages.capacity() {
                return false;
            }
            pages.push(((*area).block_size, (*area).reserved));
        }
        true
    }

    #[test]
    fn mimalloc_is_built_with_small_pages_of_16_kib() {
        // A thread of its own, so that its heap is fresh: its one page of 32-byte blocks spans
        // a whole small page: 16 KiB with the build's `MI_SEGMENT_SLICE_SHIFT=14`
        // (`.cargo/config.toml`), 64 KiB without it.
        let pages = std::thread::spawn(|| {
            let block: Vec<u64> = Vec::with_capacity(4);
            // Room for every page up front: the visitor must not allocate while mimalloc walks
            // the heap.
            let mut pages: Vec<(usize, usize)> = Vec::with_capacity(256);
            // SAFETY: the thread's own heap, visited from the thread, by a visitor that only
            // reads the areas and writes within `pages`' capacity; `pages` outlives the call.
            unsafe {
                mi_heap_visit_blocks(
                    mi_heap_get_default(),
                    false,
                    record_area,
                    (&raw mut pages).cast(),
                );
            }
            drop(block);
            pages
        })
        .join()
        .unwrap();
        let reserved: Vec<usize> = pages
            .iter()
            .filter(|(block_size, _)| *block_size == 32)
            .map(|(_, reserved)| *reserved)
            .collect();
        // A page holds as many blocks as fit after its header (the first page of a segment
        // holds fewer), so its reserved bytes are a little under the page's size. A page of a
        // dead thread's heap may have been taken over as well; every one is small.
        assert!(!reserved.is_empty(), "pages: {pages:?}");
        assert!(
            reserved.iter().all(|r| (12 * 1024..=16 * 1024).contains(r)),
            "pages: {pages:?}"
        );
    }
}
