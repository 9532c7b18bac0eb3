//! The binary's allocator: mimalloc, with blocks of medium size (over 16 KiB, up to 128 KiB)
//! kept in one pool of their own: [`Allocator`].
//!
//! Why: mimalloc (version 2) gives each medium size class of each thread a page of 512 KiB of its
//! own, so a plan whose thirty-odd medium blocks (hash tables and vectors sized for a stack, a
//! few growing buffers) fall into a dozen classes spreads 1.5 MB over about 6 MB of pages. With
//! transparent huge pages every 2 MB touched is cleared in full, and on a virtual machine that
//! is the dearest thing a short command does. The pool carves its blocks one after the other
//! from 1 MiB chunks it takes from mimalloc, and keeps freed blocks for the next request of
//! their class.
//!
//! That was measured with mimalloc's default 64 KiB slices. The build now sets 16 KiB slices
//! (`.cargo/config.toml`), with which mimalloc's own size classes end at 16 KiB and a larger
//! block takes a span of slices rather than a share of a 512 KiB page; the pool was kept as it
//! is, and whether it still pays on that build has not been measured apart.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::Mutex;

use mimalloc::MiMalloc;

/// The largest block left to mimalloc's small pages, and the largest the pool serves; above it
/// mimalloc gives each block pages of its own (its "large" blocks).
const SMALL_MAX: usize = 16 * 1024;
const MEDIUM_MAX: usize = 128 * 1024;

/// The pool's block sizes, four per doubling as mimalloc's own classes (at most a quarter of a
/// block unused). Each is a multiple of 4 KiB, so every block of a chunk is aligned to 4 KiB.
const CLASSES: [usize; 12] = [
    20 << 10,
    24 << 10,
    28 << 10,
    32 << 10,
    40 << 10,
    48 << 10,
    56 << 10,
    64 << 10,
    80 << 10,
    96 << 10,
    112 << 10,
    128 << 10,
];

/// The largest alignment a block is certain to have.
const BLOCK_ALIGN: usize = 4096;

/// What the pool takes from mimalloc at a time.
const CHUNK: usize = 1 << 20;

/// mimalloc for everything but medium blocks, which come from the pool (see the module's doc).
pub struct Allocator;

/// Free blocks by class, each list threaded through its blocks' first word, and the part of the
/// current chunk not handed out yet.
struct Pool {
    free: [*mut u8; CLASSES.len()],
    next: *mut u8,
    end: *mut u8,
}

/// Only ever used under its mutex.
struct Shared(Mutex<Pool>);

// SAFETY: the pointers are to memory the pool owns; every use goes through the mutex.
unsafe impl Sync for Shared {}

static POOL: Shared = Shared(Mutex::new(Pool {
    free: [std::ptr::null_mut(); CLASSES.len()],
    next: std::ptr::null_mut(),
    end: std::ptr::null_mut(),
}));

/// The pool's class for a block of `layout`, when the pool serves it.
fn class(layout: Layout) -> Option<usize> {
    if layout.size() <= SMALL_MAX || layout.size() > MEDIUM_MAX || layout.align() > BLOCK_ALIGN {
        return None;
    }
    CLASSES.iter().position(|&size| size >= layout.size())
}

impl Pool {
    /// A block of class `c`, or null when mimalloc has no chunk to give.
    ///
    /// # Safety
    /// The pool's lists and chunk must be as this module leaves them.
    unsafe fn take(&mut self, c: usize) -> *mut u8 {
        let head = self.free[c];
        if !head.is_null() {
            // SAFETY: a free block's first word is the next free block of its class.
            self.free[c] = unsafe { head.cast::<*mut u8>().read() };
            return head;
        }
        let size = CLASSES[c];
        if (self.end as usize).saturating_sub(self.next as usize) < size {
            // The rest of the old chunk (under 128 KiB) is left unused.
            // SAFETY: a layout of non-zero size.
            let chunk =
                unsafe { MiMalloc.alloc(Layout::from_size_align_unchecked(CHUNK, BLOCK_ALIGN)) };
            if chunk.is_null() {
                return chunk;
            }
            self.next = chunk;
            // SAFETY: one past the end of the chunk just allocated.
            self.end = unsafe { chunk.add(CHUNK) };
        }
        let block = self.next;
        // SAFETY: `size` bytes remain in the chunk.
        self.next = unsafe { block.add(size) };
        block
    }

