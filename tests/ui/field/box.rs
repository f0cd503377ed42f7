use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    payload: Box<[u8; 16]>,
}

fn main() {}
