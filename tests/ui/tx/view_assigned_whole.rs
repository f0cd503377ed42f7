use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.tx(|tx| {
        *tx.root_mut() = Account { balance: 5 };
        Ok::<_, Error>(())
    })
}
