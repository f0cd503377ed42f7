use pmem::Persistent;

// `Inner` is persistent but not plain: it lacks `#[pmem(plain)]`.
#[derive(Persistent, Clone, Copy)]
#[repr(C)]
struct Inner {
    id: u64,
}

#[derive(Persistent, Clone, Copy)]
#[repr(C)]
#[pmem(plain)]
struct Outer {
    inner: Inner,
    count: u32,
}

fn main() {}
