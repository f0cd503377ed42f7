use std::cell::RefCell;
use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    log: RefCell<[u64; 4]>,
}

fn main() {}
