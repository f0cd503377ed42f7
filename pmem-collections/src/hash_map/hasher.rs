//! The hash function of persistent hash tables.
//!
//! A table's bucket positions are stored in the pool, so the hash of a key must be the
//! same in every process that ever opens the pool: no `RandomState`, no per-process
//! keys, no dependence on endianness or pointer width. [`PHasher`] is a seeded
//! multiply-fold hash (the construction of foldhash and aHash's fallback: a 64×64→128
//! multiply whose halves are XOR-ed together), fed by `std::hash::Hash`, with the seed
//! drawn from `raw::random_seed()` when a map first allocates its table and stored in the
//! map's header. Without the seed an attacker cannot choose colliding keys (hash flooding).
//!
//! `Hash` impls of std types could in principle change between Rust releases (how `str`
//! terminates its bytes, how slices write their length). A table therefore records a
//! *hash canary* — the hash of a fixed set of probe values under this build — and a
//! build that computes a different canary treats the table as unhashed: lookups scan it
//! linearly (correct, slow) and the first write rehashes it. See DESIGN-NOTES-hash-vec.md.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

const K1: u64 = 0x243f_6a88_85a3_08d3; // π
const K2: u64 = 0x1319_8a2e_0370_7344;

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// The seeded, deterministic hasher of [`PHashMap`](crate::PHashMap) and
/// [`PHashSet`](crate::PHashSet).
///
/// Integers are mixed as values (never as native-endian bytes) and byte strings are read
/// little-endian, so a hash is the same on every platform.
///
/// # Examples
///
/// ```
/// use std::hash::{Hash, Hasher};
/// use pmem_collections::PHasher;
/// let h = |seed, x: &str| { let mut s = PHasher::new(seed); x.hash(&mut s); s.finish() };
/// assert_eq!(h(1, "ada"), h(1, "ada"));
/// assert_ne!(h(1, "ada"), h(2, "ada"));
/// ```
#[derive(Clone, Debug)]
pub struct PHasher {
    acc: u64,
}

impl PHasher {
    /// A hasher with the given seed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::Hasher;
    /// let mut h = pmem_collections::PHasher::new(7);
    /// h.write_u64(1);
    /// assert_eq!(h.finish(), { let mut g = pmem_collections::PHasher::new(7); g.write_u64(1); g.finish() });
    /// ```
    #[inline]
    pub const fn new(seed: u64) -> PHasher {
        PHasher { acc: seed ^ K2 }
    }
}

impl Hasher for PHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            // The top byte is free (at most 7 bytes): it carries the length, so
            // "a\0" and "a" differ.
            self.write_u64(u64::from_le_bytes(b) | ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.acc = fold(self.acc ^ i, K1);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        fold(self.acc, K2 ^ 0x9e37_79b9_7f4a_7c15)
    }
}

/// Builds the [`PHasher`]s of one map: its seed, as [`PHashMap::hasher`] answers it
/// (the map's `BuildHasher`, the counterpart of std's `RandomState`).
///
/// [`PHashMap::hasher`]: crate::PHashMap::hasher
///
/// # Examples
///
/// ```
/// use std::hash::BuildHasher;
/// use pmem_collections::{PBuildHasher, PHasher};
/// let b = PBuildHasher::new(7);
/// assert_eq!(b.hash_one("ada"), b.hash_one("ada"));
/// assert_ne!(b.hash_one("ada"), PBuildHasher::new(8).hash_one("ada"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PBuildHasher {
    seed: u64,
}

impl PBuildHasher {
    /// The builder of hashers seeded with `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PBuildHasher::new(3).seed(), 3);
    /// ```
    pub const fn new(seed: u64) -> PBuildHasher {
        PBuildHasher { seed }
    }

    /// The seed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pmem_collections::PBuildHasher::new(3).seed(), 3);
    /// ```
    pub const fn seed(&self) -> u64 {
        self.seed
    }
}

impl std::hash::BuildHasher for PBuildHasher {
    type Hasher = PHasher;
    fn build_hasher(&self) -> PHasher {
        PHasher::new(self.seed)
    }
}

/// The hash of `q` under `seed`.
#[inline]
pub(crate) fn make_hash<Q: Hash + ?Sized>(seed: u64, q: &Q) -> u64 {
    let mut h = PHasher::new(seed);
    q.hash(&mut h);
    h.finish()
}

/// This build's hash canary: the hash of probe values covering the std `Hash` impls
/// keys are made of. Never 0 (0 marks "no table").
#[inline]
pub(crate) fn canary() -> u64 {
    static CANARY: OnceLock<u64> = OnceLock::new();
    *CANARY.get_or_init(|| {
        let mut h = PHasher::new(0x706d_656d); // "pmem"
        "pmem".hash(&mut h);
        String::from("\u{e9}t\u{e9}").hash(&mut h);
        0xdead_beef_u64.hash(&mut h);
        (-5i64, 7u32, 300u16, 9u8, true, 'x').hash(&mut h);
        (1u128 << 100, -1i128, usize::MAX, isize::MIN).hash(&mut h);
        [1u8, 2, 3][..].hash(&mut h);
        [1u64, 2].hash(&mut h);
        (Some(3u8), None::<u8>, ()).hash(&mut h);
        vec![String::from("a"), String::from("bc")].hash(&mut h);
        h.finish() | 1
    })
}
