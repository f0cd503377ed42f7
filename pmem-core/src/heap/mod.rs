//! The persistent allocator (ARCHITECTURE §5): blocks, runs and the volatile index.

mod allocator;

pub(crate) use allocator::{census, mask_free_space, meta, set_meta, HeapIndex, HeapMem};
