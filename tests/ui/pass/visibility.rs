//! The view type has the struct's visibility and can be named; accessors have their
//! field's visibility; `#[pmem(view = Name)]` renames the view; raw identifiers work.
mod bank {
    use pmem::Persistent;

    #[derive(Persistent, Default)]
    #[repr(C)]
    pub struct Account {
        pub balance: i64,
        pub r#type: u8,
        pub(crate) audit: u64,
        secret: u64,
    }

    #[derive(Persistent, Default)]
    #[repr(C)]
    #[pmem(view = LedgerView)]
    pub struct Ledger {
        pub entries: u64,
    }

    impl AccountMut {
        pub fn touch_secret(&mut self) {
            *self.secret_mut() += 1;
        }
    }
}

use bank::{Account, AccountMut, LedgerView};
use pmem::{Error, Persistent, Pool};

fn deposit(acct: &mut AccountMut, amount: i64) {
    *acct.balance_mut() += amount;
    *acct.type_mut() = 1;
    acct.set_audit(7).unwrap();
    acct.touch_secret();
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.tx(|tx| {
        deposit(tx.root_mut(), 5);
        Ok::<_, Error>(())
    })?;
    assert_eq!(pool.read(|a| (a.balance, a.r#type, a.audit))?, (5, 1, 7));
    let _: fn(&mut LedgerView) -> &mut u64 = LedgerView::entries_mut;
    let _ = <bank::Ledger as Persistent>::SCHEMA;
    Ok(())
}
