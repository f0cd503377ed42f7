//! What reaches the media: the byte layout of the pool file and the log
//! (ARCHITECTURE §3–§5), the checksum every record carries, and the schema record a
//! pool stores to describe itself (§3.4).

pub(crate) mod auto;
mod checksum;
mod enum_tag;
mod layout;
pub mod schema;
mod schema_diff;
mod schema_graph;
mod schema_json;
mod validity;

pub(crate) use checksum::{crc32c, crc32c_append};
pub use enum_tag::EnumTag;
pub(crate) use layout::{
    get_u32, get_u64, pad8, put_u32, put_u64, run_geometry, BlockHeader, GroupHeader, HeaderFault,
    LogHeader, LogState, RootMeta, StateSlot, StaticHeader, ABS_MAX_POOL_SIZE, BLOCK_ALIGN,
    BLOCK_HEADER, CLASSES, FORMAT_VERSION, GROUP_HEADER_LEN, HEAP_START, KIND_FREE, KIND_LARGE,
    KIND_RUN, LAYOUT_LEN, LOG_HEADER_LEN, MAX_ALIGN, MAX_SMALL, META_MAGIC, META_OFF, PAGE,
    RECORD_HEADER_LEN, SECTOR, STATE_SLOT_OFF, TYPE_NAME_LEN,
};
pub use layout::{pool_tag_of, PPTR_TAG_SHIFT};
pub(crate) use schema_diff::diff;
pub use schema_diff::TypeDifference;
pub(crate) use schema_graph::Graph;
pub use schema_graph::{StoredField, StoredSchema, StoredShape, StoredType, StoredVariant};
pub use validity::ValidityError;
