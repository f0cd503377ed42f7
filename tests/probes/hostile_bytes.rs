//! Issue 11 item 3: bytes from the file used to be trusted. A `bool` byte of 2, an
//! enum tag out of range or a `char` of 0xD800 written into a closed pool (by another
//! program, or a bit flip) reopened fine, passed `check()` and reached safe code. Now
//! `check()` validates every reachable value whose type has invalid bit patterns and
//! names its path, and `PoolOptions::verify(true)` refuses such a pool at open.

use std::path::{Path, PathBuf};

use crate::common::Dir;
use pmem::{raw, Error, PBTreeMap, PBox, PHashMap, PVec, Persistent, Pool, PoolOptions};

#[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
#[repr(u8)]
#[pmem(plain)]
enum Tag {
    #[default]
    Low,
    High = 7,
}

#[derive(Persistent, Default, Clone, Copy)]
#[repr(C)]
#[pmem(plain)]
struct Entry {
    id: u32,
    flag: bool,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Root {
    flag: bool,
    letter: char,
    tag: Tag,
    maybe: Option<bool>,
    boxed: Option<PBox<Entry>>,
    entries: PVec<Entry>,
    by_id: PHashMap<u32, Tag>,
    by_char: PBTreeMap<char, u8>,
}

/// A closed pool with one of everything, and the file offset `locate` picks in it.
fn pool_with(dir: &Dir, locate: fn(&Root) -> *const u8) -> (PathBuf, u64) {
    let path = dir.0.join("p.pool");
    let mut pool = Pool::<Root>::create(&path).unwrap();
    pool.tx(|tx| {
        let r = tx.root_mut();
        *r.flag_mut() = true;
        *r.letter_mut() = 'x';
        *r.tag_mut() = Tag::High;
        *r.maybe_mut() = Some(true);
        r.boxed_mut().insert(Entry { id: 1, flag: true })?;
        for id in 0..10 {
            r.entries_mut().push(Entry {
                id,
                flag: id % 2 == 0,
            })?;
            r.by_id_mut().insert(id, Tag::High)?;
            r.by_char_mut().insert(char::from(b'a' + id as u8), 1)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let off = pool.read(|r| raw::offset_of(locate(r)).unwrap()).unwrap();
    pool.close().unwrap();
    (path, off)
}

fn poke(path: &Path, off: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, off).unwrap();
}

/// Damages the value `locate` finds with `bytes`; `check()` and a verifying open must
/// both name `path`.
fn damaged(name: &str, locate: fn(&Root) -> *const u8, bytes: &[u8], path_in_msg: &str) {
    let dir = Dir::new("validate", name);
    let (file, off) = pool_with(&dir, locate);
    poke(&file, off, bytes);
    let pool = Pool::<Root>::open(&file).expect("a default open trusts plain data");
    let err = pool.check().unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Corrupted { .. }) && msg.contains(path_in_msg),
        "check: {msg}"
    );
    drop(pool);
    let err = PoolOptions::new()
        .verify(true)
        .open::<Root>(&file)
        .unwrap_err();
    assert!(err.to_string().contains(path_in_msg), "verify: {err}");
}

#[test]
fn a_healthy_pool_passes_check_and_a_verifying_open() {
    let dir = Dir::new("validate", "healthy");
    let (file, _) = pool_with(&dir, |r| std::ptr::from_ref(&r.flag).cast());
    PoolOptions::new()
        .verify(true)
        .open::<Root>(&file)
        .unwrap()
        .check()
        .unwrap();
}

#[test]
fn a_bool_byte_of_two_is_reported_with_its_path() {
    damaged(
        "bool",
        |r| std::ptr::from_ref(&r.flag).cast(),
        &[2],
        "root.flag: bool byte 0x02",
    );
}

#[test]
fn a_surrogate_char_is_reported_with_its_path() {
    damaged(
        "char",
        |r| std::ptr::from_ref(&r.letter).cast(),
        &0xD800u32.to_le_bytes(),
        "root.letter: char 0xd800",
    );
}

#[test]
fn an_enum_tag_out_of_range_is_reported_with_its_path() {
    damaged(
        "enum",
        |r| std::ptr::from_ref(&r.tag).cast(),
        &[3],
        "root.tag: Tag tag 3 is not a declared discriminant",
    );
}

#[test]
fn an_option_of_bool_with_a_bad_byte_is_reported() {
    damaged(
        "option",
        |r| std::ptr::from_ref(&r.maybe).cast(),
        &[9],
        "root.maybe",
    );
}

#[test]
fn a_bad_field_behind_a_box_is_reported_with_its_path() {
    damaged(
        "boxed",
        |r| std::ptr::from_ref(&r.boxed.as_ref().unwrap().flag).cast(),
        &[5],
        "root.boxed.flag: bool byte 0x05",
    );
}

#[test]
fn a_bad_element_of_a_vec_is_reported_with_its_path() {
    damaged(
        "vec",
        |r| std::ptr::from_ref(&r.entries[3].flag).cast(),
        &[0xFF],
        "root.entries[].flag: bool byte 0xff",
    );
}

#[test]
fn a_bad_value_in_a_hash_map_is_reported_with_its_path() {
    damaged(
        "hash",
        |r| std::ptr::from_ref(r.by_id.get(&4).unwrap()).cast(),
        &[200],
        "root.by_id[]: Tag tag 200",
    );
}

#[test]
fn a_bad_key_in_a_btree_map_is_reported_with_its_path() {
    damaged(
        "btree",
        |r| std::ptr::from_ref(r.by_char.first_key_value().unwrap().0).cast(),
        &0x11_0000u32.to_le_bytes(),
        "root.by_char{key}: char 0x110000",
    );
}
