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

#[test]
#[ignore = "timing; run in release"]
fn lookups_of_present_keys_in_a_million_entry_map_are_within_1_5x_of_std() {
    const N: usize = 1_000_000;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let keys: Vec<u64> = (0..N).map(|_| rng.next()).collect();
    let mut probe = keys.clone();
    for i in (1..N).rev() {
        probe.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }

    let std_map: HashMap<u64, u64> = keys.iter().map(|&k| (k, k ^ 1)).collect();
    let mut pool = PoolOptions::new().initial_size(64 << 20).volatile::<PHashMap<u64, u64>>().unwrap();
    pool.tx(|tx| {
        tx.root_mut().reserve(N)?;
        for &k in &keys {
            tx.root_mut().insert(k, k ^ 1)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();

    let mut std_runs = Vec::new();
    let mut p_runs = Vec::new();
    for _ in 0..5 {
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
    let (s, p) = (median(std_runs), median(p_runs));
    let per = |d: Duration| d.as_nanos() as f64 / N as f64;
    println!("lookup, 1M u64 keys: std HashMap {:.1} ns, PHashMap {:.1} ns, ratio {:.2}", per(s), per(p), per(p) / per(s));
    assert!(per(p) <= 1.5 * per(s), "PHashMap lookups are {:.2}x std", per(p) / per(s));
}

/// CPU time of this process so far (user + system), from `/proc/self/stat`: less
/// sensitive than wall time to other work on a shared machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

#[test]
#[ignore = "timing; run in release"]
fn one_insert_per_transaction_in_process_mode_takes_at_most_a_microsecond() {
    const N: u64 = 1_000_000;
    const ROUNDS: u64 = 5;
    let dir = std::env::temp_dir().join(format!("pmem-hash-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut pool =
        PoolOptions::new().durability(Durability::Process).create::<PHashMap<u64, u64>>(dir.join("insert.pool")).unwrap();
    let mut rng = Rng(7);
    let mut cpu_runs = Vec::new();
    for round in 0..ROUNDS {
        let (t, c) = (Instant::now(), cpu_time());
        for i in 0..N / ROUNDS {
            let k = rng.next();
            pool.tx(|tx| tx.root_mut().insert(k, i).map(drop)).unwrap();
        }
        let per = |d: Duration| d.as_nanos() as f64 / (N / ROUNDS) as f64;
        let (wall, cpu) = (per(t.elapsed()), per(cpu_time().checked_sub(c).unwrap()));
        println!("inserts {}..{}: {wall:.0} ns wall, {cpu:.0} ns CPU per insert transaction", round * N / ROUNDS, (round + 1) * N / ROUNDS);
        cpu_runs.push(cpu);
    }
    cpu_runs.sort_by(f64::total_cmp);
    let median = cpu_runs[cpu_runs.len() / 2];
    println!("insert tx into a growing PHashMap<u64, u64>, Process durability: median {median:.0} ns CPU");
    assert_eq!(pool.read(pmem_collections::PHashMap::len).unwrap() as u64, N);
    drop(pool);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(median <= 1000.0, "{median:.0} ns per insert transaction");
}
