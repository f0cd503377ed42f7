use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    let mut balance: Option<&mut i64> = None;
    pool.tx(|tx| {
        balance = Some(tx.root_mut().balance_mut());
        Ok::<_, Error>(())
    })?;
    *balance.unwrap() = 5;
    Ok(())
}
