//! The design's quickstart: derived structs holding collections, nested in a map,
//! changed through views inside a transaction; reads are plain field access.
use pmem::{Error, PHashMap, PString, PVec, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    owner: PString,
    balance: i64,
    history: PVec<i64>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: PHashMap<u64, Account>,
    total: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Bank>::volatile()?;
    pool.tx(|tx| {
        let bank = tx.root_mut();
        let acct = bank.accounts_mut().entry(7).or_default()?;
        acct.owner_mut().set("ada")?;
        *acct.balance_mut() += 30;
        acct.history_mut().push(30)?;
        acct.set_owner("ada lovelace")?;
        *bank.total_mut() += 30;
        Ok::<_, Error>(())
    })?;
    let total = pool.read(|bank| bank.total)?;
    assert_eq!(total, 30);
    pool.read(|bank| {
        let acct = bank.accounts.get(&7).expect("inserted");
        assert_eq!((&*acct.owner, acct.balance, &acct.history[..]), ("ada lovelace", 30, &[30][..]));
    })?;
    pool.check()?;
    Ok(())
}
