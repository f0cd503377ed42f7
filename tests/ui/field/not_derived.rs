use pmem::Persistent;

struct Inner {
    a: u64,
}

#[derive(Persistent)]
#[repr(C)]
struct Outer {
    inner: Inner,
}

fn main() {}
