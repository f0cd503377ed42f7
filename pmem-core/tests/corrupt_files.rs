//! Bad input: random and targeted corruption of valid pool and log files. Every case
//! must end in a typed error, or in an open pool whose allocator metadata is valid and
//! whose integrity check answers (Ok, or a typed `Corrupted` error for damaged user
//! data) — never a panic, a hang or an unbounded allocation.

mod common_list;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common_list::{Rng, Root};
use pmem_core::sim::{FileId, SimDisk};
use pmem_core::{Error, Pool, PoolOptions};

/// A pool with a checkpointed part and commits still in its log.
fn valid_images() -> (Vec<u8>, Vec<u8>) {
    let disk = SimDisk::new();
    let opts = PoolOptions::new()
        .initial_size(32 << 10)
        .checkpoint_threshold(1 << 30);
    let mut pool = opts.create_sim::<Root>(&disk).unwrap();
    for v in 0..40 {
        pool.tx(|tx| tx.root_mut().push_front(v)).unwrap();
    }
    pool.tx(|tx| tx.root_mut().big_mut().insert([3; 512]).map(|_| ()))
        .unwrap();
    pool.checkpoint().unwrap();
    for v in 0..20 {
        pool.tx(|tx| {
            let r = tx.root_mut();
            r.pop_front()?;
            r.push_front(v * 7)?;
            r.bump(2, 1);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
    // Copies taken now are what a crash would leave: the close-time checkpoint that
    // dropping the pool runs only changes the simulated disk, not these copies.
    let images = (disk.file(FileId::Pool), disk.file(FileId::Log));
    drop(pool);
    images
}

#[derive(Default, Debug)]
struct Tally {
    cases: u64,
    opened: u64,
    errors: u64,
}

/// Opens the images; any panic fails the test, with the case named.
fn try_case(t: &mut Tally, what: &str, pool: Vec<u8>, log: Vec<u8>) {
    t.cases += 1;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let disk = SimDisk::from_images(pool, log);
        match PoolOptions::new().open_sim::<Root>(&disk) {
            Ok(p) => {
                // The allocator metadata was validated by the open; the walk from the
                // root must answer without panicking.
                match p.check() {
                    Ok(_) | Err(Error::Corrupted { .. }) => {}
                    Err(e) => panic!("check answered an unexpected error: {e}"),
                }
                let _ = p.stats().expect("stats after a successful open");
                true
            }
            Err(
                Error::NotAPool { .. }
                | Error::Corrupted { .. }
                | Error::UnsupportedVersion { .. }
                | Error::TypeMismatch { .. }
                | Error::WrongLayout { .. }
                | Error::OutOfSpace { .. }
                | Error::InvalidOptions(_)
                | Error::LogMissing { .. }
                | Error::LogMismatch { .. },
            ) => false,
            Err(e) => panic!("untyped failure: {e:?}"),
        }
    }));
    match r {
        Ok(true) => t.opened += 1,
        Ok(false) => t.errors += 1,
        Err(e) => panic!(
            "case {} ({what}) panicked: {}",
            t.cases,
            e.downcast_ref::<String>().map_or("?", String::as_str)
        ),
    }
}

