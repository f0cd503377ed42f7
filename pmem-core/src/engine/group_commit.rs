//! Group commit: many committers, one fdatasync.
//!
//! Committers append their log groups in sequence order under the pool's write lock and
//! publish the last appended sequence number (`appended`). Then, without the write lock,
//! each waits until its own number is durable. A waiter that finds no sync in progress
//! becomes the leader: it marks a sync in progress, reads `appended` *before* syncing,
//! syncs **without holding the state lock**, then publishes that number as `durable`
//! and wakes every waiter. Waiters whose number is covered return at once; the others
//! elect the next leader among themselves.
//!
//! Why the state lock is not held across the sync: a leader that synced while holding
//! it made the waiters its sync already covered queue behind the *next* leader's sync
//! before they could even see `durable` (a mutex hands itself over in arrival order),
//! so every commit waited for two syncs and only one or two commits shared each sync
//! (measured: 8 threads, 2,400 commits, 1,065 fdatasyncs). With a condition variable,
//! covered waiters return the moment their sync completes.
//!
//! Correctness rests on one order: a group is written to the log before its number is
//! stored in `appended` (Release), and the leader loads `appended` (Acquire) before
//! calling sync, so everything it publishes as durable was written before the sync
//! began. `tests` below check this under every interleaving with loom
//! (`RUSTFLAGS="--cfg loom" cargo test -p pmem-core --lib --release loom`).

#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Condvar, Mutex,
};
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Condvar, Mutex,
};

/// The group-commit state of one pool.
pub(crate) struct GroupCommit {
    /// Whether a leader is syncing now.
    syncing: Mutex<bool>,
    /// Signalled when a sync ends.
    done: Condvar,
    durable: AtomicU64,
    appended: AtomicU64,
    /// How many commits the last completed sync covered: the committers a leader can
    /// expect back (see `gather_target`).
    last_batch: AtomicU64,
    /// Whether a leader is syncing now (the `syncing` flag, readable without the lock,
    /// for waiters that poll before they sleep).
    in_sync: AtomicBool,
    /// How long the last sync took, in nanoseconds.
    last_sync_ns: AtomicU64,
}

/// The longest a waiter polls for a sync in progress to end before it sleeps on the
/// condition variable (see `poll_for_sync`).
#[cfg(not(loom))]
const MAX_POLL: std::time::Duration = std::time::Duration::from_micros(400);

impl GroupCommit {
    pub(crate) fn new(seq: u64) -> Self {
        GroupCommit {
            syncing: Mutex::new(false),
            done: Condvar::new(),
            durable: AtomicU64::new(seq),
            appended: AtomicU64::new(seq),
            last_batch: AtomicU64::new(1),
            in_sync: AtomicBool::new(false),
            last_sync_ns: AtomicU64::new(0),
        }
    }

    /// Restarts the numbering after recovery.
    pub(crate) fn reset(&self, seq: u64) {
        self.appended.store(seq, Ordering::Release);
        self.durable.store(seq, Ordering::Release);
    }

    /// Publishes `seq` as appended (its group is written to the log).
    pub(crate) fn appended(&self, seq: u64) {
        self.appended.store(seq, Ordering::Release);
    }

    /// The last durable sequence number.
    pub(crate) fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Commits appended but not yet durable.
    pub(crate) fn unsynced(&self) -> u64 {
        self.appended
            .load(Ordering::Acquire)
            .saturating_sub(self.durable.load(Ordering::Acquire))
    }

    /// How many unsynced commits a leader may wait for before it syncs: as many as the
    /// last sync covered. The threads that sync released are typically already running
    /// their next transaction, or about to (woken, not yet scheduled): counting only
    /// transactions under way missed them, and at 4–8 threads every other sync covered
    /// half the threads (ARCHITECTURE §7).
    pub(crate) fn gather_target(&self) -> u64 {
        self.last_batch.load(Ordering::Relaxed)
    }

    /// While a sync is in progress, polls (yielding the CPU) for `seq` to become
    /// durable, for up to twice the last sync's duration (at most `MAX_POLL`); answers
    /// whether it did. A waiter that sleeps on the condition variable needs the
    /// scheduler to run again once the sync ends — tens of microseconds in a VM, during
    /// which no sync is in flight, because the next leader's gather waits for exactly
    /// these threads: measured with 2–8 threads, 24–36 % of the wall time had no sync
    /// in flight. Polling returns the moment `durable` moves. Purely an optimisation:
    /// it returns only on the condition the blocking path checks, and falls through to
    /// it otherwise (when no sync is in progress, at once, so that a waiter becomes the
    /// leader without delay).
    #[cfg(not(loom))]
    fn poll_for_sync(&self, seq: u64) -> bool {
        let budget = std::time::Duration::from_nanos(
            self.last_sync_ns.load(Ordering::Relaxed).saturating_mul(2),
        )
        .min(MAX_POLL);
        let start = std::time::Instant::now();
        while self.in_sync.load(Ordering::Acquire) && start.elapsed() < budget {
            if self.durable.load(Ordering::Acquire) >= seq {
                return true;
            }
            std::thread::yield_now();
        }
        self.durable.load(Ordering::Acquire) >= seq
    }

    /// Returns once `seq` is durable, running `sync` (as the leader) when no sync in
    /// progress covers it.
    ///
    /// The leader first calls `gather`, which may wait a moment for transactions
    /// already under way to append their groups, so that one sync covers them too.
    pub(crate) fn wait_durable<E>(
        &self,
        seq: u64,
        gather: impl FnOnce(),
        sync: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        if self.durable.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        #[cfg(not(loom))]
        if self.poll_for_sync(seq) {
            return Ok(());
        }
        let mut syncing = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if self.durable.load(Ordering::Acquire) >= seq {
                return Ok(());
            }
            if !*syncing {
                break;
            }
            syncing = self
                .done
                .wait(syncing)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        // The leader: everything appended by now is covered by the sync below.
        *syncing = true;
        self.in_sync.store(true, Ordering::Release);
        drop(syncing);
        gather();
        let target = self.appended.load(Ordering::Acquire);
        #[cfg(not(loom))]
        let started = std::time::Instant::now();
        let r = sync();
        #[cfg(not(loom))]
        self.last_sync_ns.store(
            u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let mut syncing = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if r.is_ok() {
            let before = self.durable.fetch_max(target, Ordering::AcqRel);
            self.last_batch
                .store(target.saturating_sub(before).max(1), Ordering::Relaxed);
        }
        *syncing = false;
        self.in_sync.store(false, Ordering::Release);
        drop(syncing);
        self.done.notify_all();
        r
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
                        gc.wait_durable(
                            seq,
                            || {},
                            || {
                                let now = written.load(Ordering::Acquire);
                                pd.fetch_max(now, Ordering::AcqRel);
                                Ok::<(), ()>(())
                            },
                        )
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
