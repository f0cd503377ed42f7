use std::cell::Cell;
use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    hits: Cell<u64>,
}

fn main() {}
