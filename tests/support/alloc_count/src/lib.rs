//! A counting wrapper around the system allocator, for tests that prove code paths do
//! not allocate. It lives in its own crate because implementing `GlobalAlloc` needs
//! `unsafe`, which trackwire's lints forbid in every target of the package.
//!
//! Install it in a test with
//! `#[global_allocator] static A: trackwire_alloc_count::Counting = trackwire_alloc_count::Counting;`
//! and measure with [`count`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Per thread: the test harness allocates on its own threads while a test runs, and
    // only the measured thread's allocations count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: allocations during thread teardown are simply not counted.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get().wrapping_add(1)));
}

fn current() -> usize {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// The system allocator, counting every allocation and reallocation.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the number of allocations this thread made
/// meanwhile.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = current();
    let r = f();
    (r, current().wrapping_sub(before))
}
