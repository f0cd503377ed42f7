use pmem::Persistent;

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    #[pmem(default = "not a path()")]
    amount: i64,
}

fn main() {}
