//! Schema descriptors: a description of a persistent type's layout that a pool can store
//! and a tool can read without the application's code (field names, type names, offsets,
//! and whether each is plain data, a pointer or a collection).

/// A function answering a type's schema; used for fields so recursive types work.
pub type SchemaFn = fn() -> &'static TypeSchema;

/// The layout of one persistent type.
#[derive(Debug)]
pub struct TypeSchema {
    /// The type's name.
    pub name: &'static str,
    /// `size_of`.
    pub size: usize,
    /// `align_of`.
    pub align: usize,
    /// The layout fingerprint.
    pub fingerprint: u64,
    /// What kind of type it is.
    pub shape: Shape,
}

/// One named (or numbered) field.
#[derive(Debug)]
pub struct FieldSchema {
    /// Field name (`"0"`, `"1"`... for tuple fields).
    pub name: &'static str,
    /// Byte offset in the containing type.
    pub offset: usize,
    /// The field's type.
    pub ty: SchemaFn,
}

/// One enum variant.
#[derive(Debug)]
pub struct VariantSchema {
    /// Variant name.
    pub name: &'static str,
    /// Discriminant value.
    pub discriminant: i128,
    /// Fields, with offsets from the start of the enum.
    pub fields: &'static [FieldSchema],
}

/// The kind of a persistent type.
#[derive(Debug)]
#[non_exhaustive]
pub enum Shape {
    /// An integer, float, `bool`, `char` or `()`: the name says which.
    Primitive,
    /// A struct (named or tuple fields).
    Struct(&'static [FieldSchema]),
    /// An enum with an explicit `repr`.
    Enum {
        /// The `repr` integer type.
        repr: &'static str,
        /// The variants.
        variants: &'static [VariantSchema],
    },
    /// `[T; len]`.
    Array {
        /// Element type.
        elem: SchemaFn,
        /// Length.
        len: usize,
    },
    /// A tuple.
    Tuple(&'static [FieldSchema]),
    /// `Option<T>`.
    Option(SchemaFn),
    /// A pool offset to a `T` (8 bytes, 0 = null).
    Pointer {
        /// Whether the pointer owns its target.
        owned: bool,
        /// Target type.
        target: SchemaFn,
    },
    /// A persistent collection; `kind` names it (`"PVec"`, `"PHashMap"`...).
    Collection {
        /// Collection name.
        kind: &'static str,
        /// Type parameters.
        params: &'static [SchemaFn],
    },
}
