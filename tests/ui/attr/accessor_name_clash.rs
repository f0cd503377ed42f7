use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Range(#[pmem(name = start)] u64, #[pmem(name = start)] u64);

fn main() {}
