//! Generated code uses fully qualified paths: shadowing prelude names (`Result`, `Ok`,
//! `Option`, `Some`, `None`, `Box`, `Default`...), naming a local trait `Persistent`
//! and giving fields the names of the generated code's locals must not break it.
#![allow(dead_code, non_camel_case_types)]

type Result<T> = ::core::result::Result<T, ()>;
struct Ok;
struct Err;
struct Option;
struct Some;
struct None;
struct Box;
struct Copy;
struct Clone;
struct Sized;
struct Send;
struct PhantomData;
struct Vec;
trait Persistent {}
trait Deref {}
trait Default {}
trait FnOnce {}
mod core {}
mod std {}
mod __private {}

#[derive(pmem::Persistent)]
#[repr(C)]
struct Locals {
    p: u64,
    ptr: u64,
    v: u64,
    h: u64,
    f: u64,
    value: u64,
    self_: u64,
    __pmem_0: u64,
}

#[derive(pmem::Persistent)]
#[repr(u8)]
enum E {
    A(u64),
    B { value: u64, v: u64 },
    C,
}

#[derive(pmem::Persistent)]
#[repr(C)]
struct Generic<T> {
    t: T,
    e: E,
}

fn main() {
    let _ = <Generic<Locals> as pmem::Persistent>::FINGERPRINT;
    let _ = <Generic<E> as pmem::Persistent>::SCHEMA;
}
