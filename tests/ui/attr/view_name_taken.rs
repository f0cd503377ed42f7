use pmem::Persistent;

// The view of `Account` is `AccountMut`; rename it with `#[pmem(view = ...)]`.
pub struct AccountMut;

#[derive(Persistent)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() {}
