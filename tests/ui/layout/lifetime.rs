use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Borrowed<'a> {
    len: u64,
    name: &'a str,
}

fn main() {}
