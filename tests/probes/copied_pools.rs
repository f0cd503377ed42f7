//! Two open pools that stamp the same 16-bit tag into their pointers: a byte copy and
//! its original (same UUID), or two distinct pools whose tags collide. A `PPtr` taken
//! from one and stored into the other would pass the tag check when followed there and
//! read whatever lives at that offset (a freed block, another type). Such a pair is
//! never open together while either is writable: the second open answers
//! `Error::SameTag` naming both files, so no link between them can be made.

use std::path::PathBuf;

use pmem::{Error, PPtr, Persistent, Pool, PoolOptions};

use crate::common::Dir;

#[derive(Persistent, Default)]
#[repr(C)]
struct Linked {
    value: u64,
    link: PPtr<u64>,
}

fn tag(uuid: [u8; 16]) -> u64 {
    pmem::__private::raw::pool_tag_of(&uuid)
}

fn assert_same_tag(r: Result<Pool<Linked>, Error>, pool: &PathBuf, other: &PathBuf) {
    match r {
        Err(Error::SameTag { pool: p, other: o }) => {
            assert_eq!((&p, &o), (pool, other));
            let msg = Error::SameTag { pool: p, other: o }.to_string();
            assert!(msg.contains(&*pool.to_string_lossy()), "{msg}");
            assert!(msg.contains(&*other.to_string_lossy()), "{msg}");
        }
        Err(e) => panic!("expected SameTag, got {e}"),
        Ok(_) => panic!("expected SameTag, the pool opened"),
    }
}

#[test]
fn a_copy_cannot_be_open_beside_its_writable_original() {
    let d = Dir::new("probe-copies", "copy");
    let (orig, backup, copied) = (d.path("a.pool"), d.path("b.pool"), d.path("c.pool"));
    let mut a = Pool::<Linked>::create(&orig).unwrap();
    a.tx(|tx| {
        let root = tx.root_mut();
        root.set_value(7)?;
        let me = PPtr::from_ref(&root.value).expect("in the pool");
        root.set_link(me)
    })
    .unwrap();
    a.backup_to(&backup).unwrap();
    drop(a);
    std::fs::copy(&orig, &copied).unwrap();

    // Every way of opening a copy beside its writable original is refused, so a `PPtr`
    // of one can never be stored into the other.
    let a = Pool::<Linked>::open(&orig).unwrap();
    for copy in [&backup, &copied] {
        assert_same_tag(Pool::<Linked>::open(copy), copy, &orig);
        let ro = PoolOptions::new().read_only(true).open::<Linked>(copy);
        assert_same_tag(ro, copy, &orig);
    }
    drop(a);

    // The other way round, and with the original read-only but the copy writable.
    let b = Pool::<Linked>::open(&backup).unwrap();
    assert_same_tag(Pool::<Linked>::open(&orig), &orig, &backup);
    assert_same_tag(
        PoolOptions::new().read_only(true).open::<Linked>(&orig),
        &orig,
        &backup,
    );
    drop(b);

    // Read-only side by side is fine (neither can store anything): a backup can be
    // compared with its original.
    let ro = PoolOptions::new().read_only(true);
    let a = ro.open::<Linked>(&orig).unwrap();
    let b = ro.open::<Linked>(&backup).unwrap();
    let c = ro.open::<Linked>(&copied).unwrap();
    assert_eq!(a.uuid(), b.uuid());
    assert_eq!(a.read(|r| r.value).unwrap(), b.read(|r| r.value).unwrap());
    assert_eq!(c.read(|r| r.value).unwrap(), 7);
    // A writer cannot join them.
    drop(c);
    assert_same_tag(Pool::<Linked>::open(&copied), &copied, &orig);
    drop((a, b));

    // Alone, each opens writable, and its own pointer still names its own root.
    for p in [&orig, &backup, &copied] {
        let pool = Pool::<Linked>::open(p).unwrap();
        let same = pool
            .read(|r| Some(r.link) == PPtr::from_ref(&r.value))
            .unwrap();
        assert!(same, "{}", p.display());
    }
}

/// CRC-32C (Castagnoli), bitwise: the checksum of a pool header.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn two_distinct_pools_whose_tags_collide_are_not_open_writable_together() {
    // New pools avoid the tags of the pools open in this process, so the collision is
    // crafted: the second pool's UUID (header bytes 16..32, checksummed at 508) gets the
    // first one's tag bytes — what a distinct pool has by chance once in 65,536 pairs.
    let d = Dir::new("probe-copies", "collide");
    let (first, second) = (d.path("a.pool"), d.path("b.pool"));
    let a = Pool::<Linked>::create(&first).unwrap();
    let ua = a.uuid();
    drop(a);
    drop(Pool::<Linked>::create(&second).unwrap());
    let mut bytes = std::fs::read(&second).unwrap();
    bytes[16..18].copy_from_slice(&ua[..2]);
    let crc = crc32c(&bytes[..508]);
    bytes[508..512].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&second, &bytes).unwrap();

    let a = Pool::<Linked>::open(&first).unwrap();
    assert_same_tag(Pool::<Linked>::open(&second), &second, &first);
    assert_same_tag(
        PoolOptions::new().read_only(true).open::<Linked>(&second),
        &second,
        &first,
    );
    drop(a);
    let ro = PoolOptions::new().read_only(true);
    let (a, b) = (
        ro.open::<Linked>(&first).unwrap(),
        ro.open::<Linked>(&second).unwrap(),
    );
    assert_ne!(a.uuid(), b.uuid());
    assert_eq!(tag(a.uuid()), tag(b.uuid()));
}
