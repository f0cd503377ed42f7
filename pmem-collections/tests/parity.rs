//! Keeps `docs/PARITY.md` true: the table lists every method of std's `Vec`, `String`,
//! `HashMap`, `HashSet`, `BTreeMap` and `BTreeSet` (stable in Rust 1.95, from std's
//! docs) and the std traits that matter for each, as "present" or "n/a" with a reason.
//! This test parses the table and fails when
//! - a std method or trait of the lists below has no row (or two), or a row names
//!   something that is not in them;
//! - a "present" row has no check here, or a check has no "present" row;
//! - a row is not "present", "absent" or "n/a", or an "absent" or "n/a" row gives no
//!   reason;
//! - fewer than 90% of a type's applicable rows (present and absent) are present;
//! - a check fails: each one calls the method through pmem's API (so a missing or
//!   renamed method fails to compile) and asserts std's semantics on a small case.
//!
//! It prints the count per type.

// The checks are one line each, as a table: closures whose last statement is an
// assertion, and unsafe calls whose safety the line itself shows.
#![allow(
    clippy::too_many_lines,
    clippy::semicolon_if_nothing_returned,
    clippy::undocumented_unsafe_blocks
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hash};

use pmem_collections::btree_map::Entry;
use pmem_collections::{
    PBTreeMap, PBTreeMapMut, PBTreeSet, PBTreeSetMut, PHashMap, PHashMapMut, PHashSet, PHashSetMut,
    PString, PStringMut, PVec, PVecMut,
};
use pmem_core::{Error, Pool};

type R = Result<(), Error>;

/// The std names each type's table must cover: its stable inherent methods, then the
/// traits (as `impl ...` rows).
const UNIVERSE: &[(&str, &[&str])] = &[
    (
        "PVec",
        &[
            "new",
            "with_capacity",
            "from_raw_parts",
            "into_raw_parts",
            "push",
            "push_mut",
            "capacity",
            "reserve",
            "reserve_exact",
            "try_reserve",
            "try_reserve_exact",
            "shrink_to_fit",
            "shrink_to",
            "into_boxed_slice",
            "truncate",
            "as_slice",
            "as_mut_slice",
            "as_ptr",
            "as_mut_ptr",
            "set_len",
            "swap_remove",
            "insert",
            "insert_mut",
            "remove",
            "retain",
            "retain_mut",
            "dedup_by_key",
            "dedup_by",
            "pop",
            "pop_if",
            "append",
            "drain",
            "clear",
            "len",
            "is_empty",
            "split_off",
            "resize_with",
            "leak",
            "spare_capacity_mut",
            "resize",
            "extend_from_slice",
            "extend_from_within",
            "into_flattened",
            "dedup",
            "splice",
            "extract_if",
            "impl Extend",
            "impl Index",
            "impl IndexMut",
            "impl IntoIterator for &",
            "impl IntoIterator for &mut",
            "impl Deref",
            "impl DerefMut",
            "impl PartialEq",
            "impl Ord",
            "impl Hash",
            "impl Debug",
            "impl Default",
            "impl Clone",
            "impl FromIterator",
            "impl IntoIterator",
        ],
    ),
    (
        "PString",
        &[
            "new",
            "with_capacity",
            "from_utf8",
            "from_utf8_lossy",
            "from_utf16",
            "from_utf16_lossy",
            "into_raw_parts",
            "from_raw_parts",
            "from_utf8_unchecked",
            "into_bytes",
            "as_str",
            "as_mut_str",
            "push_str",
            "extend_from_within",
            "capacity",
            "reserve",
            "reserve_exact",
            "try_reserve",
            "try_reserve_exact",
            "shrink_to_fit",
            "shrink_to",
            "push",
            "as_bytes",
            "truncate",
            "pop",
            "remove",
            "retain",
            "insert",
            "insert_str",
            "as_mut_vec",
            "len",
            "is_empty",
            "split_off",
            "clear",
            "drain",
            "replace_range",
            "into_boxed_str",
            "leak",
            "impl AddAssign<&str>",
            "impl fmt::Write",
            "impl Extend",
            "impl Deref",
            "impl DerefMut",
            "impl Index",
            "impl PartialEq",
            "impl Ord",
            "impl Hash",
            "impl Display",
            "impl Debug",
            "impl Default",
            "impl Add<&str>",
            "impl Clone",
            "impl FromIterator",
        ],
    ),
    (
        "PHashMap",
        &[
            "new",
            "with_capacity",
            "with_hasher",
            "with_capacity_and_hasher",
            "capacity",
            "keys",
            "into_keys",
            "values",
            "values_mut",
            "into_values",
            "iter",
            "iter_mut",
            "len",
            "is_empty",
            "drain",
            "extract_if",
            "retain",
            "clear",
            "hasher",
            "reserve",
            "try_reserve",
            "shrink_to_fit",
            "shrink_to",
            "entry",
            "get",
            "get_key_value",
            "get_disjoint_mut",
            "get_disjoint_unchecked_mut",
            "contains_key",
            "get_mut",
            "insert",
            "remove",
            "remove_entry",
            "impl Extend",
            "impl Index",
            "impl IntoIterator for &",
            "impl IntoIterator for &mut",
            "impl PartialEq",
            "impl Debug",
            "impl Default",
            "impl Clone",
            "impl FromIterator",
            "impl IntoIterator",
        ],
    ),
    (
        "PHashSet",
        &[
            "new",
            "with_capacity",
            "with_hasher",
            "with_capacity_and_hasher",
            "capacity",
            "iter",
            "len",
            "is_empty",
            "drain",
            "extract_if",
            "retain",
            "clear",
            "hasher",
            "reserve",
            "try_reserve",
            "shrink_to_fit",
            "shrink_to",
            "difference",
            "symmetric_difference",
            "intersection",
            "union",
            "contains",
            "get",
            "is_disjoint",
            "is_subset",
            "is_superset",
            "insert",
            "replace",
            "remove",
            "take",
            "impl Extend",
            "impl IntoIterator for &",
            "impl PartialEq",
            "impl Debug",
            "impl Default",
            "impl BitOr/BitAnd/BitXor/Sub",
            "impl Clone",
            "impl FromIterator",
            "impl IntoIterator",
        ],
    ),
    (
        "PBTreeMap",
        &[
            "new",
            "clear",
            "get",
            "get_key_value",
            "first_key_value",
            "first_entry",
            "pop_first",
            "last_key_value",
            "last_entry",
            "pop_last",
            "contains_key",
            "get_mut",
            "insert",
            "remove",
            "remove_entry",
            "retain",
            "append",
            "range",
            "range_mut",
            "entry",
            "split_off",
            "extract_if",
            "into_keys",
            "into_values",
            "iter",
            "iter_mut",
            "keys",
            "values",
            "values_mut",
            "len",
            "is_empty",
            "impl Extend",
            "impl Index",
            "impl IntoIterator for &",
            "impl IntoIterator for &mut",
            "impl PartialEq",
            "impl Ord",
            "impl Hash",
            "impl Debug",
            "impl Default",
            "impl Clone",
            "impl FromIterator",
            "impl IntoIterator",
        ],
    ),
    (
        "PBTreeSet",
        &[
            "new",
            "range",
            "difference",
            "symmetric_difference",
            "intersection",
            "union",
            "clear",
            "contains",
            "get",
            "is_disjoint",
            "is_subset",
            "is_superset",
            "first",
            "last",
            "pop_first",
            "pop_last",
            "insert",
            "replace",
            "remove",
            "take",
            "retain",
            "append",
            "split_off",
            "extract_if",
            "iter",
            "len",
            "is_empty",
            "impl Extend",
            "impl IntoIterator for &",
            "impl PartialEq",
            "impl Ord",
            "impl Hash",
            "impl Debug",
            "impl Default",
            "impl BitOr/BitAnd/BitXor/Sub",
            "impl Clone",
            "impl FromIterator",
            "impl IntoIterator",
        ],
    ),
];

