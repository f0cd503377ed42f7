use super::*;
use crate::format::{RootMeta, META_MAGIC, PAGE};

/// A heap over a plain buffer: no journal, growth just moves `mapped`.
struct Buf {
    mem: Vec<u8>,
    mapped: u64,
    max: u64,
}

impl Buf {
    fn new(initial: u64, max: u64) -> Self {
        let mut b = Buf {
            mem: vec![0u8; max as usize],
            mapped: initial,
            max,
        };
        let meta = RootMeta {
            magic: META_MAGIC,
            root_off: 0,
            heap_end: initial,
            schema_off: 0,
            schema_len: 0,
            reserved: [0; 3],
        };
        set_meta(&mut b, meta);
        write(
            &mut b,
            HEAP_START,
            BlockHeader::new(KIND_FREE, 0, initial - HEAP_START, 0),
        );
        b
    }
}

impl HeapMem for Buf {
    fn base(&self) -> *mut u8 {
        self.mem.as_ptr().cast_mut()
    }
    fn mapped_len(&self) -> u64 {
        self.mapped
    }
    fn max_size(&self) -> u64 {
        self.max
    }
    fn snapshot(&mut self, _: u64, _: u64) {}
    fn record_fresh(&mut self, _: u64, _: u64) {}
    fn ensure_mapped(&mut self, len: u64) -> Result<()> {
        self.mapped = self.mapped.max(len);
        Ok(())
    }
}

fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

#[test]
fn allocations_of_every_size_and_alignment_are_disjoint_aligned_and_inside_the_heap() {
    let mut m = Buf::new(64 * PAGE, 64 << 20);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    let mut live: Vec<(u64, u64)> = Vec::new();
    for (i, size) in [
        1u64, 8, 16, 17, 24, 48, 56, 64, 100, 150, 200, 1000, 2048, 2049, 4096, 5000, 70_000,
    ]
    .iter()
    .cycle()
    .take(400)
    .enumerate()
    {
        let align = [1u64, 8, 16, 32, 64][i % 5];
        let off = ix.alloc(&mut m, *size, align).unwrap();
        assert_eq!(off % align, 0, "size {size} align {align}");
        assert!(off + size <= ix.heap_end());
        for &l in &live {
            assert!(
                !overlap(l, (off, *size)),
                "{l:?} overlaps {:?}",
                (off, size)
            );
        }
        live.push((off, *size));
    }
    assert_eq!(
        HeapIndex::rebuild(&m).unwrap(),
        ix,
        "index drifted from the headers"
    );
    let c = census(&m, |_, _| {}).unwrap();
    assert_eq!(c.allocations, live.len() as u64);
}

#[test]
fn freeing_everything_coalesces_back_into_one_free_block() {
    let mut m = Buf::new(16 * PAGE, 64 << 20);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    let mut live = Vec::new();
    for i in 0..300u64 {
        let size = 16 + (i * 37) % 5000;
        live.push((ix.alloc(&mut m, size, 8).unwrap(), size));
    }
    // Free in an interleaved order to exercise merging with both neighbours.
    let (even, odd): (Vec<_>, Vec<_>) = live.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for (_, &(off, size)) in even.into_iter().chain(odd) {
        ix.free(&mut m, off, size).unwrap();
    }
    let c = census(&m, |_, _| {}).unwrap();
    assert_eq!(c.allocations, 0);
    assert_eq!(c.free_blocks, 1, "free space did not coalesce: {c:?}");
    assert_eq!(c.largest_free, c.heap_bytes);
    assert_eq!(HeapIndex::rebuild(&m).unwrap(), ix);
}

#[test]
fn a_freed_cell_is_reused_and_a_double_free_is_refused() {
    let mut m = Buf::new(16 * PAGE, 1 << 20);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    let a = ix.alloc(&mut m, 40, 8).unwrap();
    let b = ix.alloc(&mut m, 40, 8).unwrap();
    ix.free(&mut m, a, 40).unwrap();
    assert!(matches!(
        ix.free(&mut m, a, 40),
        Err(Error::Corrupted { .. })
    ));
    assert_eq!(ix.alloc(&mut m, 40, 8).unwrap(), a);
    assert!(
        matches!(ix.free(&mut m, b + 8, 40), Err(Error::Corrupted { .. })),
        "interior pointer accepted"
    );
}

#[test]
fn the_heap_grows_to_its_maximum_and_then_reports_out_of_space() {
    let max = 4 << 20;
    let mut m = Buf::new(4 * PAGE, max);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    let mut n = 0u64;
    loop {
        match ix.alloc(&mut m, 100_000, 8) {
            Ok(_) => n += 1,
            Err(Error::OutOfSpace { max_size, .. }) => {
                assert_eq!(max_size, max);
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(n >= 38, "only {n} allocations of 100 kB fit in 4 MiB");
    assert!(ix.heap_end() <= max);
    // Small allocations still fit in the remaining space.
    assert!(ix.alloc(&mut m, 64, 8).is_ok());
}

#[test]
fn oversized_alignment_and_zero_size_are_unsupported_layouts() {
    let mut m = Buf::new(4 * PAGE, 1 << 20);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    assert!(matches!(
        ix.alloc(&mut m, 8, 128),
        Err(Error::UnsupportedLayout { .. })
    ));
    assert!(matches!(
        ix.alloc(&mut m, 0, 8),
        Err(Error::UnsupportedLayout { .. })
    ));
    assert!(matches!(
        ix.alloc(&mut m, 8, 3),
        Err(Error::UnsupportedLayout { .. })
    ));
}

#[test]
fn internal_fragmentation_of_small_classes_stays_under_a_quarter_or_sixteen_bytes() {
    for size in 1..=MAX_SMALL {
        let class = class_for(size, 8).unwrap();
        let cell = u64::from(CLASSES[class]);
        let waste = (cell - size) as f64 / cell as f64;
        // Below 64 bytes the classes are 16 bytes apart: at most 15 bytes are wasted.
        assert!(
            waste <= 0.25 || cell - size < 16,
            "size {size} -> cell {cell}: {waste:.2}"
        );
    }
}

#[test]
fn a_corrupted_block_header_is_reported_with_its_offset() {
    let mut m = Buf::new(8 * PAGE, 1 << 20);
    let mut ix = HeapIndex::rebuild(&m).unwrap();
    let off = ix.alloc(&mut m, 5000, 8).unwrap();
    // Flip the size of the large block's header.
    let mut h: BlockHeader = read(&m, off - BLOCK_HEADER);
    h.size = 3;
    write(&mut m, off - BLOCK_HEADER, h);
    match HeapIndex::rebuild(&m) {
        Err(Error::Corrupted { offset, .. }) => assert_eq!(offset, off - BLOCK_HEADER),
        other => panic!("expected Corrupted, got {other:?}"),
    }
}
