use pmem::Persistent;

// `[T; N]` is persistent only for plain `T`; the struct must say `T: pmem::Plain`.
#[derive(Persistent)]
#[repr(C)]
struct Window<T> {
    samples: [T; 8],
}

fn main() {}
