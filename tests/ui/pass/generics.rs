//! Generic structs: type parameters get `T: Persistent`; stronger bounds written on the
//! type are kept (`[T; 4]` needs `T: Plain`); const generics and defaults work.
use pmem::{Error, PBox, Persistent, Plain, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair<A, B = u64> {
    a: A,
    b: B,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Four<T: Plain + Default> {
    items: [T; 4],
}

#[derive(Persistent)]
#[repr(C)]
struct Buf<const N: usize> {
    len: u32,
    bytes: [u8; N],
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Buf { len: 0, bytes: [0; N] }
    }
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Owner<T>
where
    T: Persistent + Default,
{
    one: Option<PBox<T>>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct All {
    pair: Pair<i32>,
    four: Four<u16>,
    buf: Buf<16>,
    owner: Owner<Pair<u8, u8>>,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<All>::volatile()?;
    pool.tx(|tx| {
        let all = tx.root_mut();
        *all.pair_mut().a_mut() = -1;
        all.pair_mut().set_b(2)?;
        all.four_mut().items_mut()[2] = 5;
        all.buf_mut().update(|b| {
            b.bytes[0] = 1;
            b.len = 1;
        });
        *all.owner_mut().one_mut().insert(Pair { a: 1, b: 2 })?.a_mut() += 1;
        Ok::<_, Error>(())
    })?;
    pool.read(|all| {
        assert_eq!((all.pair.a, all.pair.b, all.four.items[2], all.buf.len), (-1, 2, 5, 1));
        assert_eq!(all.owner.one.as_deref().map(|p| (p.a, p.b)), Some((2, 2)));
    })?;
    assert_ne!(<Pair<u32> as Persistent>::FINGERPRINT, <Pair<u64> as Persistent>::FINGERPRINT);
    assert_ne!(<Buf<8> as Persistent>::FINGERPRINT, <Buf<16> as Persistent>::FINGERPRINT);
    pool.check()?;
    Ok(())
}
