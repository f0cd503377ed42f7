use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
struct Account {
    balance: i64,
    history: Vec<i64>,
}

fn main() {}
