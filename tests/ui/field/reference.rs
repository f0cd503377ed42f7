use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    parent: &'static Record,
}

fn main() {}
