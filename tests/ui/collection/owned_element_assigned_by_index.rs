use pmem::{Error, PString, PVec, Pool};

fn main() -> Result<(), Error> {
    let mut pool = Pool::<PVec<PString>>::volatile()?;
    pool.tx(|tx| {
        let v = tx.root_mut();
        v.push("old")?;
        // `v[i] = x` is for plain elements; a `PString` is replaced with `set(i, x)`
        // (or edited in place through `get_mut(i)`).
        v[0] = PString::new();
        Ok::<_, Error>(())
    })
}
