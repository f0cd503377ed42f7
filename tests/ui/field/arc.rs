use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    shared: std::sync::Arc<u64>,
}

fn main() {}
