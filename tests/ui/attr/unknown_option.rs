use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
#[pmem(veiw = AccountView)]
struct Account {
    balance: i64,
}

fn main() {}
