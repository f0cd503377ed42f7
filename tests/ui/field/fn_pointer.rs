use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Record {
    id: u64,
    callback: fn(u64) -> u64,
}

fn main() {}