    /// Keeps `block`, of class `c`, for the next request of its class.
    ///
    /// # Safety
    /// `block` must have come from [`Pool::take`] for class `c` and be no longer in use.
    unsafe fn give(&mut self, c: usize, block: *mut u8) {
        // SAFETY: the block is at least a word long and aligned to 4 KiB.
        unsafe { block.cast::<*mut u8>().write(self.free[c]) };
        self.free[c] = block;
    }
}

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // Nothing under the lock can panic; a poisoned lock still holds a consistent pool.
    POOL.0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

// SAFETY: medium blocks come from the pool, whose blocks are at least as large and as aligned
// as asked and handed out once until freed; which of the two a block came from follows from its
// layout, which the caller passes back unchanged (as `GlobalAlloc` requires); all else is
// mimalloc's.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class(layout) {
            // SAFETY: the pool is only touched under its lock.
            Some(c) => unsafe { pool().take(c) },
            // SAFETY: as the caller promised.
            None => unsafe { MiMalloc.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class(layout).is_none() {
            // SAFETY: as the caller promised.
            return unsafe { MiMalloc.alloc_zeroed(layout) };
        }
        // SAFETY: as the caller promised; a block reused from the pool holds old bytes.
        unsafe {
            let block = self.alloc(layout);
            if !block.is_null() {
                block.write_bytes(0, layout.size());
            }
            block
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class(layout) {
            // SAFETY: a block of this layout came from the pool, for this class.
            Some(c) => unsafe { pool().give(c, ptr) },
            // SAFETY: as the caller promised.
            None => unsafe { MiMalloc.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller promises a valid layout of `new_size` with this alignment.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new)) {
            // SAFETY: as the caller promised.
            (None, None) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            // The block already has room.
            (Some(old), Some(c)) if old == c => ptr,
            // SAFETY: a new block, the bytes both hold copied, the old one freed.
            _ => unsafe {
                let block = self.alloc(new);
                if !block.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, block, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                block
            },
        }
    }
}

#[cfg(test)]
mod tests {
    //! The pool against what a program does with memory: vectors that grow through the medium
    //! sizes and back, zeroed blocks, alignments, and several threads at once.

    use super::*;

    #[test]
    fn medium_sizes_and_only_they_go_to_the_pool() {
        let at = |size, align| class(Layout::from_size_align(size, align).unwrap());
        assert_eq!(at(SMALL_MAX, 8), None);
        assert_eq!(at(SMALL_MAX + 1, 8), Some(0));
        assert_eq!(at(20 << 10, 8), Some(0));
        assert_eq!(at((20 << 10) + 1, 8), Some(1));
        assert_eq!(at(MEDIUM_MAX, 4096), Some(CLASSES.len() - 1));
        assert_eq!(at(MEDIUM_MAX + 1, 8), None);
        assert_eq!(at(32 << 10, 8192), None);
        assert!(CLASSES.windows(2).all(|w| w[0] < w[1]));
        assert!(CLASSES.iter().all(|c| c % BLOCK_ALIGN == 0));
    }

