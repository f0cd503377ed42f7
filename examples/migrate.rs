//! A program whose types change: version 1 of a bank is written, then version 2 reads
//! it after a typed migration — one field added, one renamed, and a nested type
//! changed (each account's history goes from `i32` amounts to `Movement` records).
//!
//! ```text
//! cargo run --example migrate            # keeps its pool in MIGRATE_POOL or a temp dir
//! ```
//!
//! Run it twice: the second run finds the pool already at version 2 and only reads it.

use pmem::migrate::{MigrateFrom, Migration};
use pmem::{Error, PHashMap, PString, PVec, Persistent, Pool, PoolOptions};

/// Version 1, kept as it was when it shipped, so that its pools can be read.
mod v1 {
    use pmem::{PHashMap, PString, PVec, Persistent};

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) owner: PString,
        pub(crate) balance: i64,
        pub(crate) history: PVec<i32>,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Bank {
        pub(crate) accounts: PHashMap<u64, Account>,
        pub(crate) total: i64,
    }
}

/// One entry of an account's history (version 2: was a bare `i32`).
#[derive(Persistent, Default, Clone, Copy, Debug)]
#[repr(C)]
#[pmem(plain)]
struct Movement {
    amount: i64,
    /// Seconds since the epoch; unknown (0) for movements made by version 1.
    at: u64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    /// Renamed from `owner`.
    holder: PString,
    balance: i64,
    history: PVec<Movement>,
    /// New: an overdraft limit, 0 for accounts of version 1.
    limit: i64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: PHashMap<u64, Account>,
    total: i64,
    /// New: the version-2 release the data was migrated by.
    migrated_by: PString,
}

impl MigrateFrom<v1::Bank> for Bank {
    fn migrate(old: &v1::Bank, new: &mut BankMut) -> pmem::Result<()> {
        for (id, a) in &old.accounts {
            let acct = new.accounts_mut().entry(*id).or_default()?;
            acct.holder_mut().push_str(&a.owner)?;
            *acct.balance_mut() = a.balance;
            for &amount in &a.history {
                acct.history_mut().push(Movement {
                    amount: i64::from(amount),
                    at: 0,
                })?;
            }
        }
        *new.total_mut() = old.total;
        new.migrated_by_mut().push_str("bank 2.0")
    }
}

fn write_version_1(path: &std::path::Path) -> Result<(), Error> {
    let mut pool = Pool::<v1::Bank>::create(path)?;
    pool.tx(|tx| {
        let bank = tx.root_mut();
        for (id, owner, deposits) in [(1u64, "ada", [30, -5, 12]), (2, "grace", [100, -40, 7])] {
            let acct = bank.accounts_mut().entry(id).or_default()?;
            acct.owner_mut().push_str(owner)?;
            for d in deposits {
                acct.history_mut().push(d)?;
                *acct.balance_mut() += i64::from(d);
            }
            let sum: i64 = deposits.iter().map(|&d| i64::from(d)).sum();
            *bank.total_mut() += sum;
        }
        Ok::<_, Error>(())
    })?;
    println!("migrate: wrote a version-1 bank to {}", path.display());
    Ok(())
}

fn main() -> Result<(), Error> {
    let path = std::env::var_os("MIGRATE_POOL").map_or_else(
        || std::env::temp_dir().join(format!("pmem-migrate-example-{}.pool", std::process::id())),
        std::path::PathBuf::from,
    );
    if !path.exists() {
        write_version_1(&path)?;
    }
    // What changed, as `open` reports it for a pool of the old version.
    if let Err(e @ Error::TypeMismatch { .. }) = Pool::<Bank>::open(&path) {
        println!("migrate: {e}");
    }
    // Every step from the pool's current version on; nothing when it is current.
    let ran = Migration::new()
        .step::<v1::Bank, Bank>()
        .run(&path, &PoolOptions::new())?;
    println!("migrate: {ran} migration step(s) applied");
    let pool = Pool::<Bank>::open(&path)?;
    pool.read(|bank| {
        let mut ids: Vec<_> = bank.accounts.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let a = &bank.accounts[&id];
            let moves: Vec<i64> = a.history.iter().map(|m| m.amount).collect();
            println!(
                "account {id}: holder {}, balance {}, limit {}, history {moves:?}",
                &*a.holder, a.balance, a.limit
            );
        }
        println!("total {} (migrated by {})", bank.total, &*bank.migrated_by);
    })?;
    pool.check()?;
    if std::env::var_os("MIGRATE_POOL").is_none() {
        drop(pool);
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}
