//! Helpers shared by the B-tree tests: a seeded RNG, a model that can roll back with
//! an aborted transaction, and owned test types (values and keys that own a pool
//! allocation, to prove that frees happen and separators never dangle).

#![allow(dead_code, unreachable_pub)]

use std::cmp::Ordering;
use std::collections::BTreeMap;

use pmem_collections::{PBTreeMap, PBox, PKey};
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{OptionPBoxMut, PInit, PSafe, Persistent, Result, Visitor};

/// xorshift64*: deterministic, seedable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A `std` map whose changes inside one batch can be undone (the batch's transaction
/// aborted).
pub struct Model<K: Ord + Clone, V: Clone> {
    pub map: BTreeMap<K, V>,
    undo: Vec<(K, Option<V>)>,
}

impl<K: Ord + Clone, V: Clone> Model<K, V> {
    pub fn new() -> Self {
        Model {
            map: BTreeMap::new(),
            undo: Vec::new(),
        }
    }
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let old = self.map.insert(k.clone(), v);
        self.undo.push((k, old.clone()));
        old
    }
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let old = self.map.remove(k);
        if let Some(o) = &old {
            self.undo.push((k.clone(), Some(o.clone())));
        }
        old
    }
    pub fn commit(&mut self) {
        self.undo.clear();
    }
    pub fn abort(&mut self) {
        while let Some((k, old)) = self.undo.pop() {
            match old {
                Some(v) => self.map.insert(k, v),
                None => self.map.remove(&k),
            };
        }
    }
}

/// Why a test transaction ended without committing.
#[derive(Debug)]
pub enum TxErr {
    /// The test chose to roll back.
    Abort,
    /// pmem failed.
    Pmem(pmem_core::Error),
}

impl From<pmem_core::Error> for TxErr {
    fn from(e: pmem_core::Error) -> Self {
        TxErr::Pmem(e)
    }
}

/// A root holding a map with small nodes (deep trees with few keys), behind a box.
pub type Boxed<K, V> = Option<PBox<PBTreeMap<K, V>>>;

/// A value that owns a pool allocation: `Option<PBox<u64>>`, built by [`BoxOf`].
pub type Owned = Option<PBox<u64>>;

/// Initialises an [`Owned`] value holding `0`, allocating its box in the pool.
pub struct BoxOf(pub u64);

// SAFETY: writes a valid `None`, then allocates the box in the destination's pool
// through the option's view, which snapshots what it writes.
unsafe impl PInit<Owned> for BoxOf {
    unsafe fn init(self, dst: *mut Owned) -> Result<()> {
        // SAFETY: `dst` is snapshotted pool memory in an open transaction.
        unsafe {
            std::ptr::write(dst, None);
            <Owned as Persistent>::view_mut(dst).insert(self.0)?;
        }
        Ok(())
    }
}

/// The number in an owned value.
pub fn owned_val(v: &Owned) -> u64 {
    v.as_deref().copied().unwrap_or(u64::MAX)
}

/// A key that owns a pool allocation holding its number (ordering by that number):
/// separators that outlived their key would compare garbage, and `check` would see
/// leaks or double ownership.
#[repr(transparent)]
pub struct BoxKey(pub Owned);

impl BoxKey {
    pub fn get(&self) -> u64 {
        owned_val(&self.0)
    }
}

impl PartialEq for BoxKey {
    fn eq(&self, o: &Self) -> bool {
        self.get() == o.get()
    }
}
impl Eq for BoxKey {}
impl PartialOrd for BoxKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for BoxKey {
    fn cmp(&self, o: &Self) -> Ordering {
        self.get().cmp(&o.get())
    }
}
impl PartialEq<u64> for BoxKey {
    fn eq(&self, o: &u64) -> bool {
        self.get() == *o
    }
}
impl PartialOrd<u64> for BoxKey {
    fn partial_cmp(&self, o: &u64) -> Option<Ordering> {
        Some(self.get().cmp(o))
    }
}
impl std::borrow::Borrow<u64> for BoxKey {
    fn borrow(&self) -> &u64 {
        self.0.as_deref().expect("a BoxKey always holds a box")
    }
}
impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BoxKey({})", self.get())
    }
}

// SAFETY: an `Option<PBox<u64>>`: an offset, no addresses.
unsafe impl PSafe for BoxKey {}
// SAFETY: the same bytes, view, visit and free as `Option<PBox<u64>>`.
unsafe impl Persistent for BoxKey {
    type View = OptionPBoxMut<u64>;
    const TYPE_NAME: &'static str = "BoxKey";
    const FINGERPRINT: u64 = 0xb0c5_0001;
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "BoxKey",
        size: 8,
        align: 8,
        fingerprint: 0xb0c5_0001,
        shape: Shape::Primitive,
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut OptionPBoxMut<u64> {
        // SAFETY: forwarded contract; transparent over the option.
        unsafe { <Owned as Persistent>::view_mut(ptr.cast()) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.0.visit_owned(v)
    }
    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { <Owned as Persistent>::free_owned(ptr.cast()) }
    }
}

/// A `BoxKey` is inserted as its number (and looked up as one).
impl PKey<BoxKey> for u64 {
    type Key = u64;
    fn key(&self) -> &u64 {
        self
    }
}

// SAFETY: initialises the key's box in the destination's pool.
unsafe impl PInit<BoxKey> for u64 {
    unsafe fn init(self, dst: *mut BoxKey) -> Result<()> {
        // SAFETY: forwarded contract; `BoxKey` is transparent over `Owned`.
        unsafe { BoxOf(self).init(dst.cast()) }
    }
}

/// 24-byte keys ordered like the number they encode (the benchmark's key shape).
pub fn key24(n: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&n.to_be_bytes());
    k[8..16].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    k
}

/// A 150-byte value derived from a number.
pub fn val150(n: u64) -> [u8; 150] {
    let mut v = [0u8; 150];
    for (i, b) in v.iter_mut().enumerate() {
        *b = (n as u8).wrapping_add(i as u8);
    }
    v[..8].copy_from_slice(&n.to_le_bytes());
    v
}
