use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    let acct = pool.tx(|tx| Ok::<_, Error>(tx.root_mut()))?;
    *acct.balance_mut() += 1;
    Ok(())
}
