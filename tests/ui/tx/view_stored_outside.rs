use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    let mut saved = None;
    pool.tx(|tx| {
        saved = Some(tx.root_mut());
        Ok::<_, Error>(())
    })?;
    if let Some(acct) = saved {
        *acct.balance_mut() += 1;
    }
    Ok(())
}
