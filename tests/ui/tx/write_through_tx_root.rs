use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Account>::volatile()?;
    pool.tx(|tx| {
        tx.root().balance = 10; // `root()` is the shared view; `root_mut()` the mutable one
        Ok::<_, Error>(())
    })
}
