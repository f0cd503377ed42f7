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
        let history = tx.root_mut().history_mut();
        history.push(1)?;
        *history.get(0).unwrap() = 5; // `get` answers `&i64`; use `get_mut`
        Ok::<_, Error>(())
    })
}
