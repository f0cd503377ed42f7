use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
#[pmem(view = AccountView)]
#[pmem(view = AccountEditor)]
struct Account {
    balance: i64,
}

fn main() {}
