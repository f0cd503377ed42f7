//! Pieces shared by the collections' model tests: a seeded PRNG (xorshift64*) and the
//! error type a test transaction returns to abort on purpose.

// Each test crate uses its own subset of these.
#![allow(dead_code)]

use pmem_core::Error;

/// A small deterministic PRNG; test files add their own generators on top of it.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Why a test transaction failed: aborted on purpose, or a pmem error.
#[derive(Debug)]
pub(crate) enum TestError {
    Abort,
    Pmem(Error),
}

impl From<Error> for TestError {
    fn from(e: Error) -> Self {
        TestError::Pmem(e)
    }
}
