//! Iterator definitions several collections share, written once: the iterators over
//! elements a removing method has already copied out (`copied_out_iter!`: the `Drain`s
//! of `PVec`, `PHashMap` and `PHashSet`, and `PVec`'s `Splice`), and the lazy set
//! operations of both sets (`set_iter!`: `Difference`, `Intersection`,
//! `SymmetricDifference`, `Union`).

/// An iterator over elements already removed from a collection and copied out (plain
/// data): a `Vec`'s `IntoIter` that keeps the collection's view borrowed. Exact-size and
/// fused; `double_ended` adds `DoubleEndedIterator`.
///
/// `$name<$g...> => $item, borrows $borrowed` defines `pub struct $name<'a, $g...>`
/// holding `items: vec::IntoIter<$item>` and a `PhantomData<&'a mut $borrowed>` (which
/// decides the iterator's variance and auto traits, so each keeps its own).
macro_rules! copied_out_iter {
    ($(#[$m:meta])* $name:ident<$($g:ident),+> => $item:ty, borrows $borrowed:ty, double_ended) => {
        copied_out_iter!($(#[$m])* $name<$($g),+> => $item, borrows $borrowed);

        impl<$($g),+> DoubleEndedIterator for $name<'_, $($g),+> {
            fn next_back(&mut self) -> Option<$item> {
                self.items.next_back()
            }
        }
    };
    ($(#[$m:meta])* $name:ident<$($g:ident),+> => $item:ty, borrows $borrowed:ty) => {
        $(#[$m])*
        pub struct $name<'a, $($g),+> {
            pub(crate) items: ::std::vec::IntoIter<$item>,
            pub(crate) _m: ::std::marker::PhantomData<&'a mut $borrowed>,
        }

        impl<$($g),+> Iterator for $name<'_, $($g),+> {
            type Item = $item;
            fn next(&mut self) -> Option<$item> {
                self.items.next()
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.items.size_hint()
            }
        }
        impl<$($g),+> ExactSizeIterator for $name<'_, $($g),+> {}
        impl<$($g),+> ::std::iter::FusedIterator for $name<'_, $($g),+> {}
    };
}

/// A lazy set operation over two borrowed sets: `pub struct $name<'a, T>` with the given
/// (private) fields, `Iterator<Item = &'a T>` for the bounds given on `T` with `next` and
/// `size_hint` given as expressions of `$s` (the iterator), fused and cloneable.
macro_rules! set_iter {
    (
        $(#[$m:meta])*
        $name:ident<T: $b:ident $(+ $bs:ident)*> { $($field:ident: $ty:ty),* $(,)? }
        next: |$s:ident| $next:expr,
        size_hint: |$s2:ident| $hint:expr $(,)?
    ) => {
        $(#[$m])*
        pub struct $name<'a, T> {
            $($field: $ty,)*
        }

        impl<'a, T: $b $(+ $bs)*> Iterator for $name<'a, T> {
            type Item = &'a T;
            fn next(&mut self) -> Option<&'a T> {
                let $s = self;
                $next
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                let $s2 = self;
                $hint
            }
        }

        impl<T: $b $(+ $bs)*> ::std::iter::FusedIterator for $name<'_, T> {}

        impl<T> Clone for $name<'_, T> {
            fn clone(&self) -> Self {
                $name { $($field: self.$field.clone(),)* }
            }
        }
    };
}
