//! Issue 11 item 5: `in_live_pool` checked a liveness bit and then read the pool's
//! control page, racing a pool dropped on another thread (the page could be unmapped
//! between the two: a fault in a safe function such as `raw::offset_of`). Regions of
//! closed pools now keep their control page mapped and are reused, so the read is
//! always of mapped memory — and opening and closing pools forever does not use up the
//! address space.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use pmem_core::Pool;

#[test]
fn addresses_of_pools_closed_on_another_thread_can_be_asked_about_safely() {
    let addr = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let asker = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut answers = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let a = addr.load(Ordering::Acquire) as *const u8;
                // Safe functions, any address: must answer, never fault.
                answers += u64::from(pmem_core::raw::offset_of(a).is_some());
                answers += u64::from(pmem_core::raw::in_transaction(a));
            }
            answers
        })
    };
    for _ in 0..3_000 {
        let pool = Pool::<[u64; 8]>::volatile().unwrap();
        let a = pool.read(|r| std::ptr::from_ref(r) as usize).unwrap();
        addr.store(a, Ordering::Release);
        drop(pool); // the asker may be between its check and its read right now
    }
    stop.store(true, Ordering::Relaxed);
    asker.join().expect("the asking thread never faults");
}

/// A closed pool's region keeps its control page mapped, so the kernel cannot hand its
/// range out again: unless pmem reuses retired regions itself, every pool ever opened
/// would keep a region (there are only a few hundred of them).
#[test]
fn closed_pools_give_their_address_space_to_the_next_ones() {
    let mut bases = std::collections::HashSet::new();
    for _ in 0..2_000 {
        let pool = Pool::<u64>::volatile().unwrap();
        let a = pool.read(|r| std::ptr::from_ref(r) as usize).unwrap();
        bases.insert(a);
    }
    // Other tests in this binary may hold a few regions; far fewer than 2,000.
    assert!(
        bases.len() <= 8,
        "{} distinct regions for 2,000 pools",
        bases.len()
    );
}
