use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.read(|acct| {
        let before = acct.balance;
        pool.tx(|tx| {
            *tx.root_mut().balance_mut() = before + 1;
            Ok::<_, Error>(())
        })
    })??;
    Ok(())
}
