//! [`CopyOut`]: the bound of the collection methods that hand stored values out.

use pmem_core::Plain;

/// Plain data that a collection method may copy out of the pool: the bound of every
/// method that hands a stored value back to the caller (the old value of `insert`,
/// `remove`, `pop`, `take`, `drain`, `split_off`, `extract_if`...).
///
/// A value that owns pool memory (a [`PString`](crate::PString), a [`PVec`](crate::PVec),
/// a [`PBox`](crate::PBox)...) never leaves its pool: a copy outside it would share what
/// the stored value owns. Each such method therefore has a twin that works for every
/// type and drops the value in place: `set` for `insert`, `remove_with` for `remove`,
/// `pop_with`, `swap_remove_with`, `take_with`, and `retain`/`clear` for `drain`. This
/// trait is [`Plain`] under another name, so that the compiler's message names them.
///
/// Every `Plain` type is `CopyOut`, and nothing else can be.
///
/// # Examples
///
/// ```
/// use pmem_collections::{CopyOut, PHashMap, PString};
/// fn removes<V: CopyOut>() {}
/// removes::<u64>();
/// removes::<(u8, [u16; 4])>();
/// // `removes::<PString>()` does not compile: "`PString` owns pool memory, so this
/// // method cannot copy it out of the pool", with a note naming the twins.
/// let mut pool = pmem_core::Pool::<PHashMap<u64, PString>>::volatile()?;
/// pool.tx(|tx| {
///     tx.root_mut().set(1, "ada")?; // not `insert`: the old value would leave the pool
///     tx.root_mut().remove_with(&1, |_, v| assert_eq!(v, "ada"))?;
///     Ok::<_, pmem_core::Error>(())
/// })?;
/// assert!(pool.read(|m| m.is_empty())?);
/// # Ok::<(), pmem_core::Error>(())
/// ```
///
/// ```compile_fail
/// use pmem_collections::{PHashMap, PString};
/// let mut pool = pmem_core::Pool::<PHashMap<u64, PString>>::volatile().unwrap();
/// pool.tx(|tx| tx.root_mut().insert(1, "ada").map(drop)).unwrap(); // use `set`
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` owns pool memory, so this method cannot copy it out of the pool",
    label = "this method hands stored values out, so it needs plain data",
    note = "`{Self}` is not `Plain`; use the twin that drops the value in place: `set` instead of `insert`, `remove_with` instead of `remove` or `remove_entry`, `pop_with` instead of `pop`, `swap_remove_with` instead of `swap_remove`, `take_with` instead of `take`, `retain` or `clear` instead of `drain`, `extract_if` or `split_off`"
)]
pub trait CopyOut: Plain {}

impl<T: Plain> CopyOut for T {}
