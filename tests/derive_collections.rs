//! Derived structs holding collections: the accessors hand out the collections' own
//! views, `set_` builds the new value in the pool and frees what the old one owned
//! (strings, vectors, whole nested maps), and a failed transaction leaves the heap
//! byte for byte as it was.

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
    main: Account,
}

fn open_account(bank: &mut BankMut, id: u64, owner: &str, amount: i64) -> Result<(), Error> {
    let acct = bank.accounts_mut().entry(id).or_default()?;
    acct.set_owner(owner)?;
    *acct.balance_mut() += amount;
    acct.history_mut().push(amount)?;
    *bank.total_mut() += amount;
    Ok(())
}

#[test]
fn accessors_reach_the_collections_own_views() {
    let mut pool = Pool::<Bank>::volatile().unwrap();
    pool.tx(|tx| {
        let bank = tx.root_mut();
        open_account(bank, 1, "ada", 30)?;
        open_account(bank, 2, "grace", 12)?;
        bank.main_mut().owner_mut().push_str("treasury")?;
        bank.main_mut().history_mut().extend([1, 2, 3])?;
        if let Some(h) = bank.main_mut().history_mut().get_mut(0) {
            *h = 10;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|bank| {
        assert_eq!(bank.total, 42);
        let ada = bank.accounts.get(&1).unwrap();
        assert_eq!(
            (&*ada.owner, ada.balance, &ada.history[..]),
            ("ada", 30, &[30][..])
        );
        assert_eq!(
            (&*bank.main.owner, &bank.main.history[..]),
            ("treasury", &[10, 2, 3][..])
        );
    })
    .unwrap();
    pool.check().unwrap();
}

#[test]
fn set_replaces_collections_and_frees_their_old_memory() {
    let mut pool = Pool::<Bank>::volatile().unwrap();
    pool.tx(|tx| {
        let main = tx.root_mut().main_mut();
        main.set_owner("a name long enough to need its own allocation")?;
        main.set_history(vec![1, 2, 3, 4])?;
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = pool.check().unwrap().allocations;
    pool.tx(|tx| {
        let main = tx.root_mut().main_mut();
        main.set_owner("another name, also long enough to be allocated")?;
        main.set_history(vec![5; 40])?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        before,
        "each old buffer was freed as its new one arrived"
    );
    pool.tx(|tx| tx.root_mut().set_main(Account::default()))
        .unwrap();
    assert_eq!(pool.check().unwrap().allocations, before - 2);
}

#[test]
fn replacing_a_struct_frees_its_nested_collections() {
    let mut pool = Pool::<Bank>::volatile().unwrap();
    pool.tx(|tx| {
        let bank = tx.root_mut();
        for id in 0..20 {
            open_account(bank, id, "someone with a long enough name", 1)?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(pool.check().unwrap().allocations > 20);
    pool.tx(|tx| tx.root_mut().set_accounts(PHashMap::default()))
        .unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        1,
        "the map, every account and its string and vector were freed"
    );
}

#[test]
fn a_failed_transaction_over_nested_collections_leaves_the_heap_unchanged() {
    let mut pool = Pool::<Bank>::volatile().unwrap();
    pool.tx(|tx| open_account(tx.root_mut(), 1, "ada", 30))
        .unwrap();
    let before = pool.heap_image();
    let r: Result<(), Error> = pool.tx(|tx| {
        let bank = tx.root_mut();
        open_account(bank, 2, "grace", 12)?;
        let ada = bank.accounts_mut().get_mut(&1).unwrap();
        ada.set_owner("someone else entirely, with a long name")?;
        ada.history_mut().clear()?;
        bank.set_main(Account::default())?;
        Err(Error::ReadOnly)
    });
    assert!(r.is_err());
    assert!(pool.heap_image() == before);
    pool.check().unwrap();
}
