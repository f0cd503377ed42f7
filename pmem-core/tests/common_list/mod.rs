//! A small hand-written persistent data model shared by the core's integration tests:
//! a root with counters, a singly linked list of 64-byte nodes and an optional 4 KiB
//! blob (a large allocation). Written against the raw API, as a collection would be.

// A test-support module shared by several test crates: not every crate uses every item,
// and its items are `pub` for those crates, not documented API.
#![allow(dead_code, unreachable_pub, missing_docs)]

use pmem_core::fingerprint::{fp_str, fp_u64, FP_START};
use pmem_core::schema::{Shape, TypeSchema};
use pmem_core::{
    raw, view_cast, OptionPBoxMut, PBox, PSafe, Persistent, Pool, Result, ViewTail, Visitor,
};

#[repr(C)]
#[derive(Default)]
pub struct Node {
    pub value: u64,
    pub blob: [u64; 6],
    pub next: Option<PBox<Node>>,
}

#[repr(C)]
#[derive(Default)]
pub struct Root {
    pub count: u64,
    pub sum: u64,
    pub list: Option<PBox<Node>>,
    pub big: Option<PBox<[u64; 512]>>,
}

// SAFETY: offsets and integers only.
unsafe impl PSafe for Node {}
// SAFETY: the view snapshots what it writes; visit/free cover `next`.
unsafe impl Persistent for Node {
    type View = NodeMut;
    const TYPE_NAME: &'static str = "Node";
    const FINGERPRINT: u64 = fp_u64(fp_str(FP_START, "Node"), size_of::<Node>() as u64);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Node",
        size: 64,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Primitive,
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut NodeMut {
        // SAFETY: NodeMut ends in a ViewTail.
        unsafe { &mut *view_cast!(ptr, Node => NodeMut) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.next.visit_owned(v)
    }
    unsafe fn free_owned(ptr: *mut Self) -> Result<()> {
        // SAFETY: caller's contract.
        unsafe { Option::<PBox<Node>>::free_owned(std::ptr::addr_of_mut!((*ptr).next)) }
    }
}

pub struct NodeMut {
    _tail: ViewTail,
}
impl NodeMut {
    fn ptr(&mut self) -> *mut Node {
        std::ptr::from_mut(self).cast()
    }
    pub fn value_mut(&mut self) -> &mut u64 {
        let p = self.ptr();
        // SAFETY: field of the viewed node.
        unsafe { u64::view_mut(std::ptr::addr_of_mut!((*p).value)) }
    }
    pub fn next_mut(&mut self) -> &mut OptionPBoxMut<Node> {
        let p = self.ptr();
        // SAFETY: field of the viewed node.
        unsafe { Option::<PBox<Node>>::view_mut(std::ptr::addr_of_mut!((*p).next)) }
    }
}
impl std::ops::Deref for NodeMut {
    type Target = Node;
    fn deref(&self) -> &Node {
        // SAFETY: the view lies over a node.
        unsafe { &*std::ptr::from_ref(self).cast::<Node>() }
    }
}

// SAFETY: offsets and integers only.
unsafe impl PSafe for Root {}
// SAFETY: the view snapshots what it writes; visit/free cover both boxes.
unsafe impl Persistent for Root {
    type View = RootMut;
    const TYPE_NAME: &'static str = "Root";
    const FINGERPRINT: u64 = fp_u64(fp_str(FP_START, "Root"), size_of::<Root>() as u64);
    const SCHEMA: &'static TypeSchema = &TypeSchema {
        name: "Root",
        size: 32,
        align: 8,
        fingerprint: Self::FINGERPRINT,
        shape: Shape::Primitive,
    };
    unsafe fn view_mut<'a>(ptr: *mut Self) -> &'a mut RootMut {
        // SAFETY: RootMut ends in a ViewTail.
        unsafe { &mut *view_cast!(ptr, Root => RootMut) }
    }
    fn visit_owned(&self, v: &mut Visitor<'_>) -> Result<()> {
        self.list.visit_owned(v)?;
        self.big.visit_owned(v)
    }
}

pub struct RootMut {
    _tail: ViewTail,
}
impl RootMut {
    fn ptr(&mut self) -> *mut Root {
        std::ptr::from_mut(self).cast()
    }
    pub fn count_mut(&mut self) -> &mut u64 {
        let p = self.ptr();
        // SAFETY: field of the viewed root.
        unsafe { u64::view_mut(std::ptr::addr_of_mut!((*p).count)) }
    }
    pub fn sum_mut(&mut self) -> &mut u64 {
        let p = self.ptr();
        // SAFETY: field of the viewed root.
        unsafe { u64::view_mut(std::ptr::addr_of_mut!((*p).sum)) }
    }
    pub fn list_mut(&mut self) -> &mut OptionPBoxMut<Node> {
        let p = self.ptr();
        // SAFETY: field of the viewed root.
        unsafe { Option::<PBox<Node>>::view_mut(std::ptr::addr_of_mut!((*p).list)) }
    }
    pub fn big_mut(&mut self) -> &mut OptionPBoxMut<[u64; 512]> {
        let p = self.ptr();
        // SAFETY: field of the viewed root.
        unsafe { Option::<PBox<[u64; 512]>>::view_mut(std::ptr::addr_of_mut!((*p).big)) }
    }