// ---- small worlds to run the checks in: one pool, one transaction, then a check ----

fn v64(init: &[u64], f: impl FnOnce(&mut PVecMut<u64>) -> R) -> Vec<u64> {
    let mut pool = Pool::<PVec<u64>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|v| v.to_vec()).unwrap()
}

fn vstr(init: &[&str], f: impl FnOnce(&mut PVecMut<PString>) -> R) -> Vec<String> {
    let mut pool = Pool::<PVec<PString>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|v| v.iter().map(ToString::to_string).collect())
        .unwrap()
}

fn two_vecs(f: impl FnOnce(&mut PVecMut<u64>, &mut PVecMut<u64>) -> R) -> Vec<Vec<u64>> {
    let mut pool = Pool::<PVec<PVec<u64>>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend([vec![1u64, 2], vec![3, 4]])?;
        let mut it = tx.root_mut().iter_mut();
        f(it.next().unwrap(), it.next().unwrap())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|v| v.iter().map(|x| x.to_vec()).collect())
        .unwrap()
}

fn st(init: &str, f: impl FnOnce(&mut PStringMut) -> R) -> String {
    let mut pool = Pool::<PString>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().push_str(init)?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(ToString::to_string).unwrap()
}

fn hm(init: &[(u64, u64)], f: impl FnOnce(&mut PHashMapMut<u64, u64>) -> R) -> BTreeMap<u64, u64> {
    let mut pool = Pool::<PHashMap<u64, u64>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
        .unwrap()
}

fn hs(init: &[u64], f: impl FnOnce(&mut PHashSetMut<u64>) -> R) -> BTreeSet<u64> {
    let mut pool = Pool::<PHashSet<u64>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|s| s.iter().copied().collect()).unwrap()
}

fn two_hs(a: &[u64], b: &[u64], f: impl FnOnce(&PHashSet<u64>, &PHashSet<u64>)) {
    let mut pool = Pool::<PVec<PHashSet<u64>>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend([a.to_vec(), b.to_vec()]))
        .unwrap();
    pool.read(|v| f(&v[0], &v[1])).unwrap();
}

fn bm(init: &[(u64, u64)], f: impl FnOnce(&mut PBTreeMapMut<u64, u64>) -> R) -> Vec<(u64, u64)> {
    let mut pool = Pool::<PBTreeMap<u64, u64>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
        .unwrap()
}

fn bs(init: &[u64], f: impl FnOnce(&mut PBTreeSetMut<u64>) -> R) -> Vec<u64> {
    let mut pool = Pool::<PBTreeSet<u64>>::volatile().unwrap();
    pool.tx(|tx| {
        tx.root_mut().extend(init.iter().copied())?;
        f(tx.root_mut())
    })
    .unwrap();
    pool.check().unwrap();
    pool.read(|s| s.iter().copied().collect()).unwrap()
}

fn two_bs(a: &[u64], b: &[u64], f: impl FnOnce(&PBTreeSet<u64>, &PBTreeSet<u64>)) {
    let mut pool = Pool::<PVec<PBTreeSet<u64>>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend([a.to_vec(), b.to_vec()]))
        .unwrap();
    pool.read(|v| f(&v[0], &v[1])).unwrap();
}

fn hash_of<T: Hash + ?Sized>(x: &T) -> u64 {
    std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(x)
}

type Check = (&'static str, &'static str, fn());

