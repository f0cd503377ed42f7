//! A type of your own that shares a std name (`Cell`, `Vec`...) is accepted when
//! written through a path, which tells the derive it is not std's.
mod grid {
    use pmem::Persistent;

    #[derive(Persistent, Default, Clone, Copy)]
    #[repr(C)]
    #[pmem(plain)]
    pub struct Cell<T: pmem::Plain> {
        pub alive: T,
    }
}

use pmem::{Error, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Board {
    cells: [self::grid::Cell<u8>; 4],
    center: grid::Cell<bool>,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Board>::volatile()?;
    pool.tx(|tx| {
        tx.root_mut().cells_mut()[1].alive = 1;
        tx.root_mut().center_mut().alive = true;
        Ok::<_, Error>(())
    })?;
    assert_eq!(pool.read(|b| (b.cells[1].alive, b.center.alive))?, (1, true));
    Ok(())
}
