use super::super::page_set::PageSet;
use super::*;

#[test]
fn a_range_is_snapshotted_once_and_rolled_back_exactly() {
    let mut mem: Vec<u8> = (0..=255).collect();
    let mut j = Journal::default();
    // SAFETY: all ranges are inside `mem`.
    unsafe {
        j.snapshot(mem.as_ptr(), 10, 8, &PageSet::default());
        j.snapshot(mem.as_ptr(), 12, 2, &PageSet::default());
        j.snapshot(mem.as_ptr(), 14, 10, &PageSet::default()); // overlaps the tail: only 18..24 is new
    }
    assert_eq!(j.undo.len(), 8 + 6);
    for b in &mut mem[10..24] {
        *b = 0xEE;
    }
    // SAFETY: as above.
    unsafe { j.roll_back(mem.as_mut_ptr(), |_, _| unreachable!("not file-backed")) };
    assert_eq!(mem, (0..=255).collect::<Vec<u8>>());
}

#[test]
fn a_snapshot_spanning_touching_unmerged_intervals_saves_each_byte_once() {
    // Regression (found by the PVec model test): intervals that touch but whose old
    // bytes are not contiguous stay separate; a later snapshot across both must not
    // save the second one again (it would save already-changed bytes).
    let mut mem: Vec<u8> = (0..=255).collect();
    let orig = mem.clone();
    let mut j = Journal::default();
    for &(off, len) in &[(100u64, 10u64), (50, 3), (110, 10), (105, 20), (130, 4)] {
        // SAFETY: inside `mem`.
        unsafe { j.snapshot(mem.as_ptr(), off, len, &PageSet::default()) };
        for b in &mut mem[off as usize..(off + len) as usize] {
            *b = 0xEE;
        }
    }
    assert_eq!(j.undo.len(), 10 + 3 + 10 + 5 + 4);
    // SAFETY: inside `mem`.
    unsafe { j.roll_back(mem.as_mut_ptr(), |_, _| unreachable!("not file-backed")) };
    assert_eq!(mem, orig);
}

#[test]
fn line_mode_rolls_back_exactly_and_logs_every_written_byte() {
    // Enough scattered writes to switch to line mode half-way, over a buffer of
    // whole pages (mappings are page-granular), part of it fresh.
    let mut mem: Vec<u8> = (0..16 * 4096).map(|i| (i * 7 % 251) as u8).collect();
    let orig = mem.clone();
    let mut j = Journal::default();
    j.record_fresh(12 * 4096, 4 * 4096);
    let mut written = vec![false; mem.len()];
    let mut x = 12345u64;
    for i in 0..3000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 1 + x % 40;
        let off = (x >> 8) % (mem.len() as u64 - len);
        // SAFETY: inside `mem`.
        unsafe { j.snapshot(mem.as_ptr(), off, len, &PageSet::default()) };
        for b in off..off + len {
            mem[b as usize] = i as u8;
            written[b as usize] = true;
        }
    }
    assert!(
        j.line_mode,
        "3000 scattered writes should switch to line mode"
    );
    let mut ranges = Vec::new();
    j.redo_ranges(&mut ranges);
    let mut logged = vec![false; mem.len()];
    let mut prev_end = 0;
    for &(s, l) in &ranges {
        assert!(s >= prev_end, "ranges overlap or are unsorted");
        prev_end = s + l;
        for b in s..s + l {
            logged[b as usize] = true;
        }
    }
    assert!(
        written.iter().zip(&logged).all(|(w, l)| !w || *l),
        "a written byte is not logged"
    );
    // SAFETY: inside `mem`.
    unsafe { j.roll_back(mem.as_mut_ptr(), |_, _| unreachable!("not file-backed")) };
    // Fresh memory may keep new bytes; everything else is restored.
    assert_eq!(mem[..12 * 4096], orig[..12 * 4096]);
    j.clear();
    assert!(!j.line_mode && !j.has_writes());
}

#[test]
fn writes_inside_fresh_allocations_save_no_old_bytes() {
    let mem = vec![0u8; 1024];
    let mut j = Journal::default();
    j.record_fresh(100, 200);
    // SAFETY: inside `mem`.
    unsafe { j.snapshot(mem.as_ptr(), 150, 50, &PageSet::default()) };
    assert!(j.undo.is_empty());
    assert!(j.written.covers(150, 200));
    // SAFETY: inside `mem`.
    unsafe { j.snapshot(mem.as_ptr(), 290, 20, &PageSet::default()) }; // 290..300 fresh, 300..310 old
    assert_eq!(j.undo.len(), 20);
}

#[test]
fn many_disjoint_ranges_switch_to_the_tree_and_stay_sorted() {
    let mem = vec![0u8; 100_000];
    let mut j = Journal::default();
    for i in (0..1000u64).rev() {
        // SAFETY: inside `mem`.
        unsafe { j.snapshot(mem.as_ptr(), i * 64, 8, &PageSet::default()) };
    }
    assert_eq!(j.written.len(), 1000);
    let mut prev = None;
    j.written.for_each(|s, sp| {
        assert!(prev.is_none_or(|p| p <= s));
        assert_eq!(sp.end, s + 8);
        prev = Some(sp.end);
    });
}
