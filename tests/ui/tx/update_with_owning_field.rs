use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Limits {
    daily: u64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
    limits: Limits,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.tx(|tx| {
        // `Limits` has a view of its own (it is not `#[pmem(plain)]`), so `update`,
        // which hands out `&mut Account`, is not available.
        tx.root_mut().update(|acct| acct.balance += 1);
        Ok::<_, Error>(())
    })
}
