use pmem::Persistent;

fn opening_balance() -> i64 {
    100
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    #[pmem(renamed_from = "amount", renamed_from = "sum")]
    balance: i64,
    #[pmem(default = "opening_balance")]
    opening: i64,
    #[pmem(default = "crate::opening_balance", name = first)]
    first_balance: i64,
}

fn main() {
    let _ = Account::default();
}
