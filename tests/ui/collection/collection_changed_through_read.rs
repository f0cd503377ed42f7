use pmem::{Error, PString, PVec, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    owner: PString,
    balance: i64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: PVec<Account>,
    history: PVec<i64>,
}

fn main() -> Result<(), Error> {
    let pool = Pool::<Bank>::volatile()?;
    pool.read(|bank| bank.history.push(1))?;
    Ok(())
}
