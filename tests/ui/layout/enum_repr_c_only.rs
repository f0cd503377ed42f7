use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
enum Status {
    Active,
    Closed,
}

fn main() {}
