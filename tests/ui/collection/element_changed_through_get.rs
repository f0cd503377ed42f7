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
    let mut pool = Pool::<Bank>::volatile()?;
    pool.tx(|tx| {
        let bank = tx.root_mut();
        bank.accounts_mut().push(Account::default())?;
        // `get` (a slice read through `Deref`) answers `&Account`; use `get_mut`.
        bank.accounts_mut().get(0).unwrap().set_balance(5)?;
        Ok::<_, Error>(())
    })
}
