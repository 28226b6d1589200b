//! The process allocator: mimalloc, asked for plain blocks whenever the
//! alignment is one every mimalloc block already has.
//!
//! The `mimalloc` crate's allocator sends every request through
//! `mi_malloc_aligned`, whose fast path needs a free block of the size at
//! hand; otherwise it over-allocates and aligns by hand. A run allocates
//! many small short-lived values (parsed bodies, results), so that slow path
//! was a few thousand instructions per step (callgrind, benches/throughput.rs).
//! `mi_malloc` gives blocks aligned to 16 bytes (8 for blocks under 16), the
//! rule the standard library's own allocator relies on for `malloc`.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as ffi;

/// The largest alignment every `mi_malloc` block of at least that size has
/// (`MI_MAX_ALIGN_SIZE` on 64-bit targets).
const PLAIN_ALIGN: usize = 16;

/// mimalloc as the global allocator (`#[global_allocator]` in the binary
/// and the benches).
pub struct MiMalloc;

/// Whether a plain block satisfies the layout: its alignment is at most
/// 16 and at most its size (a block is aligned to its size class's word
/// multiple, so a smaller block than the alignment could be misaligned).
fn plain(layout: Layout) -> bool {
    layout.align() <= PLAIN_ALIGN && layout.align() <= layout.size()
}

// SAFETY: every pointer comes from mimalloc and goes back to it; a plain
// call is made only when `plain` holds, so the block meets the layout's
// alignment, and otherwise the aligned calls are used.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions accept any size.
        unsafe {
            if plain(layout) {
                ffi::mi_malloc(layout.size()).cast()
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if plain(layout) {
                ffi::mi_zalloc(layout.size()).cast()
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator (the GlobalAlloc
        // contract), so by mimalloc, which frees any of its blocks.
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align(new_size, layout.align());
        // SAFETY: `ptr` is a block of this allocator; the plain call keeps
        // 16-byte alignment when the new size is at least the alignment.
        unsafe {
            if new.is_ok_and(plain) {
                ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Allocates, writes, grows, shrinks and frees blocks of many sizes and
    /// alignments, checking every address meets its alignment.
    #[test]
    fn blocks_meet_their_alignment_through_alloc_realloc_and_free() {
        let a = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 128, 4096] {
            for size in [1usize, 3, 8, 15, 16, 24, 40, 100, 1000, 5000, 70_000] {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: a non-zero size; the block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xab, size);
                    let grown = a.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size} align {align}");
                    assert_eq!(*grown, 0xab);
                    assert_eq!(*grown.add(size - 1), 0xab);
                    let grown_layout = Layout::from_size_align(size * 3, align).expect("layout");
                    let shrunk = a.realloc(grown, grown_layout, 1);
                    assert_eq!(shrunk as usize % align, 0, "shrunk {size} align {align}");
                    assert_eq!(*shrunk, 0xab);
                    a.dealloc(shrunk, Layout::from_size_align(1, align).expect("layout"));
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
