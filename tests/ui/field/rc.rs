use std::rc::Rc;
use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    shared: Rc<u64>,
}

fn main() {}
