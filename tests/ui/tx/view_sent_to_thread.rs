use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.tx(|tx| {
        let acct = tx.root_mut();
        std::thread::scope(|s| {
            s.spawn(move || *acct.balance_mut() += 1);
        });
        Ok::<_, Error>(())
    })
}
