use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
}

fn main() -> Result<(), Error> {
    let mut a = Pool::<Account>::volatile()?;
    let mut b = Pool::<Account>::volatile()?;
    a.tx(|ta| {
        b.tx(|tb| {
            // Views are unsized: they cannot be moved, swapped or assigned whole.
            std::mem::swap(ta.root_mut(), tb.root_mut());
            Ok::<_, Error>(())
        })
    })
}
