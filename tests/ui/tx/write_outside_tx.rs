use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let pool = Pool::<Account>::volatile()?;
    // Views exist only inside `tx`: the pool itself hands out no mutable access.
    *pool.root_mut().balance_mut() = 10;
    Ok(())
}
