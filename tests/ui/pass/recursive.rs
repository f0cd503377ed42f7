//! Recursive types: a list through `Option<PBox<Self>>`, and two types that link to
//! each other (their fingerprints and impls must not recurse forever).
use pmem::{Error, PBox, PPtr, Persistent, Pool};

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    value: u64,
    next: Option<PBox<Self>>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Tree {
    root: Option<PBox<Leaf>>,
    size: u64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Leaf {
    owner: PPtr<Tree>,
    value: u64,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Root {
    list: Node,
    tree: Tree,
}

fn main() -> Result<(), Error> {
    let mut pool = Pool::<Root>::volatile()?;
    pool.tx(|tx| {
        let root = tx.root_mut();
        let second = root.list_mut().next_mut().insert(Node { value: 2, next: None })?;
        *second.value_mut() = 3;
        root.tree_mut().root_mut().insert(Leaf::default())?;
        *root.tree_mut().size_mut() = 1;
        Ok::<_, Error>(())
    })?;
    assert_eq!(pool.read(|r| r.list.next.as_ref().map(|n| n.value))?, Some(3));
    assert_eq!(pool.check()?.allocations, 3);
    Ok(())
}
