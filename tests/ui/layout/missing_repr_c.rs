use pmem::Persistent;

#[derive(Persistent)]
struct Account {
    balance: i64,
}

fn main() {}