fn cases_scale() -> u64 {
    std::env::var("PMEM_CORRUPT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

fn reseal_header(b: &mut [u8]) {
    let crc = crc32c::crc32c(&b[..508]);
    put(b, 508, &crc.to_le_bytes());
}

#[test]
fn no_corruption_of_pool_or_log_causes_a_panic() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (pool, log) = valid_images();
    let mut t = Tally::default();
    let mut rng = Rng(0x00C0_FFEE);
    let total = cases_scale();

    // Targeted: every header field of the pool set to hostile values, checksum resealed.
    for field in [8usize, 12, 96, 104, 112, 120, 128] {
        for v in [
            0u64,
            1,
            7,
            4095,
            4096,
            u64::from(u32::MAX),
            u64::MAX,
            1 << 40,
            1 << 37,
        ] {
            let mut p = pool.clone();
            let w = if field < 16 { 4 } else { 8 };
            put(&mut p, field, &v.to_le_bytes()[..w]);
            reseal_header(&mut p);
            try_case(&mut t, "hostile header field", p, log.clone());
        }
    }
    // The metadata page and the first block headers: every 8-byte word, hostile values.
    for at in (4096..4096 + 64).chain(8192..8192 + 64).step_by(8) {
        for v in [0u64, 1, 63, 64, 4096, 0xB10C_0003, u64::MAX, 1 << 33] {
            let mut p = pool.clone();
            put(&mut p, at, &v.to_le_bytes());
            try_case(&mut t, "hostile metadata word", p, log.clone());
        }
    }
    // Truncation of either file at every length class.
    let mut lens: Vec<usize> = (0..=64)
        .chain([
            511, 512, 513, 1535, 1536, 4095, 4096, 4097, 8191, 8192, 8193,
        ])
        .collect();
    for k in 13..=20 {
        lens.extend([(1 << k) - 1, 1 << k, (1 << k) + 1]);
    }
    for &n in &lens {
        if n < pool.len() {
            try_case(&mut t, "pool truncated", pool[..n].to_vec(), log.clone());
        }
        if n < log.len() {
            try_case(&mut t, "log truncated", pool.clone(), log[..n].to_vec());
        }
    }
    // Garbage files and a log from another pool.
    for size in [0usize, 1, 100, 4096, 8192, 20_000, 70_000] {
        let g: Vec<u8> = (0..size).map(|_| rng.next_u64() as u8).collect();
        try_case(&mut t, "garbage pool", g.clone(), log.clone());
        try_case(&mut t, "garbage log", pool.clone(), g);
    }
    let (_, other_log) = valid_images();
    try_case(&mut t, "log of another pool", pool.clone(), other_log);

    // Random: bit flips, byte runs and word smashes anywhere in either file.
    while t.cases < total {
        let mut p = pool.clone();
        let mut l = log.clone();
        let target = if rng.below(2) == 0 { &mut p } else { &mut l };
        let len = target.len() as u64;
        for _ in 0..=rng.below(3) {
            let at = rng.below(len) as usize;
            match rng.below(3) {
                0 => target[at] ^= 1 << rng.below(8),
                1 => {
                    let n = (rng.below(64) as usize).min(target.len() - at);
                    for b in &mut target[at..at + n] {
                        *b = rng.next_u64() as u8;
                    }
                }
                _ => {
                    let at = at.min(target.len().saturating_sub(8));
                    put(target, at, &rng.next_u64().to_le_bytes());
                }
            }
        }
        try_case(&mut t, "random mutation", p, l);
    }
    std::panic::set_hook(prev);
    println!(
        "corrupt cases: {} (opened {}, typed errors {})",
        t.cases, t.opened, t.errors
    );
    assert!(t.cases >= total);
    assert!(
        t.errors > 0 && t.opened > 0,
        "both outcomes should occur: {t:?}"
    );
}

#[test]
fn a_corrupted_pointer_in_user_data_is_reported_by_check_and_by_deref() {
    let (mut pool, log) = valid_images();
    // Find the root's list head (offset of the Root's `list` field) via a healthy open.
    let disk = SimDisk::from_images(pool.clone(), log.clone());
    let p = PoolOptions::new().open_sim::<Root>(&disk).unwrap();
    let head_off = p
        .read(|r| pmem_core::raw::offset_of(std::ptr::from_ref(&r.list).cast()).unwrap())
        .unwrap();
    drop(p);
    let mut pool2 = disk.file(FileId::Pool); // recovered and checkpointed image
    put(&mut pool2, head_off as usize, &0x7FFF_FFF0u64.to_le_bytes());
    let disk = SimDisk::from_images(pool2, disk.file(FileId::Log));
    let p = PoolOptions::new().open_sim::<Root>(&disk).unwrap();
    assert!(matches!(
        p.check(),
        Err(Error::Corrupted {
            offset: 0x7FFF_FFF0,
            ..
        })
    ));
    let r = catch_unwind(AssertUnwindSafe(|| {
        p.read(|r| r.list.as_ref().map(|n| n.value)).unwrap()
    }));
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.contains("corrupted pool") && msg.contains("0x7ffffff0"),
        "{msg}"
    );
    pool.clear();
}

#[test]
fn a_real_zero_length_file_and_a_directory_are_typed_errors() {
    let d = std::env::temp_dir().join(format!("pmem-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("zero.pool");
    std::fs::write(&f, b"").unwrap();
    assert!(matches!(Pool::<u64>::open(&f), Err(Error::NotAPool { .. })));
    assert!(matches!(Pool::<u64>::open(&d), Err(Error::Io { .. })));
    std::fs::remove_dir_all(&d).unwrap();
}
