use pmem::{Error, PHashMap, PString, Pool};

fn main() -> Result<(), Error> {
    let mut pool = Pool::<PHashMap<u64, PString>>::volatile()?;
    pool.tx(|tx| {
        // `insert` hands the old value back, which a `PString` cannot leave the pool
        // to be: `set` overwrites (and frees) it instead.
        tx.root_mut().insert(1, "text")?;
        Ok::<_, Error>(())
    })
}
