use pmem::{Error, PVec, Pool};

fn main() -> Result<(), Error> {
    let mut pool = Pool::<PVec<bool>>::volatile()?;
    pool.tx(|tx| {
        let off = tx.alloc_raw(16, 8)?;
        // Freeing memory something may still own lets the next allocation alias it.
        tx.free_raw(off, 16)
    })
}
