use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let pool = Pool::<Account>::volatile()?;
    pool.read(|acct| *acct.balance_mut() = 10)?;
    Ok(())
}
