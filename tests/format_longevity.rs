//! Format longevity (issue 12 item 7): pool files written by each released format
//! version are kept under `tests/data/` and must keep opening, recovering and passing
//! `check()` with the contents they were written with. A future format change must keep
//! these opening (or migrate them); the policy is in ARCHITECTURE §14.
//!
//! `PMEM_WRITE_FORMAT_DATA=1 cargo test --test format_longevity` rewrites the files of
//! the *current* version's folder (only when deliberately starting a new version).

mod common;
use common::Dir;

use std::path::Path;

use pmem::{
    Durability, Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PString, PVec, Persistent,
    Pool, PoolOptions,
};

const DATA: &str = "tests/data/format-v1";

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[repr(u8)]
#[pmem(plain)]
enum Level {
    #[default]
    Low,
    High = 9,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Everything {
    name: PString,
    numbers: PVec<u32>,
    by_id: PHashMap<u64, PString>,
    tags: PHashSet<u32>,
    ordered: PBTreeMap<u32, u64>,
    small: PBTreeSet<i16>,
    boxed: Option<PBox<[u64; 4]>>,
    level: Level,
    flag: bool,
    letter: char,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    value: u64,
    next: Option<PBox<Node>>,
}

fn fill_everything(p: &mut Pool<Everything>) {
    p.tx(|tx| {
        let r = tx.root_mut();
        r.name_mut().push_str("format one")?;
        for i in 0..300u32 {
            r.numbers_mut().push(i * 3)?;
            r.ordered_mut().insert(i, u64::from(i) << 20)?;
            if i % 3 == 0 {
                r.tags_mut().insert(i)?;
                r.small_mut().insert(-(i as i16))?;
            }
        }
        for id in 0..50u64 {
            r.by_id_mut().set(id, format!("account {id}").as_str())?;
        }
        r.boxed_mut().insert([1, 2, 3, 4])?;
        *r.level_mut() = Level::High;
        *r.flag_mut() = true;
        *r.letter_mut() = 'ß';
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn expect_everything(r: &Everything) {
    assert_eq!(&*r.name, "format one");
    assert_eq!(r.numbers.len(), 300);
    assert_eq!(r.numbers[299], 897);
    assert_eq!(r.ordered.len(), 300);
    assert_eq!(r.ordered.get(&77), Some(&(77u64 << 20)));
    assert_eq!(r.tags.len(), 100);
    assert!(r.small.contains(&-297));
    assert_eq!(r.by_id.get(&42).map(|s| &**s), Some("account 42"));
    assert_eq!(r.boxed.as_deref(), Some(&[1, 2, 3, 4]));
    assert_eq!((r.level, r.flag, r.letter), (Level::High, true, 'ß'));
}

fn list_len(r: &Node) -> (u64, u64) {
    let (mut n, mut sum, mut at) = (0, 0, Some(r));
    while let Some(node) = at {
        n += 1;
        sum += node.value;
        at = node.next.as_deref();
    }
    (n, sum)
}

fn small() -> PoolOptions {
    PoolOptions::new().initial_size(64 << 10)
}

fn write_all(dir: &Path) {
    let mut p = small().create::<u64>(dir.join("root_only.pool")).unwrap();
    p.tx(|tx| {
        *tx.root_mut() = 0xFEED;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    for (name, d) in [
        ("everything_full.pool", Durability::Full),
        ("everything_process.pool", Durability::Process),
    ] {
        let mut p = small()
            .durability(d)
            .create::<Everything>(dir.join(name))
            .unwrap();
        fill_everything(&mut p);
        drop(p);
    }
    let mut p = small().create::<Node>(dir.join("recursive.pool")).unwrap();
    p.tx(|tx| {
        let mut at = tx.root_mut();
        for v in 1..=20 {
            *at.value_mut() = v;
            at = at.next_mut().insert(Node::default())?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    // A pool left mid-log: its files as a crash (kill -9) would leave them, with
    // commits in the log that are not in the pool file.
    let path = dir.join("mid_log.pool");
    let mut p = small()
        .checkpoint_threshold(64 << 20)
        .create::<Everything>(&path)
        .unwrap();
    fill_everything(&mut p);
    std::fs::copy(&path, dir.join("mid_log.crashed.pool")).unwrap();
    std::fs::copy(
        dir.join("mid_log.pool.log"),
        dir.join("mid_log.crashed.pool.log"),
    )
    .unwrap();
    drop(p);
    std::fs::remove_file(&path).unwrap();
}

/// The data files copied to a scratch folder (opening writes: recovery, sessions).
fn copy_of_data() -> Dir {
    let dir = Dir::new("format", "v1");
    for e in std::fs::read_dir(DATA).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path(&e.file_name().to_string_lossy())).unwrap();
    }
    dir
}

#[test]
fn every_kept_format_v1_pool_opens_recovers_and_checks() {
    if std::env::var_os("PMEM_WRITE_FORMAT_DATA").is_some() {
        let _ = std::fs::remove_dir_all(DATA);
        std::fs::create_dir_all(DATA).unwrap();
        write_all(Path::new(DATA));
    }
    let c = copy_of_data();
    // The mid-log pool's commits are only in its log: without it, it must refuse.
    std::fs::copy(c.path("mid_log.crashed.pool"), c.path("alone.pool")).unwrap();
    assert!(matches!(
        Pool::<Everything>::open(c.path("alone.pool")),
        Err(Error::LogMissing { .. })
    ));
    let p = Pool::<u64>::open(c.path("root_only.pool")).unwrap();
    assert_eq!(p.read(|r| *r).unwrap(), 0xFEED);
    p.check().unwrap();
    drop(p);
    for name in [
        "everything_full.pool",
        "everything_process.pool",
        "mid_log.crashed.pool",
    ] {
        let p = PoolOptions::new()
            .verify(true)
            .open::<Everything>(c.path(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        p.read(expect_everything).unwrap();
        drop(p);
    }
    let p = PoolOptions::new()
        .verify(true)
        .open::<Node>(c.path("recursive.pool"))
        .unwrap();
    assert_eq!(p.read(list_len).unwrap(), (21, 210));
    let names: Vec<_> = std::fs::read_dir(DATA)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.contains(&"mid_log.crashed.pool.log".to_string()),
        "the mid-log pool keeps its log: {names:?}"
    );
}
