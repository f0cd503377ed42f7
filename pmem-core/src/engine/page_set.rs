//! The pages changed since the last checkpoint: what the next checkpoint writes.

use crate::format::PAGE;

/// A growable bitset of pages changed since the last checkpoint.
#[derive(Default, Debug)]
pub(crate) struct PageSet {
    words: Vec<u64>,
    pub(super) count: u64,
}

impl PageSet {
    pub(super) fn mark(&mut self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let (first, last) = (off / PAGE, (off + len - 1) / PAGE);
        for p in first..=last {
            let w = (p / 64) as usize;
            if w >= self.words.len() {
                self.words.resize(w + 1, 0);
            }
            let bit = 1u64 << (p % 64);
            if self.words[w] & bit == 0 {
                self.words[w] |= bit;
                self.count += 1;
            }
        }
    }
    /// Is page number `page` in the set?
    pub(crate) fn contains(&self, page: u64) -> bool {
        self.words
            .get((page / 64) as usize)
            .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }
    /// Maximal runs of set pages as (first page, page count).
    pub(super) fn runs(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for (w, &word) in self.words.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let b = bits.trailing_zeros() as u64;
                bits &= bits - 1;
                let p = w as u64 * 64 + b;
                match out.last_mut() {
                    Some((s, n)) if *s + *n == p => *n += 1,
                    _ => out.push((p, 1)),
                }
            }
        }
        out
    }
    pub(super) fn clear(&mut self) {
        self.words.clear();
        self.count = 0;
    }
}
