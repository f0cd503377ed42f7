//! Renames in the `TypeMismatch` diagnosis (issue 12): a field renamed with
//! `#[pmem(renamed_from = "old")]` used to show as a field removed plus a field added,
//! because the stored schema does not record renames. The new type's compiled schema
//! carries `renamed_from`, so a declared rename is one automatic line, and a removed
//! and an added field of the same type with no rename declared are shown as
//! `renamed?` with the attribute that declares it. The migration itself still works.

mod common;
use common::Dir;

use pmem::migrate::auto;
use pmem::{AutoMigrate, Error, PVec, Pool, PoolOptions};

mod v1 {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        pub(crate) id: u32,
        pub(crate) owner: pmem::PString,
        pub(crate) balance: i64,
    }
}

/// `id` renamed (declared) and widened; `owner` renamed without a declaration.
mod undeclared {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        #[pmem(renamed_from = "id")]
        pub(crate) number: u64,
        pub(crate) holder: pmem::PString,
        pub(crate) balance: i64,
    }
}

/// Both renames declared.
mod declared {
    #[derive(pmem::Persistent, Default)]
    #[repr(C)]
    pub(crate) struct Account {
        #[pmem(renamed_from = "id")]
        pub(crate) number: u64,
        #[pmem(renamed_from = "owner")]
        pub(crate) holder: pmem::PString,
        pub(crate) balance: i64,
    }
}

fn v1_pool(d: &Dir) -> std::path::PathBuf {
    let path = d.path("p.pool");
    let mut p = Pool::<PVec<v1::Account>>::create(&path).unwrap();
    p.tx(|tx| {
        let a = tx.root_mut().push_mut(v1::Account::default())?;
        *a.id_mut() = 7;
        a.owner_mut().push_str("ada")?;
        *a.balance_mut() = -5;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(p);
    path
}

/// The lines of a `TypeMismatch` message after its first (the two type names).
fn diagnosis(e: &Error) -> Vec<String> {
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e:?}");
    e.to_string().lines().skip(1).map(str::to_string).collect()
}

#[test]
fn a_declared_rename_is_diagnosed_as_a_rename_and_migrates() {
    let d = Dir::new("auto-diag", "declared");
    let path = v1_pool(&d);
    let e = Pool::<PVec<declared::Account>>::open(&path).err().unwrap();
    assert_eq!(
        diagnosis(&e),
        [
            "  root[].number: renamed `id` → `number`",
            "  root[].number: u32 → u64",
            "  root[].holder: renamed `owner` → `holder`",
            "  automatic migration can handle these: pmem::migrate::auto",
        ]
    );
    if let Error::TypeMismatch { differences, .. } = &e {
        assert!(differences
            .iter()
            .all(pmem::TypeDifference::looks_automatic));
    }
    assert!(
        auto::<PVec<declared::Account>>(&path, &PoolOptions::new(), AutoMigrate::new()).unwrap()
    );
    let p = Pool::<PVec<declared::Account>>::open(&path).unwrap();
    let got = p
        .read(|v| (v[0].number, v[0].holder.as_str().to_string(), v[0].balance))
        .unwrap();
    assert_eq!(got, (7, "ada".to_string(), -5));
    p.check().unwrap();
}

#[test]
fn an_undeclared_rename_of_the_same_type_is_shown_as_renamed_with_the_attribute_to_add() {
    let d = Dir::new("auto-diag", "undeclared");
    let path = v1_pool(&d);
    let e = Pool::<PVec<undeclared::Account>>::open(&path)
        .err()
        .unwrap();
    assert_eq!(
        diagnosis(&e),
        [
            "  root[].number: renamed `id` → `number`",
            "  root[].number: u32 → u64",
            "  root[].holder: renamed? `owner` (PString at offset 8) → `holder` (at offset 8): \
             if it is a rename, add #[pmem(renamed_from = \"owner\")] to `holder`; otherwise \
             `owner` was removed and `holder` added",
        ]
    );
    // Not declared, so not automatic: the migration refuses the removal, by path, and
    // leaves the pool as it was.
    let before = std::fs::read(&path).unwrap();
    let e = auto::<PVec<undeclared::Account>>(&path, &PoolOptions::new(), AutoMigrate::new())
        .unwrap_err();
    match e {
        Error::NotAutoMigratable { path, change } => {
            assert_eq!(path, "root[].owner");
            assert!(
                change.starts_with("field removed (was PString)"),
                "{change}"
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_removed_and_an_added_field_of_different_types_stay_a_removal_and_an_addition() {
    mod retyped {
        #[derive(pmem::Persistent, Default)]
        #[repr(C)]
        pub(crate) struct Account {
            pub(crate) code: u16,
            pub(crate) owner: pmem::PString,
            pub(crate) balance: i64,
        }
    }
    let d = Dir::new("auto-diag", "retyped");
    let path = v1_pool(&d);
    let e = Pool::<PVec<retyped::Account>>::open(&path).err().unwrap();
    assert_eq!(
        diagnosis(&e),
        [
            "  root[].id: field removed (was u32 at offset 0)",
            "  root[].code: field added (u16 at offset 0)",
        ]
    );
}
