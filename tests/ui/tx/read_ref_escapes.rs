use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let pool = Pool::<Account>::volatile()?;
    let balance: &i64 = pool.read(|acct| &acct.balance)?;
    println!("{balance}");
    Ok(())
}
