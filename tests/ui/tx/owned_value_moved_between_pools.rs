use pmem::{Error, PBox, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Holder {
    boxed: Option<PBox<u64>>,
}

fn main() -> Result<(), Error> {
    let a = Pool::<Holder>::volatile()?;
    let mut b = Pool::<Holder>::volatile()?;
    // An owning pointer of pool `a` cannot be taken out of it (reads are `&`), so it
    // cannot be linked into pool `b`.
    let stolen = a.read(|h| h.boxed)?;
    b.tx(|tx| tx.root_mut().set_boxed(stolen))?;
    Ok(())
}
