//! Derived types on real pool files: values survive closing and reopening, and a pool
//! opened with another root type, or with a changed layout of the same type, fails with
//! `Error::TypeMismatch` naming both fingerprints.

mod common;
use common::Dir;

use pmem::{Error, PBox, Persistent, Pool};

mod v1 {
    use pmem::Persistent;

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) balance: i64,
    }
}

mod v2 {
    use pmem::Persistent;

    /// `v1::Account` with one more field: same name, different layout.
    #[derive(Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) balance: i64,
        pub(crate) limit: i64,
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: u64,
    vault: Option<PBox<v1::Account>>,
}

#[test]
fn derived_values_survive_closing_and_reopening_the_pool_file() {
    let dir = Dir::new("derive", "reopen");
    let path = dir.path("bank.pool");
    {
        let mut pool = Pool::<Bank>::create(&path).unwrap();
        pool.tx(|tx| {
            let bank = tx.root_mut();
            *bank.accounts_mut() = 2;
            bank.vault_mut()
                .insert(v1::Account { balance: 100 })?
                .set_balance(150)?;
            Ok::<_, Error>(())
        })
        .unwrap();
        pool.close().unwrap();
    }
    let mut pool = Pool::<Bank>::open(&path).unwrap();
    assert_eq!(
        pool.read(|b| (b.accounts, b.vault.as_ref().map(|v| v.balance)))
            .unwrap(),
        (2, Some(150))
    );
    pool.tx(|tx| tx.root_mut().set_vault(None)).unwrap();
    pool.close().unwrap();
    let pool = Pool::<Bank>::open(&path).unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        1,
        "the vault was freed for good"
    );
}

#[test]
fn a_changed_struct_layout_fails_to_open_with_both_fingerprints() {
    let dir = Dir::new("derive", "layout");
    let path = dir.path("account.pool");
    Pool::<v1::Account>::create(&path).unwrap().close().unwrap();
    match Pool::<v2::Account>::open(&path) {
        Err(Error::TypeMismatch {
            expected,
            found,
            differences,
        }) => {
            assert_eq!(
                (expected.name.as_str(), found.name.as_str()),
                ("Account", "Account")
            );
            assert_eq!(expected.fingerprint, v2::Account::FINGERPRINT);
            assert_eq!(found.fingerprint, v1::Account::FINGERPRINT);
            let msg = Error::TypeMismatch {
                expected,
                found,
                differences,
            }
            .to_string();
            assert!(
                msg.contains("root.limit: field added (i64 at offset 8)"),
                "{msg}"
            );
            assert!(
                msg.contains(&format!("{:016x}", v1::Account::FINGERPRINT)),
                "{msg}"
            );
            assert!(
                msg.contains(&format!("{:016x}", v2::Account::FINGERPRINT)),
                "{msg}"
            );
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    // The original type still opens it.
    Pool::<v1::Account>::open(&path).unwrap();
}

#[test]
fn a_different_root_type_fails_to_open_with_type_mismatch() {
    let dir = Dir::new("derive", "root");
    let path = dir.path("bank.pool");
    Pool::<Bank>::create(&path).unwrap().close().unwrap();
    match Pool::<v1::Account>::open(&path) {
        Err(Error::TypeMismatch {
            expected,
            found,
            differences,
        }) => {
            assert_eq!(differences[0].to_string(), "root: Bank → Account");
            assert_eq!(expected.name, "Account");
            assert_eq!(found.name, "Bank");
            assert_eq!(found.fingerprint, Bank::FINGERPRINT);
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
}
