//! Speed checks of `PHashMap<u64, u64>` against the targets of issue 4 (the benchmark
//! package measures the same workloads against peers). Ignored by default; run with
//!
//! ```text
//! cargo test --release -p pmem-collections --test hash_perf -- --ignored --nocapture
//! ```

#![allow(clippy::cast_precision_loss)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use pmem_collections::PHashMap;
use pmem_core::{Durability, Error, PoolOptions};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median nanoseconds per lookup of every key of `probe`, for `std::collections::HashMap`
/// and for `PHashMap`, measured alternately in the same run.
fn lookup_ns(n: usize) -> (f64, f64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    let keys: Vec<u64> = (0..n).map(|_| rng.next()).collect();
    let mut probe = keys.clone();
    for i in (1..n).rev() {
        probe.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let std_map: HashMap<u64, u64> = keys.iter().map(|&k| (k, k ^ 1)).collect();
    let mut pool = PoolOptions::new()
        .initial_size(64 << 20)
        .volatile::<PHashMap<u64, u64>>()
        .unwrap();
    pool.tx(|tx| {
        tx.root_mut().reserve(n)?;
        for &k in &keys {
            tx.root_mut().insert(k, k ^ 1)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let (mut std_runs, mut p_runs) = (Vec::new(), Vec::new());
    let reps = (5_000_000 / n).clamp(5, 50);
    for _ in 0..reps {
        let t = Instant::now();
        let mut sum = 0u64;
        for k in &probe {
            sum = sum.wrapping_add(*std_map.get(k).unwrap());
        }
        black_box(sum);
        std_runs.push(t.elapsed());
        let t = Instant::now();
        let sum = pool
            .read(|m| {
                let mut sum = 0u64;
                for k in &probe {
                    sum = sum.wrapping_add(*m.get(k).unwrap());
                }
                sum
            })
            .unwrap();
        black_box(sum);
        p_runs.push(t.elapsed());
    }
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    (per(median(std_runs)), per(median(p_runs)))
}

#[test]
#[ignore = "timing; run in release"]
fn lookups_of_present_keys_in_a_million_entry_map_are_within_1_5x_of_std() {
    for n in [100_000, 1_000_000] {
        let (s, p) = lookup_ns(n);
        println!("lookup of a present u64 key, {n} entries: std HashMap {s:.1} ns, PHashMap {p:.1} ns, ratio {:.2}", p / s);
        if n == 1_000_000 {
            assert!(p <= 1.5 * s, "PHashMap lookups are {:.2}x std", p / s);
        }
    }
}

/// CPU time of this process so far (user + system), from `/proc/self/stat`: less
/// sensitive than wall time to other work on a shared machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

#[test]
#[ignore = "timing; run in release"]
fn one_insert_per_transaction_in_process_mode_takes_at_most_a_microsecond() {
    // The benchmark's shape (docs/BENCHMARKS.md, w2.hash_insert): one new u64 -> u64 per
    // transaction into a map of 100,000+ entries, default pool options.
    const SETUP: u64 = 100_000;
    const PER_ROUND: u64 = 100_000;
    const ROUNDS: u64 = 5;
    let dir = std::env::temp_dir().join(format!("pmem-hash-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut pool = PoolOptions::new()
        .durability(Durability::Process)
        .create::<PHashMap<u64, u64>>(dir.join("insert.pool"))
        .unwrap();
    let mut rng = Rng(7);
    pool.tx(|tx| tx.root_mut().extend((0..SETUP).map(|i| (rng.next(), i))))
        .unwrap();
    let mut wall_runs = Vec::new();
    let mut cpu_runs = Vec::new();
    for round in 0..ROUNDS {
        let (t, c) = (Instant::now(), cpu_time());
        for i in 0..PER_ROUND {
            let k = rng.next();
            pool.tx(|tx| tx.root_mut().insert(k, i).map(drop)).unwrap();
        }
        let per = |d: Duration| d.as_nanos() as f64 / PER_ROUND as f64;
        let (wall, cpu) = (per(t.elapsed()), per(cpu_time().saturating_sub(c)));
        let len = SETUP + (round + 1) * PER_ROUND;
        println!("inserts up to {len} entries: {wall:.0} ns wall, {cpu:.0} ns CPU per insert transaction");
        wall_runs.push(wall);
        cpu_runs.push(cpu);
    }
    wall_runs.sort_by(f64::total_cmp);
    cpu_runs.sort_by(f64::total_cmp);
    let (wall, cpu) = (wall_runs[wall_runs.len() / 2], cpu_runs[cpu_runs.len() / 2]);
    println!("insert tx into a PHashMap<u64, u64> of 100,000+ entries, Process durability: median {wall:.0} ns wall, {cpu:.0} ns CPU");
    assert_eq!(
        pool.read(pmem_collections::PHashMap::len).unwrap() as u64,
        SETUP + ROUNDS * PER_ROUND
    );
    drop(pool);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(cpu <= 1000.0, "{cpu:.0} ns CPU per insert transaction");
}
