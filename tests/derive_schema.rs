//! The fingerprint and schema a derived type reports: the fingerprint changes with
//! anything that changes how stored bytes must be read (type name, field names, field
//! types, field order, size, alignment) and nothing else (not the module path); the
//! schema lists each field's name, offset and kind, for tools that read a pool without
//! the application's code.

use std::mem::offset_of;

use pmem::schema::{Shape, TypeSchema};
use pmem::{PBox, PPtr, Persistent};

macro_rules! account {
    ($mod:ident, $name:ident { $($f:ident: $t:ty),* } $(, $repr:meta)?) => {
        mod $mod {
            #[derive(pmem::Persistent)]
            #[repr(C)]
            $(#[repr($repr)])?
            pub(crate) struct $name { $(pub(crate) $f: $t),* }
        }
    };
}

account!(
    base,
    Account {
        balance: i64,
        owner: u64
    }
);
account!(
    same_elsewhere,
    Account {
        balance: i64,
        owner: u64
    }
);
account!(
    renamed_type,
    Wallet {
        balance: i64,
        owner: u64
    }
);
account!(
    renamed_field,
    Account {
        balance: i64,
        holder: u64
    }
);
account!(
    retyped_field,
    Account {
        balance: u64,
        owner: u64
    }
);
account!(
    reordered,
    Account {
        owner: u64,
        balance: i64
    }
);
account!(
    extra_field,
    Account {
        balance: i64,
        owner: u64,
        limit: i64
    }
);
account!(
    realigned,
    Account {
        balance: i64,
        owner: u64
    },
    align(32)
);

const BASE: u64 = base::Account::FINGERPRINT; // a compile-time constant

#[test]
fn the_fingerprint_changes_with_every_layout_change_and_only_then() {
    assert_eq!(
        same_elsewhere::Account::FINGERPRINT,
        BASE,
        "the module path is not part of the layout"
    );
    let changed = [
        ("type name", renamed_type::Wallet::FINGERPRINT),
        ("field name", renamed_field::Account::FINGERPRINT),
        ("field type", retyped_field::Account::FINGERPRINT),
        ("field order", reordered::Account::FINGERPRINT),
        ("added field", extra_field::Account::FINGERPRINT),
        ("alignment", realigned::Account::FINGERPRINT),
    ];
    for (what, fp) in changed {
        assert_ne!(fp, BASE, "changing the {what} kept the fingerprint");
    }
    for (i, (a, x)) in changed.iter().enumerate() {
        for (b, y) in &changed[i + 1..] {
            assert_ne!(x, y, "{a} and {b} collide");
        }
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    key: u32,
    weights: [f32; 3],
    next: Option<PBox<Node>>,
    parent: PPtr<Node>,
    pair: (u8, u64),
}

fn field<'a>(s: &'a TypeSchema, name: &str) -> &'a pmem::schema::FieldSchema {
    let Shape::Struct(fields) = &s.shape else {
        panic!("{} is not a struct", s.name)
    };
    fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[test]
fn the_schema_lists_every_field_with_its_offset_and_kind() {
    let s = Node::SCHEMA;
    assert_eq!(
        (s.name, s.size, s.align, s.fingerprint),
        (
            "Node",
            size_of::<Node>(),
            align_of::<Node>(),
            Node::FINGERPRINT
        )
    );
    let Shape::Struct(fields) = &s.shape else {
        panic!()
    };
    let names: Vec<_> = fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["key", "weights", "next", "parent", "pair"]);

    assert_eq!(field(s, "key").offset, offset_of!(Node, key));
    assert_eq!(field(s, "weights").offset, offset_of!(Node, weights));
    assert_eq!(field(s, "next").offset, offset_of!(Node, next));
    assert_eq!(field(s, "parent").offset, offset_of!(Node, parent));
    assert_eq!(field(s, "pair").offset, offset_of!(Node, pair));

    assert!(matches!((field(s, "key").ty)().shape, Shape::Primitive));
    assert!(matches!(
        (field(s, "weights").ty)().shape,
        Shape::Array { len: 3, .. }
    ));
    let Shape::Option(inner) = (field(s, "next").ty)().shape else {
        panic!("next is not an Option")
    };
    let Shape::Pointer {
        owned: true,
        target,
    } = inner().shape
    else {
        panic!("next is not an owning pointer")
    };
    assert_eq!(
        target().name,
        "Node",
        "a recursive schema is reached through functions"
    );
    assert!(matches!(
        (field(s, "parent").ty)().shape,
        Shape::Pointer { owned: false, .. }
    ));
    assert!(matches!((field(s, "pair").ty)().shape, Shape::Tuple(_)));
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair(u16, u64);

#[test]
fn tuple_struct_fields_are_named_by_their_index() {
    let Shape::Struct(fields) = &Pair::SCHEMA.shape else {
        panic!()
    };
    let got: Vec<_> = fields.iter().map(|f| (f.name, f.offset)).collect();
    assert_eq!(
        got,
        [("0", offset_of!(Pair, 0)), ("1", offset_of!(Pair, 1))]
    );
}