    /// Pushes a node holding `value` at the head of the list (allocates 64 bytes).
    ///
    /// # Panics
    /// If the allocator answers a pointer outside the pool (a bug).
    pub fn push_front(&mut self, value: u64) -> Result<()> {
        let p = self.ptr();
        // SAFETY: the root is in a pool with this transaction open; the new node is a
        // fresh allocation; the old head box moves (bitwise) into the new node, so it
        // keeps exactly one owner.
        unsafe {
            let head = std::ptr::addr_of_mut!((*p).list);
            let n = raw::alloc(p.cast(), size_of::<Node>(), align_of::<Node>())?.cast::<Node>();
            raw::snapshot_value(n);
            std::ptr::write(
                n,
                Node {
                    value,
                    blob: [value; 6],
                    next: std::ptr::read(head),
                },
            );
            raw::snapshot_value(head);
            let off = raw::offset_of(n.cast()).expect("in pool");
            std::ptr::write(head.cast::<u64>(), off);
        }
        *self.count_mut() += 1;
        *self.sum_mut() += value;
        Ok(())
    }

    /// Unlinks and frees the head node; answers its value.
    pub fn pop_front(&mut self) -> Result<Option<u64>> {
        let p = self.ptr();
        // SAFETY: as in push_front; the head's `next` box moves into the head slot, and
        // the unlinked node is freed at commit.
        let v = unsafe {
            let head = std::ptr::addr_of_mut!((*p).list);
            let Some(b) = &*head else { return Ok(None) };
            let n = raw::resolve(head.cast(), b.offset(), size_of::<Node>(), 8)?.cast::<Node>();
            let v = (*n).value;
            raw::snapshot_value(head);
            std::ptr::write(head, std::ptr::read(std::ptr::addr_of!((*n).next)));
            raw::free(n.cast(), size_of::<Node>())?;
            v
        };
        *self.count_mut() -= 1;
        *self.sum_mut() -= v;
        Ok(Some(v))
    }

    /// Adds `delta` to the value of every node: one small write per node, so a long list
    /// makes thousands of separate journal ranges.
    pub fn bump_all(&mut self, delta: u64) {
        let mut n = 0u64;
        let mut cur = self.list_mut();
        while let Some(node) = cur.as_mut() {
            *node.value_mut() += delta;
            n += 1;
            cur = node.next_mut();
        }
        *self.sum_mut() += delta * n;
    }

    /// Adds `delta` to the value of the `i`-th node.
    pub fn bump(&mut self, i: usize, delta: u64) {
        let mut cur = self.list_mut();
        for _ in 0..i {
            match cur.as_mut() {
                Some(n) => cur = n.next_mut(),
                None => return,
            }
        }
        if let Some(n) = cur.as_mut() {
            *n.value_mut() += delta;
        } else {
            return;
        }
        *self.sum_mut() += delta;
    }
}
impl std::ops::Deref for RootMut {
    type Target = Root;
    fn deref(&self) -> &Root {
        // SAFETY: the view lies over the root.
        unsafe { &*std::ptr::from_ref(self).cast::<Root>() }
    }
}

/// The logical state of a root: counters, list values, blob marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub count: u64,
    pub sum: u64,
    pub values: Vec<u64>,
    pub big: Option<u64>,
}

/// The logical state of a `Root`.
///
/// # Panics
/// When a node's payload is torn (a crash-consistency bug).
pub fn observe(r: &Root) -> Model {
    let mut values = Vec::new();
    let mut cur = &r.list;
    while let Some(n) = cur {
        values.push(n.value);
        assert!(
            n.blob.iter().all(|&b| b == n.blob[0]),
            "node payload torn: {:?}",
            n.blob
        );
        cur = &n.next;
    }
    Model {
        count: r.count,
        sum: r.sum,
        values,
        big: r.big.as_ref().map(|b| b[0] ^ b[511]),
    }
}

/// A tiny deterministic PRNG for tests.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Runs one random transaction of the mixed workload on `pool`.
///
/// # Panics
/// When a transaction fails for any reason but the deliberate abort.
pub fn random_tx(pool: &mut Pool<Root>, rng: &mut Rng) {
    let op = rng.below(10);
    let x = rng.below(1000) + 1;
    let abort = rng.below(6) == 0;
    let i = rng.below(8) as usize;
    let r: std::result::Result<(), pmem_core::Error> = pool.tx(|tx| {
        let root = tx.root_mut();
        match op {
            0..=3 => root.push_front(x)?,
            4 | 5 => {
                root.pop_front()?;
            }
            6 | 7 => root.bump(i, x),
            8 => {
                let b = root.big_mut().insert([x; 512])?;
                b[0] = x + 1;
            }
            _ => root.big_mut().clear()?,
        }
        if abort {
            return Err(pmem_core::Error::InvalidOptions(
                "rolled back on purpose".into(),
            ));
        }
        Ok(())
    });
    if !abort {
        r.expect("transaction failed");
    }
}

/// `n` steps of the mixed workload for the crash-state harness, each one transaction.
#[cfg(feature = "testing")]
pub fn random_steps(n: usize, seed: u64) -> Vec<pmem_core::crash::Step<Root>> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let s = rng.next_u64();
            Box::new(move |p: &mut Pool<Root>| random_tx(p, &mut Rng(s | 1)))
                as pmem_core::crash::Step<Root>
        })
        .collect()
}
