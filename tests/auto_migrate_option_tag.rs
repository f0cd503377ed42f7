//! A hostile tag byte in a stored tagged `Option` (issue 12): automatic migration reads
//! a stored `Option` whose inner type has no niche by its first byte, rustc's
//! discriminant (0 `None`, 1 `Some`). A pool file whose tag byte was overwritten with 2
//! or 0xFF (by another program, a bit flip) must be refused with a typed error naming
//! the path — not read as `Some`, not a panic — and the old pool left byte for byte
//! as it was. The byte is changed on disk in a cleanly closed pool: the heap carries
//! no checksum (ARCHITECTURE §12.1: `open` trusts the bytes of values), so the pool
//! still opens; `verify(true)` is what would refuse it at open.

mod common;
use common::Dir;

use pmem::migrate::{auto, open_auto};
use pmem::{AutoMigrate, Error, Pool, PoolOptions};

mod v1 {
    /// No niche: every bit pattern of the integers is valid, so `Option<Ints>` is
    /// tagged (asserted by the test).
    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Ints {
        pub(crate) a: u32,
        pub(crate) b: u16,
    }

    #[derive(pmem::Persistent, Default, Clone, Copy)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) n: u64,
        pub(crate) i: Option<Ints>,
    }
}

mod v2 {
    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Ints {
        pub(crate) a: u64,
        pub(crate) b: u32,
    }

    #[derive(pmem::Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[pmem(plain)]
    #[repr(C)]
    pub(crate) struct Root {
        pub(crate) n: u64,
        pub(crate) i: Option<Ints>,
    }
}

/// The payload's bytes as stored (`a`, then `b`, little-endian): unique in the file.
const PAYLOAD: [u8; 6] = [0xEF, 0xBE, 0xAD, 0xDE, 0xFE, 0xCA];

/// A closed v1 pool holding `Some`, and the file offset of its `Option`'s tag byte.
fn v1_pool(d: &Dir) -> (std::path::PathBuf, usize) {
    use std::mem::{offset_of, size_of};
    assert!(
        size_of::<Option<v1::Ints>>() > size_of::<v1::Ints>(),
        "tagged"
    );
    let path = d.path("p.pool");
    let mut p = Pool::<v1::Root>::create(&path).unwrap();
    p.tx(|tx| {
        *tx.root_mut() = v1::Root {
            n: 5,
            i: Some(v1::Ints {
                a: 0xDEAD_BEEF,
                b: 0xCAFE,
            }),
        };
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    let bytes = std::fs::read(&path).unwrap();
    let hits: Vec<usize> = bytes
        .windows(PAYLOAD.len())
        .enumerate()
        .filter(|(_, w)| *w == PAYLOAD)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "the payload is in the file once");
    // The payload sits at the option's end, the tag in its first byte.
    let payload_at = size_of::<Option<v1::Ints>>() - size_of::<v1::Ints>();
    let tag = hits[0] - payload_at;
    assert_eq!(bytes[tag], 1, "Some's tag");
    assert_eq!(
        &bytes[tag - offset_of!(v1::Root, i)..][..8],
        &5u64.to_le_bytes(),
        "the root's other field, before the option"
    );
    (path, tag)
}

fn set_byte(path: &std::path::Path, at: usize, value: u8) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] = value;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_tagged_option_whose_tag_is_neither_0_nor_1_is_refused_by_path_and_the_pool_is_untouched() {
    let d = Dir::new("auto-tag", "hostile");
    let (path, tag) = v1_pool(&d);
    for hostile in [2u8, 0x7F, 0xFF] {
        set_byte(&path, tag, hostile);
        let before = std::fs::read(&path).unwrap();
        for e in [
            auto::<v2::Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap_err(),
            open_auto::<v2::Root>(&path, &PoolOptions::new(), AutoMigrate::new())
                .err()
                .unwrap(),
        ] {
            match e {
                Error::NotAutoMigratable { path, change } => {
                    assert_eq!(path, "root.i");
                    assert!(
                        change.starts_with(&format!(
                            "Option tag {hostile} is neither None (0) nor Some (1)"
                        )),
                        "{change}"
                    );
                }
                e => panic!("tag {hostile}: {e:?}"),
            }
            assert_eq!(std::fs::read(&path).unwrap(), before, "tag {hostile}");
            assert!(!d.path("p.pool.migrating").exists());
        }
        // What the tag would have been refused by at open, had it been asked.
        let e = PoolOptions::new()
            .read_only(true)
            .verify(true)
            .open::<v1::Root>(&path)
            .err()
            .unwrap();
        assert!(matches!(e, Error::Corrupted { .. }), "{e:?}");
        assert!(e.to_string().contains("root.i"), "{e}");
    }
    // The byte found is the tag: restored, the same pool migrates.
    set_byte(&path, tag, 1);
    assert!(auto::<v2::Root>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap());
    let p = Pool::<v2::Root>::open(&path).unwrap();
    let want = v2::Root {
        n: 5,
        i: Some(v2::Ints {
            a: 0xDEAD_BEEF,
            b: 0xCAFE,
        }),
    };
    assert_eq!(p.read(|r| *r).unwrap(), want);
}