/// One check per "present" row: (type, std name, the check).
#[rustfmt::skip]
fn checks() -> Vec<Check> {
    vec![
        // ---------------------------------------------------------------- PVec
        ("PVec", "new", || assert!(PVec::<u64>::new().is_empty())),
        ("PVec", "push", || assert_eq!(v64(&[], |v| v.push(7)), [7])),
        ("PVec", "push_mut", || { assert_eq!(v64(&[], |v| v.push_mut(7).map(|x| *x += 1)), [8]) }),
        ("PVec", "capacity", || { assert_eq!(v64(&[], |v| { v.reserve_exact(3)?; assert_eq!(v.capacity(), 3); Ok(()) }), [0u64; 0]) }),
        ("PVec", "reserve", || { v64(&[1], |v| { v.reserve(10)?; assert!(v.capacity() >= 11); Ok(()) }); }),
        ("PVec", "reserve_exact", || { v64(&[1], |v| { v.reserve_exact(10)?; assert_eq!(v.capacity(), 11); Ok(()) }); }),
        ("PVec", "try_reserve", || { v64(&[], |v| { v.try_reserve(5)?; assert!(v.try_reserve(usize::MAX).is_err()); Ok(()) }); }),
        ("PVec", "try_reserve_exact", || { v64(&[], |v| { v.try_reserve_exact(5)?; assert_eq!(v.capacity(), 5); Ok(()) }); }),
        ("PVec", "shrink_to_fit", || { v64(&[1, 2], |v| { v.reserve(50)?; v.shrink_to_fit()?; assert_eq!(v.capacity(), 2); Ok(()) }); }),
        ("PVec", "shrink_to", || { v64(&[1, 2], |v| { v.reserve(50)?; v.shrink_to(5)?; assert_eq!(v.capacity(), 5); Ok(()) }); }),
        ("PVec", "truncate", || { assert_eq!(v64(&[1, 2, 3], |v| v.truncate(1)), [1]) }),
        ("PVec", "as_slice", || { v64(&[1, 2], |v| { assert_eq!(v.as_slice(), [1, 2]); Ok(()) }); }),
        ("PVec", "as_mut_slice", || { assert_eq!(v64(&[3, 1, 2], |v| { v.as_mut_slice().sort_unstable(); Ok(()) }), [1, 2, 3]) }),
        ("PVec", "as_ptr", || { v64(&[1], |v| { assert_eq!(unsafe { *v.as_ptr() }, 1); Ok(()) }); }),
        ("PVec", "swap_remove", || { assert_eq!(v64(&[1, 2, 3], |v| { assert_eq!(v.swap_remove(0), 1); Ok(()) }), [3, 2]) }),
        ("PVec", "insert", || { assert_eq!(v64(&[1, 3], |v| v.insert(1, 2)), [1, 2, 3]) }),
        ("PVec", "insert_mut", || { assert_eq!(v64(&[1, 3], |v| v.insert_mut(1, 1).map(|x| *x += 1)), [1, 2, 3]) }),
        ("PVec", "remove", || { assert_eq!(v64(&[1, 2, 3], |v| { assert_eq!(v.remove(1), 2); Ok(()) }), [1, 3]) }),
        ("PVec", "retain", || { assert_eq!(v64(&[1, 2, 3, 4], |v| v.retain(|x| x % 2 == 0)), [2, 4]) }),
        ("PVec", "retain_mut", || { assert_eq!(v64(&[1, 2, 3, 4], |v| v.retain_mut(|x| { *x += 1; *x % 2 == 0 })), [2, 4]) }),
        ("PVec", "dedup_by_key", || { assert_eq!(v64(&[10, 11, 20, 21], |v| v.dedup_by_key(|x| *x / 10)), [10, 20]) }),
        ("PVec", "dedup_by", || { assert_eq!(vstr(&["a", "A", "b"], |v| v .dedup_by(|a, b| a.eq_ignore_ascii_case(b))), ["a", "b"]) }),
        ("PVec", "dedup", || { assert_eq!(v64(&[1, 1, 2, 2, 1], PVecMut::dedup), [1, 2, 1]) }),
        ("PVec", "pop", || { assert_eq!(v64(&[1, 2], |v| { assert_eq!(v.pop(), Some(2)); Ok(()) }), [1]) }),
        ("PVec", "pop_if", || { assert_eq!(v64(&[1, 2], |v| { assert_eq!(v.pop_if(|x| *x == 1), None); assert_eq!(v.pop_if(|x| *x == 2), Some(2)); Ok(()) }), [1]) }),
        ("PVec", "append", || { assert_eq!(two_vecs(PVecMut::append), [vec![1, 2, 3, 4], vec![]]) }),
        ("PVec", "drain", || { assert_eq!(v64(&[1, 2, 3, 4], |v| { assert_eq!(v.drain(1..3).collect::<Vec<_>>(), [2, 3]); Ok(()) }), [1, 4]) }),
        ("PVec", "clear", || { assert!(v64(&[1, 2], PVecMut::clear).is_empty()) }),
        ("PVec", "len", || { v64(&[1, 2], |v| { assert_eq!(v.len(), 2); Ok(()) }); }),
        ("PVec", "is_empty", || { v64(&[], |v| { assert!(v.is_empty()); Ok(()) }); }),
        ("PVec", "split_off", || { assert_eq!(v64(&[1, 2, 3], |v| { assert_eq!(v.split_off(1), [2, 3]); Ok(()) }), [1]) }),
        ("PVec", "resize_with", || { assert_eq!(v64(&[1], |v| { let mut n = 1; v.resize_with(3, || { n += 1; n }) }), [1, 2, 3]) }),
        ("PVec", "resize", || { assert_eq!(vstr(&["a", "b", "c"], |v| { v.resize(2, "x")?; v.resize(3, "y") }), ["a", "b", "y"]) }),
        ("PVec", "extend_from_slice", || { assert_eq!(v64(&[1], |v| v.extend_from_slice(&[2, 3])), [1, 2, 3]) }),
        ("PVec", "extend_from_within", || { assert_eq!(v64(&[1, 2, 3], |v| v.extend_from_within(1..)), [1, 2, 3, 2, 3]) }),
        ("PVec", "splice", || { assert_eq!(v64(&[1, 2, 3], |v| { assert!(v.splice(..2, [7, 8, 9])?.eq([1, 2])); Ok(()) }), [7, 8, 9, 3]) }),
        ("PVec", "extract_if", || { assert_eq!(v64(&[1, 2, 3, 4, 5], |v| { assert!(v.extract_if(1.., |x| *x % 2 == 1).eq([3, 5])); Ok(()) }), [1, 2, 4]) }),
        ("PVec", "impl Extend", || { assert_eq!(v64(&[1], |v| { Extend::extend(v, [2, 3]); Ok(()) }), [1, 2, 3]) }),
        ("PVec", "impl Index", || { v64(&[1, 2, 3], |v| { assert_eq!((v[1], &v[1..]), (2, &[2, 3][..])); Ok(()) }); }),
        ("PVec", "impl IndexMut", || { assert_eq!(v64(&[1, 2, 3], |v| { v[0] = 9; v[1..].fill(0); Ok(()) }), [9, 0, 0]) }),
        ("PVec", "impl IntoIterator for &", || { v64(&[1, 2], |v| { assert_eq!((&**v).into_iter().sum::<u64>(), 3); Ok(()) }); }),
        ("PVec", "impl IntoIterator for &mut", || { assert_eq!(v64(&[1, 2], |v| { for x in &mut *v { *x *= 2; } Ok(()) }), [2, 4]) }),
        ("PVec", "impl Deref", || { v64(&[3, 1], |v| { assert_eq!(v.iter().max(), Some(&3)); assert!(v.contains(&1)); Ok(()) }); }),
        ("PVec", "impl PartialEq", || { v64(&[1, 2], |v| { assert!(**v == [1, 2] && **v == vec![1, 2]); Ok(()) }); }),
        ("PVec", "impl Ord", || { two_vecs(|a, b| { assert!(**a < **b); Ok(()) }); }),
        ("PVec", "impl Hash", || { v64(&[1, 2], |v| { assert_eq!(hash_of(&**v), hash_of(&[1u64, 2][..])); Ok(()) }); }),
        ("PVec", "impl Debug", || { v64(&[1, 2], |v| { assert_eq!(format!("{:?}", **v), "[1, 2]"); Ok(()) }); }),
        ("PVec", "impl Default", || { assert!(PVec::<u8>::default().is_empty()) }),
        // ------------------------------------------------------------- PString
        ("PString", "new", || assert_eq!(PString::new(), "")),
        ("PString", "as_str", || { st("ab", |s| { assert_eq!(s.as_str(), "ab"); Ok(()) }); }),
        ("PString", "as_mut_str", || { assert_eq!(st("ab", |s| { s.as_mut_str().make_ascii_uppercase(); Ok(()) }), "AB") }),
        ("PString", "push_str", || { assert_eq!(st("a", |s| s.push_str("bc")), "abc") }),
        ("PString", "extend_from_within", || { assert_eq!(st("abc", |s| s.extend_from_within(1..)), "abcbc") }),
        ("PString", "capacity", || { st("", |s| { s.reserve_exact(4)?; assert_eq!(s.capacity(), 4); Ok(()) }); }),
        ("PString", "reserve", || { st("a", |s| { s.reserve(9)?; assert!(s.capacity() >= 10); Ok(()) }); }),
        ("PString", "reserve_exact", || { st("", |s| { s.reserve_exact(10)?; assert_eq!(s.capacity(), 10); Ok(()) }); }),
        ("PString", "try_reserve", || { st("", |s| { s.try_reserve(3)?; assert!(s.try_reserve(usize::MAX).is_err()); Ok(()) }); }),
        ("PString", "try_reserve_exact", || { st("", |s| { s.try_reserve_exact(3)?; assert_eq!(s.capacity(), 3); Ok(()) }); }),
        ("PString", "shrink_to_fit", || { st("ab", |s| { s.reserve(40)?; s.shrink_to_fit()?; assert_eq!(s.capacity(), 2); Ok(()) }); }),
        ("PString", "shrink_to", || { st("ab", |s| { s.reserve(40)?; s.shrink_to(8)?; assert_eq!(s.capacity(), 8); Ok(()) }); }),
        ("PString", "push", || { assert_eq!(st("a", |s| s.push('é')), "aé") }),
        ("PString", "as_bytes", || { st("ab", |s| { assert_eq!(s.as_bytes(), b"ab"); Ok(()) }); }),
        ("PString", "truncate", || { assert_eq!(st("abc", |s| { s.truncate(1); Ok(()) }), "a") }),
        ("PString", "pop", || { assert_eq!(st("aé", |s| { assert_eq!(s.pop(), Some('é')); Ok(()) }), "a") }),
        ("PString", "remove", || { assert_eq!(st("aéb", |s| { assert_eq!(s.remove(1), 'é'); Ok(()) }), "ab") }),
        ("PString", "retain", || { assert_eq!(st("a_b_c", |s| { s.retain(|c| c != '_'); Ok(()) }), "abc") }),
        ("PString", "insert", || { assert_eq!(st("ac", |s| s.insert(1, 'b')), "abc") }),
        ("PString", "insert_str", || { assert_eq!(st("ad", |s| s.insert_str(1, "bc")), "abcd") }),
        ("PString", "as_mut_vec", || { assert_eq!(st("ba", |s| { unsafe { s.as_mut_vec().swap(0, 1) }; Ok(()) }), "ab") }),
        ("PString", "len", || { st("é", |s| { assert_eq!(s.len(), 2); Ok(()) }); }),
        ("PString", "is_empty", || { st("", |s| { assert!(s.is_empty()); Ok(()) }); }),
        ("PString", "split_off", || { assert_eq!(st("abcd", |s| { assert_eq!(s.split_off(1), "bcd"); Ok(()) }), "a") }),
        ("PString", "clear", || { assert_eq!(st("ab", |s| { s.clear(); Ok(()) }), "") }),
        ("PString", "drain", || { assert_eq!(st("abcd", |s| { assert_eq!(s.drain(1..3).collect::<String>(), "bc"); Ok(()) }), "ad") }),
        ("PString", "replace_range", || { assert_eq!(st("abcd", |s| s.replace_range(1..3, "XYZ")), "aXYZd") }),
        ("PString", "impl AddAssign<&str>", || { assert_eq!(st("a", |s| { *s += "bc"; Ok(()) }), "abc") }),
        ("PString", "impl fmt::Write", || { assert_eq!(st("", |s| { write!(s, "{}-{}", 1, 2).unwrap(); Ok(()) }), "1-2") }),
        ("PString", "impl Extend", || { assert_eq!(st("", |s| { s.extend(['a', 'b']); s.extend(["cd"]); Ok(()) }), "abcd") }),
        ("PString", "impl Deref", || { st("a-b", |s| { assert_eq!(s.replace('-', "+"), "a+b"); assert!(s.starts_with('a')); Ok(()) }); }),
        ("PString", "impl Index", || { st("abc", |s| { assert_eq!(&s[1..], "bc"); Ok(()) }); }),
        ("PString", "impl PartialEq", || { st("ab", |s| { assert!(**s == "ab" && *"ab" == **s && **s == *String::from("ab").as_str()); Ok(()) }); }),
        ("PString", "impl Ord", || { let mut p = Pool::<PVec<PString>>::volatile().unwrap(); p.tx(|tx| tx.root_mut().extend(["a", "b"])).unwrap(); p.read(|v| assert!(v[0] < v[1])).unwrap(); }),
        ("PString", "impl Hash", || { st("ab", |s| { assert_eq!(hash_of(&**s), hash_of("ab")); Ok(()) }); }),
        ("PString", "impl Display", || { st("ab", |s| { assert_eq!(format!("{}", **s), "ab"); Ok(()) }); }),
        ("PString", "impl Debug", || { st("ab", |s| { assert_eq!(format!("{:?}", **s), "\"ab\""); Ok(()) }); }),
        ("PString", "impl Default", || { assert_eq!(PString::default(), "") }),
        // ------------------------------------------------------------ PHashMap
        ("PHashMap", "new", || { assert!(PHashMap::<u8, u8>::new().is_empty()) }),
        ("PHashMap", "capacity", || { hm(&[], |m| { m.reserve(20)?; assert!(m.capacity() >= 20); Ok(()) }); }),
        ("PHashMap", "keys", || { hm(&[(1, 10), (2, 20)], |m| { assert_eq!(m.keys().copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 2])); Ok(()) }); }),
        ("PHashMap", "values", || { hm(&[(1, 10), (2, 20)], |m| { assert_eq!(m.values().sum::<u64>(), 30); Ok(()) }); }),
        ("PHashMap", "values_mut", || { assert_eq!(hm(&[(1, 10)], |m| { m.values_mut().for_each(|v| *v += 1); Ok(()) }), BTreeMap::from([(1, 11)])) }),
        ("PHashMap", "iter", || { hm(&[(1, 10)], |m| { assert_eq!(m.iter().collect::<Vec<_>>(), [(&1, &10)]); Ok(()) }); }),
        ("PHashMap", "iter_mut", || { assert_eq!(hm(&[(1, 10)], |m| { for (k, v) in m.iter_mut() { *v += k; } Ok(()) }), BTreeMap::from([(1, 11)])) }),
        ("PHashMap", "len", || { hm(&[(1, 10)], |m| { assert_eq!(m.len(), 1); Ok(()) }); }),
        ("PHashMap", "is_empty", || { hm(&[], |m| { assert!(m.is_empty()); Ok(()) }); }),
        ("PHashMap", "drain", || { assert!(hm(&[(1, 10)], |m| { assert_eq!(m.drain().collect::<Vec<_>>(), [(1, 10)]); Ok(()) }) .is_empty()) }),
        ("PHashMap", "extract_if", || { assert_eq!(hm(&[(1, 10), (2, 20)], |m| { assert_eq!(m.extract_if(|k, _| *k == 1).collect::<Vec<_>>(), [(1, 10)]); Ok(()) }), BTreeMap::from([(2, 20)])) }),
        ("PHashMap", "retain", || { assert_eq!(hm(&[(1, 10), (2, 20)], |m| m.retain(|k, v| { *v += 1; *k == 2 })), BTreeMap::from([(2, 21)])) }),
        ("PHashMap", "clear", || { assert!(hm(&[(1, 10)], PHashMapMut::clear).is_empty()) }),
        ("PHashMap", "hasher", || { hm(&[(1, 10)], |m| { assert_eq!(m.hasher().hash_one(1u64), m.hasher().hash_one(1u64)); Ok(()) }); }),
        ("PHashMap", "reserve", || { hm(&[], |m| { m.reserve(100)?; assert!(m.capacity() >= 100); Ok(()) }); }),
        ("PHashMap", "try_reserve", || { hm(&[], |m| { m.try_reserve(10)?; assert!(m.try_reserve(usize::MAX).is_err()); Ok(()) }); }),
        ("PHashMap", "shrink_to_fit", || { hm(&[(1, 1)], |m| { m.reserve(100)?; m.shrink_to_fit()?; assert!(m.capacity() < 100); Ok(()) }); }),
        ("PHashMap", "shrink_to", || { hm(&[(1, 1)], |m| { m.reserve(1000)?; m.shrink_to(50)?; assert!((50..1000).contains(&m.capacity())); Ok(()) }); }),
        ("PHashMap", "entry", || { assert_eq!(hm(&[(1, 10)], |m| { *m.entry(1).or_insert(0)? += 1; *m.entry(2).or_insert(5)? += 1; Ok(()) }), BTreeMap::from([(1, 11), (2, 6)])) }),
        ("PHashMap", "get", || { hm(&[(1, 10)], |m| { assert_eq!((m.get(&1), m.get(&2)), (Some(&10), None)); Ok(()) }); }),
        ("PHashMap", "get_key_value", || { hm(&[(1, 10)], |m| { assert_eq!(m.get_key_value(&1), Some((&1, &10))); Ok(()) }); }),
        ("PHashMap", "get_disjoint_mut", || { assert_eq!(hm(&[(1, 10), (2, 20)], |m| { let [a, b] = m.get_disjoint_mut([&1, &2]); std::mem::swap(a.unwrap(), b.unwrap()); Ok(()) }), BTreeMap::from([(1, 20), (2, 10)])) }),
        ("PHashMap", "get_disjoint_unchecked_mut", || { assert_eq!(hm(&[(1, 10), (2, 20)], |m| { let [a, _] = unsafe { m.get_disjoint_unchecked_mut([&1, &2]) }; *a.unwrap() = 0; Ok(()) }), BTreeMap::from([(1, 0), (2, 20)])) }),
        ("PHashMap", "contains_key", || { hm(&[(1, 10)], |m| { assert!(m.contains_key(&1) && !m.contains_key(&2)); Ok(()) }); }),
        ("PHashMap", "get_mut", || { assert_eq!(hm(&[(1, 10)], |m| { *m.get_mut(&1).unwrap() += 1; Ok(()) }), BTreeMap::from([(1, 11)])) }),
        ("PHashMap", "insert", || { assert_eq!(hm(&[(1, 10)], |m| { assert_eq!(m.insert(1, 11)?, Some(10)); assert_eq!(m.insert(2, 2)?, None); Ok(()) }), BTreeMap::from([(1, 11), (2, 2)])) }),
        ("PHashMap", "remove", || { assert!(hm(&[(1, 10)], |m| { assert_eq!(m.remove(&1)?, Some(10)); assert_eq!(m.remove(&1)?, None); Ok(()) }) .is_empty()) }),
        ("PHashMap", "remove_entry", || { assert!(hm(&[(1, 10)], |m| { assert_eq!(m.remove_entry(&1)?, Some((1, 10))); Ok(()) }) .is_empty()) }),
        ("PHashMap", "impl Extend", || { assert_eq!(hm(&[], |m| { Extend::extend(m, [(1, 1)]); Ok(()) }), BTreeMap::from([(1, 1)])) }),
        ("PHashMap", "impl Index", || { hm(&[(1, 10)], |m| { assert_eq!(m[&1], 10); Ok(()) }); }),
        ("PHashMap", "impl IntoIterator for &", || { hm(&[(1, 10)], |m| { assert_eq!((&**m).into_iter().count(), 1); Ok(()) }); }),
        ("PHashMap", "impl IntoIterator for &mut", || { assert_eq!(hm(&[(1, 10)], |m| { for (_, v) in &mut *m { *v = 0; } Ok(()) }), BTreeMap::from([(1, 0)])) }),
        ("PHashMap", "impl PartialEq", || { let mut p = Pool::<PVec<PHashMap<u64, u64>>>::volatile().unwrap(); p.tx(|tx| { let v = tx.root_mut(); v.resize_with(3, PHashMap::new)?; v.get_mut(0).unwrap().extend([(1, 1), (2, 2)])?; v.get_mut(1).unwrap().extend([(2, 2), (1, 1)]) }).unwrap(); p.read(|v| assert!(v[0] == v[1] && v[0] != v[2])).unwrap(); }),
        ("PHashMap", "impl Debug", || { hm(&[(1, 10)], |m| { assert_eq!(format!("{:?}", **m), "{1: 10}"); Ok(()) }); }),
        ("PHashMap", "impl Default", || { assert!(PHashMap::<u8, u8>::default().is_empty()) }),
        // ------------------------------------------------------------ PHashSet
        ("PHashSet", "new", || { assert!(PHashSet::<u8>::new().is_empty()) }),
        ("PHashSet", "capacity", || { hs(&[], |s| { s.reserve(9)?; assert!(s.capacity() >= 9); Ok(()) }); }),
        ("PHashSet", "iter", || { hs(&[1, 2], |s| { assert_eq!(s.iter().sum::<u64>(), 3); Ok(()) }); }),
        ("PHashSet", "len", || { hs(&[1, 2, 2], |s| { assert_eq!(s.len(), 2); Ok(()) }); }),
        ("PHashSet", "is_empty", || { hs(&[], |s| { assert!(s.is_empty()); Ok(()) }); }),
        ("PHashSet", "drain", || { assert!(hs(&[1], |s| { assert_eq!(s.drain().collect::<Vec<_>>(), [1]); Ok(()) }) .is_empty()) }),
        ("PHashSet", "extract_if", || { assert_eq!(hs(&[1, 2], |s| { assert_eq!(s.extract_if(|x| *x == 1).collect::<Vec<_>>(), [1]); Ok(()) }), BTreeSet::from([2])) }),
        ("PHashSet", "retain", || { assert_eq!(hs(&[1, 2, 3], |s| s.retain(|x| x % 2 == 1)), BTreeSet::from([1, 3])) }),
        ("PHashSet", "clear", || { assert!(hs(&[1], PHashSetMut::clear).is_empty()) }),
        ("PHashSet", "hasher", || { hs(&[1], |s| { assert_eq!(s.hasher().hash_one(1u64), s.hasher().hash_one(1u64)); Ok(()) }); }),
        ("PHashSet", "reserve", || { hs(&[], |s| { s.reserve(40)?; assert!(s.capacity() >= 40); Ok(()) }); }),
        ("PHashSet", "try_reserve", || { hs(&[], |s| { s.try_reserve(4)?; assert!(s.try_reserve(usize::MAX).is_err()); Ok(()) }); }),
        ("PHashSet", "shrink_to_fit", || { hs(&[], |s| { s.reserve(40)?; s.shrink_to_fit()?; assert_eq!(s.capacity(), 0); Ok(()) }); }),
        ("PHashSet", "shrink_to", || { hs(&[1], |s| { s.reserve(400)?; s.shrink_to(20)?; assert!((20..400).contains(&s.capacity())); Ok(()) }); }),
        ("PHashSet", "difference", || { two_hs(&[1, 2, 3], &[2], |a, b| { assert_eq!(a.difference(b).copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 3])) }) }),
        ("PHashSet", "symmetric_difference", || { two_hs(&[1, 2], &[2, 3], |a, b| { assert_eq!(a.symmetric_difference(b).copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 3])) }) }),
        ("PHashSet", "intersection", || { two_hs(&[1, 2], &[2, 3], |a, b| { assert_eq!(a.intersection(b).collect::<Vec<_>>(), [&2]) }) }),
        ("PHashSet", "union", || { two_hs(&[1, 2], &[2, 3], |a, b| { assert_eq!(a.union(b).copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 2, 3])) }) }),
        ("PHashSet", "contains", || { hs(&[1], |s| { assert!(s.contains(&1) && !s.contains(&2)); Ok(()) }); }),
        ("PHashSet", "get", || { hs(&[1], |s| { assert_eq!(s.get(&1), Some(&1)); Ok(()) }); }),
        ("PHashSet", "is_disjoint", || { two_hs(&[1], &[2], |a, b| assert!(a.is_disjoint(b))) }),
        ("PHashSet", "is_subset", || { two_hs(&[1], &[1, 2], |a, b| { assert!(a.is_subset(b) && !b.is_subset(a)) }) }),
        ("PHashSet", "is_superset", || { two_hs(&[1], &[1, 2], |a, b| assert!(b.is_superset(a))) }),
        ("PHashSet", "insert", || { assert_eq!(hs(&[1], |s| { assert!(s.insert(2)?); assert!(!s.insert(2)?); Ok(()) }), BTreeSet::from([1, 2])) }),
        ("PHashSet", "replace", || { hs(&[1], |s| { assert_eq!(s.replace(1)?, Some(1)); assert_eq!(s.replace(2)?, None); Ok(()) }); }),
        ("PHashSet", "remove", || { assert!(hs(&[1], |s| { assert!(s.remove(&1)?); Ok(()) }) .is_empty()) }),
        ("PHashSet", "take", || { assert!(hs(&[1], |s| { assert_eq!(s.take(&1)?, Some(1)); Ok(()) }) .is_empty()) }),
        ("PHashSet", "impl Extend", || { assert_eq!(hs(&[], |s| { Extend::extend(s, [1, 1, 2]); Ok(()) }), BTreeSet::from([1, 2])) }),
        ("PHashSet", "impl IntoIterator for &", || { hs(&[1], |s| { assert_eq!((&**s).into_iter().count(), 1); Ok(()) }); }),
        ("PHashSet", "impl PartialEq", || { two_hs(&[1, 2], &[2, 1], |a, b| assert!(a == b)) }),
        ("PHashSet", "impl Debug", || { hs(&[1], |s| { assert_eq!(format!("{:?}", **s), "{1}"); Ok(()) }); }),
        ("PHashSet", "impl Default", || { assert!(PHashSet::<u8>::default().is_empty()) }),
        // ----------------------------------------------------------- PBTreeMap
        ("PBTreeMap", "new", || { assert!(PBTreeMap::<u8, u8>::new().is_empty()) }),
        ("PBTreeMap", "clear", || { assert!(bm(&[(1, 1)], PBTreeMapMut::clear).is_empty()) }),
        ("PBTreeMap", "get", || { bm(&[(1, 10)], |m| { assert_eq!((m.get(&1), m.get(&2)), (Some(&10), None)); Ok(()) }); }),
        ("PBTreeMap", "get_key_value", || { bm(&[(1, 10)], |m| { assert_eq!(m.get_key_value(&1), Some((&1, &10))); Ok(()) }); }),
        ("PBTreeMap", "first_key_value", || { bm(&[(2, 20), (1, 10)], |m| { assert_eq!(m.first_key_value(), Some((&1, &10))); Ok(()) }); }),
        ("PBTreeMap", "first_entry", || { assert_eq!(bm(&[(2, 20), (1, 10)], |m| { *m.first_entry().unwrap().get_mut() = 0; Ok(()) }), [(1, 0), (2, 20)]) }),
        ("PBTreeMap", "pop_first", || { assert_eq!(bm(&[(2, 20), (1, 10)], |m| { assert_eq!(m.pop_first()?, Some((1, 10))); Ok(()) }), [(2, 20)]) }),
        ("PBTreeMap", "last_key_value", || { bm(&[(2, 20), (1, 10)], |m| { assert_eq!(m.last_key_value(), Some((&2, &20))); Ok(()) }); }),
        ("PBTreeMap", "last_entry", || { assert_eq!(bm(&[(2, 20), (1, 10)], |m| { assert_eq!(m.last_entry().unwrap().remove()?, 20); Ok(()) }), [(1, 10)]) }),
        ("PBTreeMap", "pop_last", || { assert_eq!(bm(&[(2, 20), (1, 10)], |m| { assert_eq!(m.pop_last()?, Some((2, 20))); Ok(()) }), [(1, 10)]) }),
        ("PBTreeMap", "contains_key", || { bm(&[(1, 10)], |m| { assert!(m.contains_key(&1) && !m.contains_key(&2)); Ok(()) }); }),
        ("PBTreeMap", "get_mut", || { assert_eq!(bm(&[(1, 10)], |m| { *m.get_mut(&1).unwrap() += 1; Ok(()) }), [(1, 11)]) }),
        ("PBTreeMap", "insert", || { assert_eq!(bm(&[(1, 10)], |m| { assert_eq!(m.insert(1, 11)?, Some(10)); assert_eq!(m.insert(0, 0)?, None); Ok(()) }), [(0, 0), (1, 11)]) }),
        ("PBTreeMap", "remove", || { assert!(bm(&[(1, 10)], |m| { assert_eq!(m.remove(&1)?, Some(10)); assert_eq!(m.remove(&1)?, None); Ok(()) }) .is_empty()) }),
        ("PBTreeMap", "remove_entry", || { assert!(bm(&[(1, 10)], |m| { assert_eq!(m.remove_entry(&1)?, Some((1, 10))); Ok(()) }) .is_empty()) }),
        ("PBTreeMap", "retain", || { assert_eq!(bm(&[(1, 10), (2, 20)], |m| m.retain(|k, v| { *v += 1; *k == 2 })), [(2, 21)]) }),
        ("PBTreeMap", "append", || { let mut p = Pool::<PVec<PBTreeMap<u64, u64>>>::volatile().unwrap(); p.tx(|tx| { let v = tx.root_mut(); v.resize_with(2, PBTreeMap::new)?; let mut it = v.iter_mut(); let (a, b) = (it.next().unwrap(), it.next().unwrap()); a.extend([(1, 1), (2, 2)])?; b.extend([(2, 20), (3, 30)])?; a.append(b) }) .unwrap(); p.check().unwrap(); p.read(|v| { assert!(v[0].iter().eq([(&1, &1), (&2, &20), (&3, &30)])); assert!(v[1].is_empty()); }) .unwrap(); }),
        ("PBTreeMap", "range", || { bm(&[(1, 1), (2, 2), (3, 3)], |m| { assert!(m.range(2..).map(|(k, _)| *k).eq([2, 3])); Ok(()) }); }),
        ("PBTreeMap", "range_mut", || { assert_eq!(bm(&[(1, 1), (2, 2), (3, 3)], |m| { m.range_mut(..2).for_each(|(_, v)| *v = 0); Ok(()) }), [(1, 0), (2, 2), (3, 3)]) }),
        ("PBTreeMap", "entry", || { assert_eq!(bm(&[(1, 10)], |m| { match m.entry(1) { Entry::Occupied(mut o) => { o.insert(11)?; } Entry::Vacant(_) => unreachable!(), } *m.entry(2).or_default()? += 2; Ok(()) }), [(1, 11), (2, 2)]) }),
        ("PBTreeMap", "split_off", || { assert_eq!(bm(&[(1, 1), (2, 2), (3, 3)], |m| { assert_eq!(m.split_off(&2)?, BTreeMap::from([(2, 2), (3, 3)])); Ok(()) }), [(1, 1)]) }),
        ("PBTreeMap", "extract_if", || { assert_eq!(bm(&[(1, 1), (2, 2), (3, 3)], |m| { assert!(m.extract_if(.., |k, _| *k != 2).eq([(1, 1), (3, 3)])); Ok(()) }), [(2, 2)]) }),
        ("PBTreeMap", "iter", || { bm(&[(2, 2), (1, 1)], |m| { assert!(m.iter().eq([(&1, &1), (&2, &2)])); Ok(()) }); }),
        ("PBTreeMap", "iter_mut", || { assert_eq!(bm(&[(1, 1)], |m| { for (_, v) in m.iter_mut() { *v = 5; } Ok(()) }), [(1, 5)]) }),
        ("PBTreeMap", "keys", || { bm(&[(2, 2), (1, 1)], |m| { assert!(m.keys().eq([&1, &2])); Ok(()) }); }),
        ("PBTreeMap", "values", || { bm(&[(2, 20), (1, 10)], |m| { assert!(m.values().eq([&10, &20])); Ok(()) }); }),
        ("PBTreeMap", "values_mut", || { assert_eq!(bm(&[(1, 1)], |m| { m.values_mut().for_each(|v| *v = 7); Ok(()) }), [(1, 7)]) }),
        ("PBTreeMap", "len", || { bm(&[(1, 1)], |m| { assert_eq!(m.len(), 1); Ok(()) }); }),
        ("PBTreeMap", "is_empty", || { bm(&[], |m| { assert!(m.is_empty()); Ok(()) }); }),
        ("PBTreeMap", "impl Extend", || { assert_eq!(bm(&[], |m| { Extend::extend(m, [(2, 2), (1, 1)]); Ok(()) }), [(1, 1), (2, 2)]) }),
        ("PBTreeMap", "impl Index", || { bm(&[(1, 10)], |m| { assert_eq!(m[&1], 10); Ok(()) }); }),
        ("PBTreeMap", "impl IntoIterator for &", || { bm(&[(1, 10)], |m| { assert_eq!((&**m).into_iter().count(), 1); Ok(()) }); }),
        ("PBTreeMap", "impl IntoIterator for &mut", || { assert_eq!(bm(&[(1, 10)], |m| { for (_, v) in &mut *m { *v = 0; } Ok(()) }), [(1, 0)]) }),
        ("PBTreeMap", "impl PartialEq", || { let mut p = Pool::<PVec<PBTreeMap<u64, u64>>>::volatile().unwrap(); p.tx(|tx| { let v = tx.root_mut(); v.resize_with(3, PBTreeMap::new)?; v.get_mut(0).unwrap().extend([(1, 1), (2, 2)])?; v.get_mut(1).unwrap().extend([(2, 2), (1, 1)]) }).unwrap(); p.read(|v| assert!(v[0] == v[1] && v[0] != v[2])).unwrap(); }),
        ("PBTreeMap", "impl Ord", || { bm(&[(1, 10)], |m| { assert_eq!((**m).cmp(&**m), std::cmp::Ordering::Equal); Ok(()) }); }),
        ("PBTreeMap", "impl Hash", || { bm(&[(1, 10)], |m| { assert_eq!(hash_of(&**m), hash_of(&BTreeMap::from([(1u64, 10u64)]))); Ok(()) }); }),
        ("PBTreeMap", "impl Debug", || { bm(&[(1, 10)], |m| { assert_eq!(format!("{:?}", **m), "{1: 10}"); Ok(()) }); }),
        ("PBTreeMap", "impl Default", || { assert!(PBTreeMap::<u8, u8>::default().is_empty()) }),
        // ----------------------------------------------------------- PBTreeSet
        ("PBTreeSet", "new", || { assert!(PBTreeSet::<u8>::new().is_empty()) }),
        ("PBTreeSet", "range", || { bs(&[1, 2, 3], |s| { assert!(s.range(2..).eq([&2, &3])); Ok(()) }); }),
        ("PBTreeSet", "difference", || { two_bs(&[1, 2, 3], &[2], |a, b| { assert!(a.difference(b).eq([&1, &3])) }) }),
        ("PBTreeSet", "symmetric_difference", || { two_bs(&[1, 2], &[2, 3], |a, b| { assert!(a.symmetric_difference(b).eq([&1, &3])) }) }),
        ("PBTreeSet", "intersection", || { two_bs(&[1, 2], &[2, 3], |a, b| assert!(a.intersection(b).eq([&2]))) }),
        ("PBTreeSet", "union", || { two_bs(&[1, 2], &[2, 3], |a, b| { assert!(a.union(b).eq([&1, &2, &3])) }) }),
        ("PBTreeSet", "clear", || { assert!(bs(&[1], PBTreeSetMut::clear).is_empty()) }),
        ("PBTreeSet", "contains", || { bs(&[1], |s| { assert!(s.contains(&1) && !s.contains(&2)); Ok(()) }); }),
        ("PBTreeSet", "get", || { bs(&[1], |s| { assert_eq!(s.get(&1), Some(&1)); Ok(()) }); }),
        ("PBTreeSet", "is_disjoint", || { two_bs(&[1], &[2], |a, b| assert!(a.is_disjoint(b))) }),
        ("PBTreeSet", "is_subset", || { two_bs(&[1], &[1, 2], |a, b| { assert!(a.is_subset(b) && !b.is_subset(a)) }) }),
        ("PBTreeSet", "is_superset", || { two_bs(&[1], &[1, 2], |a, b| assert!(b.is_superset(a))) }),
        ("PBTreeSet", "first", || { bs(&[2, 1], |s| { assert_eq!(s.first(), Some(&1)); Ok(()) }); }),
        ("PBTreeSet", "last", || { bs(&[2, 1], |s| { assert_eq!(s.last(), Some(&2)); Ok(()) }); }),
        ("PBTreeSet", "pop_first", || { assert_eq!(bs(&[2, 1], |s| { assert_eq!(s.pop_first()?, Some(1)); Ok(()) }), [2]) }),
        ("PBTreeSet", "pop_last", || { assert_eq!(bs(&[2, 1], |s| { assert_eq!(s.pop_last()?, Some(2)); Ok(()) }), [1]) }),
        ("PBTreeSet", "insert", || { assert_eq!(bs(&[1], |s| { assert!(s.insert(0)?); assert!(!s.insert(0)?); Ok(()) }), [0, 1]) }),
        ("PBTreeSet", "replace", || { bs(&[1], |s| { assert_eq!(s.replace(1)?, Some(1)); assert_eq!(s.replace(2)?, None); Ok(()) }); }),
        ("PBTreeSet", "remove", || { assert!(bs(&[1], |s| { assert!(s.remove(&1)?); assert!(!s.remove(&1)?); Ok(()) }) .is_empty()) }),
        ("PBTreeSet", "take", || { assert!(bs(&[1], |s| { assert_eq!(s.take(&1)?, Some(1)); Ok(()) }) .is_empty()) }),
        ("PBTreeSet", "retain", || { assert_eq!(bs(&[1, 2, 3], |s| s.retain(|x| x % 2 == 1)), [1, 3]) }),
        ("PBTreeSet", "append", || { let mut p = Pool::<PVec<PBTreeSet<u64>>>::volatile().unwrap(); p.tx(|tx| { tx.root_mut().extend([vec![1u64, 2], vec![2, 3]])?; let mut it = tx.root_mut().iter_mut(); let (a, b) = (it.next().unwrap(), it.next().unwrap()); a.append(b) }) .unwrap(); p.check().unwrap(); p.read(|v| assert!(v[0].iter().eq([&1, &2, &3]) && v[1].is_empty())) .unwrap(); }),
        ("PBTreeSet", "split_off", || { assert_eq!(bs(&[1, 2, 3], |s| { assert_eq!(s.split_off(&2)?, BTreeSet::from([2, 3])); Ok(()) }), [1]) }),
        ("PBTreeSet", "extract_if", || { assert_eq!(bs(&[1, 2, 3], |s| { assert!(s.extract_if(.., |x| *x != 2).eq([1, 3])); Ok(()) }), [2]) }),
        ("PBTreeSet", "iter", || { bs(&[2, 1], |s| { assert!(s.iter().eq([&1, &2])); Ok(()) }); }),
        ("PBTreeSet", "len", || { bs(&[1, 1], |s| { assert_eq!(s.len(), 1); Ok(()) }); }),
        ("PBTreeSet", "is_empty", || { bs(&[], |s| { assert!(s.is_empty()); Ok(()) }); }),
        ("PBTreeSet", "impl Extend", || { assert_eq!(bs(&[], |s| { Extend::extend(s, [2, 1]); Ok(()) }), [1, 2]) }),
        ("PBTreeSet", "impl IntoIterator for &", || { bs(&[1], |s| { assert_eq!((&**s).into_iter().count(), 1); Ok(()) }); }),
        ("PBTreeSet", "impl PartialEq", || { two_bs(&[1, 2], &[2, 1], |a, b| assert!(a == b)) }),
        ("PBTreeSet", "impl Ord", || { two_bs(&[1, 2], &[1, 3], |a, b| assert!(a < b)) }),
        ("PBTreeSet", "impl Hash", || { bs(&[1], |s| { assert_eq!(hash_of(&**s), hash_of(&BTreeSet::from([1u64]))); Ok(()) }); }),
        ("PBTreeSet", "impl Debug", || { bs(&[1], |s| { assert_eq!(format!("{:?}", **s), "{1}"); Ok(()) }); }),
        ("PBTreeSet", "impl Default", || { assert!(PBTreeSet::<u8>::default().is_empty()) }),
    ]
}

