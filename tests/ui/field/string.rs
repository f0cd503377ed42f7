use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    name: String,
}

fn main() {}
