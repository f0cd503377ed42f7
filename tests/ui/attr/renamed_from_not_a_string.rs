use pmem::Persistent;

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    #[pmem(renamed_from = balance)]
    amount: i64,
}

fn main() {}
