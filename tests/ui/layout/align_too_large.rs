use pmem::Persistent;

#[derive(Persistent)]
#[repr(C, align(128))]
struct CacheLines {
    data: [u64; 16],
}

fn main() {}
