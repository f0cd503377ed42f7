//! The `serde` feature: every persistent type is `Serialize` (boxes as their target,
//! `PPtr` as its offset or null, strings as strings, vectors and sets as sequences, maps
//! as maps), so a derived struct gets `Serialize` by adding `#[derive(serde::Serialize)]`
//! beside `Persistent`, and a pool exports with the user's usual tools.
#![cfg(feature = "serde")]

use pmem::{
    Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PPtr, PString, PVec, Persistent, Pool,
};
use serde_json::json;

#[derive(Persistent, Default, serde::Serialize)]
#[repr(C)]
struct Account {
    owner: PString,
    balance: i64,
    history: PVec<i64>,
}

#[derive(Persistent, Default, Clone, Copy, serde::Serialize)]
#[repr(u8)]
enum Tier {
    #[default]
    Basic,
    Gold,
}

#[derive(Persistent, Default, serde::Serialize)]
#[repr(C)]
struct Bank {
    accounts: PBTreeMap<u64, Account>,
    by_owner: PHashMap<PString, u64>,
    tags: PHashSet<u32>,
    names: PBTreeSet<PString>,
    vault: Option<PBox<Account>>,
    audited: PPtr<Account>,
    tier: Tier,
    rates: [u16; 3],
    total: i64,
}

fn filled() -> Pool<Bank> {
    let mut pool = Pool::<Bank>::volatile().unwrap();
    pool.tx(|tx| {
        let bank = tx.root_mut();
        for (id, owner, amount) in [(7u64, "ada", 30i64), (2, "grace", 12)] {
            let acct = bank.accounts_mut().entry(id).or_default()?;
            acct.set_owner(owner)?;
            *acct.balance_mut() = amount;
            acct.history_mut().extend([amount, -1])?;
            bank.by_owner_mut().insert(owner, id)?;
            bank.names_mut().insert(owner)?;
            *bank.total_mut() += amount;
        }
        bank.tags_mut().insert(42)?;
        let vault = bank.vault_mut().insert(Account::default())?;
        vault.set_owner("treasury")?;
        bank.set_tier(Tier::Gold)?;
        *bank.rates_mut() = [1, 2, 3];
        Ok::<_, Error>(())
    })
    .unwrap();
    pool
}

#[test]
fn a_derived_struct_with_collections_serialises_like_its_std_counterpart() {
    let pool = filled();
    let v = pool.read(|b| serde_json::to_value(b).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({
            "accounts": {
                "2": { "owner": "grace", "balance": 12, "history": [12, -1] },
                "7": { "owner": "ada", "balance": 30, "history": [30, -1] },
            },
            "by_owner": { "ada": 7, "grace": 2 },
            "tags": [42],
            "names": ["ada", "grace"],
            "vault": { "owner": "treasury", "balance": 0, "history": [] },
            "audited": null,
            "tier": "Gold",
            "rates": [1, 2, 3],
            "total": 42,
        })
    );
}

#[test]
fn a_btree_map_serialises_in_key_order() {
    let pool = filled();
    let text = pool
        .read(|b| serde_json::to_string(&b.accounts).unwrap())
        .unwrap();
    assert!(
        text.find("\"2\"").unwrap() < text.find("\"7\"").unwrap(),
        "{text}"
    );
}

#[test]
fn a_pptr_serialises_as_the_offset_it_holds_and_a_box_as_its_target() {
    let mut pool = filled();
    pool.tx(|tx| {
        let vault = PPtr::from_ref(&**tx.root().vault.as_ref().expect("set")).expect("in the pool");
        *tx.root_mut().audited_mut() = vault;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.read(|b| {
        let vault = b.vault.as_ref().unwrap();
        assert_eq!(
            serde_json::to_value(b.audited).unwrap(),
            json!(vault.offset())
        );
        assert_eq!(
            serde_json::to_value(vault).unwrap(),
            serde_json::to_value(&**vault).unwrap()
        );
    })
    .unwrap();
}

#[test]
fn values_built_outside_a_pool_serialise_as_empty() {
    assert_eq!(
        serde_json::to_value(Bank::default()).unwrap()["accounts"],
        json!({})
    );
    assert_eq!(serde_json::to_value(PString::new()).unwrap(), json!(""));
    assert_eq!(serde_json::to_value(PVec::<u8>::new()).unwrap(), json!([]));
    assert_eq!(
        serde_json::to_value(PPtr::<u64>::null()).unwrap(),
        json!(null)
    );
}