/// One row of the table: type, std name, status, notes.
struct Row {
    ty: String,
    name: String,
    status: String,
    notes: String,
}

fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PARITY.md");
    let doc = std::fs::read_to_string(path).expect("docs/PARITY.md");
    let types: Vec<&str> = UNIVERSE.iter().map(|(t, _)| *t).collect();
    doc.lines()
        .filter_map(|line| {
            // Cells are split at `|` not escaped as `\|` (a pipe inside a cell).
            let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
            let mut cells = vec![String::new()];
            let mut chars = inner.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&'|') => {
                        cells.last_mut()?.push('|');
                        chars.next();
                    }
                    '|' => cells.push(String::new()),
                    c => cells.last_mut()?.push(c),
                }
            }
            let cells: Vec<&str> = cells.iter().map(|c| c.trim()).collect();
            (cells.len() == 5 && types.contains(&cells[0])).then(|| Row {
                ty: cells[0].to_string(),
                name: cells[1].trim_matches('`').to_string(),
                status: cells[2].to_string(),
                notes: cells[4].to_string(),
            })
        })
        .collect()
}

#[test]
fn the_parity_table_covers_std_and_every_present_row_is_checked() {
    let rows = rows();
    let checks = checks();
    let mut problems = Vec::new();
    let mut summary = String::new();
    for (ty, universe) in UNIVERSE {
        for name in *universe {
            let n = rows
                .iter()
                .filter(|r| r.ty == *ty && r.name == *name)
                .count();
            if n != 1 {
                problems.push(format!("{ty}::{name}: {n} rows in docs/PARITY.md (want 1)"));
            }
        }
        let mut count = [[0usize; 3]; 2]; // [methods, traits] x [present, absent, n/a]
        for r in rows.iter().filter(|r| r.ty == *ty) {
            if !universe.contains(&r.name.as_str()) {
                problems.push(format!(
                    "{ty}::{}: a row for something std does not have",
                    r.name
                ));
            }
            let checked = checks.iter().any(|(t, n, _)| t == ty && *n == r.name);
            let kind = usize::from(r.name.starts_with("impl "));
            let status = match r.status.as_str() {
                "present" => 0,
                "absent" => 1,
                "n/a" => 2,
                other => {
                    problems.push(format!("{ty}::{}: unknown status {other:?}", r.name));
                    continue;
                }
            };
            count[kind][status] += 1;
            if status == 0 && !checked {
                problems.push(format!("{ty}::{}: present, but no check", r.name));
            }
            if status != 0 && r.notes.is_empty() {
                problems.push(format!("{ty}::{}: {} without a reason", r.name, r.status));
            }
        }
        let [m, t] = count;
        let (present, applicable) = (m[0] + t[0], m[0] + m[1] + t[0] + t[1]);
        writeln!(
            summary,
            "{ty:10} {present}/{applicable} applicable present: methods {}/{}, traits {}/{}; n/a: {} methods, {} traits",
            m[0],
            m[0] + m[1],
            t[0],
            t[0] + t[1],
            m[2],
            t[2],
        )
        .unwrap();
        if present * 10 < applicable * 9 {
            problems.push(format!(
                "{ty}: only {present} of {applicable} applicable rows present"
            ));
        }
    }
    for (ty, name, _) in &checks {
        if !rows
            .iter()
            .any(|r| r.ty == *ty && r.name == *name && r.status == "present")
        {
            problems.push(format!("{ty}::{name}: checked, but not a present row"));
        }
    }
    print!("{summary}");
    assert!(
        problems.is_empty(),
        "docs/PARITY.md is out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_present_row_behaves_like_std() {
    for (ty, name, check) in checks() {
        if let Err(e) = std::panic::catch_unwind(check) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            panic!("{ty}::{name}: {msg}");
        }
    }
}

