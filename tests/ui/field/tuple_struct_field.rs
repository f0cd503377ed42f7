use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Pair(u64, Box<u64>);

fn main() {}
