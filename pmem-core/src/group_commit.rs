//! Group commit: many committers, one fdatasync.
//!
//! Committers append their log groups in sequence order under the pool's write lock and
//! publish the last appended sequence number (`appended`). Then, without the write lock,
//! each waits until its own number is durable. The first waiter to take `lock` becomes
//! the leader: it reads `appended` *before* syncing, syncs, and publishes that number as
//! `durable`, covering every group appended before its sync started. Waiters whose
//! number is covered return without a sync of their own; the others lead the next
//! round.
//!
//! Correctness rests on one order: a group is written to the log before its number is
//! stored in `appended` (Release), and the leader loads `appended` (Acquire) before
//! calling sync, so everything it publishes as durable was written before the sync
//! began. `tests` below check this under every interleaving with loom
//! (`RUSTFLAGS="--cfg loom" cargo test -p pmem-core --lib --release loom`).

#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex,
};
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex,
};

/// The group-commit state of one pool.
pub(crate) struct GroupCommit {
    lock: Mutex<()>,
    durable: AtomicU64,
    appended: AtomicU64,
}

impl GroupCommit {
    pub(crate) fn new(seq: u64) -> Self {
        GroupCommit {
            lock: Mutex::new(()),
            durable: AtomicU64::new(seq),
            appended: AtomicU64::new(seq),
        }
    }

    /// Starts over at `seq` (recovery, before any committer runs).
    pub(crate) fn reset(&self, seq: u64) {
        self.appended.store(seq, Ordering::Release);
        self.durable.store(seq, Ordering::Release);
    }

    /// Publishes that every group up to `seq` is written to the log.
    pub(crate) fn appended(&self, seq: u64) {
        self.appended.store(seq, Ordering::Release);
    }

    /// The highest sequence number known durable.
    pub(crate) fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Returns once group `seq` is durable, calling `sync` (at most once) if no other
    /// waiter's sync covered it. An error from `sync` is returned and nothing is marked
    /// durable.
    pub(crate) fn wait_durable<E>(
        &self,
        seq: u64,
        sync: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        if self.durable.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let _leader = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.durable.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let target = self.appended.load(Ordering::Acquire);
        sync()?;
        self.durable.store(target, Ordering::Release);
        Ok(())
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::GroupCommit;
    use loom::sync::atomic::{AtomicU64, Ordering};
    use loom::sync::{Arc, Mutex};

    /// Three committers; the "log" counts groups written, and a sync makes durable
    /// everything written when it started. Whenever `wait_durable(seq)` returns, group
    /// `seq` must be physically durable. Preemptions are bounded (loom's recommended
    /// way to keep three threads tractable).
    #[test]
    fn loom_every_returned_commit_is_covered_by_a_sync() {
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(2);
        model.check(|| {
            let gc = Arc::new(GroupCommit::new(0));
            let write_lock = Arc::new(Mutex::new(0u64)); // the pool's write lock + last seq
            let written = Arc::new(AtomicU64::new(0));
            let physically_durable = Arc::new(AtomicU64::new(0));
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    let (gc, write_lock, written, pd) = (
                        gc.clone(),
                        write_lock.clone(),
                        written.clone(),
                        physically_durable.clone(),
                    );
                    loom::thread::spawn(move || {
                        let seq = {
                            let mut last = write_lock.lock().unwrap();
                            *last += 1;
                            written.store(*last, Ordering::Release); // the group is in the log
                            gc.appended(*last);
                            *last
                        };
                        gc.wait_durable(seq, || {
                            let now = written.load(Ordering::Acquire);
                            pd.fetch_max(now, Ordering::AcqRel);
                            Ok::<(), ()>(())
                        })
                        .unwrap();
                        assert!(
                            pd.load(Ordering::Acquire) >= seq,
                            "commit {seq} returned before a sync covered it"
                        );
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(gc.durable(), 3);
        });
    }
}
