use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    index: std::collections::HashMap<u64, u32>,
}

fn main() {}