/// The vocabulary of docs/PARITY.md: one name per operation on every collection.
#[test]
fn one_vocabulary_across_collections() {
    // Insert-or-overwrite for any value type: `set`, answering whether the key was new.
    let mut p = Pool::<PHashMap<u64, PString>>::volatile().unwrap();
    p.tx(|tx| {
        assert!(tx.root_mut().set(1, "a")?);
        assert!(!tx.root_mut().set(1, "b")?);
        // Remove for any type: `remove_with`, the closure sees the entry before it goes.
        assert_eq!(
            tx.root_mut().remove_with(&1, |_, v| v.to_string())?,
            Some("b".into())
        );
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut p = Pool::<PBTreeMap<u64, PString>>::volatile().unwrap();
    p.tx(|tx| {
        assert!(tx.root_mut().set(1, "a")?);
        assert!(!tx.root_mut().set(1, "b")?);
        assert_eq!(
            tx.root_mut().remove_with(&1, |_, v| v.to_string())?,
            Some("b".into())
        );
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut p = Pool::<PVec<PString>>::volatile().unwrap();
    p.tx(|tx| {
        tx.root_mut().push("a")?;
        tx.root_mut().set(0, "b")?;
        assert_eq!(tx.root_mut().remove_with(0, ToString::to_string)?, "b");
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut p = Pool::<PString>::volatile().unwrap();
    p.tx(|tx| tx.root_mut().set("whole")).unwrap();
    p.read(|s| assert_eq!(s.replace("ole", "ale"), "whale"))
        .unwrap();
}