    #[test]
    fn a_freed_block_is_given_to_the_next_request_of_its_class() {
        let layout = Layout::from_size_align(30 << 10, 64).unwrap();
        // SAFETY: blocks allocated and freed with the layout they were asked with.
        unsafe {
            let a = Allocator.alloc(layout);
            let b = Allocator.alloc(layout);
            assert!(!a.is_null() && !b.is_null() && a != b);
            assert_eq!(a as usize % 64, 0);
            Allocator.dealloc(a, layout);
            // Other threads' tests share the pool: the block comes back unless one of them
            // took it meanwhile, and then it is still a different, usable block.
            let c = Allocator.alloc(layout);
            assert_ne!(c, b);
            c.write_bytes(7, layout.size());
            Allocator.dealloc(b, layout);
            Allocator.dealloc(c, layout);
        }
        // A pool of its own, which no other test touches: the freed block comes back, last
        // freed first, and blocks are carved one after the other.
        let mut pool = Pool {
            free: [std::ptr::null_mut(); CLASSES.len()],
            next: std::ptr::null_mut(),
            end: std::ptr::null_mut(),
        };
        // SAFETY: blocks taken and given back for the class they were taken for; the pool's
        // chunk is left allocated when it goes.
        unsafe {
            let (a, b) = (pool.take(3), pool.take(3));
            assert_eq!(b as usize - a as usize, CLASSES[3]);
            pool.give(3, a);
            pool.give(3, b);
            assert_eq!(pool.take(3), b);
            assert_eq!(pool.take(3), a);
            assert_eq!(pool.take(5), b.add(CLASSES[3]));
        }
    }

    #[test]
    fn growing_and_shrinking_keeps_the_bytes() {
        let mut v: Vec<u32> = Vec::new();
        for i in 0..200_000u32 {
            v.push(i);
        }
        assert!(v.iter().enumerate().all(|(i, &x)| x as usize == i));
        v.truncate(9_000);
        v.shrink_to_fit();
        assert!(v.iter().enumerate().all(|(i, &x)| x as usize == i));
        v.truncate(3_000);
        v.shrink_to_fit();
        assert!(v.iter().enumerate().all(|(i, &x)| x as usize == i));
        let layout = Layout::from_size_align(18 << 10, 8).unwrap();
        // SAFETY: each realloc is given the block's current layout.
        unsafe {
            let p = Allocator.alloc(layout);
            p.write_bytes(1, layout.size());
            // Within its class: the same block.
            assert_eq!(Allocator.realloc(p, layout, 19 << 10), p);
            let in_class = Layout::from_size_align(19 << 10, 8).unwrap();
            // To a small block and back up to a large one.
            let small = Allocator.realloc(p, in_class, 100);
            assert!(
                std::slice::from_raw_parts(small, 100)
                    .iter()
                    .all(|&b| b == 1)
            );
            let large = Allocator.realloc(small, Layout::from_size_align(100, 8).unwrap(), 1 << 20);
            assert!(
                std::slice::from_raw_parts(large, 100)
                    .iter()
                    .all(|&b| b == 1)
            );
            Allocator.dealloc(large, Layout::from_size_align(1 << 20, 8).unwrap());
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_when_reused() {
        let layout = Layout::from_size_align(64 << 10, 16).unwrap();
        // SAFETY: blocks allocated and freed with the layout they were asked with.
        unsafe {
            for _ in 0..4 {
                let p = Allocator.alloc(layout);
                p.write_bytes(0xAB, layout.size());
                Allocator.dealloc(p, layout);
                let z = Allocator.alloc_zeroed(layout);
                assert!(
                    std::slice::from_raw_parts(z, layout.size())
                        .iter()
                        .all(|&b| b == 0)
                );
                Allocator.dealloc(z, layout);
            }
        }
    }

    #[test]
    fn threads_share_the_pool_without_sharing_blocks() {
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                std::thread::spawn(move || {
                    for round in 0..200usize {
                        let size =
                            SMALL_MAX + 1 + (round * 977 + usize::from(t) * 4099) % MEDIUM_MAX;
                        let mut block = vec![t; size];
                        block.resize(size + 5_000, t);
                        assert!(block.iter().all(|&b| b == t), "another thread wrote here");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}
