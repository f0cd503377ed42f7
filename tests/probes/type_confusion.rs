//! Issue 11 item 1: the open-time type check used to stop at the first box or
//! collection (a pointer mixed in only its target's name and size), so safe code could
//! read a `bool` of 2 or a `char` of 0xD800 from a pool created with another element
//! type. Now the whole stored type graph must equal the program's, and a mismatch names
//! each difference by path.

use crate::common::Dir;
use pmem::{Error, PBox, PHashMap, PVec, Persistent, Pool};

/// Creates a pool of `A`, then opens it as `B`: answers the differences reported.
fn reopen_as<A: Persistent + Default, B: Persistent + Default>(name: &str) -> Vec<String> {
    let d = Dir::new("identity", name);
    let path = d.path("p.pool");
    Pool::<A>::create(&path).unwrap().close().unwrap();
    let r = Pool::<B>::open(&path);
    match r {
        Err(Error::TypeMismatch { differences, .. }) => {
            assert!(!differences.is_empty(), "a mismatch must say where");
            // open_or_create must refuse it just the same.
            assert!(matches!(
                Pool::<B>::open_or_create(&path),
                Err(Error::TypeMismatch { .. })
            ));
            differences.iter().map(ToString::to_string).collect()
        }
        Err(e) => panic!("expected TypeMismatch, got {e}"),
        Ok(_) => panic!("a pool of {} opened as {}", A::TYPE_NAME, B::TYPE_NAME),
    }
}

mod v1 {
    use pmem::{PBox, PVec, Persistent};

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Entry {
        pub(crate) id: u32,
        pub(crate) tag: u8,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Ledger {
        pub(crate) entries: PVec<Entry>,
        pub(crate) last: Option<PBox<Entry>>,
    }
}

mod v2 {
    use pmem::{PBox, PVec, Persistent};

    #[derive(Persistent, Default, Clone, Copy, PartialEq, Debug)]
    #[allow(dead_code)] // `B` exists to make `Tag` a two-variant enum
    #[repr(u8)]
    #[pmem(plain)]
    pub(crate) enum Tag {
        #[default]
        A,
        B,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Entry {
        pub(crate) id: u32,
        pub(crate) tag: bool,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Ledger {
        pub(crate) entries: PVec<Entry>,
        pub(crate) last: Option<PBox<Entry>>,
    }

    pub(crate) mod with_enum {
        use pmem::{PBox, PVec, Persistent};

        #[derive(Persistent, Default)]
        #[repr(C)]
        pub(crate) struct Entry {
            pub(crate) id: u32,
            pub(crate) tag: super::Tag,
        }

        #[derive(Persistent, Default)]
        #[repr(C)]
        pub(crate) struct Ledger {
            pub(crate) entries: PVec<Entry>,
            pub(crate) last: Option<PBox<Entry>>,
        }
    }
}

#[test]
fn a_vec_of_byte_arrays_does_not_open_as_a_vec_of_bool_arrays() {
    let d = reopen_as::<PVec<[u8; 4]>, PVec<[bool; 4]>>("vec-bool");
    assert_eq!(d, ["root[][]: u8 → bool"]);
}

#[test]
fn a_boxed_u32_tuple_does_not_open_as_a_boxed_char_tuple() {
    let d = reopen_as::<Option<PBox<(u32,)>>, Option<PBox<(char,)>>>("box-char");
    assert_eq!(d, ["root.0: u32 → char"]);
}

#[test]
fn a_field_retyped_inside_a_vec_and_a_box_is_named_by_path() {
    let d = reopen_as::<v1::Ledger, v2::Ledger>("field-bool");
    assert_eq!(d, ["root.entries[].tag: u8 → bool"]);
}

#[test]
fn a_field_turned_into_an_enum_inside_a_vec_is_named_by_path() {
    let d = reopen_as::<v1::Ledger, v2::with_enum::Ledger>("field-enum");
    assert_eq!(d, ["root.entries[].tag: u8 → Tag"]);
}

#[test]
fn map_keys_and_values_are_compared_too() {
    let d = reopen_as::<PHashMap<u64, u8>, PHashMap<u64, bool>>("map-value");
    assert_eq!(d, ["root[]: u8 → bool"]);
    let d = reopen_as::<PHashMap<u32, u8>, PHashMap<char, u8>>("map-key");
    assert_eq!(d, ["root{key}: u32 → char"]);
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    value: u64,
    next: Option<PBox<Node>>,
    children: PVec<Node>,
}

mod other {
    use pmem::{PBox, PVec, Persistent};

    /// `Node` with a different field type deep in the recursion.
    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Node {
        pub(crate) value: i64,
        pub(crate) next: Option<PBox<Node>>,
        pub(crate) children: PVec<Node>,
    }
}

#[test]
fn identical_recursive_types_open_and_changed_ones_do_not() {
    let d = Dir::new("identity", "recursive");
    let path = d.path("p.pool");
    let mut pool = Pool::<Node>::create(&path).unwrap();
    pool.tx(|tx| {
        let root = tx.root_mut();
        *root.value_mut() = 1;
        root.next_mut().insert(Node {
            value: 2,
            ..Node::default()
        })?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
    let pool = Pool::<Node>::open(&path).unwrap();
    assert_eq!(
        pool.read(|n| n.next.as_ref().map(|b| b.value)).unwrap(),
        Some(2)
    );
    pool.close().unwrap();
    assert_eq!(
        reopen_as::<Node, other::Node>("recursive-changed"),
        ["root.value: u64 → i64"]
    );
}
